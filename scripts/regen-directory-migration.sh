#!/usr/bin/env bash
# While the directory schema is being built (issue 3), its migration is regenerated from the
# models against an empty database; it is frozen once the issue lands.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f migrations/versions/*_d1ec7000a003_directory.py
tmp=$(mktemp -d)
CBS_INSTANCE_DIR="$tmp" CBS_DATABASE_URL="sqlite:///$tmp/regen.db" .venv/bin/alembic upgrade head >/dev/null
CBS_INSTANCE_DIR="$tmp" CBS_DATABASE_URL="sqlite:///$tmp/regen.db" .venv/bin/alembic revision --autogenerate --rev-id d1ec7000a003 -m "directory" | tail -1
rm -rf "$tmp"
