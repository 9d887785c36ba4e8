# TEMPORARY (being written by the explorer work)
def init_app(app):
    pass
