#!/usr/bin/env bash
# Backups of the cluster, on the backup host (as root):
#   pgha-backup full|diff|incr   take one now: from a standby (the primary only ships the WAL), else, when no
#                                standby answers, from the primary; pgBackRest then expires what retention drops
#   pgha-backup list             the backups in the repository: type, times, database and backup sizes
# The timers pgha-backup-full and pgha-backup-diff run it on their schedules (pgha:backupFullSchedule,
# pgha:backupDiffSchedule). pgBackRest finds the primary and the standbys itself, after any failover.
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"
# shellcheck source=backuplib.sh
[[ $(type -t pgha_pgbackrest) == function ]] || . "${BASH_SOURCE[0]%/*}/backuplib.sh"
PGHA_STEP=backup

usage() { pgha_die "usage: pgha-backup full|diff|incr|list"; }
((EUID == 0)) || pgha_die "run as root"
pgha_load_backup_conf

case ${1:-} in
    full | diff | incr)
        type=$1
        started=$SECONDS
        if ! pgha_pgbackrest --type="$type" backup; then
            pgha_log "no backup from a standby (none answered, or the backup failed): taking it from the primary"
            pgha_pgbackrest --type="$type" --no-backup-standby backup
        fi
        pgha_log "$type backup $(pgha_newest_backup) taken in $((SECONDS - started)) s"
        ;;
    list) pgha_pgbackrest info ;;
    *) usage ;;
esac
