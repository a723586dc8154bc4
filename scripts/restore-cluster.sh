#!/usr/bin/env bash
# Full-cluster recovery from the backup repository, run as root on the node that is to become the primary:
#   pgha-restore-cluster (--time 'YYYY-MM-DD HH:MM:SS+00' | --lsn LSN | --name RESTORE_POINT | --latest)
#                        [--set BACKUP_LABEL] --discard-everything-after-the-target
# For when the cluster's data itself is wrong (a mistake replicated to every node) or lost on every node. It
# discards every transaction committed after the target on every node, which the flag says; nothing runs
# without it. To get back a table or rows, restore a copy on the backup host instead (pgha-restore) and copy
# them over: that discards nothing.
#   1. sends the primary's latest WAL to the repository, stops PostgreSQL on every node (the pgsql resource
#      disabled), then keeps the other nodes out (standby);
#   2. moves this node's data directory aside (kept, as PGDATA.pgha-before-restore-TIME), restores the backup
#      and the WAL up to the target into it, lets PostgreSQL recover and promote there (a new timeline, which
#      is archived), and stops it; when this fails (e.g. the archive does not reach the target), everything is
#      put back as it was and the cluster started again;
#   3. starts the cluster's PostgreSQL on this node alone, which becomes the primary;
#   4. lets the other nodes back: pgha's rejoin rewinds each onto the new timeline (pg_rewind, else a fresh copy
#      with the old data kept aside), which discards what they hold after the target.
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"
# shellcheck source=pglib.sh
[[ $(type -t pgha_pg_configure) == function ]] || . "${BASH_SOURCE[0]%/*}/pglib.sh"
# shellcheck source=rejoinlib.sh
[[ $(type -t pgha_prepare_standby) == function ]] || . "${BASH_SOURCE[0]%/*}/rejoinlib.sh"
PGHA_STEP=restore-cluster

((EUID == 0)) || pgha_die "run as root"
pgha_load_cluster_conf
[[ -n $PGHA_STANZA ]] || pgha_die "this cluster has no backups (pgha:backupHost)"

target=() set=() confirmed=0
while (($# > 0)); do
    case $1 in
        --time) target=(--type=time "--target=${2:?--time needs a timestamp}" --target-action=promote); shift 2 ;;
        --lsn) target=(--type=lsn "--target=${2:?--lsn needs an LSN}" --target-action=promote); shift 2 ;;
        --name) target=(--type=name "--target=${2:?--name needs a restore point}" --target-action=promote); shift 2 ;;
        --latest) target=(--type=default); shift ;;
        --set) set=("--set=${2:?--set needs a backup label}"); shift 2 ;;
        --discard-everything-after-the-target) confirmed=1; shift ;;
        *) pgha_die "unknown argument $1 (see the head of $0)" ;;
    esac
done
((${#target[@]} > 0)) || pgha_die "give the target: --time, --lsn, --name or --latest"
((confirmed)) || pgha_die "this discards every transaction after the target on every node; say so with --discard-everything-after-the-target (or restore a copy with pgha-restore on the backup host, which discards nothing)"

me=$(crm_node -n)
others=()
for entry in $PGHA_NODES; do [[ ${entry%%=*} == "$me" ]] || others+=("${entry%%=*}"); done
clone=$(pgha_promotable_id)
started=$SECONDS

# What the primary wrote up to now must be in the repository before it stops (its last WAL segment is archived
# only once it is full or switched): pgbackrest check on the backup host switches and waits for it.
pgha_log "sending the primary's WAL to the repository (pgbackrest check on $PGHA_BACKUP_HOST)"
pgha_on_backup_host pgbackrest --stanza="$PGHA_STANZA" check >&2 ||
    pgha_die "the primary's latest WAL did not reach the repository (see above): restoring now could miss transactions up to the target; nothing was changed"

pgha_log "stopping PostgreSQL on every node"
# Disabled first: a node put in standby while PostgreSQL runs would hand its role to another (a failover).
pcs resource disable "$clone" --wait=600 >/dev/null
for node in "${others[@]}"; do crm_attribute -N "$node" -n standby -v on -l forever; done
running=$(crm_resource --locate -r "$clone" 2>/dev/null || true)
[[ $running != *"is running on"* ]] || pgha_die "PostgreSQL still runs after disabling $clone: $running"

stamp=$(date +%Y%m%d%H%M%S)
aside="$PGHA_PGDATA.pgha-before-restore-$stamp"
# A restore that fails puts everything back as it was: this node's data in place (the attempt kept aside),
# the other nodes out of standby, PostgreSQL enabled again.
roll_back() {
    pgha_log "the restore failed: putting the cluster back as it was"
    if pgha_pg_running; then pgha_pg pg_ctl -D "$PGHA_PGDATA" -m fast -w stop >/dev/null || true; fi
    if [[ -d $aside ]]; then
        [[ ! -e $PGHA_PGDATA ]] || mv -T "$PGHA_PGDATA" "$PGHA_PGDATA.pgha-failed-restore-$stamp"
        mv -T "$aside" "$PGHA_PGDATA"
    fi
    for node in "${others[@]}"; do crm_attribute -N "$node" -n standby -v off -l forever || true; done
    pcs resource enable "$clone" || true
}
trap roll_back EXIT
mv -T "$PGHA_PGDATA" "$aside"
install -d -m 0700 -o postgres -g "$(id -gn postgres)" "$PGHA_PGDATA"
pgha_log "kept the data directory as $aside; restoring ${target[*]} ${set[*]}"
pgha_as_postgres pgbackrest --stanza="$PGHA_STANZA" --pg1-path="$PGHA_PGDATA" restore "${target[@]}" "${set[@]}" >&2
rm -f "$PGHA_PGDATA/standby.signal"

log=/var/lib/pgsql/pgha-restore-cluster.log
# Recovery here, by hand: no standby is connected, so no commit may wait for one.
pgha_pg pg_ctl -D "$PGHA_PGDATA" -o "-c synchronous_standby_names=" -l "$log" -w -t 60 start >/dev/null ||
    pgha_die "the restored data did not start: $(tail -n 5 "$log" | tr '\n' ' ')"
deadline=$((SECONDS + 3600))
until [[ $(pgha_pg psql -X -At -p "$PGHA_PG_PORT" -d postgres -c "select pg_is_in_recovery()" 2>/dev/null) == f ]]; do
    pgha_pg_running || pgha_die "PostgreSQL stopped during recovery: $(tail -n 5 "$log" | tr '\n' ' ')"
    ((SECONDS < deadline)) || pgha_die "recovery did not end within 3600 s (see $log)"
    sleep 1
done
# The restore's recovery settings must not apply to the server's later starts (as a standby, under the agent).
pgha_pg psql -X -q -p "$PGHA_PG_PORT" -d postgres -v ON_ERROR_STOP=1 <<'SQL'
ALTER SYSTEM RESET restore_command;
ALTER SYSTEM RESET recovery_target;
ALTER SYSTEM RESET recovery_target_time;
ALTER SYSTEM RESET recovery_target_lsn;
ALTER SYSTEM RESET recovery_target_name;
ALTER SYSTEM RESET recovery_target_action;
CHECKPOINT;
SQL
timeline=$(pgha_controldata "Latest checkpoint's TimeLineID")
pgha_pg pg_ctl -D "$PGHA_PGDATA" -m fast -w stop >/dev/null
pgha_log "recovered to the target on timeline $timeline"
trap - EXIT

# The agent promotes the node whose data it holds newest: only this one runs, with its data marked current, and
# no other node's last known WAL position left to compare with.
for node in "${others[@]}"; do crm_attribute -N "$node" -n pgsql-xlog-loc -l reboot -D >/dev/null 2>&1 || true; done
crm_attribute -N "$me" -n pgsql-data-status -v LATEST -l forever
crm_resource --cleanup -r pgsql >/dev/null 2>&1 || true
pcs resource enable "$clone"
pgha_wait_for 600 bash -c "[[ \$(crm_attribute -N '$me' -n pgsql-status -l reboot -G -q 2>/dev/null) == PRI ]]" ||
    pgha_die "$me did not become the primary within 600 s (pgha-status shows why)"
pgha_log "$me is the primary; letting ${others[*]} rejoin"

for node in "${others[@]}"; do crm_attribute -N "$node" -n standby -v off -l forever; done
for node in "${others[@]}"; do
    pgha_wait_for 900 bash -c "[[ \$(crm_attribute -N '$node' -n pgsql-status -l reboot -G -q 2>/dev/null) == HS:* ]]" ||
        pgha_die "$node did not rejoin as a standby within 900 s (pgha-status shows why)"
done
pgha_log "the cluster runs from the restored data in $((SECONDS - started)) s: $me primary, ${others[*]} standbys; the old data of $me is in $aside"
