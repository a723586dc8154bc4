#!/usr/bin/env bash
# Planned switchover: moves the primary role to the sync standby, or to NODE, and back to normal. Run it as
# root on any node:
#   pgha-switchover [--to NODE] [--wait SECONDS]
# What it does, with Pacemaker's own commands:
#   1. checks that the cluster is healthy: one primary, the target a streaming standby; an async target (run
#      on the primary) first gets the sync role, since the pgsql agent promotes only the sync standby;
#   2. pcs resource move (0.11+: move-with-constraint) <promotable set> NODE --promoted (pcs 0.9/0.10:
#      --master): Pacemaker demotes the primary (a fast shutdown, which hands every committed transaction,
#      up to the shutdown checkpoint, to the connected standbys) and promotes NODE; vip-master follows;
#   3. once NODE is the primary, pcs resource clear removes the constraint again;
#   4. the old primary rejoins as a standby by itself (ocf:pgha:pgsql's automatic rejoin; a cleanup of its
#      stopped instance starts it at once) and the tool waits until it is HS:sync or HS:async.
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"
# shellcheck source=pglib.sh
[[ $(type -t pgha_pg_configure) == function ]] || . "${BASH_SOURCE[0]%/*}/pglib.sh"
# shellcheck source=rejoinlib.sh
[[ $(type -t pgha_prepare_standby) == function ]] || . "${BASH_SOURCE[0]%/*}/rejoinlib.sh"
PGHA_STEP=switchover

target=""
wait_seconds=120
while (($# > 0)); do
    case $1 in
        --to) target=${2:?--to needs a node}; shift 2 ;;
        --wait) wait_seconds=${2:?--wait needs seconds}; shift 2 ;;
        *) pgha_die "unknown argument $1 (usage: pgha-switchover [--to NODE] [--wait SECONDS])" ;;
    esac
done
((EUID == 0)) || pgha_die "run as root"
pgha_load_cluster_conf
crm_mon -1 >/dev/null 2>&1 || pgha_die "the cluster stack does not run on this node"

primary=$(pgha_node_with_status PRI) || pgha_die "no node is the primary"
if [[ -z $target ]]; then
    target=$(pgha_node_with_status HS:sync) || pgha_die "no sync standby to switch over to; name one with --to"
fi
[[ $target != "$primary" ]] || pgha_die "$target is already the primary"
status=$(pgha_pgsql_status "$target")
[[ $status == HS:sync || $status == HS:async ]] || pgha_die "$target is not a streaming standby (pgsql-status '$status')"
if [[ $status == HS:async ]]; then
    # The pgsql agent promotes only the sync standby, and names it in its rep_mode.conf on the primary, which
    # it leaves alone while that standby streams. Naming the target there (and reloading) makes the target the
    # one every commit waits for; the agent's next monitor sees it as HS:sync and may promote it.
    sync=$(pgha_node_with_status HS:sync) || pgha_die "no sync standby to take the role from"
    [[ $(crm_node -n) == "$primary" ]] || pgha_die "$target is an async standby and only the sync standby ($sync) can be promoted: run pgha-switchover --to $target on the primary, $primary, which hands $target the sync role first"
    pgha_hand_sync_role "$target"
fi

set_id=$(pgha_promotable_id)
case $(pcs --version) in
    0.9.* | 0.10.*) pcs resource move "$set_id" "$target" --master >/dev/null ;;
    *) pcs resource move-with-constraint "$set_id" "$target" --promoted >/dev/null ;;
esac
pgha_log "moving the primary from $primary to $target"
started=$SECONDS
promoted() { [[ $(pgha_pgsql_status "$target") == PRI ]]; }
moved=0
pgha_wait_for "$wait_seconds" promoted || moved=$?
pcs resource clear "$set_id" >/dev/null
((moved == 0)) || { pcs status --full 2>&1 || true; pgha_die "$target did not become the primary within ${wait_seconds}s; the move constraint is cleared again (pcs status above)"; }
pgha_log "$target is the primary after $((SECONDS - started))s"

# The demoted instance stopped PostgreSQL; starting it now (instead of after its failure-timeout) rejoins it.
crm_resource --cleanup -r pgsql -N "$primary" >/dev/null 2>&1 || true
back() { [[ $(pgha_pgsql_status "$primary") == HS:sync || $(pgha_pgsql_status "$primary") == HS:async ]]; }
pgha_wait_for "$wait_seconds" back || pgha_die "$primary did not come back as a standby within ${wait_seconds}s: see pgha-status"
pgha_log "$primary is $(pgha_pgsql_status "$primary")"
pgha_summary
