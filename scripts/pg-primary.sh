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

role=$PGHA_REPLICATION_USER
if [[ $(run_sql <<<"select count(*) from pg_roles where rolname = $(pgha_sql_literal "$role") and rolreplication and rolcanlogin") != 1 ]]; then
    run_sql <<SQL
DO \$\$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = $(pgha_sql_literal "$role")) THEN
    CREATE ROLE "$role";
  END IF;
END\$\$;
ALTER ROLE "$role" WITH REPLICATION LOGIN;
SQL
    pgha_changed "replication role $role"
fi
if ! pgha_pg_password_ok "$target_host" "$role" "$replication_password"; then
    printf 'ALTER ROLE "%s" PASSWORD %s;\n' "$role" "$(pgha_sql_literal "$replication_password")" | run_sql
    pgha_changed "$role password"
fi
# pg_rewind, run by the rejoin tool as the replication role, needs these functions (PostgreSQL docs).
for fn in 'pg_ls_dir(text, boolean, boolean)' 'pg_stat_file(text, boolean)' 'pg_read_binary_file(text)' 'pg_read_binary_file(text, bigint, bigint, boolean)'; do
    if [[ $(run_sql <<<"select has_function_privilege($(pgha_sql_literal "$role"), $(pgha_sql_literal "pg_catalog.$fn"), 'execute')") != t ]]; then
        run_sql <<<"GRANT EXECUTE ON FUNCTION pg_catalog.$fn TO \"$role\";"
        pgha_changed "grant $fn to $role"
    fi
done
# A freshly promoted primary updates its control file's timeline only at its next checkpoint, and pg_rewind
# reads the timeline from there (PostgreSQL docs: run CHECKPOINT on a recently promoted source). The
# rejoin tool calls this as the replication role; CHECKPOINT itself needs a superuser on PostgreSQL 14.
checkpoint_fn="CREATE OR REPLACE FUNCTION public.pgha_checkpoint() RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS \$fn\$BEGIN CHECKPOINT; END\$fn\$;"
if [[ $(run_sql <<<"select count(*) from pg_proc where proname = 'pgha_checkpoint' and prosecdef and has_function_privilege($(pgha_sql_literal "$role"), oid, 'execute')") != 1 ]]; then
    run_sql <<SQL
$checkpoint_fn
REVOKE ALL ON FUNCTION public.pgha_checkpoint() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.pgha_checkpoint() TO "$role";
SQL
    pgha_changed "pgha_checkpoint() for $role"
fi
unset postgres_password replication_password
pgha_summary
