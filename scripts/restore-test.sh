#!/usr/bin/env bash
# The restore drill, on the backup host (as root; the pgha-restore-test timer runs it, weekly by default):
#   1. writes a canary row through the primary (table pgha.restore_drills of the postgres database) and sends
#      the primary's current WAL to the repository;
#   2. restores the newest backup plus all archived WAL into a scratch directory and starts it (private port);
#   3. checks that the canary row is there and runs pg_amcheck over every database of the copy;
#   4. records the restore time (RTO) and the age of the newest restored transaction at the start of the drill
#      (RPO) in the canary's row on the primary, from where pgha-status shows them on every node, and removes
#      the copy. Exits 1 when the drill fails (the reason is recorded too, when the primary answers).
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"
# shellcheck source=backuplib.sh
[[ $(type -t pgha_pgbackrest) == function ]] || . "${BASH_SOURCE[0]%/*}/backuplib.sh"
PGHA_STEP=restore-test

((EUID == 0)) || pgha_die "run as root"
pgha_load_backup_conf

read -r primary address < <(pgha_find_primary) || pgha_die "no node answers as the primary: the drill needs one to write its canary"
canary=$(pgha_node_sql "$address" <<'SQL'
set client_min_messages = warning;
create schema if not exists pgha;
create table if not exists pgha.restore_drills (
    id bigserial primary key,
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    ok boolean,
    backup text,
    restore_seconds numeric,
    rpo_seconds numeric,
    detail text
);
insert into pgha.restore_drills default values returning id;
SQL
)
[[ $canary =~ ^[0-9]+$ ]] || pgha_die "could not write the canary row on $primary"
started_at=$(date +%s.%N)

# Records the outcome in the canary's row (on whichever node is the primary by now) and in the journal.
record() {
    local ok=$1 detail=$2 backup=${3:-} seconds=${4:-null} rpo=${5:-null} target
    pgha_log "$detail"
    if read -r _ target < <(pgha_find_primary); then
        pgha_node_sql "$target" <<SQL || pgha_log "WARNING: could not record the drill on the primary"
update pgha.restore_drills set finished_at = now(), ok = $ok, backup = $(pgha_sql_literal "$backup"),
    restore_seconds = $seconds, rpo_seconds = $rpo, detail = $(pgha_sql_literal "$detail") where id = $canary;
SQL
    else
        pgha_log "WARNING: no primary answers: the drill's outcome is in this journal only"
    fi
}

dir=$PGHA_RESTORE_ROOT/drill-$canary
port=$(pgha_free_port)
fail() {
    record false "restore drill $canary failed: $1" "${backup:-}"
    pgha_remove_copy "$dir" 2>/dev/null || true
    exit 1
}
trap 'fail "stopped by an error (line $LINENO)"' ERR

pgha_flush_archive || fail "the canary's WAL did not reach the repository (pgbackrest check failed)"
backup=$(pgha_newest_backup)
[[ -n $backup ]] || fail "the repository holds no backup"
t0=$(date +%s.%N)
(pgha_restore_into "$dir" --set="$backup") || fail "pgbackrest restore of $backup failed"
(pgha_start_copy "$dir" "$port" writable) || fail "the restored copy did not start"
(pgha_wait_recovered "$dir" "$port" 3600) || fail "the restored copy did not finish recovery"
restore_seconds=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
found=$(pgha_copy_sql "$dir" "$port" <<<"select count(*) from pgha.restore_drills where id = $canary") || found=0
[[ $found == 1 ]] || fail "the canary row $canary is not in the restored copy of $backup"
newest=$(pgha_copy_sql "$dir" "$port" <<<"select extract(epoch from pg_last_xact_replay_timestamp())")
rpo=$(awk -v a="$started_at" -v b="${newest:-0}" 'BEGIN {d = a - b; printf "%.1f", d < 0 ? 0 : d}')
amcheck=$(pgha_as_postgres "$PGHA_BINDIR/pg_amcheck" -h "$PGHA_RESTORE_ROOT" -p "$port" -U postgres --all --install-missing 2>&1) ||
    fail "pg_amcheck found problems in the restored copy of $backup: $(head -c 2000 <<<"$amcheck")"
trap - ERR
pgha_remove_copy "$dir"
record true "restore drill $canary passed: backup $backup restored with all archived WAL in $restore_seconds s, newest transaction $rpo s before the drill, canary found, pg_amcheck clean" "$backup" "$restore_seconds" "$rpo"
