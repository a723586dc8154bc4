#!/usr/bin/env bash
# The cluster at a glance, on any node (as root):
#   pgha-status
# Per node: its role (the pgsql agent's pgsql-status), Pacemaker's view of its instance, its timeline and
# WAL position, its replication state and lag behind the primary; where the VIPs run; failed actions; and
# what, if anything, needs a person. Exit code for monitoring: 0 healthy; 1 degraded but recovering by
# itself (e.g. a node rejoining); 2 needs a person (no primary, no vip-master, a refused rejoin, a failed
# fencing or a node that stays out).
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"
# shellcheck source=pglib.sh
[[ $(type -t pgha_pg_configure) == function ]] || . "${BASH_SOURCE[0]%/*}/pglib.sh"
# shellcheck source=rejoinlib.sh
[[ $(type -t pgha_prepare_standby) == function ]] || . "${BASH_SOURCE[0]%/*}/rejoinlib.sh"
PGHA_STEP=status

((EUID == 0)) || pgha_die "run as root"
pgha_load_cluster_conf
mon=$(crm_mon -1 2>/dev/null) || { echo "CRITICAL: the cluster stack does not run on $(hostname)"; exit 2; }

located() { { crm_resource --locate -r "$1" 2>/dev/null || true; } | sed -n 's/.*is running on: \([^ ]*\)\( Promoted\| Master\)\{0,1\}.*/\1\2/p'; }

primary=$(pgha_node_with_status PRI || true)
primary_lsn=""
if [[ -n $primary ]]; then
    primary_lsn=$(pgha_identify "$(pgha_node_address "$primary")" | awk '{print $3}')
fi
instances=$(located "$(pgha_promotable_id)")
online=$(grep -E 'Online: \[' <<<"$mon" || true)

people=()
warnings=()
printf '%-10s %-9s %-10s %-8s %-12s %-16s %s\n' node role pacemaker timeline wal replication "lag (bytes)"
for entry in $PGHA_NODES; do
    node=${entry%%=*}
    status=$(pgha_pgsql_status "$node")
    data=$(crm_attribute -N "$node" -n pgsql-data-status -l forever -G -q 2>/dev/null || true)
    instance=$(grep -E "^$node( |$)" <<<"$instances" | head -n1 || true)
    case $instance in
        *" Promoted" | *" Master") pcmk=promoted ;;
        "") pcmk=stopped ;;
        *) pcmk=unpromoted ;;
    esac
    [[ $online == *" $node "* ]] || pcmk=offline
    tli="-" lsn="-" lag="-"
    if ident=$(pgha_identify "$(pgha_node_address "$node")") && [[ -n $ident ]]; then
        read -r _ tli lsn <<<"$ident"
        if [[ -n $primary_lsn && $node != "$primary" ]]; then lag=$(($(pgha_lsn_bytes "$primary_lsn") - $(pgha_lsn_bytes "$lsn"))); fi
    fi
    printf '%-10s %-9s %-10s %-8s %-12s %-16s %s\n' "$node" "${status:--}" "$pcmk" "$tli" "$lsn" "${data:--}" "$lag"
    case $status in
        PRI | HS:sync | HS:async) ;;
        *) warnings+=("$node is ${status:-without a role} ($pcmk)") ;;
    esac
    # Set by the pgsql agent when it refuses to make the node a standby (cleared by its next good start).
    refusal=$(pgha_refusal "$node")
    if [[ -n $refusal ]]; then
        people+=("refused rejoin of $node: $refusal")
    fi
done

vip_master=$(located vip-master)
vip_slave=$(located vip-slave)
printf '\nvip-master %s: %s\nvip-slave  %s: %s\n' "$PGHA_VIP_MASTER" "${vip_master:-stopped}" "$PGHA_VIP_SLAVE" "${vip_slave:-stopped}"

failed=$(sed -n '/^Failed Resource Actions:/,/^$/p' <<<"$mon" | sed -n 's/^ *\* //p')
failed_fencing=$(sed -n '/^Failed Fencing Actions:/,/^$/p' <<<"$mon" | sed -n 's/^ *\* //p')
if [[ -n $failed || -n $failed_fencing ]]; then
    printf '\nfailed actions:\n'
    while IFS= read -r line; do [[ -z $line ]] || printf '  %s\n' "$line"; done <<<"$failed"$'\n'"$failed_fencing"
fi

[[ -n $primary ]] || people+=("no node is the primary")
[[ -z $primary || $vip_master == "$primary" ]] || people+=("vip-master runs on '${vip_master:-nowhere}', not on the primary $primary")
[[ -z $failed_fencing ]] || people+=("fencing failed (see above)")
while IFS= read -r line; do
    [[ -n $line ]] || continue
    case $line in
        # Shown in full from the node attribute; the failed action only where that is missing.
        *"refused rejoin: "*) [[ " ${people[*]-} " == *"refused rejoin of "* ]] || people+=("$line") ;;
        *) warnings+=("failed action (expires by itself): $line") ;;
    esac
done <<<"$failed"
sync=$(pgha_node_with_status HS:sync || true)
[[ -n $sync ]] || warnings+=("no sync standby")
[[ -z $sync || $vip_slave == "$sync" ]] || warnings+=("vip-slave runs on '${vip_slave:-nowhere}', not on the sync standby $sync")

if ((${#people[@]} > 0)); then
    printf '\nCRITICAL: needs a person:\n'
    printf '  - %s\n' "${people[@]}" "${warnings[@]}"
    exit 2
fi
if ((${#warnings[@]} > 0)); then
    printf '\nWARNING: degraded, recovering by itself:\n'
    printf '  - %s\n' "${warnings[@]}"
    exit 1
fi
printf '\nOK: primary %s, sync standby %s\n' "$primary" "$sync"
