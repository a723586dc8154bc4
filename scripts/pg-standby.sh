#!/usr/bin/env bash
# Makes this node a standby of the first node: the replication passfile (stdin: replication password),
# then pg_basebackup from the primary unless PGDATA already holds this cluster's data (same system
# identifier) or Pacemaker already manages it. Data of another cluster is refused, never overwritten.
# No recovery settings are written: the pgsql agent writes and includes its own.
# Inputs: pglib.sh's, PGHA_PRIMARY_IP.
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"
# shellcheck source=pglib.sh
[[ $(type -t pgha_pg_configure) == function ]] || . "${BASH_SOURCE[0]%/*}/pglib.sh"

pgha_write_pgpass "$(pgha_read_secret)"
primary="host=$PGHA_PRIMARY_IP port=$PGHA_PG_PORT user=$PGHA_REPLICATION_USER passfile=$PGHA_PGPASS_FILE connect_timeout=10"

if pgha_pg_initialized; then
    if pgha_pgsql_managed; then
        pgha_log "Pacemaker manages PostgreSQL; keeping $PGHA_PGDATA (rebuild a standby with rejoin-node.sh)"
    else
        local_id=$(pgha_pg pg_controldata "$PGHA_PGDATA" | awk -F: '/Database system identifier/ {gsub(/ /, "", $2); print $2}')
        primary_id=$(pgha_pg psql -X -w -tA -c IDENTIFY_SYSTEM "$primary replication=true" | cut -d'|' -f1)
        [[ $local_id == "$primary_id" ]] || pgha_die "$PGHA_PGDATA holds another cluster (system id $local_id, primary has $primary_id); move it away to rebuild this standby"
        pgha_log "$PGHA_PGDATA already holds a copy of the primary"
    fi
else
    [[ -z $(ls -A "$PGHA_PGDATA") ]] || pgha_die "$PGHA_PGDATA is not empty but holds no database; move its content away"
    pgha_wait_for 60 pgha_pg psql -X -w -tA -c IDENTIFY_SYSTEM "$primary replication=true" >/dev/null ||
        pgha_die "cannot reach the primary at $PGHA_PRIMARY_IP:$PGHA_PG_PORT as $PGHA_REPLICATION_USER"
    if ! pgha_pg pg_basebackup -d "$primary" -D "$PGHA_PGDATA" -X stream -c fast -w; then
        find "$PGHA_PGDATA" -mindepth 1 -delete
        pgha_die "pg_basebackup from $PGHA_PRIMARY_IP failed; $PGHA_PGDATA emptied for the next try"
    fi
    pgha_changed "pg_basebackup from $PGHA_PRIMARY_IP"
fi
pgha_pg_configure
pgha_summary
