#!/usr/bin/env bash
# Moves the WAL of discarded timelines out of the repository's archive (kept, never deleted), on the backup host.
#   pgha-archive-set-aside FIRST LAST     timelines FIRST..LAST (decimal)
# pgha-rejoin-node --discard-newer-data runs it (over pgBackRest's SSH trust, as postgres) before it rewinds a node
# that was promoted beside the primary: that node archived its timeline's history file and segments while it
# was a primary. Left there, a standby's recovery (recovery_target_timeline 'latest', WAL from the repository)
# would choose that timeline and never start, and the cluster's next promotion would make a timeline of the
# same number whose segments the archive refuses. They go to REPOSITORY/pgha-discarded/STANZA/TIME/.
# Refuses while a backup in the repository starts or stops on one of these timelines: it would lose its WAL.
set -euo pipefail
if ((EUID == 0)); then
    # The repository belongs to postgres.
    exec runuser -u postgres -- "$0" "$@"
fi
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"
# shellcheck source=backuplib.sh
[[ $(type -t pgha_pgbackrest) == function ]] || . "${BASH_SOURCE[0]%/*}/backuplib.sh"
PGHA_STEP="archive-set-aside"

first=${1:?usage: pgha-archive-set-aside FIRST_TIMELINE LAST_TIMELINE}
last=${2:?usage: pgha-archive-set-aside FIRST_TIMELINE LAST_TIMELINE}
[[ $first =~ ^[1-9][0-9]*$ && $last =~ ^[1-9][0-9]*$ ]] || pgha_die "timelines are decimal numbers, got '$first' '$last'"
pgha_load_backup_conf

# The archive segments at which the repository's backups start and stop (24 hex digits, timeline first).
info=$(pgbackrest --stanza="$PGHA_STANZA" info --output=json) || pgha_die "pgbackrest info failed: the repository's backups are unknown, nothing was moved"
backup_segments=$(grep -o '"st\(art\|op\)":"[0-9A-F]\{24\}"' <<<"$info" | cut -d'"' -f4 || true)
for segment in $backup_segments; do
    tli=$((16#${segment:0:8}))
    ((tli < first || tli > last)) ||
        pgha_die "a backup in the repository starts or stops on timeline $tli (segment $segment), which is to be discarded: its WAL would be lost. Expire that backup first (pgbackrest info shows its label; pgbackrest --stanza=$PGHA_STANZA expire --set=LABEL) if its data is to be discarded too"
done

aside=$PGHA_REPO_PATH/pgha-discarded/$PGHA_STANZA/$(date +%Y%m%d%H%M%S)
for archive in "$PGHA_REPO_PATH/archive/$PGHA_STANZA"/*/; do
    archive=${archive%/}
    for ((tli = first; tli <= last; tli++)); do
        hex=$(printf '%08X' "$tli")
        # The history file, and the directories of the timeline's segments (named by timeline and log number).
        for f in "$archive/$hex.history" "$archive/$hex"[0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F]; do
            [[ -e $f ]] || continue
            mkdir -p "$aside/${archive##*/}"
            mv "$f" "$aside/${archive##*/}/"
            pgha_changed "moved ${f#"$PGHA_REPO_PATH"/} to ${aside#"$PGHA_REPO_PATH"/}/${archive##*/}/"
        done
    done
done
pgha_summary
