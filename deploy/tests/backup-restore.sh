#!/usr/bin/env bash
# End-to-end test of deploy/backup.sh and deploy/restore.sh on a real PostgreSQL:
#
#   deploy/tests/backup-restore.sh
#
#  1. creates a scratch database, migrates it with `tote migrate`
#  2. starts `tote serve` on a free port and creates a tenant, products, stock and orders over HTTP
#  3. stops the server, backs up with backup.sh, restores with restore.sh into a second new database
#  4. compares every table's row count and content checksum between the two; any difference fails
#  5. checks that restore.sh refuses the now non-empty database without --force, and accepts it with
#  6. checks backup.sh retention (old dumps deleted, the newest BACKUP_KEEP_MIN always kept)
#
# Environment:
#   PG_ADMIN_URL   server to create scratch databases on (default postgres://postgres@127.0.0.1:5432/postgres)
#   PG_APP_ROLE    role that owns the scratch databases and that tote, backup.sh and restore.sh connect
#                  as (default tote_app: NOSUPERUSER NOBYPASSRLS, created if missing, passwordless
#                  login as with trust auth), so the forced row-level security binds them as in
#                  production; empty = everything as the admin. Comparisons always read as the admin.
#   TOTE_BIN       tote binary (default $CARGO_TARGET_DIR or target, then debug/tote; built with
#                  `cargo build -p tote` if missing)
#   TAMPER=1       delete one row from the restored copy before comparing: the test must then FAIL
#                  (proves the comparison catches a difference)
# Scratch databases are named tote_t_br_*, dropped on exit (`make clean-test-dbs` also finds them).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
SERVER_URL=${ADMIN_URL%/*}
APP_ROLE=${PG_APP_ROLE-tote_app}
if [[ -n $APP_ROLE ]]; then
  [[ $APP_ROLE =~ ^[a-z_][a-z0-9_]*$ ]] || die "PG_APP_ROLE must be a plain lower-case role name"
  host=${SERVER_URL#*://}
  APP_SERVER_URL=${SERVER_URL%%://*}://$APP_ROLE@${host#*@}
else
  APP_SERVER_URL=$SERVER_URL
fi
TOTE_BIN=${TOTE_BIN:-${CARGO_TARGET_DIR:-target}/debug/tote}
TAMPER=${TAMPER:-0}

step() { printf '==> %s\n' "$*"; }
die() { printf 'backup-restore: FAIL: %s\n' "$*" >&2; exit 1; }

for tool in psql pg_dump pg_restore curl jq python3; do
  command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install -y postgresql-client curl jq python3)"
done
psql "$ADMIN_URL" -X -Atqc 'select 1' >/dev/null \
  || die "cannot reach PostgreSQL at $ADMIN_URL; start it (make services) or set PG_ADMIN_URL"

suffix="$$_$(date +%s)_$RANDOM"
SRC_DB=tote_t_br_src_$suffix
DST_DB=tote_t_br_dst_$suffix
SRC_URL=$APP_SERVER_URL/$SRC_DB   # what tote, backup.sh and restore.sh use
DST_URL=$APP_SERVER_URL/$DST_DB
SRC_ADMIN_URL=$SERVER_URL/$SRC_DB # what the comparisons read (the admin is not bound by RLS)
DST_ADMIN_URL=$SERVER_URL/$DST_DB
OWNER=${APP_ROLE:+ owner $APP_ROLE}
WORK=$(mktemp -d)
SERVER_PID=

cleanup() {
  local rc=$?
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  for db in "$SRC_DB" "$DST_DB"; do
    psql "$ADMIN_URL" -X -qc "drop database if exists $db with (force)" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

# --- 1. scratch database, migrated by the real binary ---------------------------------------------
if [[ ! -x $TOTE_BIN ]]; then
  step "building tote ($TOTE_BIN is missing): cargo build -p tote"
  cargo build -p tote || die "cargo build -p tote failed"
  TOTE_BIN=${CARGO_TARGET_DIR:-target}/debug/tote
fi
step "creating scratch database $SRC_DB and migrating it with $TOTE_BIN migrate"
if [[ -n $APP_ROLE ]]; then
  psql "$ADMIN_URL" -X -qc "do \$\$ begin create role $APP_ROLE login nosuperuser nobypassrls;
    exception when duplicate_object or unique_violation then null; end \$\$" >/dev/null
fi
psql "$ADMIN_URL" -X -qc "create database $SRC_DB$OWNER" >/dev/null
DATABASE_URL=$SRC_URL TOTE_LOG_FORMAT=json "$TOTE_BIN" migrate >"$WORK/migrate.log" 2>&1 \
  || { cat "$WORK/migrate.log" >&2; die "tote migrate failed"; }

# --- 2. data through the HTTP API ----------------------------------------------------------------------
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
step "starting tote serve on $BASE"
DATABASE_URL=$SRC_URL TOTE_HTTP_ADDR=127.0.0.1:$PORT TOTE_LOG_FORMAT=json \
  "$TOTE_BIN" serve >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  curl -fsS "$BASE/ready" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; die "tote serve exited during start-up"; }
  sleep 0.2
done
curl -fsS "$BASE/ready" >/dev/null || { cat "$WORK/serve.log" >&2; die "tote serve is not ready after 20 s"; }

api() { # api METHOD PATH [BODY [EXTRA_HEADER]] -> prints the body; fails on a non-2xx status
  local method=$1 path=$2 body=${3:-} extra=${4:-} out status
  local -a args=(-sS -X "$method" "$BASE$path" -H 'content-type: application/json' -w '\n%{http_code}')
  [[ -n ${KEY:-} ]] && args+=(-H "authorization: Bearer $KEY")
  [[ -n $extra ]] && args+=(-H "$extra")
  [[ -n $body ]] && args+=(-d "$body")
  out=$(curl "${args[@]}") || die "$method $path: curl failed"
  status=${out##*$'\n'}
  out=${out%$'\n'*}
  [[ $status == 2* ]] || die "$method $path answered $status: $out"
  printf '%s' "$out"
}

step "creating a tenant, 2 products, stock and 4 orders through the API"
KEY=
KEY=$(api POST /api/v1/signup '{"company": "Backup Test Socks", "email": "ops@backup.example"}' | jq -r .api_key)
[[ $KEY == tote_sk_* ]] || die "signup returned no api_key"
api POST /api/v1/products '{"sku": "SOCK-RED-M", "name": "Red socks, M", "barcode": "4006381333931", "weight_grams": 120}' >/dev/null
api POST /api/v1/products '{"sku": "SOCK-BLUE-L", "name": "Blue socks, L", "weight_grams": 130}' >/dev/null
api PUT /api/v1/inventory/SOCK-RED-M/quantity '{"on_hand": 25, "reason": "initial stock"}' >/dev/null
api PUT /api/v1/inventory/SOCK-BLUE-L/quantity '{"on_hand": 4, "reason": "initial stock"}' >/dev/null
order_ids=()
for n in 1 2 3 4; do
  body=$(jq -nc --arg ext "#10$n" --argjson q "$n" '{
    channel: "shopify", external_id: $ext,
    ship_to: {name: "Ada Lovelace", line1: "12 St James'"'"'s Square", city: "London", postal_code: "SW1Y 4JH", country: "GB"},
    lines: [{sku: "SOCK-RED-M", quantity: $q, unit_price: {amount_minor: 1299, currency: "GBP"}},
            {sku: "SOCK-BLUE-L", quantity: 1, unit_price: {amount_minor: 1499, currency: "GBP"}}]}')
  id=$(api POST /api/v1/orders "$body" "Idempotency-Key: backup-test-order-$n" | jq -r .id)
  [[ -n $id && $id != null ]] || die "order $n returned no id"
  order_ids+=("$id")
done
api POST "/api/v1/orders/${order_ids[0]}/cancel" '{"reason": "backup test"}' >/dev/null
stock=$(api GET /api/v1/inventory/SOCK-RED-M)
echo "    tenant ok, orders: ${order_ids[*]}"
echo "    SOCK-RED-M: $stock"

step "stopping tote serve"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=

# --- 3. backup and restore ----------------------------------------------------------------------------
step "backing up $SRC_DB with deploy/backup.sh"
DATABASE_URL=$SRC_URL BACKUP_DIR=$WORK/backups deploy/backup.sh >"$WORK/backup.out" \
  || die "backup.sh failed"
sed '$d' "$WORK/backup.out"
DUMP=$(tail -n 1 "$WORK/backup.out")
[[ -f $DUMP ]] || die "backup.sh did not produce a dump (last line was '$DUMP')"

step "restoring into a new empty database $DST_DB with deploy/restore.sh"
psql "$ADMIN_URL" -X -qc "create database $DST_DB$OWNER" >/dev/null
deploy/restore.sh "$DUMP" "$DST_URL"

if [[ $TAMPER == 1 ]]; then
  step "TAMPER=1: deleting one stock movement from the restored copy (the comparison must now fail)"
  psql "$DST_ADMIN_URL" -X -qc "delete from stock_movements where ctid in (select ctid from stock_movements limit 1)"
fi

# --- 4. compare every table --------------------------------------------------------------------------
tables_of() {
  psql "$1" -X -Atc "select quote_ident(schemaname) || '.' || quote_ident(tablename) from pg_tables
                     where schemaname not in ('pg_catalog', 'information_schema') order by 1"
}
fingerprint() { # fingerprint URL TABLE -> "rows md5"
  psql "$1" -X -Atc "select count(*) || ' ' || coalesce(md5(string_agg(t::text, ',' order by t::text)), '-')
                     from $2 t"
}

step "comparing row counts and content checksums of every table"
mapfile -t src_tables < <(tables_of "$SRC_ADMIN_URL")
mapfile -t dst_tables < <(tables_of "$DST_ADMIN_URL")
[[ ${#src_tables[@]} -gt 0 ]] || die "the source database has no tables"
[[ "${src_tables[*]}" == "${dst_tables[*]}" ]] \
  || die "table lists differ: source [${src_tables[*]}], restored [${dst_tables[*]}]"
differences=0
total_rows=0
for t in "${src_tables[@]}"; do
  a=$(fingerprint "$SRC_ADMIN_URL" "$t")
  b=$(fingerprint "$DST_ADMIN_URL" "$t")
  if [[ $a == "$b" ]]; then
    printf '    same     %-28s %s\n' "$t" "$a"
  else
    printf '    DIFFERS  %-28s source %s, restored %s\n' "$t" "$a" "$b"
    differences=$((differences + 1))
  fi
  total_rows=$((total_rows + ${a%% *}))
done
[[ $differences -eq 0 ]] || die "$differences table(s) differ between the source and the restored copy"
orders_rows=$(psql "$DST_ADMIN_URL" -X -Atc 'select count(*) from orders')
[[ $orders_rows -eq 4 ]] || die "the restored copy has $orders_rows orders, expected 4"
echo "    ${#src_tables[@]} tables, $total_rows rows, identical"

# --- 5. restore.sh refuses a non-empty target ----------------------------------------------------------
step "restore.sh must refuse the now non-empty $DST_DB without --force"
if deploy/restore.sh "$DUMP" "$DST_URL" >"$WORK/refuse.log" 2>&1; then
  die "restore.sh restored into a non-empty database without --force"
fi
grep -q 'is not empty' "$WORK/refuse.log" || { cat "$WORK/refuse.log" >&2; die "restore.sh failed for another reason"; }
echo "    refused: $(tail -n 1 "$WORK/refuse.log")"
step "restore.sh --force over it, then compare again"
deploy/restore.sh --force "$DUMP" "$DST_URL" >/dev/null
for t in "${src_tables[@]}"; do
  [[ $(fingerprint "$SRC_ADMIN_URL" "$t") == "$(fingerprint "$DST_ADMIN_URL" "$t")" ]] || die "$t differs after restore --force"
done
echo "    identical after --force"

# --- 6. retention --------------------------------------------------------------------------------------
step "backup.sh retention: 14 days, keep at least 3"
RDIR=$WORK/retention
mkdir -p "$RDIR"
for days in 40 30 20 15 13 1; do
  touch "$RDIR/tote-$(date -u -d "-$days days" +%Y%m%dT%H%M%SZ).dump"
done
touch "$RDIR/unrelated-20000101T000000Z.dump" "$RDIR/tote-notes.txt"
DATABASE_URL=$SRC_URL BACKUP_DIR=$RDIR BACKUP_RETENTION_DAYS=14 BACKUP_KEEP_MIN=3 deploy/backup.sh >/dev/null
mapfile -t kept < <(find "$RDIR" -maxdepth 1 -type f -printf '%f\n' | sort)
# expected: the new dump, 1 and 13 days old (young enough), nothing older; other files untouched
[[ ${#kept[@]} -eq 5 ]] || die "retention kept ${#kept[@]} files: ${kept[*]}"
[[ -e $RDIR/unrelated-20000101T000000Z.dump && -e $RDIR/tote-notes.txt ]] || die "retention touched files it does not own"
step "backup.sh retention: 0 days, keep at least 3 (keep-min wins over age)"
sleep 1 # a new second, so the next dump gets a new name
DATABASE_URL=$SRC_URL BACKUP_DIR=$RDIR BACKUP_RETENTION_DAYS=0 BACKUP_KEEP_MIN=3 deploy/backup.sh >/dev/null
mapfile -t kept < <(find "$RDIR" -maxdepth 1 -type f -name 'tote-*.dump' -printf '%f\n')
[[ ${#kept[@]} -eq 3 ]] || die "with retention 0 days and keep-min 3, ${#kept[@]} dumps remain: ${kept[*]}"
echo "    retention ok"

echo
echo "backup-restore: PASS (${#src_tables[@]} tables identical after backup and restore)"
