#!/usr/bin/env bash
# Run by `pulumi destroy` on existing hosts (the delete command of the cluster's teardown step): stops the
# cluster on every node, which stops PostgreSQL cleanly through its agent, then removes the cluster's
# configuration (corosync.conf, the CIB, pcsd's tokens for it). PGDATA, the WAL archive, the passfile and the
# packages stay: destroying a stack never discards data. Nothing to do when no cluster is set up here.
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"

if [[ ! -f /etc/corosync/corosync.conf ]]; then
    pgha_log "no cluster is set up on this node"
    pgha_summary
    exit 0
fi
# A node that cannot be reached keeps its copy; it is named in pcs's output.
pcs cluster stop --all || pgha_log "WARNING: the cluster did not stop on every node (see above)"
if [[ $(pgha_pcs_dialect) == 9 ]]; then
    pcs cluster destroy --all
else
    pcs cluster destroy --all --force
fi
pgha_changed "stopped the cluster and removed its configuration on every node it could reach; PGDATA is kept"
pgha_summary
