#!/usr/bin/env bash
# Brings a failed old primary back into the cluster as a standby. Run it as root on that node after a
# failover (the pgsql agent leaves PGSQL.lock there so that the node never starts as a second primary):
#   1. starts the cluster stack on this node if it is not running (e.g. after a reboot);
#   2. waits for another node to be the primary (pgsql-status PRI);
#   3. with PostgreSQL stopped: has the new primary checkpoint (so pg_rewind sees its new timeline), removes
#      standby.signal and rewinds the data directory from it (pg_rewind); if that fails, moves the data
#      directory aside and takes a fresh pg_basebackup;
#   4. removes PGSQL.lock, cleans up the pgsql resource on this node, and waits until the node reports
#      HS:async or HS:sync.
# Everything it needs comes from the cluster configuration (pgdata, pgctl, repuser, port, tmpdir of the
# pgsql resource) and the replication passfile the program installed; it takes no arguments. Usage:
#   rejoin-node.sh [--wait SECONDS]
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"
PGHA_STEP=rejoin-node

wait_seconds=300
if [[ ${1:-} == --wait ]]; then
    wait_seconds=${2:?--wait needs seconds}
fi
((EUID == 0)) || pgha_die "run as root"
started=$SECONDS

me=$(crm_node -n 2>/dev/null || hostname)
if ! crm_mon -1 >/dev/null 2>&1; then
    pcs cluster start >/dev/null
    pgha_log "started the cluster stack on $me"
fi
pgha_wait_for 120 crm_mon -1 >/dev/null 2>&1 || pgha_die "the cluster stack does not answer on $me"

# A parameter of the pgsql resource ("" when unset).
param() { crm_resource -r pgsql -g "$1" -Q 2>/dev/null || true; }
pgdata=$(param pgdata)
[[ -n $pgdata ]] || pgha_die "no pgsql resource (or no pgdata) in the cluster configuration"
bindir=$(dirname "$(param pgctl)")
repuser=$(param repuser)
port=$(param pgport)
port=${port:-5432}
tmpdir=$(param tmpdir)
tmpdir=${tmpdir:-/var/lib/pgsql/tmp}
passfile=$(param primary_conninfo_opt | tr ' ' '\n' | sed -n 's/^passfile=//p')
[[ -n $passfile ]] || pgha_die "the pgsql resource has no passfile in primary_conninfo_opt"

primary_node() { pgha_node_with_status PRI "$me"; }
pgha_wait_for "$wait_seconds" primary_node >/dev/null || pgha_die "no other node is the primary; not rejoining $me"
primary=$(primary_node)
[[ $(pgha_pgsql_status "$me") != PRI ]] || pgha_die "$me is the primary"
pgha_log "new primary: $primary"

pg() { pgha_as_postgres "$bindir/$1" "${@:2}"; }
if pg pg_ctl -D "$pgdata" status >/dev/null 2>&1; then
    # Pacemaker has given up on this instance; a leftover server would only refuse the rewind.
    pg pg_ctl -D "$pgdata" -m fast -w stop >/dev/null
fi

source_conn="host=$primary port=$port user=$repuser dbname=postgres passfile=$passfile connect_timeout=10"
# pg_rewind reads the source's timeline from its control file, which a fresh primary updates only at its
# next checkpoint: force one first (pg-primary.sh created this function for the replication role).
pg psql -X -q -w -c 'select public.pgha_checkpoint()' "$source_conn" >/dev/null
rm -f "$pgdata/standby.signal"
if pg pg_rewind --target-pgdata="$pgdata" --source-server="$source_conn" --progress >/tmp/pgha-rejoin-rewind.log 2>&1; then
    pgha_changed "pg_rewind of $pgdata from $primary"
else
    aside="$pgdata.pgha-rejoin-$(date +%Y%m%d%H%M%S)"
    pgha_log "pg_rewind failed ($(tail -n1 /tmp/pgha-rejoin-rewind.log)); moving $pgdata to $aside and copying afresh"
    mv "$pgdata" "$aside"
    install -d -m 0700 -o postgres -g "$(id -gn postgres)" "$pgdata"
    pg pg_basebackup -d "host=$primary port=$port user=$repuser passfile=$passfile connect_timeout=10" -D "$pgdata" -X stream -c fast -w
    pgha_changed "pg_basebackup of $pgdata from $primary (old data kept in $aside)"
fi

if [[ -e $tmpdir/PGSQL.lock ]]; then
    rm -f "$tmpdir/PGSQL.lock"
    pgha_changed "removed $tmpdir/PGSQL.lock"
fi
crm_resource --cleanup -r pgsql -N "$me" >/dev/null

standby() { [[ $(pgha_pgsql_status "$me") == HS:sync || $(pgha_pgsql_status "$me") == HS:async ]]; }
if ! pgha_wait_for "$wait_seconds" standby; then
    pcs status --full 2>&1 || true
    pgha_die "$me did not come back as a standby within ${wait_seconds}s (pcs status above)"
fi
pgha_log "$me is $(pgha_pgsql_status "$me") after $((SECONDS - started))s"
pgha_summary
