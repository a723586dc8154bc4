#!/usr/bin/env bash
# Forms the Corosync/Pacemaker cluster once, starts and enables it on all nodes, and waits (bounded) until
# every node is online in a partition with quorum. `pcs cluster setup` destroys an existing cluster, so it
# runs only when this node has no corosync.conf; an existing cluster with another name or other nodes is
# refused, never rebuilt.
# Corosync's token timeout is set at setup (with no per-node increase: token_coefficient 0) and kept as
# configured afterwards (pcs 0.10+: pcs cluster config update, which reloads it on every node; pcs 0.9
# cannot, and says so).
# Inputs: PGHA_CLUSTER_NAME, PGHA_NODES ("name=ip" words), PGHA_WAIT_SECONDS, PGHA_TOKEN_MS (0: pcs's default).
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"

dialect=$(pgha_pcs_dialect)
read -r -a nodes <<<"$PGHA_NODES"
names=("${nodes[@]%%=*}")
conf=/etc/corosync/corosync.conf

# Node names of corosync.conf: `name:` entries (0.10+), else ring0_addr (0.9 writes host names there).
conf_nodes() {
    awk '/^[[:space:]]*name:/ {print $2; named=1} /^[[:space:]]*ring0_addr:/ {addr[++n]=$2}
         END {if (!named) for (i = 1; i <= n; i++) print addr[i]}' "$conf" | sort
}

if [[ -f $conf ]]; then
    existing_name=$(awk '/^[[:space:]]*cluster_name:/ {print $2}' "$conf")
    if [[ $existing_name != "$PGHA_CLUSTER_NAME" || $(conf_nodes) != $(printf '%s\n' "${names[@]}" | sort) ]]; then
        pgha_die "this node already belongs to cluster '$existing_name' ($(conf_nodes | xargs)); refusing to destroy it. Change pgha:clusterName/pgha:nodes back, or destroy that cluster by hand (pcs cluster destroy --all)"
    fi
    pgha_log "cluster $PGHA_CLUSTER_NAME already set up"
else
    if [[ $dialect == 9 ]]; then
        token_args=()
        ((PGHA_TOKEN_MS == 0)) || token_args=(--token "$PGHA_TOKEN_MS" --token_coefficient 0)
        pcs cluster setup --name "$PGHA_CLUSTER_NAME" "${names[@]}" "${token_args[@]}"
    else
        args=()
        for node in "${nodes[@]}"; do args+=("${node%%=*}" "addr=${node#*=}"); done
        ((PGHA_TOKEN_MS == 0)) || args+=(totem "token=$PGHA_TOKEN_MS" token_coefficient=0)
        pcs cluster setup "$PGHA_CLUSTER_NAME" "${args[@]}"
    fi
    pgha_changed "set up cluster $PGHA_CLUSTER_NAME"
fi

all_online() {
    local status line
    status=$(crm_mon -1 2>/dev/null) || return 1
    grep -q 'partition with quorum' <<<"$status" || return 1
    line=$(grep -E '^[[:space:]*]*Online:' <<<"$status") || return 1
    for name in "${names[@]}"; do
        [[ $line == *" $name "* ]] || return 1
    done
}

if ! all_online; then
    pcs cluster start --all >/dev/null
    pgha_changed "started the cluster on all nodes"
fi
if ! systemctl is-enabled --quiet corosync 2>/dev/null || ! systemctl is-enabled --quiet pacemaker 2>/dev/null; then
    pcs cluster enable --all >/dev/null
    pgha_changed "enabled the cluster on all nodes"
fi
if ! pgha_wait_for "$PGHA_WAIT_SECONDS" all_online; then
    pcs status 2>&1 || true
    pgha_die "not every node came online with quorum within ${PGHA_WAIT_SECONDS}s (pcs status above)"
fi

totem() { awk -v k="$1:" '/^totem[[:space:]]*\{/ {t=1} t && /^}/ {t=0} t && $1 == k {print $2}' "$conf"; }
current_token="$(totem token)/$(totem token_coefficient)"
if ((PGHA_TOKEN_MS > 0)) && [[ $current_token != "$PGHA_TOKEN_MS/0" ]]; then
    [[ $dialect != 9 ]] || pgha_die "corosync's token is ${current_token} (ms/coefficient), pgha:corosyncTokenMs says $PGHA_TOKEN_MS/0: pcs 0.9 cannot change it on a running cluster; edit /etc/corosync/corosync.conf on every node and run corosync-cfgtool -R"
    pcs cluster config update totem "token=$PGHA_TOKEN_MS" token_coefficient=0 >/dev/null
    pgha_changed "corosync token ${current_token} -> $PGHA_TOKEN_MS/0 ms"
fi
pgha_summary
