#!/usr/bin/env bash
# The backup host's scheduled jobs: systemd units of pgha's backups and restore drills, written, loaded and
# their timers enabled; a pgha unit no longer wanted (e.g. differential backups turned off) is removed. With no
# unit wanted (the teardown step of `pulumi destroy`) every one is removed; the repository is never touched.
# Inputs: PGHA_UNITS (unit file names), PGHA_UNIT_<i> the content of the i-th.
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"

read -r -a units <<<"$PGHA_UNITS"
before=$PGHA_CHANGES
for i in "${!units[@]}"; do
    content="PGHA_UNIT_$i"
    pgha_put_file "/etc/systemd/system/${units[i]}" 0644 root:root <<<"${!content}"
done
for file in /etc/systemd/system/pgha-backup-*.* /etc/systemd/system/pgha-restore-test.*; do
    [[ -e $file && " ${units[*]} " != *" ${file##*/} "* ]] || continue
    [[ $file != *.timer ]] || systemctl disable --now "${file##*/}" >/dev/null 2>&1 || true
    rm -f "$file"
    pgha_changed "removed ${file##*/}"
done
((PGHA_CHANGES == before)) || systemctl daemon-reload
for name in "${units[@]}"; do
    [[ $name == *.timer ]] || continue
    systemd-analyze calendar "$(sed -n 's/^OnCalendar=//p' "/etc/systemd/system/$name")" >/dev/null ||
        pgha_die "systemd refuses the schedule of $name"
    if ! systemctl is-enabled --quiet "$name" || ! systemctl is-active --quiet "$name"; then
        systemctl enable --now "$name" >/dev/null 2>&1
        pgha_changed "enabled $name"
    fi
done
pgha_summary
