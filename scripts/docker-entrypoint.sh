#!/bin/sh
# Container entrypoint: bring the database schema up to date, then become the server.
# Several instances starting together is safe only if one migrates first: for a rolling
# deploy, run `flask --app wsgi cbs migrate` as a release step and set CBS_SKIP_MIGRATE=1.
set -eu

if [ "${CBS_SKIP_MIGRATE:-0}" != "1" ]; then
    flask --app wsgi cbs migrate
fi

# exec: the server replaces this shell, so it receives the container's signals directly.
exec "$@"
