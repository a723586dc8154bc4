#!/usr/bin/env bash
# pgBackRest on one machine (a database node or the backup host): its configuration, the directories it
# writes, and the SSH trust with its peers: postgres on each peer may log in here as postgres (their public
# keys, in a block of postgres's authorized_keys), and postgres here knows each peer's host key by address
# (no host is ever trusted on first use), with short timeouts to them and one shared connection per peer.
# pgBackRest itself comes with os-prep's packages.
# Inputs: PGHA_PGBACKREST_CONF_PATH, PGHA_PGBACKREST_CONF, PGHA_AUTHORIZED_KEYS and PGHA_KNOWN_HOSTS (lines),
#         PGHA_PEERS (the peers' addresses),
#         PGHA_DIRS (directories owned by postgres), PGHA_RESTORE_CONF_PATH and PGHA_RESTORE_CONF (the backup
#         host's configuration for restores into its scratch directories; empty elsewhere).
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"

command -v pgbackrest >/dev/null || pgha_die "pgbackrest is not installed (os-prep installs it)"
while read -r _ key _; do
    [[ -n $key ]] || pgha_die "a peer's SSH identity is empty (its ssh-identity step has not run): run pulumi up without --target"
done <<<"$PGHA_AUTHORIZED_KEYS"$'\n'"$PGHA_KNOWN_HOSTS"
group=$(id -gn postgres)
home=$(getent passwd postgres | cut -d: -f6)

pgha_dir "${PGHA_PGBACKREST_CONF_PATH%/*}" 0755 root:root
pgha_put_file "$PGHA_PGBACKREST_CONF_PATH" 0640 "root:$group" <<<"$PGHA_PGBACKREST_CONF"
[[ -z $PGHA_RESTORE_CONF_PATH ]] || pgha_put_file "$PGHA_RESTORE_CONF_PATH" 0640 "root:$group" <<<"$PGHA_RESTORE_CONF"
for dir in $PGHA_DIRS; do
    pgha_dir "$dir" 0750 "postgres:$group"
done

# Keys and host keys of the peers, in pgha's block of each file (other lines are left alone).
trust_file() {
    local file=$1
    [[ -e $file ]] || install -m 0600 -o postgres -g "$group" /dev/null "$file"
    pgha_put_block "$file" backups
    if [[ $(stat -c '%a %U' "$file") != "600 postgres" ]]; then
        chmod 0600 "$file"
        chown "postgres:$group" "$file"
        pgha_changed "fixed mode/owner of $file"
    fi
}
pgha_dir "$home/.ssh" 0700 "postgres:$group"
trust_file "$home/.ssh/authorized_keys" <<<"$PGHA_AUTHORIZED_KEYS"
trust_file "$home/.ssh/known_hosts" <<<"$PGHA_KNOWN_HOSTS"
# A peer that is off must fail pgBackRest's connection in seconds, not after TCP's minutes of retries (the
# primary's WAL waits meanwhile); a peer that dies mid-transfer is noticed within 15 s. One connection per
# peer, kept for 5 minutes, carries every pgBackRest call: a call took 0.43 s with a connection of its own and
# 0.14 s over the shared one, and a promotion makes three (archive-get of timeline history files), which made
# a switchover pause writes 5.8-6.8 s instead of 3.9-4.9 s.
trust_file "$home/.ssh/config" < <(for host in $PGHA_PEERS; do
    printf 'Host %s\n  ConnectTimeout 10\n  ServerAliveInterval 5\n  ServerAliveCountMax 3\n' "$host"
    printf '  ControlMaster auto\n  ControlPath ~/.ssh/pgha-%%C\n  ControlPersist 300\n'
done)
pgha_summary
