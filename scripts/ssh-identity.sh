#!/usr/bin/env bash
# Gives postgres an SSH key of its own for pgBackRest (made here; the private key never leaves this machine)
# and prints its public key and this machine's host key, which the program hands to the machines that are
# to trust it (the backup host trusts the nodes, each node trusts the backup host).
# Output: the lines "user-key <type> <key>" and "host-key <type> <key>".
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"

id postgres >/dev/null 2>&1 || pgha_die "no postgres user on this machine (the postgresql step makes it)"
home=$(getent passwd postgres | cut -d: -f6)
pgha_dir "$home/.ssh" 0700 "postgres:$(id -gn postgres)"
key=$home/.ssh/id_ed25519
if [[ ! -s $key || ! -s $key.pub ]]; then
    rm -f "$key" "$key.pub"
    pgha_as_postgres ssh-keygen -q -t ed25519 -N '' -C "postgres@$(hostname) (pgha backups)" -f "$key"
    pgha_changed "made postgres's SSH key"
fi
host_key=/etc/ssh/ssh_host_ed25519_key.pub
[[ -r $host_key ]] || pgha_die "no $host_key: the machines trust each other's ed25519 host keys"
printf 'user-key %s\n' "$(cut -d' ' -f1,2 "$key.pub")"
printf 'host-key %s\n' "$(cut -d' ' -f1,2 "$host_key")"
pgha_summary
