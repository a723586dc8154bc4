#!/usr/bin/env bash
# Installs the node's own configuration (/etc/pgha/cluster.conf) and what runs from it: the cluster's
# resource agent ocf:pgha:pgsql and the operators' tools (pgha-rejoin-node, pgha-switchover, pgha-status).
# Inputs: PGHA_CLUSTER_CONF_PATH, PGHA_CLUSTER_CONF, PGHA_TOOL_PATHS (space-separated) and PGHA_TOOL_<i>, the
#         content of the i-th of them.
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"

pgha_dir "${PGHA_CLUSTER_CONF_PATH%/*}" 0755 root:root
printf '%s\n' "$PGHA_CLUSTER_CONF" | pgha_put_file "$PGHA_CLUSTER_CONF_PATH" 0644 root:root
read -r -a paths <<<"$PGHA_TOOL_PATHS"
for i in "${!paths[@]}"; do
    content="PGHA_TOOL_$i"
    pgha_dir "${paths[i]%/*}" 0755 root:root
    printf '%s\n' "${!content}" | pgha_put_file "${paths[i]}" 0755 root:root
done
pgha_summary
