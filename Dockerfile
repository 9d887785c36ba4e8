# syntax=docker/dockerfile:1
# CBS Network Hub, production image: gunicorn (gthread) serving wsgi:app on $PORT (8000).
# Run it with CBS_DATABASE_URL (PostgreSQL), CBS_SECRET_KEY, CBS_PUBLIC_URL and
# CBS_RATELIMIT_STORAGE_URI (Redis); see README.md.

# --- build: the dependencies in a virtualenv, without compilers in the final image ---------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml ./
COPY cbs_network ./cbs_network
# Install the pinned dependencies, then drop the package itself: the app runs from /app,
# where migrate.py finds alembic.ini and migrations/ next to it.
RUN pip install . && pip uninstall -y cbs-network

# --- runtime -------------------------------------------------------------------------------
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PORT=8000 \
    CBS_ENV=production \
    CBS_INSTANCE_DIR=/app/instance
RUN useradd --create-home --uid 1000 app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY alembic.ini wsgi.py gunicorn.conf.py ./
COPY migrations ./migrations
COPY cbs_network ./cbs_network
COPY --chmod=755 scripts/docker-entrypoint.sh /usr/local/bin/docker-entrypoint
# instance/ is only written in the embedded (SQLite) mode; production keeps no state here.
RUN mkdir -p /app/instance && chown app:app /app/instance
USER app
EXPOSE 8000
# No curl in the slim image; Python's urllib is enough for a liveness check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"
ENTRYPOINT ["docker-entrypoint"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
