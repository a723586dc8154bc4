# shellcheck shell=bash
# The backup host's helpers (loaded after lib.sh by the backup host's tools): pgBackRest
# as postgres, SQL on the cluster's nodes over pgBackRest's own SSH trust, and restored copies in scratch
# directories that run on a private port and never touch the cluster.
# Reads /etc/pgha/backup.conf: PGHA_STANZA PGHA_REPO_PATH PGHA_NODES PGHA_BINDIR PGHA_PG_PORT PGHA_SOCKET_DIR
# PGHA_RESTORE_CONF PGHA_RESTORE_ROOT PGHA_RESTORE_PORT.

PGHA_BACKUP_CONF=${PGHA_BACKUP_CONF:-/etc/pgha/backup.conf}

pgha_load_backup_conf() {
    [[ -r $PGHA_BACKUP_CONF ]] || pgha_die "no $PGHA_BACKUP_CONF: this is not a pgha backup host"
    # shellcheck source=/dev/null
    . "$PGHA_BACKUP_CONF"
}

# pgBackRest on the repository, as postgres, for the cluster's stanza.
pgha_pgbackrest() { pgha_as_postgres pgbackrest --stanza="$PGHA_STANZA" "$@"; }
# pgBackRest for a restore into a local scratch directory (the repository is this host's).
pgha_pgbackrest_local() { pgha_as_postgres pgbackrest --config="$PGHA_RESTORE_CONF" --stanza="$PGHA_STANZA" "$@"; }

# Runs SQL from stdin as postgres on the node at ADDRESS (its local socket, through SSH); prints the rows.
pgha_node_sql() {
    pgha_as_postgres ssh -o BatchMode=yes -o ConnectTimeout=5 "postgres@$1" -- \
        "$PGHA_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$PGHA_SOCKET_DIR" -p "$PGHA_PG_PORT" -d postgres
}

# "name address" of the node whose PostgreSQL is the primary now; fails when none answers as one.
pgha_find_primary() {
    local entry
    for entry in $PGHA_NODES; do
        if [[ $(pgha_node_sql "${entry#*=}" <<<"select pg_is_in_recovery()" 2>/dev/null) == f ]]; then
            printf '%s %s\n' "${entry%%=*}" "${entry#*=}"
            return 0
        fi
    done
    return 1
}

# Label of the newest backup in the repository ("" when there is none).
pgha_newest_backup() {
    pgha_pgbackrest info --output=json | grep -o '"label":"[^"]*"' | tail -n1 | cut -d'"' -f4
}

# Has the primary switch to a new WAL segment and waits until it is in the repository (pgbackrest check), so
# that a restore finds everything committed so far. Fails when the primary or the repository does not answer.
pgha_flush_archive() { pgha_pgbackrest check >/dev/null; }

# Runs SQL from stdin on the restored copy in DIR (port PORT); prints the rows.
pgha_copy_sql() {
    pgha_as_postgres "$PGHA_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$PGHA_RESTORE_ROOT" -p "$2" -d postgres
}

# The first port from PGHA_RESTORE_PORT on that no restored copy uses.
pgha_free_port() {
    local port=$PGHA_RESTORE_PORT
    while [[ -e $PGHA_RESTORE_ROOT/.s.PGSQL.$port ]]; do port=$((port + 1)); done
    printf '%s' "$port"
}

# Restores the repository into the new scratch directory DIR with pgBackRest's restore OPTIONS (type, target,
# set); the copy never archives, and fetches WAL from this host's repository (archive-get works in the copy's
# directory, %p being relative to it).
pgha_restore_into() {
    local dir=$1
    shift
    [[ ! -e $dir ]] || pgha_die "$dir exists: pgha-restore restores into a new directory only"
    install -d -m 0700 -o postgres -g "$(id -gn postgres)" "$dir"
    pgha_pgbackrest_local restore --pg1-path="$dir" --archive-mode=off \
        --recovery-option="restore_command=pgbackrest --config=$PGHA_RESTORE_CONF --stanza=$PGHA_STANZA --pg1-path=$dir archive-get %f \"%p\"" "$@" >&2
    # The copy of a standby's data would stay a standby; the agent's includes name files of the nodes.
    rm -f "$dir/standby.signal"
    sed -i -E "s@^([[:space:]]*include(_if_exists|_dir)?[[:space:]]*=?[[:space:]]*'/.*)\$@# pgha-restore: \\1@" "$dir/postgresql.conf"
}

# Starts the restored copy in DIR on PORT, local connections only, with nothing of the cluster's roles:
# no archiving, no replication, no synchronous standby. MODE read-only refuses writes in every session.
pgha_start_copy() {
    local dir=$1 port=$2 mode=$3 options
    options="-c port=$port -c listen_addresses=localhost -c unix_socket_directories=$PGHA_RESTORE_ROOT"
    options+=" -c archive_mode=off -c synchronous_standby_names= -c primary_conninfo= -c hot_standby=on"
    options+=" -c logging_collector=off -c log_destination=stderr -c shared_buffers=128MB"
    [[ $mode != read-only ]] || options+=" -c default_transaction_read_only=on"
    pgha_as_postgres "$PGHA_BINDIR/pg_ctl" -D "$dir" -o "$options" -l "$dir.log" -w -t 60 start >/dev/null ||
        pgha_die "the restored copy in $dir did not start: $(tail -n 5 "$dir.log" | tr '\n' ' ')"
}

# Waits up to SECONDS until the copy on PORT has reached its recovery target (paused there) or, with no
# target, finished recovery; fails when it stops or the time passes.
pgha_wait_recovered() {
    local dir=$1 port=$2 seconds=$3 deadline state
    deadline=$((SECONDS + seconds))
    while ((SECONDS < deadline)); do
        pgha_as_postgres "$PGHA_BINDIR/pg_ctl" -D "$dir" status >/dev/null 2>&1 ||
            pgha_die "the restored copy stopped during recovery: $(tail -n 5 "$dir.log" | tr '\n' ' ')"
        state=$(pgha_copy_sql "$dir" "$port" <<<"select case when not pg_is_in_recovery() then 'done' when pg_is_wal_replay_paused() then 'paused' end" 2>/dev/null || true)
        [[ $state != "done" && $state != paused ]] || return 0
        sleep 1
    done
    pgha_die "the restored copy in $dir did not finish recovery within $seconds s"
}

# Stops the restored copy in DIR and removes it.
pgha_remove_copy() {
    local dir=$1
    [[ $dir == "$PGHA_RESTORE_ROOT"/* ]] || pgha_die "$dir is not a restored copy (they live in $PGHA_RESTORE_ROOT)"
    if pgha_as_postgres "$PGHA_BINDIR/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
        pgha_as_postgres "$PGHA_BINDIR/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
    fi
    rm -rf --one-file-system "$dir" "$dir.log"
}
