#!/usr/bin/env bash
# pg_ctl for the pgsql resource agent (its pgctl parameter): PostgreSQL's pg_ctl, except that a promote
# waits until the server accepts writes. The agent asks pg_ctl not to wait (-W), checks once, and then
# sleeps a whole second before it looks again: a second of every failover spent waiting.
# Reads PGHA_BINDIR from /etc/pgha/cluster.conf.
set -euo pipefail
# shellcheck source=/dev/null
. /etc/pgha/cluster.conf
args=("$@")
if [[ " $* " == *" promote "* ]]; then
    for i in "${!args[@]}"; do
        [[ ${args[i]} != -W ]] || args[i]=-w
    done
fi
exec "$PGHA_BINDIR/pg_ctl" "${args[@]}"
