#!/usr/bin/env bash
# The cluster's restore_command (as postgres): pgbackrest archive-get, bounded, so that an unreachable backup
# repository cannot hold up a promotion (PostgreSQL probes the archive for timeline history files then), a
# standby's start or a rewind: an attempt gives up after 5 s, and for a minute after one that could not reach
# the repository no attempt is made (WAL then comes from the primary only).
#   archive-get.sh WALFILE PATH     exit 0: restored; 1: not in the archive, or the archive unreachable
set -euo pipefail
# shellcheck source=/dev/null
. /etc/pgha/cluster.conf

unreachable=$PGHA_PGSQL_TMPDIR/pgha-repository-unreachable
if [[ -e $unreachable ]] && (($(date +%s) - $(stat -c %Y "$unreachable") < 60)); then
    exit 1
fi
rc=0
timeout 5 pgbackrest --stanza="$PGHA_STANZA" archive-get "$1" "$2" || rc=$?
case $rc in
    0 | 1) rm -f "$unreachable" ;;
    *)
        touch "$unreachable"
        printf 'pgha archive-get: the backup repository did not answer (pgbackrest exit %s): no attempt for 60 s\n' "$rc" >&2
        rc=1
        ;;
esac
exit "$rc"
