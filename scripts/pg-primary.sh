#!/usr/bin/env bash
# Creates the database on the first node (initdb with data checksums), keeps its managed settings and
# pg_hba, and sets the superuser and replication-role passwords (stdin: postgres password, then
# replication password). Before Pacemaker manages PostgreSQL the server is started here, for the
# basebackups; once the cluster manages it, roles are applied on the current primary through vip-master.
# Inputs: pglib.sh's, PGHA_VIP_MASTER, PGHA_INITDB_OPTS.
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"
# shellcheck source=pglib.sh
[[ $(type -t pgha_pg_configure) == function ]] || . "${BASH_SOURCE[0]%/*}/pglib.sh"

postgres_password=$(pgha_read_secret)
replication_password=$(pgha_read_secret)
pgha_write_pgpass "$replication_password"

if ! pgha_pg_initialized; then
    [[ -z $(ls -A "$PGHA_PGDATA") ]] || pgha_die "$PGHA_PGDATA is not empty but holds no database; move its content away"
    # shellcheck disable=SC2086 # option words
    pgha_pg initdb -D "$PGHA_PGDATA" $PGHA_INITDB_OPTS >/dev/null
    pgha_changed "initdb $PGHA_PGDATA"
fi
pgha_pg_configure

if pgha_pgsql_managed; then
    # Pacemaker owns the server: never start or stop it here.
    if [[ $(pgha_pgsql_status "$(crm_node -n)") == PRI ]]; then
        target_host=127.0.0.1
    else
        target_host=$PGHA_VIP_MASTER
    fi
else
    if ! pgha_pg_running; then
        pgha_pg pg_ctl -D "$PGHA_PGDATA" -w -t 120 -l /var/lib/pgsql/pgha-bootstrap.log start >/dev/null
        pgha_changed "started PostgreSQL for the bootstrap"
    fi
    target_host=127.0.0.1
fi

# Runs SQL (stdin) as postgres: on the local socket when this node is the primary, else on the primary
# through vip-master with the superuser password.
run_sql() {
    if [[ $target_host == 127.0.0.1 ]]; then
        pgha_pg psql -X -q -v ON_ERROR_STOP=1 -p "$PGHA_PG_PORT" -d postgres -tA
    else
        local passfile
        passfile=$(pgha_temp_passfile postgres "$postgres_password")
        pgha_pg psql -X -q -v ON_ERROR_STOP=1 -tA "host=$target_host port=$PGHA_PG_PORT user=postgres dbname=postgres passfile=$passfile"
        rm -f "$passfile"
    fi
}

if ! pgha_pg_password_ok "$target_host" postgres "$postgres_password"; then
    [[ $target_host == 127.0.0.1 ]] || pgha_die "cannot log in to the primary at $target_host as postgres with the configured password; change it on the primary first"
    printf 'ALTER ROLE postgres PASSWORD %s;\n' "$(pgha_sql_literal "$postgres_password")" | run_sql
    pgha_changed "postgres password"
fi

pgha_pg_replication_role run_sql "$PGHA_REPLICATION_USER"
if ! pgha_pg_password_ok "$target_host" "$PGHA_REPLICATION_USER" "$replication_password"; then
    printf 'ALTER ROLE "%s" PASSWORD %s;\n' "$PGHA_REPLICATION_USER" "$(pgha_sql_literal "$replication_password")" | run_sql
    pgha_changed "$PGHA_REPLICATION_USER password"
fi
unset postgres_password replication_password
pgha_summary
