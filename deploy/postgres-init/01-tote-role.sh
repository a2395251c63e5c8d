#!/usr/bin/env bash
# Runs once, on an empty data directory (the postgres image's /docker-entrypoint-initdb.d hook).
# Tote connects as `tote`: it owns its database and runs the migrations, but it is neither
# superuser nor BYPASSRLS, so the forced row-level security binds it (docs/adr/008). The
# image's own POSTGRES_USER stays the administrator, for people only.
set -euo pipefail
: "${TOTE_DB_PASSWORD:?set TOTE_DB_PASSWORD for the tote role}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v pw="$TOTE_DB_PASSWORD" <<'SQL'
CREATE ROLE tote LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD :'pw';
CREATE DATABASE tote OWNER tote;
SQL
