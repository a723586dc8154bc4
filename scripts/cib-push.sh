#!/usr/bin/env bash
# Hands PostgreSQL to Pacemaker and keeps the cluster configuration as rendered by the program:
#   1. before the first push, stops the bootstrap primary (Pacemaker starts every instance itself);
#   2. rebuilds the wanted configuration with `pcs -f` on a scratch copy of the live CIB whose resources
#      and constraints are emptied, in the dialect of the pcs found here;
#   3. compares the configuration sections with crm_diff and pushes (diff-against the live CIB) only
#      when they differ;
#   4. waits, bounded, until one node is PRI, another the wanted standby (HS:sync with rep_mode sync),
#      vip-master runs on the primary and vip-slave on that standby.
# Inputs: PGHA_PCS9_COMMANDS, PGHA_PCS10_COMMANDS (one quoted pcs argument list per line), PGHA_BINDIR,
#         PGHA_PGDATA, PGHA_STANDBY_STATUS, PGHA_WAIT_SECONDS.
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! pgha_pgsql_managed && pgha_as_postgres "$PGHA_BINDIR/pg_ctl" -D "$PGHA_PGDATA" status >/dev/null 2>&1; then
    pgha_as_postgres "$PGHA_BINDIR/pg_ctl" -D "$PGHA_PGDATA" -w -t 120 -m fast stop >/dev/null
    pgha_changed "stopped the bootstrap primary for Pacemaker"
fi

if [[ $(pgha_pcs_dialect) == 9 ]]; then commands=$PGHA_PCS9_COMMANDS; else commands=$PGHA_PCS10_COMMANDS; fi
pcs cluster cib "$work/live.xml"
cp "$work/live.xml" "$work/wanted.xml"
export CIB_file="$work/wanted.xml"
# Constraints first: they refer to resources.
cibadmin --replace -o constraints --xml-text '<constraints/>'
cibadmin --replace -o resources --xml-text '<resources/>'
while IFS= read -r line; do
    [[ -n $line ]] || continue
    eval "pcs -f \"\$CIB_file\" $line" >/dev/null
done <<<"$commands"
cibadmin -Q -o configuration >"$work/wanted-configuration.xml"
CIB_file="$work/live.xml" cibadmin -Q -o configuration >"$work/live-configuration.xml"
unset CIB_file

if crm_diff --original "$work/live-configuration.xml" --new "$work/wanted-configuration.xml" >"$work/diff.xml"; then
    pgha_log "cluster configuration already as wanted"
else
    pcs cluster cib-push "$work/wanted.xml" diff-against="$work/live.xml" >/dev/null
    pcs resource refresh --full >/dev/null 2>&1 || pcs resource cleanup >/dev/null
    pgha_changed "pushed the cluster configuration"
fi

running_on() { crm_resource --locate -r "$1" 2>/dev/null | sed -n 's/.*is running on: \([^ ]*\).*/\1/p' | head -n1; }
converged() {
    local primary standby
    primary=$(pgha_node_with_status PRI) || return 1
    standby=$(pgha_node_with_status "$PGHA_STANDBY_STATUS") || return 1
    [[ $(running_on vip-master) == "$primary" && $(running_on vip-slave) == "$standby" ]]
}
if ! pgha_wait_for "$PGHA_WAIT_SECONDS" converged; then
    pcs status --full 2>&1 || true
    pgha_die "no PRI + $PGHA_STANDBY_STATUS with both VIPs in place within ${PGHA_WAIT_SECONDS}s (pcs status above)"
fi
pgha_log "primary $(pgha_node_with_status PRI), $PGHA_STANDBY_STATUS standby $(pgha_node_with_status "$PGHA_STANDBY_STATUS")"
pgha_summary
