#!/usr/bin/env bash
# Restore a dump made by deploy/backup.sh into a PostgreSQL database.
#
#   deploy/restore.sh [--force] DUMP [TARGET_DATABASE_URL]
#
# TARGET_DATABASE_URL defaults to $DATABASE_URL. The target database must exist and be empty
# (no tables, views or sequences outside the system schemas); create it first, e.g.
#   psql postgres://postgres@db:5432/postgres -c 'create database tote_restore'
# --force restores into a non-empty database anyway: objects that are in the dump are dropped
# and recreated (pg_restore --clean --if-exists); anything else in it is left alone.
#
# The restore runs in one transaction and stops at the first error (--exit-on-error
# --single-transaction), so a failed restore leaves the target as it was. Ownership and grants
# are not restored (--no-owner --no-acl): the objects belong to the user of the target URL.
# Afterwards it runs ANALYZE, so the planner knows the restored tables' sizes.
set -euo pipefail

die() { printf 'restore: %s\n' "$*" >&2; exit 1; }
log() { printf 'restore: %s\n' "$*"; }
usage() { sed -n '2,15s/^# \{0,1\}//p' "$0"; }

force=0
args=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --force) force=1 ;;
    -h | --help) usage; exit 0 ;;
    --) shift; args+=("$@"); break ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) args+=("$1") ;;
  esac
  shift
done
[[ ${#args[@]} -ge 1 && ${#args[@]} -le 2 ]] || { usage >&2; exit 2; }

dump=${args[0]}
url=${args[1]:-${DATABASE_URL:-}}
[[ -n $url ]] || die "no target: pass TARGET_DATABASE_URL as the second argument or set DATABASE_URL"
case $url in
  postgres://* | postgresql://*) ;;
  *) die "the target must be a postgres:// or postgresql:// URL" ;;
esac
for tool in pg_restore psql; do
  command -v "$tool" >/dev/null || die "$tool is not installed; install the PostgreSQL client (apt-get install -y postgresql-client)"
done
[[ -f $dump && -r $dump ]] || die "dump file '$dump' does not exist or is not readable"
pg_restore --list "$dump" >/dev/null 2>&1 \
  || die "'$dump' is not a pg_dump custom-format archive (make one with deploy/backup.sh)"

target=${url#*://}
target=${target##*@}
target=${target%%\?*}

objects=$(psql "$url" --no-password -X -v ON_ERROR_STOP=1 -Atc "
  select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname not in ('pg_catalog', 'information_schema')
    and n.nspname not like 'pg_toast%' and n.nspname not like 'pg_temp%'
    and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')") \
  || die "cannot connect to $target (error above); does the database exist? create it with: create database <name>"

clean=()
if [[ $objects -gt 0 ]]; then
  if [[ $force -eq 0 ]]; then
    die "$target is not empty ($objects tables/views/sequences); restore into a new empty database, or pass --force to drop and recreate the dumped objects"
  fi
  log "$target holds $objects objects; --force: dropping the dumped objects before restoring them"
  clean=(--clean --if-exists)
fi

log "restoring $dump into $target"
if ! pg_restore --no-owner --no-acl --exit-on-error --single-transaction --no-password \
  "${clean[@]}" --dbname="$url" "$dump"; then
  die "pg_restore failed (its error is above); nothing was changed in $target"
fi
# pg_restore brings no planner statistics; until autovacuum gathers them, plans (and the ones
# PostgreSQL caches per connection for foreign-key checks) assume near-empty tables. (A role
# that is not superuser may not analyze some system catalogs: those warnings are muted.)
log "gathering planner statistics (ANALYZE)"
psql "$url" --no-password -X -v ON_ERROR_STOP=1 -q \
  -c "SET client_min_messages = error" -c "ANALYZE" \
  || die "the restore succeeded, but ANALYZE failed (error above); run ANALYZE on $target before serving traffic"
tables=$(psql "$url" --no-password -X -Atc \
  "select count(*) from pg_tables where schemaname not in ('pg_catalog', 'information_schema')")
log "done: $target now has $tables tables"
