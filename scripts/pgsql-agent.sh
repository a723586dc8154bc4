#!/usr/bin/env bash
# ocf:pgha:pgsql: the resource agent of the cluster's PostgreSQL, installed on every node as
# /usr/lib/ocf/resource.d/pgha/pgsql. It is ocf:heartbeat:pgsql (same parameters, same attributes) with
# two things added:
#   start        a node whose data may have left the primary's history (PGSQL.lock after a failover, a
#                timeline other than the primary's) becomes the primary's standby first: rewound or copied
#                afresh when rejoinlib.sh's rule allows it and pgha:autoRejoin is on; refused otherwise, with
#                the reason (and the data untouched). This is what brings a failed, fenced or partitioned
#                old primary back by itself, and what never rewinds a node that holds newer data.
#   stop, demote a server that does not answer within a few seconds (hung, e.g. its postmaster stopped) fails
#                the action at once: Pacemaker then fences the node instead of waiting out the timeout. A
#                demote waits for the fast shutdown in tenths of a second, not the agent's whole seconds.
#   monitor      a standby that cannot follow the primary (it holds WAL the primary's timeline lacks, e.g.
#                streamed from the old primary after a failover without fencing) fails, so that the start
#                above rewinds it instead of it waiting in recovery for good.
#   notify       the pre-notifications of a demote, stop or start are answered at once: the heartbeat agent
#                (4.12, pgsql_notify) does nothing for them but start up, and two of them are on every
#                failover's critical path. Its permanent ban of a standby ahead of the node being promoted
#                is turned into one that expires (below).
# Everything else, and the start itself, is the heartbeat agent's.
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"
# shellcheck source=pglib.sh
[[ $(type -t pgha_pg_configure) == function ]] || . "${BASH_SOURCE[0]%/*}/pglib.sh"
# shellcheck source=rejoinlib.sh
[[ $(type -t pgha_prepare_standby) == function ]] || . "${BASH_SOURCE[0]%/*}/rejoinlib.sh"
PGHA_STEP=ocf:pgha:pgsql

heartbeat=${OCF_ROOT:-/usr/lib/ocf}/resource.d/heartbeat/pgsql
NOT_STREAMING_SECONDS=30
OCF_ERR_GENERIC=1
# A refusal is the action's exit reason, which Pacemaker shows (shortened) with the failed action. A refused
# rejoin is also kept whole in a node attribute: the failed action expires and the start is retried (and
# refused again) now and then, and pgha-status shows the refusal in between too.
pgha_die() {
    pgha_log "ERROR: $*"
    if [[ $* == "refused rejoin: "* ]]; then
        crm_attribute -N "$(crm_node -n)" -n "$PGHA_REFUSAL_ATTRIBUTE" -l forever -v "${*#refused rejoin: }" >/dev/null 2>&1 || true
    fi
    printf 'ocf-exit-reason:%s\n' "$*" >&2
    exit "$OCF_ERR_GENERIC"
}

# True when the postmaster runs but does not answer a query within 3 seconds.
server_hung() {
    local pid
    [[ -r $PGHA_PGDATA/postmaster.pid ]] || return 1
    pid=$(head -n1 "$PGHA_PGDATA/postmaster.pid")
    # The pid must still be this data directory's postmaster (pids are reused).
    [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *"-D $PGHA_PGDATA"* ]] || return 1
    pgha_as_postgres timeout 3 "$PGHA_BINDIR/psql" -X -q -p "$PGHA_PG_PORT" -d postgres -c 'select 1' >/dev/null 2>&1 && return 1
    # Anything but a timeout (e.g. too many connections) is an answer.
    [[ $? == 124 ]]
}

# Since when (its mtime) this standby has not streamed, as its monitor saw it.
not_streaming_marker() { printf '%s/pgha-not-streaming' "$PGHA_PGSQL_TMPDIR"; }

action=${1:-}
case $action in
    start)
        pgha_load_cluster_conf
        rm -f "$(not_streaming_marker)"
        me=$(crm_node -n)
        primary=$(pgha_node_with_status PRI "$me" || true)
        if [[ -z $primary || $PGHA_AUTO_REJOIN == true ]]; then
            pgha_prepare_standby "$primary" >&2
            if [[ -n $(pgha_refusal "$me") ]]; then
                crm_attribute -N "$me" -n "$PGHA_REFUSAL_ATTRIBUTE" -l forever -D >/dev/null 2>&1 || true
            fi
        elif [[ -e $(pgha_lock_file) ]]; then
            pgha_log "pgha:autoRejoin is off: $(pgha_lock_file) stays; run pgha-rejoin-node on this node"
        fi
        ;;
    notify)
        [[ ${OCF_RESKEY_CRM_meta_notify_type:-} == pre ]] || exec "$heartbeat" "$@"
        [[ ${OCF_RESKEY_CRM_meta_notify_operation:-} == promote ]] || exit 0
        pgha_load_cluster_conf
        rc=0
        "$heartbeat" "$@" || rc=$?
        # Before another node's promotion the heartbeat agent bans, for good, a standby that has replayed more
        # WAL than that node. In sync mode that WAL was never acknowledged (commits wait for the sync standby,
        # the node being promoted), so instead the ban lasts pgha:pgsqlFailureTimeoutSeconds: the node stops
        # now and then starts again, rewound onto the new timeline by the start above.
        rsc=${OCF_RESOURCE_INSTANCE%%:*}
        me=$(crm_node -n)
        if ((PGHA_FAILURE_TIMEOUT_SECONDS > 0)) && [[ $PGHA_AUTO_REJOIN == true ]] &&
            cibadmin -Q --xpath "//rsc_location[@id='cli-ban-$rsc-on-$me'][@node]" >/dev/null 2>&1; then
            crm_resource --clear -r "$rsc" -N "$me" -Q >/dev/null
            crm_resource --ban -r "$rsc" -N "$me" --lifetime "PT${PGHA_FAILURE_TIMEOUT_SECONDS}S" -Q >/dev/null
            pgha_log "ahead of the node being promoted: out for ${PGHA_FAILURE_TIMEOUT_SECONDS}s, then rewound and started as its standby"
        fi
        exit "$rc"
        ;;
    monitor)
        rc=0
        "$heartbeat" "$@" || rc=$?
        # A standby that cannot follow the primary stays in recovery and answers the heartbeat agent's monitor
        # forever. Failing it stops it; its next start rewinds it onto the primary's timeline (or refuses, with
        # the reason, when the rule above does not allow that). Asked only of a standby that has not streamed
        # for NOT_STREAMING_SECONDS, longer than a failover takes: a monitor on a failover's path (the promote
        # waits for it) never waits for an unreachable old primary here.
        if ((rc == 0 && ${OCF_RESKEY_CRM_meta_interval:-0} > 0)); then
            pgha_load_cluster_conf
            since=$(not_streaming_marker)
            receiver=$(pgha_pg psql -X -w -At -p "$PGHA_PG_PORT" -d postgres -c "select coalesce((select status from pg_stat_wal_receiver), 'none') where pg_is_in_recovery()" 2>/dev/null || true)
            if [[ -z $receiver || $receiver == streaming ]]; then
                rm -f "$since"
            elif [[ ! -e $since ]]; then
                touch "$since"
            elif (($(date +%s) - $(stat -c %Y "$since") >= NOT_STREAMING_SECONDS)) &&
                me=$(crm_node -n) && primary=$(pgha_node_with_status PRI "$me") && pgha_standby_diverged "$primary"; then
                rm -f "$since"
                pgha_die "cannot follow the primary: $PGHA_REASON; stopping it to be rewound at its next start"
            fi
        fi
        exit "$rc"
        ;;
    stop | demote)
        pgha_load_cluster_conf
        if server_hung; then
            pgha_log "PostgreSQL in $PGHA_PGDATA does not answer: failing the $action at once so that the node is fenced"
            exit "$OCF_ERR_GENERIC"
        fi
        # The heartbeat agent asks for a fast shutdown and then looks once a second whether it is done: in a
        # switchover that second is part of the writes' pause. pg_ctl waits here in tenths of a second, for as
        # long as the agent would before it escalates; the agent then finds PostgreSQL stopped and does the
        # rest. A demote without standbys keeps the agent's own stop, which also removes PGSQL.lock then.
        if [[ $action == demote && -n ${OCF_RESKEY_CRM_meta_notify_slave_uname// /} ]]; then
            wait_seconds=${OCF_RESKEY_stop_escalate:-90}
            timeout_seconds=$((${OCF_RESKEY_CRM_meta_timeout:-120000} / 1000 - 10))
            ((wait_seconds < timeout_seconds)) || wait_seconds=$timeout_seconds
            pgha_as_postgres "$PGHA_BINDIR/pg_ctl" -D "$PGHA_PGDATA" stop -m fast -w -t "$wait_seconds" >/dev/null 2>&1 || true
        fi
        ;;
esac
exec "$heartbeat" "$@"
