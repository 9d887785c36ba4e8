# CBS Network Hub. Newcomers need two commands: `make run` and `make test`.
# Both build .venv on first use and need neither PostgreSQL nor Redis.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Rebuilt when pyproject.toml changes, so reruns skip pip.
INSTALLED := $(VENV)/.installed
PORT ?= 5000
# The database CI's PostgreSQL leg runs on; the suite creates and drops its own database there.
PG_TEST_URL ?= postgresql+psycopg://root@127.0.0.1:5432/test
# `make openapi` must not depend on whoever runs it: fixed settings, in-memory database.
OPENAPI_ENV := CBS_DATABASE_URL=sqlite:// CBS_SECRET_KEY=openapi-generation CBS_RATELIMIT_STORAGE_URI=memory:// \
	CBS_PUBLIC_URL=http://hub.test CBS_ENV=development CBS_LOG_LEVEL=WARNING

# config.py derives the default CBS_PUBLIC_URL (and so the explorer's redirect URI) from PORT.
export PORT

.PHONY: help run test test-all openapi lint clean

help:
	@echo "make run       migrate + load the demo network into SQLite, serve on http://127.0.0.1:$(PORT)"
	@echo "make test      the whole test suite on SQLite (on PostgreSQL when CBS_TEST_DATABASE_URL is set)"
	@echo "make test-all  the suite on SQLite, then on PostgreSQL at $(PG_TEST_URL)"
	@echo "make openapi   regenerate openapi/openapi.json after changing the API"
	@echo "make lint      ruff (likely bugs, import order, formatting), then mypy on cbs_network/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

# One gunicorn process: SQLite and the in-memory rate limits belong to one process.
# The port is checked first: gunicorn would find it taken only after the migration and the seed.
run: $(INSTALLED)
	@$(BIN)/python scripts/port_free.py $(PORT)
	$(BIN)/flask --app wsgi cbs migrate
	$(BIN)/flask --app wsgi cbs seed-demo
	@echo
	@echo "CBS Network Hub: http://127.0.0.1:$(PORT)/  (API explorer: http://127.0.0.1:$(PORT)/docs/)"
	@echo "Demo users, passwords and clients: instance/demo-credentials.json. Stop with Ctrl-C."
	@echo
	WEB_CONCURRENCY=1 exec $(BIN)/gunicorn -c gunicorn.conf.py --bind 127.0.0.1:$(PORT) wsgi:app

test: $(INSTALLED)
	$(BIN)/pytest -ra $(PYTEST_ARGS)

test-all: $(INSTALLED)
	env -u CBS_TEST_DATABASE_URL $(BIN)/pytest -ra $(PYTEST_ARGS)
	CBS_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -ra $(PYTEST_ARGS)

openapi: $(INSTALLED)
	$(OPENAPI_ENV) $(BIN)/flask --app wsgi openapi write --format=json openapi/openapi.json
	@echo "wrote openapi/openapi.json; commit it with the change"

LINTED := cbs_network tests bench migrations scripts wsgi.py gunicorn.conf.py

lint: $(INSTALLED)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info
