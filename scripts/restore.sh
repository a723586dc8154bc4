#!/usr/bin/env bash
# Restores a backup to a point in time into a scratch directory on the backup host and starts it there on a
# private port (local connections only), so that a person can copy data out. It never touches the cluster.
#   pgha-restore [--time 'YYYY-MM-DD HH:MM:SS+00' | --lsn LSN | --name RESTORE_POINT | --latest]
#                [--set BACKUP_LABEL] [--dir DIR] [--port PORT] [--wait SECONDS]
#   pgha-restore --stop DIR      stop a restored copy and remove it
# With a target the copy stops replaying at it and stays in recovery, read-only: the transactions committed up
# to the target (inclusive) are there, none after. --latest (the default) replays everything archived and
# opens the copy read-only. Before restoring, the primary's current WAL is sent to the repository when the
# cluster answers. The copy's directory, port and a psql command are printed at the end.
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"
# shellcheck source=backuplib.sh
[[ $(type -t pgha_pgbackrest) == function ]] || . "${BASH_SOURCE[0]%/*}/backuplib.sh"
PGHA_STEP=restore

((EUID == 0)) || pgha_die "run as root"
pgha_load_backup_conf

target=() set=() dir="" port="" wait_seconds=3600
while (($# > 0)); do
    case $1 in
        --time) target=(--type=time "--target=${2:?--time needs a timestamp}"); shift 2 ;;
        --lsn) target=(--type=lsn "--target=${2:?--lsn needs an LSN}"); shift 2 ;;
        --name) target=(--type=name "--target=${2:?--name needs a restore point}"); shift 2 ;;
        --latest) target=(); shift ;;
        --set) set=("--set=${2:?--set needs a backup label}"); shift 2 ;;
        --dir) dir=${2:?--dir needs a directory}; shift 2 ;;
        --port) port=${2:?--port needs a port}; shift 2 ;;
        --wait) wait_seconds=${2:?--wait needs seconds}; shift 2 ;;
        --stop)
            pgha_remove_copy "${2:?--stop needs the directory of a restored copy}"
            pgha_log "stopped and removed ${2}"
            exit 0
            ;;
        *) pgha_die "unknown argument $1 (see the head of $0)" ;;
    esac
done
dir=${dir:-$PGHA_RESTORE_ROOT/$(date +%Y%m%d-%H%M%S)}
dir=${dir%/}
[[ $dir == "$PGHA_RESTORE_ROOT"/* ]] || pgha_die "--dir must be inside $PGHA_RESTORE_ROOT"
port=${port:-$(pgha_free_port)}

pgha_flush_archive || pgha_log "WARNING: could not send the primary's current WAL to the repository (cluster or primary unreachable): restoring what the repository has"
started=$SECONDS
if ((${#target[@]} > 0)); then
    pgha_restore_into "$dir" "${target[@]}" --target-action=pause "${set[@]}"
    pgha_start_copy "$dir" "$port" recovery
else
    pgha_restore_into "$dir" "${set[@]}"
    pgha_start_copy "$dir" "$port" read-only
fi
pgha_wait_recovered "$dir" "$port" "$wait_seconds"
last=$(pgha_copy_sql "$dir" "$port" <<<"select coalesce(pg_last_xact_replay_timestamp()::text, 'none')")
cat <<MSG
restored in $((SECONDS - started)) s into $dir, running read-only on port $port (newest transaction: $last)
  psql -h $PGHA_RESTORE_ROOT -p $port -U postgres          (as root: runuser -u postgres -- psql ...)
  pgha-restore --stop $dir                               when done
MSG
