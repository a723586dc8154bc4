#!/bin/bash
# pgha lab: three Debian 12 "hosts" (pglab1..3) on this machine, each a set of
# namespaces (net on a lab bridge, mount, uts, ipc, pid) with its own /etc, /run,
# /var/log, /var/lib/{pacemaker,corosync,pcsd,pgsql,postgresql}, /root, /tmp, running
# sshd only. Topology: lab/lab.env. See lab/README.md.
#
#   lab.sh up                 create or repair the lab (idempotent)
#   lab.sh down               remove everything (safe to run twice)
#   lab.sh status             nodes, init pids, sshd
#   lab.sh exec NODE CMD...   run CMD inside NODE (nsenter); no CMD = login shell
#   lab.sh ssh NODE [CMD...]  ssh root@NODE with the lab key
#   lab.sh poweroff NODE      kill -KILL the node's init: every process in it dies
#   lab.sh poweron NODE       boot the node again (same data; only sshd starts)
#   lab.sh state              print the lab's state JSON
set -euo pipefail

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lab.env
. "$LAB_SRC/lab.env"

DIR=${PGHA_LAB_DIR:-$PGHA_LAB_DIR_DEFAULT}
DIR=${DIR%/}
read -r -a NODES <<<"$PGHA_LAB_NODES"
BR=$PGHA_LAB_BRIDGE
PREFIX=$PGHA_LAB_PREFIX
HOST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
MARKER=.pgha-lab-dir

info() { printf 'lab: %s\n' "$*"; }
warn() { printf 'lab: warning: %s\n' "$*" >&2; }
die() {
	printf 'lab: error: %s\n' "$*" >&2
	exit 1
}

usage() {
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

require_root() {
	if [[ $(id -u) -ne 0 ]]; then
		local hint="sudo bash lab/lab.sh $1"
		if [[ $1 == up || $1 == down ]]; then hint="sudo npm run lab:$1  (or: $hint)"; fi
		die "'lab.sh $1' must run as root: the lab is made of network namespaces, a bridge, veths and mounts. Try: $hint"
	fi
}

lock() { # serialize commands that change the lab (fd 9 is closed for everything spawned)
	exec 9<"$LAB_SRC/lab.sh"
	flock -w 900 9 || die "another lab.sh command holds the lock"
}

# ------------------------------------------------------------------ naming
is_node() {
	local n
	for n in "${NODES[@]}"; do [[ $n == "$1" ]] && return 0; done
	return 1
}
node_ip() {
	local v="PGHA_LAB_IP_$1"
	printf '%s' "${!v}"
}
mac_for() { # mac_for IP MIDDLE -> PREFIX:MIDDLE:<last octet hex>
	printf '%s:%s:%02x' "$PGHA_LAB_MAC_PREFIX" "$2" "${1##*.}"
}
node_dir() { printf '%s/nodes/%s' "$DIR" "$1"; }
node_ns() { printf '%s%s' "$PGHA_LAB_NETNS_PREFIX" "$1"; }
node_veth() { printf '%s%s' "$PGHA_LAB_VETH_PREFIX" "$1"; }
check_node_arg() {
	[[ -n ${1:-} ]] || die "missing NODE (one of: ${NODES[*]})"
	is_node "$1" || die "unknown node '$1' (one of: ${NODES[*]})"
}

# ------------------------------------------------------------------ small helpers
write_if_changed() { # write_if_changed FILE MODE < content (leaves FILE and its dir alone if equal)
	local f=$1 mode=$2 new old tmp
	new=$(
		cat
		echo x
	)
	if [[ -f $f ]]; then
		old=$(
			cat "$f"
			echo x
		)
		[[ $old != "$new" ]] || return 0
	fi
	tmp=$(mktemp "$f.XXXXXX")
	printf '%s' "${new%x}" >"$tmp"
	chmod "$mode" "$tmp"
	mv -f "$tmp" "$f"
}

copy_dir_tree() { # directories only, with owner and mode (no files: a fresh host has none)
	local src=$1 dst=$2 d
	mkdir -p "$dst"
	[[ -d $src ]] || return 0
	while IFS= read -r -d '' d; do
		mkdir -p "$dst/$d"
		chown --reference="$src/$d" "$dst/$d"
		chmod --reference="$src/$d" "$dst/$d"
	done < <(cd "$src" && find . -xdev -type d -print0)
}

close_fds() { # close every fd above 2 of the current (sub)shell
	local fd
	for fd in /proc/"$BASHPID"/fd/*; do
		fd=${fd##*/}
		if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
	done
	return 0
}

# shellcheck disable=SC2016 # expanded by the inner bash
tcp_open() { timeout 1 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null; }

ns_inode() { stat -L -c %i "$1" 2>/dev/null || true; }

# PID (host pid namespace) of the node's tini if the node is running, else empty.
init_pid() {
	local n=$1 pid ns_i
	[[ -r $(node_dir "$n")/init.pid ]] || return 0
	read -r pid <"$(node_dir "$n")/init.pid" || return 0
	[[ $pid =~ ^[0-9]+$ && -d /proc/$pid ]] || return 0
	[[ $(cat "/proc/$pid/comm" 2>/dev/null) == tini ]] || return 0
	ns_i=$(ns_inode "/run/netns/$(node_ns "$n")")
	[[ -n $ns_i && $(ns_inode "/proc/$pid/ns/net") == "$ns_i" ]] || return 0
	printf '%s' "$pid"
}

node_exec() { # node_exec NODE CMD... (clean environment, node's root and cwd)
	local n=$1 pid
	shift
	pid=$(init_pid "$n")
	[[ -n $pid ]] || die "node $n is not running (lab.sh up / lab.sh poweron $n)"
	# 9<&-: the lab lock must not leak into daemons started this way.
	nsenter -t "$pid" -m -u -i -n -p -r -w -- \
		env -i PATH="$HOST_PATH" HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 TERM="${TERM:-dumb}" "$@" 9<&-
}

# ------------------------------------------------------------------ packages
ensure_packages() {
	local p missing=()
	for p in $PGHA_LAB_PACKAGES; do
		if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true) != installed ]]; then
			missing+=("$p")
		fi
	done
	[[ ${#missing[@]} -gt 0 ]] || return 0
	command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get: this lab needs Debian 12"
	info "installing missing packages: ${missing[*]}"
	# Do not let the packages' maintainer scripts start pcsd/corosync/pacemaker/postgres/sshd
	# on the host itself: the cluster runs in the lab nodes.
	local policy=/usr/sbin/policy-rc.d own_policy=0
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\n# pgha lab: no daemon starts during lab package install\nexit 101\n' >"$policy"
		chmod 0755 "$policy"
		own_policy=1
	fi
	local rc=0
	{
		DEBIAN_FRONTEND=noninteractive apt-get update -q &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
	} || rc=$?
	if [[ $own_policy == 1 ]]; then rm -f "$policy"; fi
	[[ $rc == 0 ]] || die "apt-get failed (exit $rc) installing: ${missing[*]}"
}

check_tools() {
	local t
	for t in ip nsenter unshare tini sshd ssh ssh-keygen flock setsid pgrep ss; do
		command -v "$t" >/dev/null || die "'$t' not found (packages: $PGHA_LAB_PACKAGES)"
	done
	grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || true
	grep -qw overlay /proc/filesystems || die "the kernel has no overlay filesystem (needed for per-node /etc)"
}

# ------------------------------------------------------------------ lab dir, key, binaries
ensure_dir() {
	if [[ -e $DIR && ! -e $DIR/$MARKER ]]; then
		if [[ -n $(ls -A "$DIR" 2>/dev/null) ]]; then
			die "$DIR exists, is not empty and is not a pgha lab dir (no $MARKER); set PGHA_LAB_DIR elsewhere"
		fi
	fi
	mkdir -p "$DIR/nodes" "$DIR/bin"
	chmod 0700 "$DIR"
	[[ -e $DIR/$MARKER ]] || printf 'pgha lab state dir; removed by lab.sh down\n' >"$DIR/$MARKER"
	if [[ ! -s $DIR/id_ed25519 || ! -s $DIR/id_ed25519.pub ]]; then
		rm -f "$DIR/id_ed25519" "$DIR/id_ed25519.pub"
		ssh-keygen -q -t ed25519 -N '' -C "pgha-lab@$(hostname)" -f "$DIR/id_ed25519"
		info "generated lab SSH key $DIR/id_ed25519"
	fi
	# Lab binaries the nodes use (copied so a running lab does not depend on the checkout).
	local f
	for f in node-init systemctl-standin; do
		if ! cmp -s "$LAB_SRC/$f" "$DIR/bin/$f"; then install -m 0755 "$LAB_SRC/$f" "$DIR/bin/$f"; fi
	done
}

# ------------------------------------------------------------------ network
ensure_bridge() {
	local addr="$PGHA_LAB_BRIDGE_ADDR/$PREFIX" other
	other=$(ip -o -4 addr show to "$PGHA_LAB_SUBNET" 2>/dev/null | awk -v br="$BR" '$2 != br {print $2}' | sort -u | tr '\n' ' ')
	[[ -z $other ]] || die "lab subnet $PGHA_LAB_SUBNET is already used on the host by: $other"
	if ! ip link show dev "$BR" >/dev/null 2>&1; then
		ip link add "$BR" address "$(mac_for "$PGHA_LAB_BRIDGE_ADDR" 00:00)" type bridge
		info "created bridge $BR"
	fi
	if [[ -w /proc/sys/net/ipv6/conf/$BR/disable_ipv6 ]]; then echo 1 >"/proc/sys/net/ipv6/conf/$BR/disable_ipv6"; fi
	if ! ip -o -4 addr show dev "$BR" | grep -qw "inet $addr"; then
		ip addr add "$addr" dev "$BR"
	fi
	ip link set "$BR" up
	# Bridged frames traverse iptables when br_netfilter is loaded; a host firewall with a
	# DROP forward policy (e.g. Docker) would then cut the nodes off from each other.
	if [[ $(cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null || echo 0) == 1 ]] && command -v iptables >/dev/null; then
		if ! iptables -C FORWARD -i "$BR" -o "$BR" -m comment --comment pgha-lab -j ACCEPT 2>/dev/null; then
			iptables -I FORWARD 1 -i "$BR" -o "$BR" -m comment --comment pgha-lab -j ACCEPT ||
				warn "could not add iptables FORWARD accept rule for $BR"
		fi
	fi
}

remove_bridge() {
	if command -v iptables >/dev/null; then
		while iptables -C FORWARD -i "$BR" -o "$BR" -m comment --comment pgha-lab -j ACCEPT 2>/dev/null; do
			iptables -D FORWARD -i "$BR" -o "$BR" -m comment --comment pgha-lab -j ACCEPT || break
		done
	fi
	if ip link show dev "$BR" >/dev/null 2>&1; then
		ip link del "$BR"
		info "deleted bridge $BR"
	fi
}

# (Re)attach the node's netns to the bridge: veth pair, eth0 inside, address, lo.
attach_net() {
	local n=$1 ns veth tmp ip
	ns=$(node_ns "$n")
	veth=$(node_veth "$n")
	tmp="vp-$n"
	ip=$(node_ip "$n")
	if ! ip link show dev "$veth" >/dev/null 2>&1; then
		ip -n "$ns" link del eth0 2>/dev/null || true
		ip link del "$tmp" 2>/dev/null || true
		ip link add "$veth" address "$(mac_for "$ip" 01:00)" type veth \
			peer name "$tmp" address "$(mac_for "$ip" 00:00)"
		ip link set "$tmp" netns "$ns"
		ip -n "$ns" link set "$tmp" name eth0
	fi
	if [[ -w /proc/sys/net/ipv6/conf/$veth/disable_ipv6 ]]; then echo 1 >"/proc/sys/net/ipv6/conf/$veth/disable_ipv6"; fi
	ip link set "$veth" master "$BR"
	ip link set "$veth" up
	ip netns exec "$ns" sh -c 'echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6' 2>/dev/null || true
	if ! ip -n "$ns" -o -4 addr show dev eth0 | grep -qw "inet $ip/$PREFIX"; then
		ip -n "$ns" addr add "$ip/$PREFIX" dev eth0
	fi
	ip -n "$ns" link set lo up
	ip -n "$ns" link set eth0 up
}

# ------------------------------------------------------------------ node data
prepare_node() { # first-time creation of the node's persistent data
	local n=$1 nd ip upper t d f
	nd=$(node_dir "$n")
	ip=$(node_ip "$n")
	upper=$nd/etc/upper
	mkdir -p "$upper" "$nd/etc/work" "$nd/root/.ssh" "$nd/vartmp"
	chmod 1777 "$nd/vartmp"
	if [[ ! -e $nd/.initialized ]]; then
		info "$n: creating node data in $nd"
		for d in pacemaker corosync pcsd; do copy_dir_tree "/var/lib/$d" "$nd/varlib/$d"; done
		copy_dir_tree /var/log "$nd/log"
		for f in wtmp btmp lastlog faillog; do
			if [[ -f /var/log/$f ]]; then
				: >"$nd/log/$f"
				chown --reference="/var/log/$f" "$nd/log/$f"
				chmod --reference="/var/log/$f" "$nd/log/$f"
			fi
		done
		# Debian's stopped "main" cluster comes with the package on a real host: keep it.
		mkdir -p "$nd/varlib/postgresql"
		if [[ -d /var/lib/postgresql ]]; then cp -a /var/lib/postgresql/. "$nd/varlib/postgresql/"; fi
		chown --reference=/var/lib/postgresql "$nd/varlib/postgresql" 2>/dev/null || true
		# /var/lib/pgsql: where PGDATA lives (not part of Debian; empty, owned by postgres).
		install -d -m 0700 "$nd/varlib/pgsql"
		if getent passwd postgres >/dev/null; then chown postgres:postgres "$nd/varlib/pgsql"; fi
		# /root like a fresh Debian root account.
		chmod 0700 "$nd/root" "$nd/root/.ssh"
		if [[ -f /usr/share/base-files/dot.bashrc ]]; then cp /usr/share/base-files/dot.bashrc "$nd/root/.bashrc"; fi
		if [[ -f /usr/share/base-files/dot.profile ]]; then cp /usr/share/base-files/dot.profile "$nd/root/.profile"; fi
		# /etc upper layer: identity, sshd, host keys, enabled units.
		printf '%s\n' "$n" >"$upper/hostname"
		cat >"$upper/hosts" <<EOF
127.0.0.1	localhost
$ip	$n

# The following lines are desirable for IPv6 capable hosts
::1     localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
EOF
		tr -d '-' </proc/sys/kernel/random/uuid >"$upper/machine-id"
		chmod 0444 "$upper/machine-id"
		mkdir -p "$upper/ssh" "$upper/pgha-lab"
		for t in ed25519 ecdsa rsa; do
			rm -f "$upper/ssh/ssh_host_${t}_key" "$upper/ssh/ssh_host_${t}_key.pub"
			ssh-keygen -q -t "$t" -N '' -C "root@$n" -f "$upper/ssh/ssh_host_${t}_key"
		done
		cat >"$upper/ssh/sshd_config" <<EOF
# pgha lab node $n: written by lab/lab.sh. Key-based root login only, on the node's IP.
ListenAddress $ip
HostKey /etc/ssh/ssh_host_ed25519_key
HostKey /etc/ssh/ssh_host_ecdsa_key
HostKey /etc/ssh/ssh_host_rsa_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM yes
UseDNS no
X11Forwarding no
PrintMotd no
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
		printf 'ssh\n' >"$upper/pgha-lab/systemctl-enabled"
		touch "$nd/.initialized"
	fi
	write_if_changed "$nd/root/.ssh/authorized_keys" 0600 <"$DIR/id_ed25519.pub"
}

# ------------------------------------------------------------------ node lifecycle
kill_node_procs() { # everything left in the node's netns (plus a stray init)
	local n=$1 ns pids i
	ns=$(node_ns "$n")
	for ((i = 0; i < 50; i++)); do
		pids=$({
			if [[ -e /run/netns/$ns ]]; then ip netns pids "$ns" 2>/dev/null || true; fi
			pgrep -f "^tini -- /bin/bash $DIR/bin/node-init $n " || true
		} | sort -u | tr '\n' ' ')
		[[ -n ${pids// /} ]] || return 0
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null || true
		sleep 0.1
	done
	warn "$n: processes still alive after SIGKILL: $pids"
}

node_off() { # power a node off (quietly does nothing if it is already off)
	local n=$1 pid ns veth i
	pid=$(init_pid "$n")
	ns=$(node_ns "$n")
	veth=$(node_veth "$n")
	if [[ -n $pid ]]; then
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			[[ -d /proc/$pid ]] || break
			sleep 0.05
		done
	fi
	kill_node_procs "$n"
	if ip link show dev "$veth" >/dev/null 2>&1; then ip link del "$veth"; fi
	if [[ -e /run/netns/$ns ]]; then ip netns del "$ns"; fi
	rm -f "$(node_dir "$n")/init.pid"
	[[ -z $pid ]] || info "$n: powered off (killed init $pid)"
}

boot_node() {
	local n=$1 nd ns ip upid pid i
	nd=$(node_dir "$n")
	ns=$(node_ns "$n")
	ip=$(node_ip "$n")
	node_off "$n" >/dev/null # clean slate: stale netns, veth, processes
	if [[ ! -d /run/netns ]]; then touch "$DIR/created-run-netns"; fi
	ip netns add "$ns"
	attach_net "$n"
	printf '\n==== boot %s ====\n' "$(date '+%F %T')" >>"$nd/console.log"
	(
		close_fds # nothing of the caller (lab lock, npm/jest pipes) may live on in the node
		cd /
		exec setsid env -i PATH="$HOST_PATH" LANG=C.UTF-8 HOME=/root TERM=dumb \
			PGHA_LAB_BOOT_ENABLED="${PGHA_LAB_BOOT_ENABLED:-0}" \
			ip netns exec "$ns" \
			unshare --mount --uts --ipc --pid --fork --mount-proc --propagation private \
			tini -- /bin/bash "$DIR/bin/node-init" "$n" "$nd" "$DIR" "$DIR/bin"
	) </dev/null >>"$nd/console.log" 2>&1 &
	upid=$!
	pid=
	for ((i = 0; i < 100; i++)); do
		pid=$(pgrep -P "$upid" -x tini || true)
		[[ -z $pid ]] || break
		[[ -d /proc/$upid ]] || break
		sleep 0.05
	done
	[[ -n $pid ]] || die "$n: init did not start; see $nd/console.log"
	printf '%s\n' "$pid" >"$nd/init.pid"
}

wait_node_ready() { # sshd answers on the node's address
	local n=$1 ip i
	ip=$(node_ip "$n")
	for ((i = 0; i < 300; i++)); do
		if tcp_open "$ip" 22; then return 0; fi
		if [[ -z $(init_pid "$n") ]]; then
			tail -n 20 "$(node_dir "$n")/console.log" >&2 || true
			die "$n: node init died during boot (see $(node_dir "$n")/console.log)"
		fi
		sleep 0.1
	done
	tail -n 20 "$(node_dir "$n")/console.log" >&2 || true
	die "$n: sshd not reachable on $ip:22 after 30 s"
}

write_access_files() {
	local n ip t kh f
	kh=$(
		for n in "${NODES[@]}"; do
			ip=$(node_ip "$n")
			for t in ed25519 ecdsa rsa; do
				f=$(node_dir "$n")/etc/upper/ssh/ssh_host_${t}_key.pub
				if [[ -r $f ]]; then printf '%s,%s %s\n' "$n" "$ip" "$(cut -d' ' -f1,2 "$f")"; fi
			done
		done
	)
	printf '%s\n' "$kh" | write_if_changed "$DIR/known_hosts" 0644
	{
		printf '# pgha lab: ssh -F %s/ssh_config pglab1\n' "$DIR"
		for n in "${NODES[@]}"; do printf 'Host %s\n  HostName %s\n' "$n" "$(node_ip "$n")"; done
		printf 'Host %s %s.*\n' "${NODES[*]}" "${PGHA_LAB_BRIDGE_ADDR%.*}"
		printf '  User root\n  IdentityFile %s/id_ed25519\n  IdentitiesOnly yes\n' "$DIR"
		printf '  UserKnownHostsFile %s/known_hosts\n  StrictHostKeyChecking yes\n' "$DIR"
		printf '  BatchMode yes\n  ConnectTimeout 5\n  LogLevel ERROR\n'
	} | write_if_changed "$DIR/ssh_config" 0644
}

state_json() {
	local n first=1 pid
	printf '{\n  "bridge": {"name": "%s", "address": "%s", "prefix": %s},\n' "$BR" "$PGHA_LAB_BRIDGE_ADDR" "$PREFIX"
	printf '  "subnet": "%s",\n' "$PGHA_LAB_SUBNET"
	printf '  "vips": {"master": "%s", "slave": "%s"},\n' "$PGHA_LAB_VIP_MASTER" "$PGHA_LAB_VIP_SLAVE"
	printf '  "dir": "%s",\n' "$DIR"
	printf '  "ssh": {"user": "root", "privateKey": "%s/id_ed25519", "publicKey": "%s/id_ed25519.pub", "knownHosts": "%s/known_hosts", "config": "%s/ssh_config"},\n' "$DIR" "$DIR" "$DIR" "$DIR"
	printf '  "nodes": ['
	for n in "${NODES[@]}"; do
		pid=$(init_pid "$n")
		[[ $first == 1 ]] || printf ','
		first=0
		printf '\n    {"name": "%s", "ip": "%s", "netns": "%s", "veth": "%s", "running": %s, "initPid": %s}' \
			"$n" "$(node_ip "$n")" "$(node_ns "$n")" "$(node_veth "$n")" \
			"$([[ -n $pid ]] && echo true || echo false)" "${pid:-null}"
	done
	printf '\n  ]\n}\n'
}

# ------------------------------------------------------------------ commands
cmd_up() {
	require_root up
	local t0=$SECONDS n pid booted=()
	ensure_packages
	check_tools
	lock
	ensure_dir
	ensure_bridge
	for n in "${NODES[@]}"; do
		prepare_node "$n"
		pid=$(init_pid "$n")
		if [[ -n $pid ]]; then
			if ! ip link show dev "$(node_veth "$n")" >/dev/null 2>&1; then info "$n: network was cut: re-attaching"; fi
			attach_net "$n"
			if ! node_exec "$n" systemctl is-active --quiet ssh; then
				info "$n: sshd was not running: starting it"
				node_exec "$n" systemctl start ssh || warn "$n: could not start sshd"
			fi
			info "$n: running (init pid $pid)"
		else
			boot_node "$n"
			booted+=("$n")
		fi
	done
	for n in "${booted[@]}"; do
		wait_node_ready "$n"
		info "$n: booted $(node_ip "$n") (init pid $(init_pid "$n"))"
	done
	write_access_files
	state_json | write_if_changed "$DIR/state.json" 0644
	for n in "${NODES[@]}"; do wait_node_ready "$n"; done
	info "lab up in $((SECONDS - t0)) s; ssh -F $DIR/ssh_config pglab1  (or: ssh -i $DIR/id_ed25519 root@$(node_ip "${NODES[0]}"))"
}

cmd_down() {
	require_root down
	lock
	local n any=0
	for n in "${NODES[@]}"; do
		if [[ -n $(init_pid "$n") || -e /run/netns/$(node_ns "$n") ]] || ip link show dev "$(node_veth "$n")" >/dev/null 2>&1; then any=1; fi
		node_off "$n"
	done
	if ip link show dev "$BR" >/dev/null 2>&1; then any=1; fi
	remove_bridge
	# ip netns add made /run/netns a mount point; undo that if the lab created it.
	if [[ -e $DIR/created-run-netns && -d /run/netns && -z $(ls -A /run/netns) ]]; then
		umount -n /run/netns 2>/dev/null || true
		rmdir /run/netns 2>/dev/null || true
	fi
	if [[ -d $DIR ]]; then
		any=1
		if [[ -e $DIR/$MARKER ]]; then
			rm -rf --one-file-system "$DIR"
			info "removed $DIR"
		else
			warn "$DIR is not a pgha lab dir (no $MARKER): left in place"
		fi
	fi
	local left
	left=$(pgrep -f "$DIR/bin/node-init" || true)
	[[ -z $left ]] || warn "lab processes still running: $left"
	if [[ $any == 0 ]]; then info "nothing to remove: the lab is down"; else info "lab down"; fi
}

cmd_status() {
	require_root status
	local n pid rc=0 sshd
	if ip link show dev "$BR" >/dev/null 2>&1; then
		info "bridge $BR $(ip -o -4 addr show dev "$BR" | awk '{print $4}') $(cat "/sys/class/net/$BR/operstate")"
	else
		info "bridge $BR absent"
	fi
	for n in "${NODES[@]}"; do
		pid=$(init_pid "$n")
		if [[ -n $pid ]]; then
			sshd=$(node_exec "$n" systemctl is-active ssh 2>/dev/null || true)
			printf '%-8s %-14s up    init pid %-8s sshd %s\n' "$n" "$(node_ip "$n")" "$pid" "$sshd"
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
	local n=$1
	shift
	if [[ $# -eq 0 ]]; then set -- bash -l; fi
	node_exec "$n" "$@"
}

cmd_ssh() {
	check_node_arg "${1:-}"
	local n=$1
	shift
	[[ -r $DIR/ssh_config ]] || die "no $DIR/ssh_config: run lab.sh up first"
	if [[ $# -eq 0 ]]; then
		exec ssh -F "$DIR/ssh_config" -t "$n"
	fi
	# ssh flattens argv into one string: quote each word.
	exec ssh -F "$DIR/ssh_config" "$n" -- "$(printf '%q ' "$@")"
}

cmd_poweroff() {
	require_root poweroff
	check_node_arg "${1:-}"
	lock
	if [[ -z $(init_pid "$1") ]]; then
		info "$1: already off"
	fi
	node_off "$1"
	if [[ -d $DIR ]]; then state_json | write_if_changed "$DIR/state.json" 0644; fi
}

cmd_poweron() {
	require_root poweron
	check_node_arg "${1:-}"
	local n=$1 pid
	[[ -e $DIR/$MARKER ]] || die "the lab is not set up: run lab.sh up"
	check_tools
	lock
	ensure_dir
	ensure_bridge
	pid=$(init_pid "$n")
	if [[ -n $pid ]]; then
		info "$n: already running (init pid $pid)"
		return 0
	fi
	prepare_node "$n"
	boot_node "$n"
	wait_node_ready "$n"
	state_json | write_if_changed "$DIR/state.json" 0644
	info "$n: powered on (init pid $(init_pid "$n"))"
}

cmd_state() {
	[[ -d $DIR ]] || die "no lab dir $DIR: run lab.sh up"
	state_json
}

main() {
	local cmd=${1:-}
	[[ $# -eq 0 ]] || shift
	case $cmd in
	up) cmd_up "$@" ;;
	down) cmd_down "$@" ;;
	status) cmd_status "$@" ;;
	exec) cmd_exec "$@" ;;
	ssh) cmd_ssh "$@" ;;
	poweroff) cmd_poweroff "$@" ;;
	poweron) cmd_poweron "$@" ;;
	state) cmd_state "$@" ;;
	-h | --help | help) usage ;;
	*)
		usage >&2
		exit 2
		;;
	esac
}

main "$@"
