#!/usr/bin/env bash
# Authenticates this node's pcs to every node's pcsd as hacluster (password on stdin), only for nodes
# that are not authorized yet. pcs 0.9: `pcs cluster auth`; 0.10+: `pcs host auth` with addr= per node.
# Inputs: PGHA_NODES ("name=ip" words).
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"

password=$(pgha_read_secret)
dialect=$(pgha_pcs_dialect)
read -r -a nodes <<<"$PGHA_NODES"
names=("${nodes[@]%%=*}")

pcsd_status() {
    if [[ $dialect == 9 ]]; then pcs cluster pcsd-status "${names[@]}"; else pcs status pcsd "${names[@]}"; fi
}

unauthorized=()
status=$(pcsd_status 2>&1 || true)
for name in "${names[@]}"; do
    grep -Eq "^[[:space:]]*${name//./\\.}: Online\$" <<<"$status" || unauthorized+=("$name")
done

if ((${#unauthorized[@]} > 0)); then
    pgha_log "authenticating to ${unauthorized[*]}"
    if [[ $dialect == 9 ]]; then
        printf '%s\n' "$password" | pcs cluster auth "${unauthorized[@]}" -u hacluster >/dev/null
    else
        args=()
        for node in "${nodes[@]}"; do
            [[ " ${unauthorized[*]} " == *" ${node%%=*} "* ]] && args+=("${node%%=*}" "addr=${node#*=}")
        done
        printf '%s\n' "$password" | pcs host auth "${args[@]}" -u hacluster >/dev/null
    fi
    pgha_changed "authorized ${unauthorized[*]}"
fi
unset password
status=$(pcsd_status 2>&1 || true)
for name in "${names[@]}"; do
    grep -Eq "^[[:space:]]*${name//./\\.}: Online\$" <<<"$status" || pgha_die "pcsd on $name is not authorized/online:"$'\n'"$status"
done
pgha_summary
