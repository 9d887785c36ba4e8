"""WSGI entry point: `gunicorn -c gunicorn.conf.py wsgi:app`, `flask --app wsgi ...`.

Settings come from CBS_* environment variables (cbs_network/config.py).
"""

from cbs_network import create_app

app = create_app()
