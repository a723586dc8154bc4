#!/usr/bin/env bash
# pgha lab: three Debian 12 cluster nodes (pglab1..3) and a backup host (pgbackup) on this machine, each a systemd-nspawn container
# booting systemd from its own overlay "disk" over a shared node image, on a lab bridge, with an IPMI BMC
# per node and a caching package proxy. Topology: lab/lab.env. See lab/README.md.
#
#   lab.sh up                  build the image if needed, start proxy, tarball server, nodes and BMCs (idempotent)
#   lab.sh down                stop and remove everything (safe to run twice); fails if anything is left
#   lab.sh status              nodes, BMCs, proxy
#   lab.sh exec NODE CMD...    run CMD inside NODE (all its namespaces); no CMD = login shell
#   lab.sh ssh NODE [CMD...]   ssh root@NODE with the lab key
#   lab.sh poweroff NODE       power cut: kill -9 of the node's init, wait until every process is gone
#   lab.sh poweron NODE        boot the node (same disk), wait for sshd
#   lab.sh partition NODE      cut the node's link (its processes keep running); lab.sh heal NODE restores it
#   lab.sh state               the lab's state as JSON
#   lab.sh leftovers           list anything of the lab still on this machine (exit 1 if any)
# For the BMCs: power-status NODE (exit 0 = on), power-cut NODE (kill -9, no wait), poweron NODE --no-wait.
set -euo pipefail

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lab.env
. "$LAB_SRC/lab.env"

DIR=${PGHA_LAB_DIR:-$PGHA_LAB_DIR_DEFAULT}
DIR=${DIR%/}
CACHE=${PGHA_LAB_CACHE:-${HOME:-/root}/.cache/pgha}
read -r -a NODES <<<"$PGHA_LAB_NODES"
# Every machine: the cluster nodes (each with a BMC) and the backup host (none).
MACHINES=("${NODES[@]}" "$PGHA_LAB_BACKUP_HOST")
BR=$PGHA_LAB_BRIDGE
PREFIX=$PGHA_LAB_PREFIX
MARKER=.pgha-lab-dir
CGROUP_ROOTS=(/sys/fs/cgroup/unified /sys/fs/cgroup/systemd)
CGROUP_NAME=pgha-lab
PROXY_URL="http://$PGHA_LAB_BRIDGE_ADDR:$PGHA_LAB_APT_PROXY_PORT"

info() { printf 'lab: %s\n' "$*" >&2; }
die() {
    printf 'lab: error: %s\n' "$*" >&2
    exit 1
}

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'; }

require_root() {
    ((EUID == 0)) || die "'lab.sh $1' must run as root (containers, a bridge, mounts and cgroups). Try: sudo bash lab/lab.sh $1"
}

lock() { # serialize commands that change the lab (fd 9 is closed for everything the lab starts)
    exec 9<"$LAB_SRC/lab.env"
    flock -w 900 9 || die "another lab.sh command holds the lock"
}

# ------------------------------------------------------------------ naming
check_node_arg() {
    local n
    [[ -n ${1:-} ]] || die "missing NODE (one of: ${MACHINES[*]})"
    for n in "${MACHINES[@]}"; do [[ $n == "$1" ]] && return 0; done
    die "unknown node '$1' (one of: ${MACHINES[*]})"
}
node_ip() { local v="PGHA_LAB_IP_$1"; printf '%s' "${!v}"; }
bmc_ip() { local v="PGHA_LAB_BMC_$1"; printf '%s' "${!v}"; }
node_dir() { printf '%s/nodes/%s' "$DIR" "$1"; }
node_veth() { printf 'vb-%s' "$1"; } # systemd-nspawn's name for the host side of --network-bridge
cgroup_dirs() { local r; for r in "${CGROUP_ROOTS[@]}"; do printf '%s/%s/%s\n' "$r" "$CGROUP_NAME" "$1"; done; }

# ------------------------------------------------------------------ small helpers
# Runs "$@" detached: own session, stdin /dev/null, output to LOG, no inherited fd above 2, pid in PIDFILE,
# after joining the cgroup directories named in LAB_CGROUPS (newline separated).
launch_detached() { # LOG PIDFILE CMD...
    local log=$1 pidfile=$2 i
    shift 2
    rm -f "$pidfile"
    # shellcheck disable=SC2016 # expanded by the inner bash
    LAB_CGROUPS=${LAB_CGROUPS:-} setsid bash -c '
        for fd in /proc/$$/fd/*; do fd=${fd##*/}; if ((fd > 2)); then eval "exec $fd>&-"; fi; done
        while IFS= read -r cg; do [[ -z $cg ]] || echo $$ >"$cg/cgroup.procs"; done <<<"$LAB_CGROUPS"
        echo $$ >"$0"
        exec "$@"' "$pidfile" "$@" </dev/null >>"$log" 2>&1 &
    for ((i = 0; i < 50; i++)); do
        [[ -s $pidfile ]] && return 0
        sleep 0.1
    done
    die "could not start $1 (see $log)"
}

pid_alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_pidfile() { # PIDFILE: SIGTERM, wait, SIGKILL
    local pid i
    pid_alive "$1" || { rm -f "$1"; return 0; }
    pid=$(cat "$1")
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$1"
}

# shellcheck disable=SC2016 # expanded by the inner bash
tcp_open() { timeout 1 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null; }

wait_listening() { # PORT WHAT LOG: waits up to 10 s for a daemon just started on the bridge address
    local i
    for ((i = 0; i < 100; i++)); do
        tcp_open "$PGHA_LAB_BRIDGE_ADDR" "$1" && return 0
        sleep 0.1
    done
    die "$2 did not start (see $3)"
}

write_if_changed() { # FILE MODE < content
    local f=$1 mode=$2 tmp
    tmp=$(mktemp "$f.XXXXXX")
    cat >"$tmp"
    if [[ -f $f ]] && cmp -s "$tmp" "$f"; then
        rm -f "$tmp"
    else
        chmod "$mode" "$tmp"
        mv -f "$tmp" "$f"
    fi
}

random_password() { # LENGTH (letters and digits; no early-closing pipe, which pipefail would report)
    local chars
    chars=$(head -c 4096 /dev/urandom | tr -dc 'A-Za-z0-9')
    printf '%s' "${chars:0:$1}"
}

# ------------------------------------------------------------------ host packages
ensure_host_packages() {
    local p missing=()
    for p in $PGHA_LAB_HOST_PACKAGES; do
        [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true) == installed ]] || missing+=("$p")
    done
    ((${#missing[@]} > 0)) || return 0
    command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get: the lab needs Debian 12"
    info "installing ${missing[*]}"
    # The packages' maintainer scripts must not start services on this machine (apt-cacher-ng would listen
    # on every address): the lab runs its own proxy on the bridge only.
    local policy=/usr/sbin/policy-rc.d own_policy=0 rc=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\n# pgha lab: no daemon starts during the lab package install\nexit 101\n' >"$policy"
        chmod 0755 "$policy"
        own_policy=1
    fi
    { DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"; } >&2 || rc=$?
    if ((own_policy)); then rm -f "$policy"; fi
    ((rc == 0)) || die "apt-get failed (exit $rc) installing ${missing[*]}"
}

# ------------------------------------------------------------------ the node image
# Built once with mmdebstrap and cached by its inputs; nodes mount it read-only as their overlay's lower layer.
image_key() {
    { printf '%s\n' "$PGHA_LAB_SUITE" "$PGHA_LAB_MIRROR" "$PGHA_LAB_IMAGE_PACKAGES"; declare -f build_image; } | sha256sum | cut -c1-16
}
image_dir() { printf '%s/lab-image/%s' "$CACHE" "$(image_key)"; }

# shellcheck disable=SC2016 # the hooks are expanded by mmdebstrap
build_image() { # ROOTFS
    local rootfs=$1 include
    include=$(tr ' ' ',' <<<"$PGHA_LAB_IMAGE_PACKAGES")
    # Hooks: networkd on; unique host keys and machine-id per node (made at first boot or by lab.sh);
    # no hostname or resolver of this machine; dpkg as in container images (no fsync per file, no
    # manuals or translations), which makes the nodes' package installs several times faster.
    mmdebstrap --mode=root --variant=minbase --include="$include" \
        --customize-hook='chroot "$1" systemctl enable systemd-networkd.service' \
        --customize-hook='rm -f "$1"/etc/ssh/ssh_host_*' \
        --customize-hook='mkdir -p "$1"/etc/systemd/system/ssh.service.d && printf "[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n" >"$1"/etc/systemd/system/ssh.service.d/host-keys.conf' \
        --customize-hook='echo localhost >"$1"/etc/hostname; rm -f "$1"/etc/resolv.conf; : >"$1"/etc/resolv.conf' \
        --customize-hook='rm -f "$1"/etc/machine-id "$1"/var/lib/dbus/machine-id; : >"$1"/etc/machine-id' \
        --customize-hook='printf "force-unsafe-io\npath-exclude=/usr/share/man/*\npath-exclude=/usr/share/doc/*\npath-include=/usr/share/doc/*/copyright\npath-exclude=/usr/share/locale/*\npath-include=/usr/share/locale/locale.alias\n" >"$1"/etc/dpkg/dpkg.cfg.d/pgha-lab' \
        "$PGHA_LAB_SUITE" "$rootfs" \
        "deb $PGHA_LAB_MIRROR $PGHA_LAB_SUITE main" \
        "deb $PGHA_LAB_MIRROR $PGHA_LAB_SUITE-updates main" \
        "deb ${PGHA_LAB_MIRROR%/debian}/debian-security $PGHA_LAB_SUITE-security main"
}

ensure_image() {
    local dir started tmp other
    dir=$(image_dir)
    [[ -x $dir/rootfs/usr/lib/systemd/systemd ]] && return 0
    mkdir -p "$CACHE/lab-image"
    tmp=$(mktemp -d "$CACHE/lab-image/.build.XXXXXX")
    started=$SECONDS
    info "building the node image (Debian $PGHA_LAB_SUITE with systemd and sshd; about 1 min; log: $CACHE/lab-image/build.log)"
    if ! build_image "$tmp/rootfs" >"$CACHE/lab-image/build.log" 2>&1; then
        rm -rf "$tmp"
        tail -n 20 "$CACHE/lab-image/build.log" >&2
        die "building the node image failed (log: $CACHE/lab-image/build.log)"
    fi
    rm -rf "$dir"
    mv "$tmp" "$dir"
    info "node image built in $((SECONDS - started)) s: $dir ($(du -sh "$dir" | cut -f1))"
    # Older images are no longer needed unless a node still runs on one.
    for other in "$CACHE"/lab-image/*/; do
        other=${other%/}
        [[ $other != "$dir" ]] || continue
        grep -qF "lowerdir=$other/rootfs" /proc/mounts || rm -rf "$other"
    done
}

# ------------------------------------------------------------------ lab dir and keys
ensure_dir() {
    if [[ -e $DIR && ! -e $DIR/$MARKER && -n $(ls -A "$DIR" 2>/dev/null) ]]; then
        die "$DIR exists, is not empty and is not a pgha lab dir (no $MARKER); set PGHA_LAB_DIR elsewhere"
    fi
    mkdir -p "$DIR/nodes" "$DIR/bin" "$DIR/bmc" "$DIR/proxy"
    chmod 0700 "$DIR"
    [[ -e $DIR/$MARKER ]] || printf 'pgha lab state dir; removed by lab.sh down\n' >"$DIR/$MARKER"
    if [[ ! -s $DIR/id_ed25519 ]]; then
        rm -f "$DIR/id_ed25519" "$DIR/id_ed25519.pub"
        ssh-keygen -q -t ed25519 -N '' -C "pgha-lab" -f "$DIR/id_ed25519"
    fi
    # IPMI 2.0 passwords have at most 20 bytes.
    if [[ ! -s $DIR/bmc/password ]]; then
        (umask 077 && random_password 20 >"$DIR/bmc/password")
    fi
    # What the BMCs run, copied so that a running lab does not depend on the checkout.
    local f
    for f in lab.sh lab.env bmc.py; do
        cmp -s "$LAB_SRC/$f" "$DIR/bin/$f" || install -m 0755 "$LAB_SRC/$f" "$DIR/bin/$f"
    done
}

# ------------------------------------------------------------------ network
ensure_bridge() {
    local other n a
    other=$(ip -o -4 addr show to "$PGHA_LAB_SUBNET" 2>/dev/null | awk -v br="$BR" '$2 != br {print $2}' | sort -u | tr '\n' ' ')
    [[ -z $other ]] || die "lab subnet $PGHA_LAB_SUBNET is already used on this machine by: $other"
    if ! ip link show dev "$BR" >/dev/null 2>&1; then
        ip link add "$BR" address "$PGHA_LAB_BRIDGE_MAC" type bridge
        info "created bridge $BR"
    fi
    if [[ -w /proc/sys/net/ipv6/conf/$BR/disable_ipv6 ]]; then echo 1 >"/proc/sys/net/ipv6/conf/$BR/disable_ipv6"; fi
    for a in "$PGHA_LAB_BRIDGE_ADDR/$PREFIX" $(for n in "${NODES[@]}"; do echo "$(bmc_ip "$n")/32"; done); do
        [[ $(ip -o -4 addr show dev "$BR") == *"inet $a "* ]] || ip addr add "$a" dev "$BR"
    done
    ip link set "$BR" up
    # Bridged frames traverse iptables when br_netfilter is loaded; a DROP forward policy (e.g. Docker's)
    # would cut the nodes off from each other.
    if [[ $(cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null || echo 0) == 1 ]] && command -v iptables >/dev/null; then
        iptables -C FORWARD -i "$BR" -o "$BR" -m comment --comment pgha-lab -j ACCEPT 2>/dev/null ||
            iptables -I FORWARD 1 -i "$BR" -o "$BR" -m comment --comment pgha-lab -j ACCEPT
    fi
}

remove_bridge() {
    if command -v iptables >/dev/null; then
        while iptables -C FORWARD -i "$BR" -o "$BR" -m comment --comment pgha-lab -j ACCEPT 2>/dev/null; do
            iptables -D FORWARD -i "$BR" -o "$BR" -m comment --comment pgha-lab -j ACCEPT || break
        done
    fi
    if ip link show dev "$BR" >/dev/null 2>&1; then ip link del "$BR"; fi
}

# ------------------------------------------------------------------ package proxy
ensure_proxy() {
    local d=$DIR/proxy
    pid_alive "$d/pid" && return 0
    mkdir -p "$d/conf" "$d/log" "$CACHE/apt-cacher-ng"
    cp -a /etc/apt-cacher-ng/. "$d/conf/"
    # An empty backends_debian falls back to backends_debian.default (ftp.debian.org): name the mirror.
    rm -f "$d"/conf/*.default
    printf '%s/\n' "$PGHA_LAB_MIRROR" >"$d/conf/backends_debian"
    launch_detached "$d/daemon.log" "$d/pid" apt-cacher-ng -c "$d/conf" ForeGround=1 \
        CacheDir="$CACHE/apt-cacher-ng" LogDir="$d/log" SocketPath="$d/socket" PidFile="$d/acng.pid" \
        BindAddress="$PGHA_LAB_BRIDGE_ADDR" Port="$PGHA_LAB_APT_PROXY_PORT"
    wait_listening "$PGHA_LAB_APT_PROXY_PORT" "the package proxy" "$d/daemon.log"
}

# ------------------------------------------------------------------ source tarballs
# FILE in the cache, from URL (or copied from a local path), verified against SHA256.
cache_verified() { # FILE URL-OR-PATH SHA256
    local file=$CACHE/sources/$1 from=$2 sha=$3
    mkdir -p "$CACHE/sources"
    if ! echo "$sha  $file" | sha256sum -c --status 2>/dev/null; then
        if [[ $from == http* ]]; then
            curl -fsSL --retry 3 -o "$file.part" "$from" || die "could not download $from"
        else
            [[ -f $from ]] || die "$from is missing: set PGHA_VENDOR_DIR to the directory holding the vendored sources"
            cp "$from" "$file.part"
        fi
        echo "$sha  $file.part" | sha256sum -c --status || { rm -f "$file.part"; die "$from does not have the sha256 $sha of lab.env"; }
        mv -f "$file.part" "$file"
    fi
}

# The tarballs of the lab-source stack, served read-only on the bridge address to the nodes.
ensure_sources() {
    local d=$DIR/sources vendor=${PGHA_VENDOR_DIR:-$LAB_SRC/../../shared/vendor}
    pid_alive "$d/pid" && return 0
    cache_verified "$PGHA_LAB_PG_SOURCE_FILE" "$PGHA_LAB_PG_SOURCE_URL" "$PGHA_LAB_PG_SOURCE_SHA256"
    cache_verified "$PGHA_LAB_RA_SOURCE_FILE" "$vendor/$PGHA_LAB_RA_SOURCE_FILE" "$PGHA_LAB_RA_SOURCE_SHA256"
    mkdir -p "$d/www"
    ln -sf "$CACHE/sources/$PGHA_LAB_PG_SOURCE_FILE" "$CACHE/sources/$PGHA_LAB_RA_SOURCE_FILE" "$d/www/"
    launch_detached "$d/server.log" "$d/pid" /usr/bin/python3 -m http.server --bind "$PGHA_LAB_BRIDGE_ADDR" \
        --directory "$d/www" "$PGHA_LAB_SOURCES_PORT"
    wait_listening "$PGHA_LAB_SOURCES_PORT" "the source tarball server" "$d/server.log"
}

# ------------------------------------------------------------------ BMCs
# Debian's python3 (its python3-pyghmi), whatever python3 comes first on PATH.
ensure_bmc() {
    local n=$1 pidfile=$DIR/bmc/$1.pid
    pid_alive "$pidfile" && return 0
    launch_detached "$DIR/bmc/$n.log" "$pidfile" /usr/bin/python3 "$DIR/bin/bmc.py" --node "$n" \
        --address "$(bmc_ip "$n")" --port "$PGHA_LAB_BMC_PORT" --user "$PGHA_LAB_BMC_USER" \
        --password-file "$DIR/bmc/password" --post-seconds "$PGHA_LAB_BMC_POST_SECONDS" --lab "$DIR/bin/lab.sh"
}

wait_bmc() {
    local n=$1 i
    for ((i = 0; i < 100; i++)); do
        pid_alive "$DIR/bmc/$n.pid" || break
        grep -q "listening on" "$DIR/bmc/$n.log" && return 0
        sleep 0.1
    done
    tail -n 20 "$DIR/bmc/$n.log" >&2
    die "the BMC of $n did not start (see $DIR/bmc/$n.log)"
}

# ------------------------------------------------------------------ nodes
node_merged() { printf '%s/merged' "$(node_dir "$1")"; }

# The node's disk: an overlay of the image with the node's own upper layer, set up like a fresh install
# at first use (hostname, machine-id, static address, proxy, host keys, root's authorized key).
mount_disk() {
    local n=$1 d m ip t
    d=$(node_dir "$n")
    m=$d/merged
    mkdir -p "$d/upper" "$d/work" "$m"
    mountpoint -q "$m" || mount -t overlay overlay -o "lowerdir=$(image_dir)/rootfs,upperdir=$d/upper,workdir=$d/work" "$m"
    [[ ! -e $d/.installed ]] || return 0
    ip=$(node_ip "$n")
    printf '%s\n' "$n" >"$m/etc/hostname"
    od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$m/etc/machine-id"
    echo >>"$m/etc/machine-id"
    : >"$m/etc/fstab"
    # As Debian's installer writes it (os-prep replaces the 127.0.1.1 line).
    printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n' "$n" >"$m/etc/hosts"
    printf '# no name server on the lab network; packages come through %s\n' "$PROXY_URL" >"$m/etc/resolv.conf"
    printf '[Match]\nName=host0\n\n[Network]\nAddress=%s/%s\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n' "$ip" "$PREFIX" >"$m/etc/systemd/network/10-host0.network"
    # No pipelining through the proxy (a request queued behind a failed one was seen to hang apt), and retries.
    printf 'Acquire::http::Proxy "%s";\nAcquire::http::Pipeline-Depth "0";\nAcquire::http::Timeout "30";\nAcquire::Retries "3";\n' "$PROXY_URL" >"$m/etc/apt/apt.conf.d/01proxy"
    for t in ed25519 ecdsa rsa; do
        ssh-keygen -q -t "$t" -N '' -C "root@$n" -f "$m/etc/ssh/ssh_host_${t}_key"
    done
    install -d -m 0700 "$m/root/.ssh"
    install -m 0600 "$DIR/id_ed25519.pub" "$m/root/.ssh/authorized_keys"
    touch "$d/.installed"
}

nspawn_pid() { [[ -s $(node_dir "$1")/nspawn.pid ]] && cat "$(node_dir "$1")/nspawn.pid"; }

# Every process of the node (its systemd-nspawn and the container), from its cgroups.
node_procs() {
    local c
    while IFS= read -r c; do
        [[ -d $c ]] && find "$c" -name cgroup.procs -exec cat {} + 2>/dev/null
    done < <(cgroup_dirs "$1") | sort -un
}
node_on() { [[ -n $(node_procs "$1") ]]; }

# PID (host namespace) of the node's init (systemd, the child of its systemd-nspawn).
init_pid() {
    local pid
    pid=$(nspawn_pid "$1") || return 1
    pgrep -P "$pid" | head -n1
}

remove_cgroups() {
    local c
    while IFS= read -r c; do
        [[ -d $c ]] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null
    done < <(cgroup_dirs "$1")
    return 0
}

wait_off() { # NODE SECONDS
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        node_on "$1" || { remove_cgroups "$1"; return 0; }
        sleep 0.1
    done
    return 1
}

boot_node() {
    local n=$1 d c
    d=$(node_dir "$n")
    node_on "$n" && return 0
    mount_disk "$n"
    remove_cgroups "$n"
    while IFS= read -r c; do mkdir -p "$c"; done < <(cgroup_dirs "$n")
    printf '\n==== boot %s ====\n' "$(date '+%F %T')" >>"$d/console.log"
    # --keep-unit: this machine's PID 1 is not systemd (no machined, no host bus), so the node runs in the
    # cgroups made here. No watchdog and a read-only /proc/sys: nothing in a node may act on this machine.
    LAB_CGROUPS=$(cgroup_dirs "$n") launch_detached "$d/console.log" "$d/nspawn.pid" \
        systemd-nspawn -D "$d/merged" -b --register=no --keep-unit --machine="$n" --hostname="$n" \
        --network-bridge="$BR" --console=read-only --kill-signal=SIGRTMIN+3 \
        --resolv-conf=off --timezone=off --link-journal=no
}

wait_ssh() {
    local n=$1 ip i
    ip=$(node_ip "$n")
    for ((i = 0; i < 600; i++)); do
        tcp_open "$ip" 22 && return 0
        node_on "$n" || { tail -n 20 "$(node_dir "$n")/console.log" >&2; die "$n stopped while booting (see $(node_dir "$n")/console.log)"; }
        sleep 0.1
    done
    tail -n 20 "$(node_dir "$n")/console.log" >&2
    die "$n: sshd not reachable on $ip:22 after 60 s"
}

power_cut() { # kill -9 of the node's init: the kernel kills every process of the container at once
    local pid
    pid=$(init_pid "$1") || true
    if [[ -n $pid ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
    # A node that died during boot may have only its systemd-nspawn left.
    if [[ -z $pid ]] && pid=$(nspawn_pid "$1"); then kill -KILL "$pid" 2>/dev/null || true; fi
}

shutdown_nodes() { # clean shutdown of every running node at once, power cut for those that hang
    local n pid
    for n in "${MACHINES[@]}"; do
        if pid=$(nspawn_pid "$n") && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; fi
    done
    for n in "${MACHINES[@]}"; do
        wait_off "$n" 30 && continue
        info "$n did not shut down within 30 s: cutting its power"
        power_cut "$n"
        wait_off "$n" 10 || info "warning: processes of $n still running: $(node_procs "$n" | xargs)"
    done
}

write_access_files() {
    local n t f
    for n in "${MACHINES[@]}"; do
        for t in ed25519 ecdsa rsa; do
            f=$(node_dir "$n")/upper/etc/ssh/ssh_host_${t}_key.pub
            [[ -r $f ]] && printf '%s,%s %s\n' "$n" "$(node_ip "$n")" "$(cut -d' ' -f1,2 "$f")"
        done
    done | write_if_changed "$DIR/known_hosts" 0644
    {
        printf '# pgha lab: ssh -F %s/ssh_config pglab1\n' "$DIR"
        for n in "${MACHINES[@]}"; do printf 'Host %s\n  HostName %s\n' "$n" "$(node_ip "$n")"; done
        printf 'Host %s %s.*\n' "${MACHINES[*]}" "${PGHA_LAB_BRIDGE_ADDR%.*}"
        printf '  User root\n  IdentityFile %s/id_ed25519\n  IdentitiesOnly yes\n' "$DIR"
        printf '  UserKnownHostsFile %s/known_hosts\n  StrictHostKeyChecking yes\n' "$DIR"
        printf '  BatchMode yes\n  ConnectTimeout 5\n  LogLevel ERROR\n'
    } | write_if_changed "$DIR/ssh_config" 0644
}

state_json() {
    local n first=1
    printf '{\n  "bridge": {"name": "%s", "address": "%s", "prefix": %s},\n' "$BR" "$PGHA_LAB_BRIDGE_ADDR" "$PREFIX"
    printf '  "subnet": "%s",\n  "vips": {"master": "%s", "slave": "%s"},\n' "$PGHA_LAB_SUBNET" "$PGHA_LAB_VIP_MASTER" "$PGHA_LAB_VIP_SLAVE"
    printf '  "dir": "%s",\n  "aptProxy": "%s",\n' "$DIR" "$PROXY_URL"
    printf '  "ssh": {"user": "root", "privateKey": "%s/id_ed25519", "knownHosts": "%s/known_hosts", "config": "%s/ssh_config"},\n' "$DIR" "$DIR" "$DIR"
    printf '  "bmc": {"port": %s, "user": "%s", "passwordFile": "%s/bmc/password"},\n' "$PGHA_LAB_BMC_PORT" "$PGHA_LAB_BMC_USER" "$DIR"
    printf '  "nodes": ['
    for n in "${NODES[@]}"; do
        ((first)) || printf ','
        first=0
        printf '\n    {"name": "%s", "ip": "%s", "bmc": "%s", "veth": "%s", "on": %s}' \
            "$n" "$(node_ip "$n")" "$(bmc_ip "$n")" "$(node_veth "$n")" "$(node_on "$n" && echo true || echo false)"
    done
    printf '\n  ],\n  "backupHost": {"name": "%s", "ip": "%s", "veth": "%s", "on": %s}\n}\n' "$PGHA_LAB_BACKUP_HOST" \
        "$(node_ip "$PGHA_LAB_BACKUP_HOST")" "$(node_veth "$PGHA_LAB_BACKUP_HOST")" "$(node_on "$PGHA_LAB_BACKUP_HOST" && echo true || echo false)"
}

# Anything of the lab still on this machine, one line each.
leftovers() {
    local n c p
    for n in "${MACHINES[@]}"; do
        while IFS= read -r c; do [[ ! -d $c ]] || echo "cgroup $c"; done < <(cgroup_dirs "$n")
        p=$(node_procs "$n" | xargs)
        [[ -z $p ]] || echo "processes of $n: $p"
        ! ip link show dev "$(node_veth "$n")" >/dev/null 2>&1 || echo "veth $(node_veth "$n")"
    done
    for c in "${CGROUP_ROOTS[@]}"; do [[ ! -d $c/$CGROUP_NAME ]] || echo "cgroup $c/$CGROUP_NAME"; done
    ! ip link show dev "$BR" >/dev/null 2>&1 || echo "bridge $BR"
    grep -F "$DIR/" /proc/mounts | awk '{print "mount " $2}' || true
    for p in /proc/[0-9]*; do
        [[ $p == "/proc/$$" || $p == "/proc/$BASHPID" ]] && continue
        c=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
        [[ $c != *"$DIR/"* && $c != *lab/bmc.py* ]] || echo "process ${p#/proc/}: $c"
    done
    [[ ! -e $DIR ]] || echo "directory $DIR"
}

# ------------------------------------------------------------------ commands
cmd_up() {
    require_root up
    local t0=$SECONDS n
    ensure_host_packages
    lock
    ensure_image
    ensure_dir
    ensure_bridge
    ensure_proxy
    ensure_sources
    for n in "${MACHINES[@]}"; do
        if node_on "$n"; then
            ip link set "$(node_veth "$n")" up 2>/dev/null || true
        else
            boot_node "$n"
        fi
    done
    for n in "${NODES[@]}"; do ensure_bmc "$n"; done
    for n in "${MACHINES[@]}"; do wait_ssh "$n"; done
    for n in "${NODES[@]}"; do wait_bmc "$n"; done
    write_access_files
    state_json | write_if_changed "$DIR/state.json" 0644
    info "lab up in $((SECONDS - t0)) s; ssh -F $DIR/ssh_config pglab1"
}

cmd_down() {
    require_root down
    lock
    local n left
    for n in "${NODES[@]}"; do stop_pidfile "$DIR/bmc/$n.pid"; done
    shutdown_nodes
    stop_pidfile "$DIR/proxy/pid"
    stop_pidfile "$DIR/sources/pid"
    for n in "${MACHINES[@]}"; do
        if mountpoint -q "$(node_merged "$n")" 2>/dev/null; then umount "$(node_merged "$n")"; fi
        remove_cgroups "$n"
    done
    for n in "${CGROUP_ROOTS[@]}"; do rmdir "$n/$CGROUP_NAME" 2>/dev/null || true; done
    remove_bridge
    if [[ -e $DIR/$MARKER ]]; then
        rm -rf --one-file-system "$DIR"
    elif [[ -e $DIR ]]; then
        info "warning: $DIR is not a pgha lab dir (no $MARKER): left in place"
    fi
    left=$(leftovers)
    [[ -z $left ]] || die "left behind after down:"$'\n'"$left"
    info "lab down"
}

cmd_status() {
    local n rc=0
    if ip link show dev "$BR" >/dev/null 2>&1; then info "bridge $BR up"; else info "bridge $BR absent"; fi
    if pid_alive "$DIR/proxy/pid"; then info "package proxy $PROXY_URL"; else info "package proxy stopped"; fi
    if pid_alive "$DIR/sources/pid"; then info "source tarballs http://$PGHA_LAB_BRIDGE_ADDR:$PGHA_LAB_SOURCES_PORT/"; else info "source tarball server stopped"; fi
    for n in "${MACHINES[@]}"; do
        if node_on "$n" && [[ $n == "$PGHA_LAB_BACKUP_HOST" ]]; then
            printf '%-8s %-14s on   init pid %-8s (backup host, no bmc)\n' "$n" "$(node_ip "$n")" "$(init_pid "$n" || true)"
        elif node_on "$n"; then
            printf '%-8s %-14s on   init pid %-8s bmc %s %s\n' "$n" "$(node_ip "$n")" "$(init_pid "$n" || true)" "$(bmc_ip "$n")" \
                "$(pid_alive "$DIR/bmc/$n.pid" && echo up || echo down)"
        else
            printf '%-8s %-14s off\n' "$n" "$(node_ip "$n")"
            rc=3
        fi
    done
    return "$rc"
}

cmd_exec() {
    require_root exec
    check_node_arg "${1:-}"
    local n=$1 pid
    shift
    pid=$(init_pid "$n") || true
    [[ -n $pid ]] || die "$n is off"
    (($# > 0)) || set -- bash -l
    exec nsenter -t "$pid" -a -- env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 TERM="${TERM:-dumb}" "$@" 9<&-
}

cmd_ssh() {
    check_node_arg "${1:-}"
    local n=$1
    shift
    [[ -r $DIR/ssh_config ]] || die "no $DIR/ssh_config: run lab.sh up first"
    (($# > 0)) || exec ssh -F "$DIR/ssh_config" -t "$n"
    # ssh flattens argv into one string: quote each word.
    exec ssh -F "$DIR/ssh_config" "$n" -- "$(printf '%q ' "$@")"
}

cmd_poweroff() {
    require_root poweroff
    check_node_arg "${1:-}"
    power_cut "$1"
    wait_off "$1" 30 || die "$1: processes still running after the power cut: $(node_procs "$1" | xargs)"
    info "$1 powered off"
}

cmd_poweron() {
    require_root poweron
    check_node_arg "${1:-}"
    local n=$1
    [[ -e $DIR/$MARKER ]] || die "the lab is not set up: run lab.sh up"
    lock
    if [[ -n $(init_pid "$n" || true) ]]; then
        info "$n is already on"
    else
        # A node whose power was just cut may still be going down.
        wait_off "$n" 30 || die "$n is still going down: $(node_procs "$n" | xargs)"
        boot_node "$n"
    fi
    [[ ${2:-} == --no-wait ]] || wait_ssh "$n"
}

cmd_partition() { # the node's link down: it and the others stay up but cannot reach each other
    require_root partition
    check_node_arg "${1:-}"
    ip link set "$(node_veth "$1")" down
}

cmd_heal() {
    require_root heal
    check_node_arg "${1:-}"
    local veth
    veth=$(node_veth "$1")
    # A node that is off (e.g. fenced, in its BMC's self-test) has no link: its boot brings a fresh one.
    if ip link show "$veth" >/dev/null 2>&1; then ip link set "$veth" up; fi
}

main() {
    local cmd=${1:-}
    (($# == 0)) || shift
    case $cmd in
        up) cmd_up "$@" ;;
        down) cmd_down "$@" ;;
        status) cmd_status "$@" ;;
        exec) cmd_exec "$@" ;;
        ssh) cmd_ssh "$@" ;;
        poweroff) cmd_poweroff "$@" ;;
        poweron) cmd_poweron "$@" ;;
        partition) cmd_partition "$@" ;;
        heal) cmd_heal "$@" ;;
        power-status) check_node_arg "${1:-}" && node_on "$1" ;;
        power-cut) check_node_arg "${1:-}" && power_cut "$1" ;;
        state) state_json ;;
        leftovers) ! leftovers | grep . ;;
        -h | --help | help) usage ;;
        *)
            usage >&2
            exit 2
            ;;
    esac
}

main "$@"
