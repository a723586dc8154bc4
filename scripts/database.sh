#!/usr/bin/env bash
# This node's database, the same step on every node whatever its role: the managed settings (pgha.conf, checked
# by PostgreSQL's own parser first) and pg_hba, reloaded when the server runs; the replication passfile; and on
# the primary the superuser and replication-role passwords (stdin: postgres password, then replication password).
# Once Pacemaker manages PostgreSQL the server is never started or stopped here, and the primary is whichever
# node the cluster says it is. Only for a cluster that does not exist yet (BOOTSTRAP_ROLE):
#   primary  initdb with data checksums, and the server started for the base backups;
#   standby  pg_basebackup from the initial primary at BOOTSTRAP_PRIMARY_IP (waited for), unless PGDATA already
#            holds this cluster's data (same system identifier); data of another cluster is refused, never
#            overwritten. No recovery settings are written: the pgsql agent writes its own.
# Inputs: pglib.sh's, PGHA_BOOTSTRAP_ROLE, PGHA_BOOTSTRAP_PRIMARY_IP, PGHA_INITDB_OPTS.
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"
# shellcheck source=pglib.sh
[[ $(type -t pgha_pg_configure) == function ]] || . "${BASH_SOURCE[0]%/*}/pglib.sh"

postgres_password=$(pgha_read_secret)
replication_password=$(pgha_read_secret)
pgha_write_pgpass "$replication_password"
initial_primary="host=$PGHA_BOOTSTRAP_PRIMARY_IP port=$PGHA_PG_PORT user=$PGHA_REPLICATION_USER passfile=$PGHA_PGPASS_FILE connect_timeout=10"

# The system identifier of the initial primary, once it answers replication connections (it may still be in
# its initdb).
initial_primary_id() {
    pgha_wait_for 300 pgha_pg psql -X -w -tA -c IDENTIFY_SYSTEM "$initial_primary replication=true" >/dev/null ||
        pgha_die "the initial primary at $PGHA_BOOTSTRAP_PRIMARY_IP:$PGHA_PG_PORT did not accept $PGHA_REPLICATION_USER within 300 s (its database step says why)"
    pgha_pg psql -X -w -tA -c IDENTIFY_SYSTEM "$initial_primary replication=true" | cut -d'|' -f1
}

if pgha_pgsql_managed; then
    pgha_pg_initialized || pgha_die "Pacemaker manages PostgreSQL but $PGHA_PGDATA holds no database; rebuild this node with pgha-rejoin-node"
elif [[ $PGHA_BOOTSTRAP_ROLE == primary ]]; then
    if ! pgha_pg_initialized; then
        [[ -z $(ls -A "$PGHA_PGDATA") ]] || pgha_die "$PGHA_PGDATA is not empty but holds no database; move its content away"
        # shellcheck disable=SC2086 # option words
        pgha_pg initdb -D "$PGHA_PGDATA" $PGHA_INITDB_OPTS >/dev/null
        pgha_changed "initdb $PGHA_PGDATA"
    fi
elif pgha_pg_initialized; then
    local_id=$(pgha_pg pg_controldata "$PGHA_PGDATA" | awk -F: '/Database system identifier/ {gsub(/ /, "", $2); print $2}')
    primary_id=$(initial_primary_id)
    [[ $local_id == "$primary_id" ]] || pgha_die "$PGHA_PGDATA holds another cluster (system id $local_id, the initial primary has $primary_id); move it away to rebuild this standby"
else
    [[ -z $(ls -A "$PGHA_PGDATA") ]] || pgha_die "$PGHA_PGDATA is not empty but holds no database; move its content away"
    initial_primary_id >/dev/null
    if ! pgha_pg pg_basebackup -d "$initial_primary" -D "$PGHA_PGDATA" -X stream -c fast -w; then
        find "$PGHA_PGDATA" -mindepth 1 -delete
        pgha_die "pg_basebackup from $PGHA_BOOTSTRAP_PRIMARY_IP failed; $PGHA_PGDATA emptied for the next try"
    fi
    pgha_changed "pg_basebackup from $PGHA_BOOTSTRAP_PRIMARY_IP"
fi
pgha_pg_configure

if pgha_pgsql_managed; then
    # The roles are the primary's: another node has nothing more to do.
    if [[ $(pgha_pgsql_status "$(crm_node -n 2>/dev/null || hostname)") != PRI ]]; then
        unset postgres_password replication_password
        pgha_summary
        exit 0
    fi
elif [[ $PGHA_BOOTSTRAP_ROLE == primary ]]; then
    if ! pgha_pg_running; then
        pgha_pg pg_ctl -D "$PGHA_PGDATA" -w -t 120 -l /var/lib/pgsql/pgha-bootstrap.log start >/dev/null
        pgha_changed "started PostgreSQL for the bootstrap"
    fi
else
    unset postgres_password replication_password
    pgha_summary
    exit 0
fi

# This node is the primary: SQL as postgres on the local socket.
run_sql() { pgha_pg psql -X -q -v ON_ERROR_STOP=1 -p "$PGHA_PG_PORT" -d postgres -tA; }

if ! pgha_pg_password_ok 127.0.0.1 postgres "$postgres_password"; then
    printf 'ALTER ROLE postgres PASSWORD %s;\n' "$(pgha_sql_literal "$postgres_password")" | run_sql
    pgha_changed "postgres password"
fi
pgha_pg_replication_role run_sql "$PGHA_REPLICATION_USER"
if ! pgha_pg_password_ok 127.0.0.1 "$PGHA_REPLICATION_USER" "$replication_password"; then
    printf 'ALTER ROLE "%s" PASSWORD %s;\n' "$PGHA_REPLICATION_USER" "$(pgha_sql_literal "$replication_password")" | run_sql
    pgha_changed "$PGHA_REPLICATION_USER password"
fi
unset postgres_password replication_password
pgha_summary
