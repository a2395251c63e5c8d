#!/usr/bin/env bash
# Back up Tote's PostgreSQL database: one pg_dump in custom format (-Fc), then retention.
#
#   DATABASE_URL=postgres://tote:…@db:5432/tote BACKUP_DIR=/var/backups/tote deploy/backup.sh
#
# Environment:
#   DATABASE_URL            PostgreSQL URL of the database to dump (required; SQLite is refused)
#   BACKUP_DIR              where dumps go (required; created if missing)
#   BACKUP_RETENTION_DAYS   delete dumps older than this many days (default 14)
#   BACKUP_KEEP_MIN         but always keep at least this many newest dumps (default 3)
#   BACKUP_PREFIX           file name prefix (default tote)
#
# Writes BACKUP_DIR/<prefix>-<YYYYmmddTHHMMSSZ>.dump (UTC), first as a .partial file that is
# renamed only once pg_dump succeeded and pg_restore can read it back. Retention goes by the
# timestamp in the file name, not the file's mtime, and only ever touches <prefix>-*.dump files.
# Prints the path of the new dump on the last line of stdout. Exits non-zero on any failure.
set -euo pipefail

die() { printf 'backup: %s\n' "$*" >&2; exit 1; }
log() { printf 'backup: %s\n' "$*"; }

DATABASE_URL=${DATABASE_URL:-}
BACKUP_DIR=${BACKUP_DIR:-}
RETENTION_DAYS=${BACKUP_RETENTION_DAYS:-14}
KEEP_MIN=${BACKUP_KEEP_MIN:-3}
PREFIX=${BACKUP_PREFIX:-tote}

[[ -n $DATABASE_URL ]] || die "DATABASE_URL is not set; set it to the PostgreSQL URL to back up (postgres://user:pass@host:5432/db)"
case $DATABASE_URL in
  postgres://* | postgresql://*) ;;
  sqlite:*) die "DATABASE_URL points at SQLite; back up the .db file with 'sqlite3 FILE .backup COPY' instead" ;;
  *) die "DATABASE_URL must start with postgres:// or postgresql://" ;;
esac
[[ -n $BACKUP_DIR ]] || die "BACKUP_DIR is not set; set it to the folder that keeps the dumps"
[[ $RETENTION_DAYS =~ ^[0-9]+$ ]] || die "BACKUP_RETENTION_DAYS must be a whole number of days (is '$RETENTION_DAYS')"
[[ $KEEP_MIN =~ ^[0-9]+$ && $KEEP_MIN -ge 1 ]] || die "BACKUP_KEEP_MIN must be a whole number >= 1 (is '$KEEP_MIN')"
[[ $PREFIX =~ ^[A-Za-z0-9_.-]+$ ]] || die "BACKUP_PREFIX may only hold letters, digits, '.', '_' and '-' (is '$PREFIX')"
for tool in pg_dump pg_restore date; do
  command -v "$tool" >/dev/null || die "$tool is not installed; install the PostgreSQL client (apt-get install -y postgresql-client)"
done

# Where we are dumping from, without the password.
target=${DATABASE_URL#*://}
target=${target##*@}
target=${target%%\?*}

mkdir -p "$BACKUP_DIR" || die "cannot create BACKUP_DIR $BACKUP_DIR"
[[ -w $BACKUP_DIR ]] || die "BACKUP_DIR $BACKUP_DIR is not writable by $(id -un)"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
final=$BACKUP_DIR/$PREFIX-$stamp.dump
[[ ! -e $final ]] || die "$final already exists (two backups in the same second?); try again"
partial=$final.partial
trap 'rm -f "$partial"' EXIT

log "dumping $target to $final"
# Row-level security is forced on the tables' owner (docs/adr/008): a plain pg_dump by the app's
# own (non-superuser) user would stop at the first tenant table. Dump with the policies applied
# and the deliberate all-tenants bypass set for this session, so every tenant's rows are in it.
if ! PGOPTIONS="${PGOPTIONS:-} -c app.bypass_rls=on" pg_dump --enable-row-security \
    --format=custom --compress=6 --no-password --file="$partial" --dbname="$DATABASE_URL"; then
  die "pg_dump of $target failed (its error is above); check that the database is reachable and the user may read every table"
fi
if ! pg_restore --list "$partial" >/dev/null; then
  die "the dump of $target cannot be read back by pg_restore; disk full or a client/server version mismatch?"
fi
mv "$partial" "$final"
trap - EXIT
log "wrote $final ($(du -h "$final" | cut -f1))"

# Retention: newest first; the newest KEEP_MIN always stay; the rest go once older than the cutoff.
cutoff=$(date -u -d "-$RETENTION_DAYS days" +%Y%m%dT%H%M%SZ)
mapfile -t dumps < <(find "$BACKUP_DIR" -maxdepth 1 -type f -name "$PREFIX-*.dump" -printf '%f\n' \
  | grep -E "^${PREFIX//./\\.}-[0-9]{8}T[0-9]{6}Z\.dump$" | sort -r)
deleted=0
for i in "${!dumps[@]}"; do
  name=${dumps[$i]}
  ts=${name#"$PREFIX"-}
  ts=${ts%.dump}
  if ((i >= KEEP_MIN)) && [[ $ts < $cutoff ]]; then
    rm -f -- "${BACKUP_DIR:?}/$name" || die "cannot delete old dump $BACKUP_DIR/$name"
    log "retention: deleted $name (older than $RETENTION_DAYS days)"
    deleted=$((deleted + 1))
  fi
done
log "retention: kept $((${#dumps[@]} - deleted)) dump(s), deleted $deleted (keep >= $KEEP_MIN, max age $RETENTION_DAYS days)"
printf '%s\n' "$final"
