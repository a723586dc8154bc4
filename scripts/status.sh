#!/usr/bin/env bash
# The cluster at a glance, on any node (as root):
#   pgha-status
# Per node: its role (the pgsql agent's pgsql-status), Pacemaker's view of its instance, its timeline and
# WAL position, its replication state and lag behind the primary; where the VIPs run; settings written but
# waiting for a restart; failed actions; and what, if anything, needs a person. With a backup host: the newest
# backup and restore drill and whether WAL reaches the repository. Exit code for monitoring: 0 healthy;
# 1 degraded but recovering by itself (e.g. a node rejoining), maintenance mode on, a backup or restore drill
# older than its schedule allows, or WAL archiving failing for now; 2 needs a person (no primary, no
# vip-master, a refused rejoin, a failed fencing, a node that stays out, or a gap in the WAL archive:
# point-in-time recovery is impossible across it until the next backup).
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"
# shellcheck source=pglib.sh
[[ $(type -t pgha_pg_configure) == function ]] || . "${BASH_SOURCE[0]%/*}/pglib.sh"
# shellcheck source=rejoinlib.sh
[[ $(type -t pgha_prepare_standby) == function ]] || . "${BASH_SOURCE[0]%/*}/rejoinlib.sh"
PGHA_STEP=status

((EUID == 0)) || pgha_die "run as root"
pgha_load_cluster_conf
mon=$(crm_mon -1 2>/dev/null) || { echo "CRITICAL: the cluster stack does not run on $(hostname)"; exit 2; }

located() { { crm_resource --locate -r "$1" 2>/dev/null || true; } | sed -n 's/.*is running on: \([^ ]*\)\( Promoted\| Master\)\{0,1\}.*/\1\2/p'; }

primary=$(pgha_node_with_status PRI || true)
primary_lsn=""
if [[ -n $primary ]]; then
    primary_lsn=$(pgha_identify "$(pgha_node_address "$primary")" | awk '{print $3}')
fi
instances=$(located "$(pgha_promotable_id)")
online=$(grep -E 'Online: \[' <<<"$mon" || true)

people=()
warnings=()
pending_restart=()
printf '%-10s %-9s %-10s %-8s %-12s %-16s %s\n' node role pacemaker timeline wal replication "lag (bytes)"
for entry in $PGHA_NODES; do
    node=${entry%%=*}
    status=$(pgha_pgsql_status "$node")
    data=$(crm_attribute -N "$node" -n pgsql-data-status -l forever -G -q 2>/dev/null || true)
    instance=$(grep -E "^$node( |$)" <<<"$instances" | head -n1 || true)
    case $instance in
        *" Promoted" | *" Master") pcmk=promoted ;;
        "") pcmk=stopped ;;
        *) pcmk=unpromoted ;;
    esac
    [[ $online == *" $node "* ]] || pcmk=offline
    tli="-" lsn="-" lag="-"
    if ident=$(pgha_identify "$(pgha_node_address "$node")") && [[ -n $ident ]]; then
        read -r _ tli lsn <<<"$ident"
        if [[ -n $primary_lsn && $node != "$primary" ]]; then lag=$(($(pgha_lsn_bytes "$primary_lsn") - $(pgha_lsn_bytes "$lsn"))); fi
        pending=$(pgha_pending_restart "$(pgha_replication_conn "$(pgha_node_address "$node")")" 2>/dev/null || true)
        [[ -z $pending ]] || pending_restart+=("$node ($pending)")
    fi
    printf '%-10s %-9s %-10s %-8s %-12s %-16s %s\n' "$node" "${status:--}" "$pcmk" "$tli" "$lsn" "${data:--}" "$lag"
    case $status in
        PRI | HS:sync | HS:async) ;;
        *) warnings+=("$node is ${status:-without a role} ($pcmk)") ;;
    esac
    # Set by the pgsql agent when it refuses to make the node a standby (cleared by its next good start).
    refusal=$(pgha_refusal "$node")
    if [[ -n $refusal ]]; then
        people+=("refused rejoin of $node: $refusal")
    fi
done

vip_master=$(located vip-master)
vip_slave=$(located vip-slave)
printf '\nvip-master %s: %s\nvip-slave  %s: %s\n' "$PGHA_VIP_MASTER" "${vip_master:-stopped}" "$PGHA_VIP_SLAVE" "${vip_slave:-stopped}"
# Settings written but not in effect until the server restarts (informational: the cluster runs as before).
if ((${#pending_restart[@]} > 0)); then
    printf '\nsettings waiting for a restart:'
    printf ' %s' "${pending_restart[@]}"
    printf '\n'
fi

failed=$(sed -n '/^Failed Resource Actions:/,/^$/p' <<<"$mon" | sed -n 's/^ *\* //p')
failed_fencing=$(sed -n '/^Failed Fencing Actions:/,/^$/p' <<<"$mon" | sed -n 's/^ *\* //p')
if [[ -n $failed || -n $failed_fencing ]]; then
    printf '\nfailed actions:\n'
    while IFS= read -r line; do [[ -z $line ]] || printf '  %s\n' "$line"; done <<<"$failed"$'\n'"$failed_fencing"
fi

[[ -n $primary ]] || people+=("no node is the primary")
[[ -z $primary || $vip_master == "$primary" ]] || people+=("vip-master runs on '${vip_master:-nowhere}', not on the primary $primary")
[[ -z $failed_fencing ]] || people+=("fencing failed (see above)")
while IFS= read -r line; do
    [[ -n $line ]] || continue
    case $line in
        # Shown in full from the node attribute; the failed action only where that is missing.
        *"refused rejoin: "*) [[ " ${people[*]-} " == *"refused rejoin of "* ]] || people+=("$line") ;;
        *) warnings+=("failed action (expires by itself): $line") ;;
    esac
done <<<"$failed"
# The age of an epoch time, e.g. "3 h 12 min".
age_text() {
    local seconds=$(($(date +%s) - $1))
    if ((seconds >= 86400)); then printf '%d d %d h' $((seconds / 86400)) $((seconds % 86400 / 3600));
    elif ((seconds >= 3600)); then printf '%d h %d min' $((seconds / 3600)) $((seconds % 3600 / 60));
    else printf '%d min' $((seconds / 60)); fi
}

pgbackrest_json() { timeout 60 runuser -u postgres -- pgbackrest --stanza="$PGHA_STANZA" --output=json "$@"; }

# The first hole in the repository's WAL archive from segment START on: "SEGMENT, archived TIME", the segment
# before the hole ("" when there is none). Each timeline is contiguous from its first segment on, up to LAST,
# the segment the primary reported archived last (read before the listing): pgBackRest reports a segment it
# dropped as archived, so a hole at the end of the archive shows only against it.
archive_gap() {
    local start=$1 id=$2 last=$3 listing
    listing=$(pgbackrest_json repo-ls --recurse "archive/$PGHA_STANZA/$id") || return 0
    {
        grep -oE '"[0-9A-F]{16}/[0-9A-F]{24}-[0-9a-f]+[^"]*":\{[^}]*\}' <<<"$listing" |
            sed -E 's@^"[0-9A-F]{16}/([0-9A-F]{24})-[^"]*":\{.*"time":([0-9]+).*@\1 \2@'
        [[ ! $last =~ ^[0-9A-F]{24}$ || $listing == *"/$last-"* ]] || printf '%s 0\n' "$last"
    } |
        awk -v start="$start" '
            function hex(s, i, n) { for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789ABCDEF", substr(s, i, 1)) - 1; return n }
            function segno(name) { return hex(substr(name, 9, 8)) * 256 + hex(substr(name, 17, 8)) }
            { tli = substr($1, 1, 8); n = segno($1); if (tli < substr(start, 1, 8) || (tli == substr(start, 1, 8) && n < segno(start))) next
              print tli, n, $1, $2 }' |
        sort -k1,1 -k2,2n |
        awk '$1 == tli && $2 > last + 1 { print name, time; exit } { tli = $1; last = $2; name = $3; time = $4 }' |
        while read -r name time; do printf '%s, archived %s' "$name" "$(date -d "@$time" '+%F %T %Z')"; done
}

# Backups: the newest backup and restore drill against their schedules, and the WAL archive.
report_backups() {
    local info code newest stop type start id drill archiver="" last_archived failing_since failing ready gap
    printf '\nbackups (pgBackRest stanza %s on %s):\n' "$PGHA_STANZA" "$PGHA_BACKUP_HOST"
    # Archiving on the primary, read first (archive_gap compares the repository with it).
    [[ -z $primary ]] ||
        archiver=$(pgha_pg psql -X -At -F '|' -c "select coalesce(last_archived_wal, ''), coalesce(last_failed_time::text, ''), coalesce(last_failed_time > coalesce(last_archived_time, '-infinity'), false) from pg_stat_archiver" "$(pgha_replication_conn "$(pgha_node_address "$primary")")" 2>/dev/null || true)
    IFS='|' read -r last_archived failing_since failing <<<"$archiver"
    # pgBackRest reports an unreachable repository in the stanza's status (code 99), with exit code 0.
    info=$(pgbackrest_json info 2>&1) || info+='"status":{"code":99,"message":"pgbackrest info failed"}'
    code=$(grep -oE '"status":\{"code":[0-9]+' <<<"$info" | tail -n1 | grep -oE '[0-9]+$' || true)
    if [[ $code != 0 && $code != 2 ]]; then
        printf '  repository: does not answer\n'
        warnings+=("the backup repository on $PGHA_BACKUP_HOST does not answer: $(grep -oE '"message":"[^"]*"' <<<"$info" | head -n1 | cut -d'"' -f4)")
    else
        newest=$(grep -o '"label":"[^"]*"' <<<"$info" | tail -n1 | cut -d'"' -f4)
        if [[ -z $newest ]]; then
            printf '  newest backup: none\n'
            warnings+=("the repository holds no backup")
        else
            stop=$(grep -oE '"timestamp":\{"start":[0-9]+,"stop":[0-9]+' <<<"$info" | tail -n1 | sed 's/.*"stop"://')
            type=$(grep -oE '"type":"(full|diff|incr)"' <<<"$info" | tail -n1 | cut -d'"' -f4)
            printf '  newest backup: %s (%s), finished %s ago\n' "$newest" "$type" "$(age_text "$stop")"
            (($(date +%s) - stop <= PGHA_BACKUP_OVERDUE_SECONDS)) ||
                warnings+=("the newest backup ($newest) is $(age_text "$stop") old: its schedule allows $((PGHA_BACKUP_OVERDUE_SECONDS / 3600)) h")
            start=$(grep -oE '"archive":\{"start":"[0-9A-F]{24}"' <<<"$info" | tail -n1 | grep -oE '[0-9A-F]{24}')
            id=$(grep -oE '"id":"[0-9]+-[0-9]+"' <<<"$info" | tail -n1 | cut -d'"' -f4)
            gap=$(archive_gap "$start" "$id" "$last_archived")
            if [[ -n $gap ]]; then
                printf '  WAL archive: GAP after %s\n' "$gap"
                people+=("the WAL archive has a gap after $gap: point-in-time recovery from the newest backup stops there; take a backup (pgha-backup full on $PGHA_BACKUP_HOST) to recover past it")
            fi
        fi
    fi
    # The newest restore drill, from the table the drills write through the primary (readable on every node).
    drill=$(pgha_pg psql -X -At -F '|' -p "$PGHA_PG_PORT" -d postgres -c "select extract(epoch from finished_at)::bigint, ok, coalesce(restore_seconds::text, '-'), coalesce(rpo_seconds::text, '-'), detail from pgha.restore_drills where finished_at is not null order by id desc limit 1" 2>/dev/null || true)
    if [[ -z $drill ]]; then
        printf '  restore drill: none yet\n'
        warnings+=("no restore drill has run (pgha-restore-test on $PGHA_BACKUP_HOST)")
    else
        IFS='|' read -r finished ok rto rpo detail <<<"$drill"
        printf '  restore drill: %s %s ago (restore %s s, newest transaction %s s old)\n' "$([[ $ok == t ]] && echo passed || echo FAILED)" "$(age_text "$finished")" "$rto" "$rpo"
        [[ $ok == t ]] || warnings+=("the last restore drill failed: $detail")
        (($(date +%s) - finished <= PGHA_RESTORE_TEST_OVERDUE_SECONDS)) ||
            warnings+=("the last restore drill ran $(age_text "$finished") ago: its schedule allows $((PGHA_RESTORE_TEST_OVERDUE_SECONDS / 3600)) h")
    fi
    # Archiving on the primary: failing now, and what waits for the repository.
    [[ -n $primary ]] || return 0
    if [[ $failing == t ]]; then
        ready=""
        [[ $primary != "$(crm_node -n)" ]] || ready=" ($(find "$PGHA_PGDATA/pg_wal/archive_status" -name '*.ready' | wc -l) segments wait on $primary)"
        printf '  WAL archiving: FAILING since %s%s\n' "$failing_since" "$ready"
        warnings+=("WAL archiving from $primary to $PGHA_BACKUP_HOST fails since $failing_since$ready; past pgha:archivePushQueueMaxMb the oldest waiting WAL is dropped and the archive gets a gap")
    else
        printf '  WAL archiving: ok\n'
    fi
}
[[ -z $PGHA_STANZA ]] || report_backups

! pgha_maintenance_mode_on ||
    warnings+=("maintenance mode is on: Pacemaker leaves every resource alone and answers no failure (pgha-maintenance off)")
sync=$(pgha_node_with_status HS:sync || true)
[[ -n $sync ]] || warnings+=("no sync standby")
[[ -z $sync || $vip_slave == "$sync" ]] || warnings+=("vip-slave runs on '${vip_slave:-nowhere}', not on the sync standby $sync")

if ((${#people[@]} > 0)); then
    printf '\nCRITICAL: needs a person:\n'
    printf '  - %s\n' "${people[@]}" "${warnings[@]}"
    exit 2
fi
if ((${#warnings[@]} > 0)); then
    printf '\nWARNING: degraded, recovering by itself:\n'
    printf '  - %s\n' "${warnings[@]}"
    exit 1
fi
printf '\nOK: primary %s, sync standby %s\n' "$primary" "$sync"
