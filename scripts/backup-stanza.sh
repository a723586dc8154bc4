#!/usr/bin/env bash
# Makes the repository ready on the backup host once the cluster runs: creates the stanza (pgBackRest reaches
# every node and finds the primary), checks that WAL arrives from the primary, and when the repository holds no
# backup yet takes the first full backup; and until a restore drill has passed, runs one, so that a cluster stood
# up by pgha is restorable, and proven so, from the start.
# Inputs: none (the backup host's tools and /etc/pgha/backup.conf are installed before).
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"
# shellcheck source=backuplib.sh
[[ $(type -t pgha_pgbackrest) == function ]] || . "${BASH_SOURCE[0]%/*}/backuplib.sh"

pgha_load_backup_conf
if [[ $(pgha_pgbackrest info) == *"missing stanza"* ]]; then
    pgha_pgbackrest stanza-create >&2
    pgha_changed "created stanza $PGHA_STANZA"
fi
pgha_pgbackrest check >&2
if [[ -z $(pgha_newest_backup) ]]; then
    /usr/local/sbin/pgha-backup full
    pgha_changed "took the first full backup"
fi
read -r _ primary < <(pgha_find_primary) || pgha_die "no node answers as the primary"
drills=$(pgha_node_sql "$primary" <<<"select count(*) from pgha.restore_drills where ok" 2>/dev/null || echo 0)
if ((drills == 0)); then
    /usr/local/sbin/pgha-restore-test
    pgha_changed "ran the first restore drill"
fi
pgha_summary
