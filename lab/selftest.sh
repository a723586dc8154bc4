#!/bin/bash
# Proves the pgha lab is sufficient, end to end, as root: lab up (cold), SSH into every
# node by IP, isolation of /etc, node-to-node reachability, then by hand what the
# product will automate (pcsd via the systemctl stand-in, hacluster password, pcs host
# auth, pcs cluster setup --start --enable, pcs status), pcs cluster stop --all,
# poweroff/poweron, idempotent up, down twice, and a host left as it was.
# Only lab addresses (10.250.77.0/24, in namespaces the lab made) are contacted.
#   bash lab/selftest.sh            (refuses to run over an existing lab)
#   PGHA_LAB_SELFTEST_KEEP=1 ...    leave the lab (and its cluster) up at the end
set -euo pipefail

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lab.env
. "$LAB_SRC/lab.env"
DIR=${PGHA_LAB_DIR:-$PGHA_LAB_DIR_DEFAULT}
LAB=("$LAB_SRC/lab.sh")
read -r -a NODES <<<"$PGHA_LAB_NODES"
PW="pgha-Lab-$RANDOM$RANDOM"
CLUSTER=pgcluster
fails=0
declare -A T

[[ $(id -u) -eq 0 ]] || {
	echo "selftest: must run as root" >&2
	exit 1
}
if [[ -e $DIR ]]; then
	echo "selftest: $DIR exists (a lab is up?): run 'bash lab/lab.sh down' first" >&2
	exit 1
fi

ip_of() {
	local v="PGHA_LAB_IP_$1"
	printf '%s' "${!v}"
}
ok() { printf 'PASS  %s\n' "$*"; }
bad() {
	printf 'FAIL  %s\n' "$*"
	fails=$((fails + 1))
}
check() { # check DESCRIPTION CMD...
	local d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}
lab() { bash "${LAB[@]}" "$@"; }
# ssh by IP exactly as the issue states it (no known_hosts), argv quoted for the remote shell
sshn() {
	local n=$1
	shift
	ssh -i "$DIR/id_ed25519" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o BatchMode=yes -o LogLevel=ERROR -o ConnectTimeout=5 "root@$(ip_of "$n")" -- "$*"
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

host_snapshot() {
	{
		sha256sum /etc/shadow /etc/hosts /etc/passwd /etc/group 2>/dev/null
		find /etc/corosync /etc/pacemaker -type f -exec sha256sum {} + 2>/dev/null | sort
		echo "run: $(find /run -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tr '\n' ' ')"
		echo "links: $(ip -o link | awk -F': ' '{print $2}' | sort | tr '\n' ' ')"
		echo "netns: $(ip netns list | tr '\n' ' ')"
		echo "mounts: $(findmnt -rn -o TARGET | sort | tr '\n' ' ')"
		echo "lab processes: $(pgrep -c -f "$DIR/" || true)"
	}
}

echo "== host baseline"
before=$(host_snapshot)

echo "== lab up (cold)"
t=$(now)
lab up
T[up_cold]=$(since "$t")

echo "== nodes by IP"
for n in "${NODES[@]}"; do
	ip=$(ip_of "$n")
	check "$n: ssh root@$ip hostname = $n" test "$(sshn "$n" hostname)" = "$n"
	addrs=$(sshn "$n" "ip -o -4 addr show | awk '{print \$4}' | sort | tr '\n' ' '")
	want=$(printf '%s\n' 127.0.0.1/8 "$ip/$PGHA_LAB_PREFIX" | sort | tr '\n' ' ')
	check "$n: ip addr shows only 127.0.0.1 and $ip ($addrs)" test "$addrs" = "$want"
	check "$n: no default route" test -z "$(sshn "$n" 'ip route show default')"
	check "$n: only tini, sleep and sshd run (a fresh host)" \
		test -z "$(sshn "$n" "ps -eo comm= | grep -v -x -E 'tini|sleep|sshd|bash|ps|grep'")"
	check "$n: ssh -F ssh_config (strict known_hosts) works" \
		test "$(ssh -F "$DIR/ssh_config" "$n" hostname)" = "$n"
	check "$n: lab dir (private key) hidden inside the node" \
		test -z "$(sshn "$n" "ls -A $DIR 2>/dev/null")"
	check "$n: systemctl is the stand-in; pcsd disabled+inactive, ssh enabled" \
		test "$(sshn "$n" 'systemctl --version | head -1; systemctl is-enabled pcsd ssh; systemctl is-active pcsd' | tr '\n' ' ')" \
		= "systemd 252 (252-pgha-lab-systemctl-standin) disabled enabled inactive "
done

echo "== node to node (ssh with a forwarded agent: no key is copied into nodes)"
eval "$(ssh-agent -s)" >/dev/null
ssh-add -q "$DIR/id_ed25519"
for a in "${NODES[@]}"; do
	for b in "${NODES[@]}"; do
		[[ $a != "$b" ]] || continue
		got=$(ssh -A -i "$DIR/id_ed25519" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
			-o LogLevel=ERROR "root@$(ip_of "$a")" \
			"ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR root@$(ip_of "$b") hostname")
		check "$a -> $b: ssh $(ip_of "$b") hostname = $b" test "$got" = "$b"
	done
done
ssh-agent -k >/dev/null

echo "== per-node /etc"
sshn pglab1 "echo '10.250.77.99 only-on-pglab1' >> /etc/hosts; echo 'hacluster:secretX' | chpasswd"
check "pglab1: chpasswd worked (hacluster has a hash)" test "$(sshn pglab1 "getent shadow hacluster | cut -d: -f2 | cut -c1-3")" = "\$y\$"
for n in pglab2 pglab3; do
	check "$n: /etc/hosts untouched by pglab1" test "$(sshn "$n" 'grep -c only-on-pglab1 /etc/hosts || true')" = 0
	check "$n: hacluster still locked" test "$(sshn "$n" "getent shadow hacluster | cut -d: -f2")" = '!'
done
check "host: /etc/hosts, /etc/shadow untouched" test "$(host_snapshot | head -2)" = "$(head -2 <<<"$before")"

echo "== PostgreSQL data under /var/lib/pgsql (per node)"
pgbin=$(sshn pglab1 'ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1')
sshn pglab1 "install -d -o postgres -g postgres -m 0700 /var/lib/pgsql/data &&
	cd / && su postgres -c '$pgbin/initdb -D /var/lib/pgsql/data -A trust' >/dev/null &&
	echo 'host all all $PGHA_LAB_SUBNET trust' >> /var/lib/pgsql/data/pg_hba.conf &&
	su postgres -c \"$pgbin/pg_ctl -s -w -D /var/lib/pgsql/data -l /var/lib/pgsql/pg.log -o '-c listen_addresses=$(ip_of pglab1) -c unix_socket_directories=/run/postgresql' start\""
check "pglab2 -> pglab1: psql over the lab network" \
	test "$(sshn pglab2 "psql -h $(ip_of pglab1) -U postgres -Atc 'select inet_server_addr()'")" = "$(ip_of pglab1)"
check "pglab2: has no /var/lib/pgsql/data of its own" test "$(sshn pglab2 'ls -A /var/lib/pgsql | wc -l')" = 0
check "host: no /var/lib/pgsql" test ! -e /var/lib/pgsql
sshn pglab1 "cd / && su postgres -c '$pgbin/pg_ctl -s -w -D /var/lib/pgsql/data stop' && rm -rf /var/lib/pgsql/data /var/lib/pgsql/pg.log"

echo "== the product's steps, by hand"
t=$(now)
for n in "${NODES[@]}"; do sshn "$n" 'systemctl start pcsd' & done
wait
T[pcsd_start_x3]=$(since "$t")
for n in "${NODES[@]}"; do
	check "$n: pcsd active and listening on :2224" test "$(sshn "$n" "systemctl is-active pcsd; ss -Hltn 'sport = :2224' | wc -l" | tr '\n' ' ')" = "active 2 "
	sshn "$n" "echo hacluster:$PW | chpasswd"
	# Debian ships /etc/corosync/corosync.conf (cluster 'debian', node1 at 127.0.0.1): with it,
	# pcs host auth does not store tokens and pcs cluster setup refuses ("in a cluster already").
	sshn "$n" 'pcs cluster destroy --force >/dev/null 2>&1'
done
t=$(now)
out=$(sshn pglab1 "echo $PW | pcs host auth pglab1 addr=$(ip_of pglab1) pglab2 addr=$(ip_of pglab2) pglab3 addr=$(ip_of pglab3) -u hacluster" 2>&1)
T[host_auth]=$(since "$t")
check "pcs host auth: 3 x Authorized" test "$(grep -c Authorized <<<"$out")" = 3
t=$(now)
sshn pglab1 "pcs cluster setup $CLUSTER pglab1 addr=$(ip_of pglab1) pglab2 addr=$(ip_of pglab2) pglab3 addr=$(ip_of pglab3) --start --enable --wait=120"
T[cluster_setup]=$(since "$t")
st=$(sshn pglab1 'pcs status')
printf '%s\n' "$st" | sed -n '1,20p'
check "pcs status: 3 nodes online" grep -q 'Online: \[ pglab1 pglab2 pglab3 \]' <<<"$st"
check "pcs status: partition with quorum" grep -q 'partition with quorum' <<<"$st"
check "corosync/pacemaker enabled on pglab3 (recorded by the stand-in)" \
	test "$(sshn pglab3 'systemctl is-enabled corosync pacemaker' | tr '\n' ' ')" = "enabled enabled "
check "host: crm_mon sees no cluster (IPC isolated per node)" bash -c '! crm_mon -1 >/dev/null 2>&1'

echo "== pcs cluster stop --all"
t=$(now)
sshn pglab1 'pcs cluster stop --all'
T[cluster_stop_all]=$(since "$t")
for n in "${NODES[@]}"; do
	check "$n: corosync and pacemaker stopped" test "$(sshn "$n" '{ pgrep -x corosync; pgrep -x pacemakerd; } | wc -l')" = 0
done

echo "== poweroff / poweron pglab2"
init2=$(lab state | awk -F'"initPid": ' '/"pglab2"/ {sub(/}.*/, "", $2); print $2}')
sshn pglab2 'systemctl start pcsd'
lab poweroff pglab2
check "pglab2: init $init2 gone" test ! -d "/proc/$init2"
check "pglab2: no process left in its netns" test -z "$(ip netns pids "${PGHA_LAB_NETNS_PREFIX}pglab2" 2>/dev/null || true)"
check "pglab2: host-side veth deleted" bash -c "! ip link show ${PGHA_LAB_VETH_PREFIX}pglab2 >/dev/null 2>&1"
check "pglab2: unreachable" bash -c "! timeout 1 bash -c 'exec 3<>/dev/tcp/$(ip_of pglab2)/22' 2>/dev/null"
t=$(now)
lab poweron pglab2
T[poweron]=$(since "$t")
check "pglab2: back, only sshd started" \
	test -z "$(sshn pglab2 "ps -eo comm= | grep -v -x -E 'tini|sleep|sshd|bash|ps|grep'")"
check "pglab2: its data survived (corosync.conf, hacluster password, enabled units)" \
	test "$(sshn pglab2 "test -s /etc/corosync/corosync.conf && getent shadow hacluster | cut -c1-13 && systemctl is-enabled corosync" | tr '\n' ' ')" \
	= "hacluster:\$y\$ enabled "

echo "== lab up is idempotent"
pids_before=$(lab state | grep -o '"initPid": [0-9]*' | tr '\n' ' ')
ref=$(mktemp)
sleep 1
lab up
pids_after=$(lab state | grep -o '"initPid": [0-9]*' | tr '\n' ' ')
check "init pids unchanged ($pids_after)" test "$pids_before" = "$pids_after"
check "no lab file rewritten" test -z "$(find "$DIR" -maxdepth 1 -newer "$ref"; find "$DIR/bin" "$DIR"/nodes/*/root/.ssh -newer "$ref")"
rm -f "$ref"

if [[ ${PGHA_LAB_SELFTEST_KEEP:-0} == 1 ]]; then
	echo "== PGHA_LAB_SELFTEST_KEEP=1: lab left up"
else
	echo "== lab down, twice"
	t=$(now)
	lab down
	T[down]=$(since "$t")
	lab down
	after=$(host_snapshot)
	if [[ $before == "$after" ]]; then
		ok "host as it was (files, /run, links, netns, mounts, daemons)"
	else
		bad "host changed:"
		diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") || true
	fi
	check "no lab process left" test -z "$(pgrep -f "$DIR/bin/node-init" || true)"
	check "no pgha mount left" test -z "$(findmnt -rn | grep pgha || true)"
	check "lab dir removed" test ! -e "$DIR"
fi

echo "== timings (s)"
for k in up_cold pcsd_start_x3 host_auth cluster_setup cluster_stop_all poweron down; do
	[[ -z ${T[$k]:-} ]] || printf '  %-18s %s\n' "$k" "${T[$k]}"
done
if [[ $fails -eq 0 ]]; then
	echo "selftest: all checks passed"
else
	echo "selftest: $fails check(s) FAILED"
	exit 1
fi
