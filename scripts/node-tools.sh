#!/usr/bin/env bash
# Installs the node's own configuration (/etc/pgha/cluster.conf) and what runs from it: the node's scripts
# (the cluster's resource agent ocf:pgha:pgsql, the operators' pgha-rejoin-node, pgha-switchover and
# pgha-status, and the libraries they load) in one directory, and a launcher for each entry point.
# Inputs: PGHA_CLUSTER_CONF_PATH, PGHA_CLUSTER_CONF, PGHA_LIBRARY_DIR, PGHA_SCRIPTS (file names) with
#         PGHA_SCRIPT_<i> the content of the i-th, PGHA_LAUNCHERS ("path=script" words).
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"

pgha_dir "${PGHA_CLUSTER_CONF_PATH%/*}" 0755 root:root
pgha_put_file "$PGHA_CLUSTER_CONF_PATH" 0644 root:root <<<"$PGHA_CLUSTER_CONF"
pgha_dir "$PGHA_LIBRARY_DIR" 0755 root:root
read -r -a scripts <<<"$PGHA_SCRIPTS"
for i in "${!scripts[@]}"; do
    content="PGHA_SCRIPT_$i"
    pgha_put_file "$PGHA_LIBRARY_DIR/${scripts[i]}" 0755 root:root <<<"${!content}"
done
for launcher in $PGHA_LAUNCHERS; do
    path=${launcher%%=*}
    pgha_dir "${path%/*}" 0755 root:root
    pgha_put_file "$path" 0755 root:root < <(printf '#!/bin/sh\n# Installed by pgha.\nexec %s/%s "$@"\n' "$PGHA_LIBRARY_DIR" "${launcher#*=}")
done
pgha_summary
