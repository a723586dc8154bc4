#!/usr/bin/env bash
# Prepares a node for the cluster: hostname, /etc/hosts entries for every node and both VIPs, firewall,
# SELinux, package repositories (EL: the configured CentOS vault/mirror) and the cluster packages.
#
# Inputs (set by the program in front of this script):
#   PGHA_HOSTNAME        this node's name
#   PGHA_HOSTS_BLOCK     /etc/hosts lines for all nodes and VIPs
#   PGHA_FIREWALL        true: firewalld on with PGHA_FIREWALL_PORTS open; false: firewalld stopped and disabled
#   PGHA_FIREWALL_PORTS  space-separated port/proto list
#   PGHA_SELINUX         enforcing | permissive | disabled (EL only)
#   PGHA_YUM_BASEURL     CentOS 7.9 repository base URL (EL only)
#   PGHA_EPEL_BASEURL    EPEL 7 base URL (EL only)
#   PGHA_EL_PACKAGES, PGHA_DEBIAN_PACKAGES   packages to install, space-separated
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"

family=$(pgha_os_family)

if [[ $(hostname) != "$PGHA_HOSTNAME" ]]; then
    if command -v hostnamectl >/dev/null && hostnamectl status >/dev/null 2>&1; then
        hostnamectl set-hostname "$PGHA_HOSTNAME"
    else
        hostname "$PGHA_HOSTNAME"
        echo "$PGHA_HOSTNAME" >/etc/hostname
    fi
    pgha_changed "hostname $PGHA_HOSTNAME"
fi

# Other lines for these names (e.g. 127.0.1.1 <hostname> from the installer) would make corosync bind to
# loopback: drop them, outside our block.
while read -r name; do
    if awk -v n="$name" '/^# BEGIN pgha hosts$/{s=1} /^# END pgha hosts$/{s=0;next} !s && $1 !~ /^#/ {for (i = 2; i <= NF; i++) if ($i == n) f=1} END{exit !f}' /etc/hosts; then
        sed -i -E "/^# BEGIN pgha hosts$/,/^# END pgha hosts$/!{/^[^#]*[[:space:]]${name//./\\.}([[:space:]]|$)/d}" /etc/hosts
        pgha_changed "removed other /etc/hosts entries for $name"
    fi
done < <(awk '{for (i = 2; i <= NF; i++) print $i}' <<<"$PGHA_HOSTS_BLOCK" | sort -u)
pgha_put_block /etc/hosts hosts <<<"$PGHA_HOSTS_BLOCK"

if [[ $family == el ]]; then
    # CentOS 7 is end of life: point yum at the configured vault or mirror instead of the dead mirrorlist.
    pgha_put_file /etc/yum.repos.d/pgha-centos.repo 0644 root:root <<EOF
[pgha-base]
name=CentOS 7.9 base (pgha)
baseurl=$PGHA_YUM_BASEURL/os/\$basearch/
gpgcheck=1
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-CentOS-7
[pgha-updates]
name=CentOS 7.9 updates (pgha)
baseurl=$PGHA_YUM_BASEURL/updates/\$basearch/
gpgcheck=1
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-CentOS-7
[pgha-extras]
name=CentOS 7.9 extras (pgha)
baseurl=$PGHA_YUM_BASEURL/extras/\$basearch/
gpgcheck=1
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-CentOS-7
[pgha-epel]
name=EPEL 7 (pgha)
baseurl=$PGHA_EPEL_BASEURL/\$basearch/
gpgcheck=0
EOF
    for repo in /etc/yum.repos.d/CentOS-*.repo; do
        [[ -e $repo ]] || continue
        mv "$repo" "$repo.pgha-disabled"
        pgha_changed "disabled $repo (unreachable mirrorlist)"
    done
    # shellcheck disable=SC2086 # package lists are word lists
    pgha_install_packages el $PGHA_EL_PACKAGES
else
    # shellcheck disable=SC2086
    pgha_install_packages debian $PGHA_DEBIAN_PACKAGES
fi

if command -v firewall-cmd >/dev/null; then
    if [[ $PGHA_FIREWALL == true ]]; then
        if ! systemctl is-active --quiet firewalld; then
            systemctl enable --now firewalld
            pgha_changed "started firewalld"
        fi
        wanted=$(tr ' ' '\n' <<<"$PGHA_FIREWALL_PORTS" | sort)
        current=$(firewall-cmd --permanent --list-ports | tr ' ' '\n' | sed '/^$/d' | sort)
        added=0
        for port in $(comm -23 <(echo "$wanted") <(echo "$current")); do
            firewall-cmd -q --permanent --add-port="$port"
            pgha_changed "opened $port"
            added=1
        done
        ((added == 0)) || firewall-cmd -q --reload
    elif systemctl is-active --quiet firewalld || systemctl is-enabled --quiet firewalld 2>/dev/null; then
        systemctl disable --now firewalld
        pgha_changed "stopped and disabled firewalld"
    fi
elif [[ $PGHA_FIREWALL == true ]]; then
    pgha_log "no firewalld on this host: leaving its firewall as it is; open ${PGHA_FIREWALL_PORTS} between the nodes"
fi

if [[ $family == el ]] && command -v getenforce >/dev/null; then
    if ! grep -qx "SELINUX=$PGHA_SELINUX" /etc/selinux/config; then
        sed -i -E "s/^SELINUX=.*/SELINUX=$PGHA_SELINUX/" /etc/selinux/config
        pgha_changed "SELinux $PGHA_SELINUX in /etc/selinux/config"
    fi
    current=$(getenforce | tr '[:upper:]' '[:lower:]')
    if [[ $current != disabled && $PGHA_SELINUX != disabled && $current != "$PGHA_SELINUX" ]]; then
        setenforce "$([[ $PGHA_SELINUX == enforcing ]] && echo 1 || echo 0)"
        pgha_changed "SELinux now $PGHA_SELINUX"
    elif [[ $current != "$PGHA_SELINUX" ]]; then
        pgha_log "SELinux is $current; $PGHA_SELINUX takes effect at the next reboot"
    fi
fi

pgha_summary
