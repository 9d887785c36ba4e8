# TEMPORARY (being written by the OAuth work)
def init_app(app):
    pass
