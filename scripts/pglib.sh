# shellcheck shell=bash
# PostgreSQL helpers shared by database.sh and the node tools (loaded after lib.sh).
# Inputs used here: PGHA_BINDIR PGHA_PGDATA PGHA_PG_PORT PGHA_REPLICATION_USER PGHA_PG_SETTINGS PGHA_PG_HBA
#                   PGHA_PGPASS_FILE

pgha_pg() { pgha_as_postgres "$PGHA_BINDIR/$1" "${@:2}"; }
pgha_pg_running() { pgha_pg pg_ctl -D "$PGHA_PGDATA" status >/dev/null 2>&1; }
pgha_pg_initialized() { [[ -f $PGHA_PGDATA/PG_VERSION ]]; }

# A .pgpass line for USER and PASSWORD on any host and database of PORT (\ and : escaped).
pgha_pgpass_line() {
    local port=$1 user=$2 password=${3//\\/\\\\}
    printf '*:%s:*:%s:%s\n' "$port" "$user" "${password//:/\\:}"
}

# The replication password in the postgres-only passfile named in the agent's primary_conninfo_opt.
pgha_write_pgpass() {
    pgha_put_file "$PGHA_PGPASS_FILE" 0600 "postgres:$(id -gn postgres)" < <(pgha_pgpass_line "$PGHA_PG_PORT" "$PGHA_REPLICATION_USER" "$1")
}

# Creates a postgres-only temporary passfile for USER and PASSWORD and prints its path (caller removes it).
pgha_temp_passfile() {
    local passfile
    passfile=$(mktemp)
    chown postgres "$passfile"
    chmod 0600 "$passfile"
    pgha_pgpass_line '*' "$1" "$2" >"$passfile"
    printf '%s' "$passfile"
}

# Checks SETTINGS, a new pgha.conf, with this node's PostgreSQL's own parser (postgres -C on a scratch copy): a
# parameter it does not know or a value it refuses fails here, with PostgreSQL's words, before anything is written.
pgha_pg_check_settings() {
    local scratch out
    scratch=$(mktemp -d)
    chown postgres "$scratch"
    printf '%s\n' "$1" >"$scratch/postgresql.conf"
    if ! out=$(pgha_pg postgres -D "$scratch" -C port 2>&1); then
        rm -rf "$scratch"
        out=$(grep -v -e 'skipping missing configuration file' -e 'contains errors' <<<"$out" | sed -E 's/^.*(LOG|FATAL|ERROR): +//; s/ in file "[^"]*"( line [0-9]+)?//' | paste -sd ';' -)
        pgha_die "PostgreSQL refuses the settings (pgha:postgresqlParameters), nothing was changed: ${out//;/; }"
    fi
    rm -rf "$scratch"
}

# The version of the PostgreSQL installed here, as a server reports it (server_version, e.g. "15.20 (Debian ...)").
pgha_pg_installed_version() { pgha_pg postgres --version | sed 's/^postgres (PostgreSQL) //'; }

# The server_version of the server at libpq CONNINFO; fails when it does not answer.
pgha_pg_running_version() { pgha_pg psql -X -w -At -c "show server_version" "$1"; }

# What waits for a restart on the server at libpq CONNINFO ("" when nothing): the settings PostgreSQL marks
# pending_restart, by name, and a build other than the one installed here (a new version or package installed
# under the running server, which keeps its old binaries until it restarts). Fails when it does not answer.
pgha_pending_restart() {
    local pending running installed
    # (Called where errexit does not apply, as in $(...) || ...: each failure returns by itself.)
    pending=$(pgha_pg psql -X -w -At -c "select coalesce(string_agg(name, ', ' order by name), '') from pg_settings where pending_restart" "$1") || return 1
    running=$(pgha_pg_running_version "$1") || return 1
    installed=$(pgha_pg_installed_version) || return 1
    [[ $running == "$installed" ]] || pending+="${pending:+, }the PostgreSQL build (runs $running, $installed installed)"
    printf '%s\n' "$pending"
}

# Managed settings in PGDATA/pgha.conf, included from postgresql.conf (whose other lines, such as the
# agent's own include lines, stay as they are), and a managed pg_hba.conf. Reloads a running server.
pgha_pg_configure() {
    local conf=$PGHA_PGDATA/postgresql.conf group before=$PGHA_CHANGES pending local_archive
    group=$(id -gn postgres)
    local_archive=$(pgha_local_archive_dir)
    pgha_pg_check_settings "$PGHA_PG_SETTINGS"
    pgha_put_file "$PGHA_PGDATA/pgha.conf" 0600 "postgres:$group" <<<"$PGHA_PG_SETTINGS"
    if ! grep -qx "include = 'pgha.conf'" "$conf"; then
        printf "\n# Settings managed by pgha\ninclude = 'pgha.conf'\n" >>"$conf"
        pgha_changed "include pgha.conf from $conf"
    fi
    pgha_put_file "$PGHA_PGDATA/pg_hba.conf" 0600 "postgres:$group" <<<"$PGHA_PG_HBA"
    if ((PGHA_CHANGES > before)) && pgha_pg_running; then
        pgha_pg pg_ctl -D "$PGHA_PGDATA" reload >/dev/null
        pending=$(pgha_pending_restart "port=$PGHA_PG_PORT dbname=postgres" 2>/dev/null || true)
        [[ -z $pending ]] || pgha_log "settings waiting for a restart: $pending"
    fi
    pgha_remove_local_archive "$local_archive"
}

# The local WAL archive directory of older pgha versions, from the archive_command of the pgha.conf in place
# ("test ! -f DIR/%f && cp %p DIR/%f"); "" when there is none.
pgha_local_archive_dir() {
    [[ -r $PGHA_PGDATA/pgha.conf ]] || return 0
    sed -n "s@^archive_command = 'test ! -f \(/[^ ]*\)/%f && cp %p .*@\1@p" "$PGHA_PGDATA/pgha.conf"
}

# Removes the local WAL archive DIR of older pgha versions once pgha.conf no longer archives there: nothing ever
# pruned it, it held only this node's own WAL and no backup, so it restores nothing the cluster lacks.
pgha_remove_local_archive() {
    local dir=$1 count size
    [[ -n $dir && -d $dir ]] || return 0
    ! grep -qF "$dir/" "$PGHA_PGDATA/pgha.conf" || return 0
    if pgha_pg_running; then
        # The server archives with the new command only once it has read the new pgha.conf.
        [[ $(pgha_pg psql -X -p "$PGHA_PG_PORT" -d postgres -tAc "show archive_command" 2>/dev/null) != *"$dir/"* ]] || return 0
    fi
    count=$(find "$dir" -maxdepth 1 -type f | wc -l)
    size=$(du -sm "$dir" | cut -f1)
    rm -rf --one-file-system "$dir"
    pgha_changed "removed the local WAL archive $dir ($count files, $size MiB): WAL goes to the backup repository now, or nowhere without one"
}

# True when USER can log in to the server at HOST with PASSWORD (scram over TCP): used to change
# passwords only when they differ. The password goes through a temporary passfile, not argv.
pgha_pg_password_ok() {
    local host=$1 user=$2 passfile ok=1
    passfile=$(pgha_temp_passfile "$user" "$3")
    pgha_pg psql -X -w -tAc 'select 1' "host=$host port=$PGHA_PG_PORT user=$user dbname=postgres passfile=$passfile connect_timeout=5" >/dev/null 2>&1 && ok=0
    rm -f "$passfile"
    return "$ok"
}


# The replication role ROLE and what pg_rewind needs of it, through RUN_SQL (a command that runs SQL from
# stdin on the primary and prints the result): REPLICATION LOGIN (the password is set apart); execute on the
# functions pg_rewind calls (PostgreSQL docs); and public.pgha_checkpoint(), because a freshly promoted
# primary updates its control file's timeline only at its next checkpoint and pg_rewind reads it from there
# (CHECKPOINT itself needs a superuser on PostgreSQL 14).
pgha_pg_replication_role() {
    local run_sql=$1 role=$2 fn
    if [[ $("$run_sql" <<<"select count(*) from pg_roles where rolname = $(pgha_sql_literal "$role") and rolreplication and rolcanlogin") != 1 ]]; then
        "$run_sql" <<SQL
DO \$\$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = $(pgha_sql_literal "$role")) THEN
    CREATE ROLE "$role";
  END IF;
END\$\$;
ALTER ROLE "$role" WITH REPLICATION LOGIN;
SQL
        pgha_changed "replication role $role"
    fi
    for fn in 'pg_ls_dir(text, boolean, boolean)' 'pg_stat_file(text, boolean)' 'pg_read_binary_file(text)' 'pg_read_binary_file(text, bigint, bigint, boolean)'; do
        if [[ $("$run_sql" <<<"select has_function_privilege($(pgha_sql_literal "$role"), $(pgha_sql_literal "pg_catalog.$fn"), 'execute')") != t ]]; then
            "$run_sql" <<<"GRANT EXECUTE ON FUNCTION pg_catalog.$fn TO \"$role\";"
            pgha_changed "grant $fn to $role"
        fi
    done
    if [[ $("$run_sql" <<<"select count(*) from pg_proc where proname = 'pgha_checkpoint' and prosecdef and has_function_privilege($(pgha_sql_literal "$role"), oid, 'execute')") != 1 ]]; then
        "$run_sql" <<SQL
CREATE OR REPLACE FUNCTION public.pgha_checkpoint() RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS \$fn\$BEGIN CHECKPOINT; END\$fn\$;
REVOKE ALL ON FUNCTION public.pgha_checkpoint() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.pgha_checkpoint() TO "$role";
SQL
        pgha_changed "pgha_checkpoint() for $role"
    fi
}
