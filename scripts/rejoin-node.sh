#!/usr/bin/env bash
# Brings this node back into the cluster as a standby of the current primary, by hand: the same rule and
# the same actions as the automatic rejoin of ocf:pgha:pgsql (rejoinlib.sh), for operators, and for a node
# whose automatic rejoin was refused or is turned off (pgha:autoRejoin false). Run it as root on the node:
#   1. starts the cluster stack on this node if it is not running (e.g. after `pcs cluster stop`);
#   2. waits for another node to be the primary;
#   3. with PostgreSQL stopped, checks the node against the primary's history and rewinds it (pg_rewind, else
#      a fresh copy with the old data kept aside) when that loses no acknowledged transaction; otherwise it
#      refuses, names the node that holds the newer data and changes nothing;
#   4. cleans up the pgsql resource on this node and waits until the node reports HS:async or HS:sync.
# Everything it needs comes from /etc/pgha/cluster.conf and the replication passfile. Usage:
#   pgha-rejoin-node [--wait SECONDS] [--discard-newer-data]
# --discard-newer-data: rewind even a node that holds transactions the primary lacks (they are lost).
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"
# shellcheck source=pglib.sh
[[ $(type -t pgha_pg_configure) == function ]] || . "${BASH_SOURCE[0]%/*}/pglib.sh"
# shellcheck source=rejoinlib.sh
[[ $(type -t pgha_prepare_standby) == function ]] || . "${BASH_SOURCE[0]%/*}/rejoinlib.sh"
PGHA_STEP=rejoin-node

wait_seconds=300
discard=""
while (($# > 0)); do
    case $1 in
        --wait) wait_seconds=${2:?--wait needs seconds}; shift 2 ;;
        --discard-newer-data) discard=$1; shift ;;
        *) pgha_die "unknown argument $1 (usage: pgha-rejoin-node [--wait SECONDS] [--discard-newer-data])" ;;
    esac
done
((EUID == 0)) || pgha_die "run as root"
pgha_load_cluster_conf
started=$SECONDS

me=$(crm_node -n 2>/dev/null || hostname)
if ! crm_mon -1 >/dev/null 2>&1; then
    pcs cluster start >/dev/null
    pgha_log "started the cluster stack on $me"
fi
pgha_wait_for 120 crm_mon -1 >/dev/null 2>&1 || pgha_die "the cluster stack does not answer on $me"

standby() { [[ $(pgha_pgsql_status "$me") == HS:sync || $(pgha_pgsql_status "$me") == HS:async ]]; }
if standby; then
    pgha_log "$me is already a standby ($(pgha_pgsql_status "$me"))"
    pgha_summary
    exit 0
fi

primary_node() { pgha_node_with_status PRI "$me"; }
pgha_wait_for "$wait_seconds" primary_node >/dev/null || pgha_die "no other node is the primary; not rejoining $me"
primary=$(primary_node)
pgha_log "primary: $primary"

if pgha_pg_running; then
    # Pacemaker has given up on this instance (it is not a standby); a leftover server would block the rewind.
    pgha_pg pg_ctl -D "$PGHA_PGDATA" -m fast -w stop >/dev/null
fi
pgha_prepare_standby "$primary" "$discard"
crm_resource --cleanup -r pgsql -N "$me" >/dev/null

if ! pgha_wait_for "$wait_seconds" standby; then
    pcs status --full 2>&1 || true
    pgha_die "$me did not come back as a standby within ${wait_seconds}s (pcs status above)"
fi
pgha_log "$me is $(pgha_pgsql_status "$me") after $((SECONDS - started))s"
pgha_summary
