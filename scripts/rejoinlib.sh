# shellcheck shell=bash
# The rejoin rule and its actions (loaded after lib.sh and pglib.sh), shared by ocf:pgha:pgsql (automatic
# rejoin when Pacemaker starts PostgreSQL on a node) and pgha-rejoin-node (by hand). Reads the node's
# configuration from /etc/pgha/cluster.conf (written by the program), so it works while the node's cluster
# stack is down.
#
# The rule that keeps acknowledged transactions: a node may be rewound (or copied afresh) from the current
# primary only when its timeline is the primary's or an ancestor of it, with the same history. What such a
# node wrote after the point where the primary's timeline branched off was never acknowledged under
# synchronous replication (the primary's timeline starts from what the sync standby had flushed). A node on
# a newer timeline, or on one the primary's history does not contain (a promotion the primary never saw),
# holds transactions the primary lacks: it is refused, and the message says which node holds the newer data
# and how to make it the primary. Only an explicit override discards them.

PGHA_CLUSTER_CONF=${PGHA_CLUSTER_CONF:-/etc/pgha/cluster.conf}

# Loads the node's configuration (PGHA_PGDATA, PGHA_BINDIR, PGHA_PG_PORT, PGHA_REPLICATION_USER,
# PGHA_PGPASS_FILE, PGHA_PGSQL_TMPDIR, PGHA_NODES, ...).
pgha_load_cluster_conf() {
    [[ -r $PGHA_CLUSTER_CONF ]] || pgha_die "no $PGHA_CLUSTER_CONF: this node was not set up by pgha"
    # shellcheck source=/dev/null
    . "$PGHA_CLUSTER_CONF"
}

# The address of cluster node NAME (from the node list), or NAME itself.
pgha_node_address() {
    local entry
    for entry in $PGHA_NODES; do
        [[ ${entry%%=*} != "$1" ]] || { printf '%s' "${entry#*=}"; return 0; }
    done
    printf '%s' "$1"
}

# Runs a command as postgres on the backup host, over pgBackRest's SSH trust.
pgha_on_backup_host() { pgha_as_postgres ssh -o BatchMode=yes -o ConnectTimeout=5 "postgres@$PGHA_BACKUP_HOST_IP" -- "$@"; }

# On the primary (rep_mode=sync): makes the streaming async standby TARGET the sync standby, which every commit
# waits for from then on; the former sync standby turns async. The pgsql agent names the sync standby in its
# rep_mode.conf, which it leaves alone while that standby streams: naming TARGET there and reloading hands
# over the role without a pause, and the agent's next monitor reports TARGET as HS:sync.
pgha_hand_sync_role() {
    local target=$1 rep_mode_conf=$PGHA_PGSQL_TMPDIR/rep_mode.conf
    [[ -f $rep_mode_conf ]] || pgha_die "no $rep_mode_conf: is this node the primary, with the pgsql agent in rep_mode=sync?"
    pgha_log "handing the sync role from $(pgha_node_with_status HS:sync || echo none) to $target"
    printf "synchronous_standby_names = '\"%s\"'\n" "$target" >"$rep_mode_conf"
    pgha_as_postgres "$PGHA_BINDIR/pg_ctl" -D "$PGHA_PGDATA" reload >/dev/null
    pgha_wait_for 30 pgha_has_status "$target" HS:sync || pgha_die "$target did not become the sync standby within 30s (pgha-status shows why)"
}

pgha_lock_file() { printf '%s/PGSQL.lock' "$PGHA_PGSQL_TMPDIR"; }

# A value of pg_controldata for this node's data directory ("" when it cannot be read).
pgha_controldata() {
    pgha_pg pg_controldata "$PGHA_PGDATA" 2>/dev/null | awk -F': *' -v k="$1" '$1 == k {print $2; exit}'
}

# libpq connection string to HOST as the replication role (its password from the passfile).
pgha_replication_conn() {
    printf 'host=%s port=%s user=%s dbname=postgres passfile=%s connect_timeout=5' "$1" "$PGHA_PG_PORT" "$PGHA_REPLICATION_USER" "$PGHA_PGPASS_FILE"
}

# IDENTIFY_SYSTEM of the server at HOST, or with no HOST of this node's own server over its local socket:
# "systemid timeline lsn". A standby answers with the timeline it replays and the WAL it holds.
pgha_identify() {
    local conn="dbname=postgres"
    [[ -z ${1:-} ]] || conn=$(pgha_replication_conn "$1")
    pgha_pg psql -X -w -At -F ' ' -p "$PGHA_PG_PORT" -c IDENTIFY_SYSTEM "$conn replication=true" 2>/dev/null | awk 'NF >= 3 {print $1, $2, $3}'
}

# The timeline history of TLI at HOST: "parent switchpoint" lines (none for timeline 1).
pgha_remote_history() {
    (($2 > 1)) || return 0
    pgha_pg psql -X -w -At -c "TIMELINE_HISTORY $2" "$(pgha_replication_conn "$1") replication=true" |
        sed '1s/^[^|]*|//' | awk -F'\t' '$1 ~ /^[0-9]+$/ {print $1, $2}'
}

# This node's newest timeline: its control file's, or the newest it holds WAL segments of (a node that was
# promoted writes the new timeline's first segment at once, the control file only at the next checkpoint).
# A history file alone does not count: a standby's walreceiver fetches the primary's history files also when
# the standby cannot follow that timeline.
pgha_local_timeline() {
    local tli f n
    tli=$(pgha_controldata "Latest checkpoint's TimeLineID")
    for f in "$PGHA_PGDATA"/pg_wal/*; do
        [[ ${f##*/} =~ ^([0-9A-F]{8})[0-9A-F]{16}$ ]] || continue
        n=$((16#${BASH_REMATCH[1]}))
        ((n <= ${tli:-0})) || tli=$n
    done
    printf '%s' "${tli:-0}"
}

# An LSN (e.g. 0/A354D30) as a number of bytes.
pgha_lsn_bytes() { local hi=${1%/*} lo=${1#*/}; echo $(((16#$hi << 32) + 16#$lo)); }

# True when this node, a running standby, cannot follow the primary PRIMARY: it holds WAL past the point where
# the primary's timeline branched off from the standby's (e.g. streamed from the old primary after the
# failover, through a vip-master that ran on both nodes for a while without fencing), or it is on a timeline
# the primary's history lacks. PostgreSQL then keeps it in recovery, retrying forever; PGHA_REASON says why.
# False when either server does not answer.
pgha_standby_diverged() {
    local primary=$1 me mine theirs tli lsn ptli phist switch
    me=$(crm_node -n 2>/dev/null || hostname)
    mine=$(pgha_identify) && [[ -n $mine ]] || return 1
    theirs=$(pgha_identify "$(pgha_node_address "$primary")") && [[ -n $theirs ]] || return 1
    read -r _ tli lsn <<<"$mine"
    read -r _ ptli _ <<<"$theirs"
    ((tli != ptli)) || return 1
    phist=$(pgha_remote_history "$(pgha_node_address "$primary")" "$ptli") || return 1
    switch=$(awk -v t="$tli" '$1 == t {print $2}' <<<"$phist")
    if ((tli < ptli)) && [[ -n $switch ]]; then
        (($(pgha_lsn_bytes "$lsn") > $(pgha_lsn_bytes "$switch"))) || return 1
        PGHA_REASON="$me holds WAL of timeline $tli up to $lsn, past $switch where the primary $primary's timeline $ptli branched off from it: WAL the primary lacks"
    else
        PGHA_REASON="$me is on timeline $tli, which is not in the history of the primary $primary (timeline $ptli)"
    fi
}

# The history of this node's timeline TLI, as pgha_remote_history prints it.
pgha_local_history() {
    (($1 > 1)) || return 0
    local file fetched=""
    file=$(printf '%s/pg_wal/%08X.history' "$PGHA_PGDATA" "$1")
    if [[ ! -r $file && -n $PGHA_STANZA ]]; then
        # A history file recycled from pg_wal is in the backup repository.
        fetched=$(mktemp -d)
        chown postgres "$fetched"
        pgha_as_postgres "${BASH_SOURCE[0]%/*}/archive-get.sh" "${file##*/}" "$fetched/${file##*/}" >/dev/null 2>&1 || true
        file=$fetched/${file##*/}
    fi
    if [[ -r $file ]]; then
        awk -F'\t' '$1 ~ /^[0-9]+$/ {print $1, $2}' "$file"
    else
        printf 'missing\n'
    fi
    [[ -z $fetched ]] || rm -rf "$fetched"
}

# Decides whether this node may follow the primary PRIMARY (a node name): sets PGHA_VERDICT to in-step (same
# timeline and history: start as a standby), rewind (an older timeline the primary branched off from:
# rewind, then start), copy (an empty data directory: nothing to lose, copied afresh), refuse (PGHA_REASON
# says why) or unreachable. Once both timelines are known, they are in PGHA_LOCAL_TIMELINE and PGHA_PRIMARY_TIMELINE.
pgha_rejoin_verdict() {
    local primary=$1 me ident sysid ptli plsn ltli lhist phist
    me=$(crm_node -n 2>/dev/null || hostname)
    PGHA_REASON=""
    if ! ident=$(pgha_identify "$(pgha_node_address "$primary")") || [[ -z $ident ]]; then
        PGHA_VERDICT=unreachable
        PGHA_REASON="the primary $primary does not answer as $PGHA_REPLICATION_USER"
        return 0
    fi
    read -r sysid ptli plsn <<<"$ident"
    if [[ -z $(ls -A "$PGHA_PGDATA" 2>/dev/null) ]]; then
        PGHA_VERDICT=copy
        PGHA_REASON="$PGHA_PGDATA is empty"
        return 0
    fi
    if [[ $(pgha_controldata "Database system identifier") != "$sysid" ]]; then
        PGHA_VERDICT=refuse
        PGHA_REASON="$me's data in $PGHA_PGDATA belongs to another database cluster than the primary $primary's (system identifier $sysid); move it away to make $me a standby"
        return 0
    fi
    ltli=$(pgha_local_timeline)
    PGHA_LOCAL_TIMELINE=$ltli PGHA_PRIMARY_TIMELINE=$ptli
    lhist=$(pgha_local_history "$ltli")
    phist=$(pgha_remote_history "$(pgha_node_address "$primary")" "$ptli")
    if ((ltli > ptli)); then
        PGHA_VERDICT=refuse
        PGHA_REASON="$me is on timeline $ltli, newer than the primary $primary's timeline $ptli (at $plsn): $me was promoted after $primary and holds transactions $primary lacks, possibly acknowledged. Nothing was rewound. To keep them, make $me the primary again (stop PostgreSQL on $primary, e.g. pcs node standby $primary, then start the cluster on $me) and rejoin $primary; to discard $me's newer transactions instead: pgha-rejoin-node --discard-newer-data"
        return 0
    fi
    # Every switch in this node's history must be in the primary's, at the same point.
    if [[ $lhist == *missing* || $phist != "$lhist"* ]] || { ((ltli < ptli)) && ! grep -q "^$ltli " <<<"$phist"; }; then
        PGHA_VERDICT=refuse
        PGHA_REASON="$me's timeline $ltli is not in the history of the primary $primary (timeline $ptli): $me was promoted in a way $primary never saw and holds transactions $primary lacks, possibly acknowledged. Nothing was rewound. To keep them, make $me the primary (stop PostgreSQL on $primary first) and rejoin $primary; to discard $me's transactions instead: pgha-rejoin-node --discard-newer-data"
        return 0
    fi
    if ((ltli == ptli)); then
        PGHA_VERDICT=in-step
    else
        PGHA_VERDICT=rewind
        PGHA_REASON="timeline $ltli, from which the primary $primary's timeline $ptli branched off at $(awk -v t="$ltli" '$1 == t {print $2}' <<<"$phist")"
    fi
}

# Copies the primary PRIMARY's data into this node's empty data directory (pg_basebackup, WAL streamed along).
pgha_copy_from() {
    local primary=$1
    install -d -m 0700 -o postgres -g "$(id -gn postgres)" "$PGHA_PGDATA"
    pgha_pg pg_basebackup -d "$(pgha_replication_conn "$(pgha_node_address "$primary")")" -D "$PGHA_PGDATA" -X stream -c fast -w
}

# Rewinds this (stopped) node's data from the primary PRIMARY with pg_rewind; when that fails, moves the data
# directory aside (kept, never deleted) and copies it afresh with pg_basebackup.
pgha_rewind_from() {
    local primary=$1 host conn log aside restore_wal
    host=$(pgha_node_address "$primary")
    conn=$(pgha_replication_conn "$host")
    # pg_rewind reads the source's timeline from its control file, which a freshly promoted primary updates
    # only at its next checkpoint: force one (database.sh made this function for the replication role).
    pgha_pg psql -X -q -w -c 'select public.pgha_checkpoint()' "$conn" >/dev/null
    # pg_rewind refuses a target that is configured as a standby.
    rm -f "$PGHA_PGDATA/standby.signal"
    log=$(mktemp)
    # Older WAL of this node that pg_wal no longer holds comes from the backup repository, when there is one.
    restore_wal=()
    [[ -z $PGHA_STANZA ]] || restore_wal=(--restore-target-wal)
    if pgha_pg pg_rewind --target-pgdata="$PGHA_PGDATA" --source-server="$conn" "${restore_wal[@]}" --progress >"$log" 2>&1; then
        pgha_changed "pg_rewind from $primary: $(grep -E 'diverged|no rewind required' "$log" | head -n1 | sed 's/^pg_rewind: //')"
    else
        aside="$PGHA_PGDATA.pgha-$(date +%Y%m%d%H%M%S)"
        pgha_log "pg_rewind failed ($(tail -n1 "$log")); keeping $PGHA_PGDATA as $aside and copying afresh from $primary"
        mv -T "$PGHA_PGDATA" "$aside"
        pgha_copy_from "$primary"
        pgha_changed "pg_basebackup from $primary (the old data is kept in $aside)"
    fi
    rm -f "$log"
}

# After discarding this node's newer timelines: their history files and segments in pg_wal are moved to a
# directory beside PGDATA (kept), or recovery would choose them as the latest timeline.
pgha_set_aside_newer_timelines() {
    local ptli aside f tli
    ptli=$(pgha_identify "$(pgha_node_address "$1")" | awk '{print $2}')
    aside="$PGHA_PGDATA.pgha-discarded-$(date +%Y%m%d%H%M%S)"
    for f in "$PGHA_PGDATA"/pg_wal/*; do
        [[ -f $f && ${f##*/} =~ ^([0-9A-F]{8}) ]] || continue
        tli=$((16#${BASH_REMATCH[1]}))
        ((tli > ptli)) || continue
        mkdir -p "$aside"
        mv "$f" "$aside/"
    done
    [[ ! -d $aside ]] || pgha_changed "moved the WAL of the discarded timelines to $aside"
}

# Makes this node ready to start as a standby of PRIMARY ("" when no node is primary) under the rule above.
# With DISCARD=--discard-newer-data a refused node is rewound anyway. Fails with the reason otherwise, a refusal
# with "refused rejoin: " first (Pacemaker shortens an exit reason; pgha-status recognises the refusal by it). With
# no primary the start fails for now (the cluster may be promoting another node: the start is retried after
# the failure timeout), or for good if the whole cluster stays without one, which pgha-status reports.
pgha_prepare_standby() {
    local guard
    # One rejoin at a time per node: Pacemaker's start and pgha-rejoin-node by hand can run together (seen
    # after a power off: two pg_rewinds broke each other and both moved PGDATA aside in the same second).
    # The descriptor is closed again before PostgreSQL starts, which would otherwise inherit the lock.
    exec {guard}>"$PGHA_PGSQL_TMPDIR/pgha-rejoin.lock"
    flock -w 600 "$guard" || pgha_die "another rejoin of this node has held $PGHA_PGSQL_TMPDIR/pgha-rejoin.lock for 600 s"
    ! pgha_pg_running || pgha_die "PostgreSQL runs in $PGHA_PGDATA: a running server is never rewound or copied over; stop it first"
    pgha_prepare_standby_locked "$@"
    exec {guard}>&-
}

pgha_prepare_standby_locked() {
    local primary=$1 discard=${2:-} lock state
    lock=$(pgha_lock_file)
    if [[ -z $primary ]]; then
        # No primary anywhere (e.g. the whole cluster was stopped): a node that shut down cleanly holds no
        # transaction the others lack that it could lose, so it may start and take part in the election.
        if [[ -e $lock ]]; then
            state=$(pgha_controldata "Database cluster state")
            [[ $state == "shut down" || $state == "shut down in recovery" ]] ||
                pgha_die "no node is the primary and $(crm_node -n 2>/dev/null || hostname)'s PostgreSQL did not shut down cleanly ($state): start it by hand once you know which node holds the newest data (pgha-status shows the timelines)"
            rm -f "$lock"
            pgha_changed "removed $lock (clean shutdown, no other primary)"
        fi
        return 0
    fi
    pgha_rejoin_verdict "$primary"
    case $PGHA_VERDICT in
        in-step) ;;
        rewind) pgha_rewind_from "$primary" ;;
        copy)
            pgha_copy_from "$primary"
            pgha_changed "pg_basebackup from $primary into the empty $PGHA_PGDATA"
            ;;
        refuse)
            [[ $discard == --discard-newer-data ]] || pgha_die "refused rejoin: $PGHA_REASON"
            pgha_log "WARNING: discarding, as asked: $PGHA_REASON"
            # The repository first: should it fail, nothing here has changed yet and the rejoin can be retried.
            ((PGHA_LOCAL_TIMELINE <= PGHA_PRIMARY_TIMELINE)) || [[ -z $PGHA_STANZA ]] ||
                pgha_on_backup_host /usr/local/sbin/pgha-archive-set-aside "$((PGHA_PRIMARY_TIMELINE + 1))" "$PGHA_LOCAL_TIMELINE" >&2 ||
                pgha_die "the repository on $PGHA_BACKUP_HOST still holds timelines $((PGHA_PRIMARY_TIMELINE + 1))-$PGHA_LOCAL_TIMELINE, which recovery would follow; nothing was rewound (pgha-archive-set-aside failed on $PGHA_BACKUP_HOST, see above)"
            pgha_rewind_from "$primary"
            pgha_set_aside_newer_timelines "$primary"
            ;;
        *) pgha_die "$PGHA_REASON" ;;
    esac
    if [[ -e $lock ]]; then
        rm -f "$lock"
        pgha_changed "removed $lock"
    fi
}
