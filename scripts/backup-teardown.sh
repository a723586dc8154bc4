#!/usr/bin/env bash
# Run by `pulumi destroy` on the backup host (the delete command of its teardown step): stops and removes the
# timers of backups and restore drills, whose cluster is going away. The repository, its backups and WAL stay:
# destroying a stack never discards data (pgha-restore still restores from it).
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"

for file in /etc/systemd/system/pgha-backup-*.* /etc/systemd/system/pgha-restore-test.*; do
    [[ -e $file ]] || continue
    [[ $file != *.timer ]] || systemctl disable --now "${file##*/}" >/dev/null 2>&1 || true
    rm -f "$file"
    pgha_changed "removed ${file##*/}"
done
systemctl daemon-reload
pgha_log "the repository and its backups are kept"
pgha_summary
