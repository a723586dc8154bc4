#!/usr/bin/env bash
# Sets the hacluster password (read from standard input, never from argv, the environment or a log) when
# it differs from the current one, then enables and starts pcsd.
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"

password=$(pgha_read_secret)
id hacluster >/dev/null 2>&1 || pgha_die "user hacluster missing (is pcs installed?)"

# Compare against the stored hash with crypt(3) so an unchanged password is not rewritten. Hash and
# password go to perl on stdin, out of every process's argv.
current_hash=$(getent shadow hacluster | cut -d: -f2)
if [[ $current_hash != \$* ]] ||
    ! printf '%s\n%s' "$current_hash" "$password" |
    perl -e 'chomp(my $h = <STDIN>); my $p = <STDIN>; exit(crypt($p, $h) eq $h ? 0 : 1)'; then
    printf 'hacluster:%s\n' "$password" | chpasswd
    pgha_changed "hacluster password"
fi
unset password

# Debian's corosync package ships a single-node cluster "debian" (node1 at 127.0.0.1) and starts it; while
# that file is there pcs authenticates towards node1 and `pcs cluster setup` fails. Remove it (and stop
# what it started) only while it is the unmodified package default.
conf=/etc/corosync/corosync.conf
if [[ -f $conf ]] && command -v dpkg-query >/dev/null; then
    default_md5=$(dpkg-query -W -f='${Conffiles}\n' corosync 2>/dev/null | awk -v f="$conf" '$1 == f {print $2}')
    if [[ -n $default_md5 && $(md5sum <"$conf" | cut -d' ' -f1) == "$default_md5" ]]; then
        pcs cluster destroy --force >/dev/null
        pgha_changed "removed the distribution's default single-node cluster"
    fi
fi

if ! systemctl is-enabled --quiet pcsd 2>/dev/null; then
    systemctl enable pcsd
    pgha_changed "enabled pcsd"
fi
if ! systemctl is-active --quiet pcsd; then
    systemctl start pcsd
    pgha_changed "started pcsd"
fi
pgha_wait_for 60 bash -c 'exec 3<>/dev/tcp/127.0.0.1/2224' 2>/dev/null || pgha_die "pcsd does not listen on 2224"

pgha_summary
