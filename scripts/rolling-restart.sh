#!/usr/bin/env bash
# Restarts PostgreSQL on the nodes where something waits for a restart (settings PostgreSQL marks pending_restart,
# or a PostgreSQL build installed under the running server: pgha_pending_restart), one node at a time, with
# writes paused once, for one switchover:
#   pgha-rolling-restart [--wait SECONDS] [--in-place]
# Run as root on every node by `pulumi up` after the settings changed; only the primary acts, since the order
# comes from the cluster as it is now (any node may be the primary after failovers) and the sync role is
# handed over on the primary. The order:
#   1. the async standbys, each restarted (pcs resource restart on that node) and waited for until it streams;
#   2. the sync standby: first an async standby that streams gets the sync role (no commit waits for the node
#      going down), then it is restarted as in 1;
#   3. the primary: one switchover to the sync standby (pgha-switchover), whose demote restarts the old
#      primary as a standby; or with --in-place (pgha:restartPolicy in-place, PGHA_RESTART_POLICY) restarted
#      where it is, under Pacemaker's maintenance mode, and waited for until the sync standby streams again. If
#      it does not come back, maintenance mode ends and Pacemaker recovers it as after any failure.
# A new major version is refused (pg_upgrade's work). Each restarted node must then run the installed build.
# Starts only when pgha-status says the cluster is healthy (exit 0) and maintenance mode is off; stops at the
# first node that does not come back, every other node still running, and says which. Run again, it resumes
# with what still waits.
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"
# shellcheck source=pglib.sh
[[ $(type -t pgha_pg_configure) == function ]] || . "${BASH_SOURCE[0]%/*}/pglib.sh"
# shellcheck source=rejoinlib.sh
[[ $(type -t pgha_prepare_standby) == function ]] || . "${BASH_SOURCE[0]%/*}/rejoinlib.sh"
PGHA_STEP=rolling-restart

wait_seconds=300
policy=${PGHA_RESTART_POLICY:-rolling}
while (($# > 0)); do
    case $1 in
        --wait) wait_seconds=${2:?--wait needs seconds}; shift 2 ;;
        --in-place) policy=in-place; shift ;;
        *) pgha_die "unknown argument $1 (usage: pgha-rolling-restart [--wait SECONDS] [--in-place])" ;;
    esac
done
[[ $policy == rolling || $policy == in-place ]] || pgha_die "unknown restart policy $policy (rolling or in-place)"
((EUID == 0)) || pgha_die "run as root"
pgha_load_cluster_conf
crm_mon -1 >/dev/null 2>&1 || pgha_die "the cluster stack does not run on $(hostname)"
me=$(crm_node -n)

primary=$(pgha_node_with_status PRI) || pgha_die "no node is the primary: nothing is restarted (pgha-status shows why)"
if [[ $me != "$primary" ]]; then
    pgha_log "the primary, $primary, restarts what waits for a restart"
    pgha_summary
    exit 0
fi

installed=$(pgha_pg_installed_version)
declare -A waiting=()
for entry in $PGHA_NODES; do
    node=${entry%%=*}
    conn=$(pgha_replication_conn "$(pgha_node_address "$node")")
    settings=$(pgha_pending_restart "$conn" 2>/dev/null) || pgha_die "$node's PostgreSQL does not answer: nothing is restarted until every node runs (pgha-status shows why; then pulumi up again)"
    running=$(pgha_pg_running_version "$conn")
    # A new major version cannot start on the old data directory: that is pg_upgrade's work, never a restart's.
    [[ ${running%%.*} == "${installed%%.*}" ]] ||
        pgha_die "$node runs PostgreSQL $running and $installed is installed: a major upgrade needs pg_upgrade, not a restart; nothing is restarted"
    [[ -z $settings ]] || waiting[$node]=$settings
done
if ((${#waiting[@]} == 0)); then
    pgha_log "no setting waits for a restart on any node: nothing to restart"
    pgha_summary
    exit 0
fi
pgha_log "waiting for a restart: $(for node in "${!waiting[@]}"; do printf '%s (%s) ' "$node" "${waiting[$node]}"; done)"

! pgha_maintenance_mode_on ||
    pgha_die "maintenance mode is on (pgha-maintenance off ends it): nothing is restarted"
if ! health=$(/usr/local/sbin/pgha-status 2>&1); then
    pgha_die "the cluster is not healthy, nothing is restarted; pgha-status says: $(sed -n '/^CRITICAL\|^WARNING/,$p' <<<"$health" | tr '\n' ' ')"
fi

# Fails unless NODE, just restarted, runs the PostgreSQL installed here (else its own install differs: its postgresql
# step says why).
runs_installed() {
    local running
    running=$(pgha_pg_running_version "$(pgha_replication_conn "$(pgha_node_address "$1")")")
    [[ $running == "$installed" ]] ||
        pgha_die "$1 runs PostgreSQL $running after its restart, not $installed as installed on $primary: its own install differs (its postgresql step says why); the next nodes are not restarted"
}

# Restarts standby NODE and waits until it streams again.
restart_standby() {
    local node=$1 started=$SECONDS
    pgha_log "restarting PostgreSQL on the standby $node"
    pcs resource restart "$(pgha_promotable_id)" "$node" --wait="$wait_seconds" >/dev/null ||
        pgha_die "pcs resource restart on $node failed; the other nodes run as before (pgha-status shows $node; pulumi up again resumes)"
    pgha_wait_for "$wait_seconds" pgha_has_status "$node" HS:sync HS:async ||
        pgha_die "$node did not come back as a streaming standby within ${wait_seconds}s; the other nodes run as before (pgha-status shows why; pulumi up again resumes once it is back)"
    runs_installed "$node"
    pgha_changed "restarted $node ($((SECONDS - started)) s): ${waiting[$node]}"
    unset "waiting[$node]"
}

for node in "${!waiting[@]}"; do
    [[ $node == "$primary" ]] || ! pgha_has_status "$node" HS:async || restart_standby "$node"
done
sync=$(pgha_node_with_status HS:sync || true)
if [[ -n $sync && -n ${waiting[$sync]:-} ]]; then
    other=$(pgha_node_with_status HS:async "$sync" || true)
    if [[ -n $other ]]; then
        pgha_hand_sync_role "$other"
    else
        pgha_log "no other standby can take the sync role: commits wait while $sync restarts"
    fi
    restart_standby "$sync"
fi
# Sets Pacemaker's maintenance mode to VALUE (true/false) and waits until the cluster has acted on it: only then
# are the agent's recurring monitors cancelled (a monitor that saw the restart would take it for a failure).
set_maintenance_mode() {
    crm_attribute -t crm_config -n maintenance-mode -v "$1"
    crm_resource --wait --timeout="${wait_seconds}s" >/dev/null
}

# Restarts the primary (this node) where it is, under maintenance mode; the sync standby reconnects by itself.
restart_primary_in_place() {
    local started=$SECONDS sync
    sync=$(pgha_node_with_status HS:sync || true)
    pgha_log "restarting the primary $primary in place (pgha:restartPolicy in-place): writes stop until it is back"
    if ! set_maintenance_mode true; then
        set_maintenance_mode false || true
        pgha_die "the cluster did not settle in maintenance mode within ${wait_seconds}s; nothing was restarted on $primary"
    fi
    if ! pgha_pg pg_ctl -D "$PGHA_PGDATA" -l /dev/null -w -t "$wait_seconds" -m fast restart >/dev/null; then
        set_maintenance_mode false || true
        pgha_die "PostgreSQL did not restart on the primary $primary; maintenance mode is off again, so Pacemaker recovers it (or promotes the sync standby) as after any failure; pgha-status shows where the primary is"
    fi
    set_maintenance_mode false ||
        pgha_die "the cluster did not settle within ${wait_seconds}s after the primary's restart (pgha-status shows why)"
    if [[ -n $sync ]]; then
        pgha_wait_for "$wait_seconds" pgha_has_status "$sync" HS:sync ||
            pgha_die "$sync did not stream as the sync standby again within ${wait_seconds}s of the primary's restart (pgha-status shows why)"
    fi
    runs_installed "$primary"
    pgha_changed "restarted the primary $primary in place ($((SECONDS - started)) s): ${waiting[$primary]}"
}

if [[ -n ${waiting[$primary]:-} ]]; then
    if [[ $policy == in-place ]]; then
        restart_primary_in_place
    else
        pgha_log "switching over from $primary to restart it"
        /usr/local/sbin/pgha-switchover --wait "$wait_seconds" || pgha_die "the switchover from $primary failed (see above); pulumi up again resumes once the cluster is healthy"
        pgha_wait_for "$wait_seconds" pgha_has_status "$primary" HS:sync HS:async ||
            pgha_die "the old primary $primary did not come back as a streaming standby within ${wait_seconds}s of the switchover (pgha-status shows why)"
        runs_installed "$primary"
        pgha_changed "restarted $primary by a switchover to $(pgha_node_with_status PRI || echo '?'): ${waiting[$primary]}"
    fi
fi
pgha_summary
