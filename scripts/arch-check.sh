#!/usr/bin/env bash
# Architecture invariant: the pure domain crates never depend (even transitively) on an I/O
# crate. Adapters implement their ports instead.
set -euo pipefail
cd "$(dirname "$0")/.."

domains=(kernel order inventory warehouse integration analytics identity notification)
forbidden='^(sea-orm|sea-query|sqlx|sqlx-core|lapin|reqwest|actix-web|actix-http|hyper|tokio-postgres) '

failed=0
for crate in "${domains[@]}"; do
  if ! tree=$(cargo tree -q -p "$crate" -e normal --prefix none 2>&1); then
    echo "arch-check: cannot read the dependency tree of $crate:" >&2
    echo "$tree" >&2
    exit 2
  fi
  if bad=$(grep -E "$forbidden" <<<"$tree" | sort -u) && [[ -n $bad ]]; then
    echo "arch-check: domain crate '$crate' depends on I/O crates:" >&2
    echo "$bad" | sed 's/^/    /' >&2
    failed=1
  fi
done
if ((failed)); then
  echo "arch-check: move the I/O into an adapter crate behind a port trait." >&2
  exit 1
fi
echo "arch-check: ${#domains[@]} domain crates are free of I/O crates"
