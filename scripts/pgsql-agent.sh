#!/usr/bin/env bash
# ocf:pgha:pgsql: the resource agent of the cluster's PostgreSQL, installed on every node as
# /usr/lib/ocf/resource.d/pgha/pgsql. It is ocf:heartbeat:pgsql (same parameters, same attributes) with
# two things added:
#   start        a node whose data may have left the primary's history (PGSQL.lock after a failover, a
#                timeline other than the primary's) becomes the primary's standby first: rewound or copied
#                afresh when rejoinlib.sh's rule allows it and pgha:autoRejoin is on; refused otherwise, with
#                the reason (and the data untouched). This is what brings a failed, fenced or partitioned
#                old primary back by itself, and what never rewinds a node that holds newer data.
#   stop, demote a hung server (its postmaster stopped, or no answer to a query within 3 s) fails the action
#                at once: Pacemaker then fences the node instead of waiting out the timeout. A
#                demote waits for the fast shutdown in tenths of a second, not the agent's whole seconds.
#   monitor      a standby that cannot follow the primary (it holds WAL the primary's timeline lacks, e.g.
#                streamed from the old primary after a failover without fencing) fails, so that the start
#                above rewinds it instead of it waiting in recovery for good.
#   notify       the pre-notifications are pgha's: those of a demote, stop or start are answered at once (the
#                heartbeat agent, 4.12 pgsql_notify, does nothing for them but start up, and two of them are on
#                every failover's critical path); a pre-promote bans a standby ahead of the node being promoted
#                as the heartbeat agent does, but for pgha:pgsqlFailureTimeoutSeconds (then it is rewound) and
#                with one call. The heartbeat agent's ban retries for good, and it failed for good on a node
#                whose earlier, expired ban was still in the CIB: the promotion waited behind it (no primary for
#                minutes after a hung primary was fenced). Expired bans are removed (pre-promote, start).
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

# True when the postmaster runs but does not answer: it is stopped (SIGSTOP, a debugger), or a query gets no
# answer within 3 seconds.
server_hung() {
    local pid state err rc=0
    [[ -r $PGHA_PGDATA/postmaster.pid ]] || return 1
    pid=$(head -n1 "$PGHA_PGDATA/postmaster.pid")
    # The pid must still be this data directory's postmaster (pids are reused).
    [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *"-D $PGHA_PGDATA"* ]] || return 1
    # A stopped postmaster starts no backend: no need to wait for a query to find that out.
    state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
    [[ $state != [Tt] ]] || return 0
    err=$(pgha_as_postgres timeout 3 "$PGHA_BINDIR/psql" -X -q -p "$PGHA_PG_PORT" -d postgres -c 'select 1' 2>&1 >/dev/null) || rc=$?
    ((rc != 0)) || return 1
    # A timeout, or a listen queue so full that a connection fails at once (nobody accepts), is no answer;
    # anything else (e.g. too many connections) is one.
    ((rc == 124)) || [[ $err == *"Resource temporarily unavailable"* ]]
}

# Since when (its mtime) this standby has not streamed, as its monitor saw it.
not_streaming_marker() { printf '%s/pgha-not-streaming' "$PGHA_PGSQL_TMPDIR"; }

first_word() { local words; read -r -a words <<<"$1" || true; printf '%s' "${words[0]:-}"; }

# Removes this node's ban (cli-ban-RSC-on-NODE) once its lifetime has passed. Pacemaker ignores an expired ban
# but leaves it in the CIB, where `crm_resource --ban` cannot rewrite it (a ban by node name onto an element
# that holds the lifetime rule fails the CIB's schema: exit 78), and the fencer logs an error for it at every
# start. A ban without a lifetime (a person's) is never touched.
remove_expired_ban() {
    local id="cli-ban-$1-on-$2" end ends
    end=$({ cibadmin -Q --xpath "//rsc_location[@id='$id']/rule/date_expression[@operation='lt']" 2>/dev/null || true; } |
        sed -n 's/.* end="\([^"]*\)".*/\1/p' | head -n1)
    [[ -n $end ]] && ends=$(date -d "$end" +%s 2>/dev/null) && ((ends <= $(date +%s))) || return 0
    if cibadmin --delete --xpath "//rsc_location[@id='$id']" >/dev/null 2>&1; then
        pgha_log "removed $id, which expired at $end"
    else
        pgha_log "could not remove $id, which expired at $end"
    fi
}

action=${1:-}
case $action in
    start)
        pgha_load_cluster_conf
        rm -f "$(not_streaming_marker)"
        me=$(crm_node -n)
        remove_expired_ban "${OCF_RESOURCE_INSTANCE%%:*}" "$me"
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
        rsc=${OCF_RESOURCE_INSTANCE%%:*}
        me=$(crm_node -n)
        remove_expired_ban "$rsc" "$me"
        promoting=$(first_word "${OCF_RESKEY_CRM_meta_notify_promote_uname:-}")
        # The heartbeat agent's pre-promote rule, for three nodes or more in sync mode: a standby that has
        # replayed more WAL than the node being promoted may not run beside it. In sync mode that WAL was never
        # acknowledged (commits wait for the sync standby, the node being promoted), so with pgha:autoRejoin
        # the ban lasts pgha:pgsqlFailureTimeoutSeconds: the node stops now and starts again rewound onto the
        # new timeline (start, above); otherwise it is the heartbeat agent's ban, for good.
        if [[ -n $promoting && ${promoting,,} != "${me,,}" && ${OCF_RESKEY_rep_mode:-} == sync ]] &&
            (($(wc -w <<<"${OCF_RESKEY_node_list:-}") >= 3)) &&
            theirs=$(crm_attribute -l reboot -N "$promoting" -n pgsql-master-baseline -G -q 2>/dev/null) &&
            mine=$(crm_attribute -l reboot -N "$me" -n pgsql-master-baseline -G -q 2>/dev/null) &&
            [[ $mine > $theirs ]]; then
            # One call, never retried: nothing here may hold up the promotion.
            if ((PGHA_FAILURE_TIMEOUT_SECONDS > 0)) && [[ $PGHA_AUTO_REJOIN == true ]]; then
                out="for ${PGHA_FAILURE_TIMEOUT_SECONDS}s, then rewound and started as its standby"
                crm_resource --ban -r "$rsc" -N "$me" --lifetime "PT${PGHA_FAILURE_TIMEOUT_SECONDS}S" -Q >/dev/null ||
                    pgha_log "could not ban $rsc from $me (crm_resource exit $?)"
            else
                out="until a person clears the ban (crm_resource --clear -r $rsc -N $me)"
                crm_resource --ban -r "$rsc" -N "$me" -Q >/dev/null || pgha_log "could not ban $rsc from $me (crm_resource exit $?)"
            fi
            reason="my data is newer than that of $promoting, the node being promoted ($mine > $theirs): out $out"
            pgha_log "$reason"
            printf 'ocf-exit-reason:%s\n' "$reason" >&2
            exit "$OCF_ERR_GENERIC"
        fi
        exit 0
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
