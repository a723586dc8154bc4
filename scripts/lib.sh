# shellcheck shell=bash
# Helpers shared by the pgha node scripts. The program prepends this file to every step; run by hand,
# a script sources it from its own directory. Nothing here prints or stores a secret.

# shellcheck disable=SC2034 # tested by the scripts to know whether to source this file
PGHA_LIB_LOADED=1
PGHA_CHANGES=0
PGHA_STEP=${PGHA_STEP:-${0##*/}}

pgha_log() { printf 'pgha[%s]: %s\n' "$PGHA_STEP" "$*" >&2; }
pgha_die() { pgha_log "ERROR: $*"; exit 1; }

# Records that this run changed the host; the summary line lets tests prove a second run changes nothing.
pgha_changed() { PGHA_CHANGES=$((PGHA_CHANGES + 1)); pgha_log "changed: $*"; }
pgha_summary() { printf 'pgha[%s]: done, %d change(s)\n' "$PGHA_STEP" "$PGHA_CHANGES"; }

# el (CentOS/RHEL 7+) or debian, from /etc/os-release.
pgha_os_family() {
    local id="" like=""
    # shellcheck disable=SC1091
    id=$(. /etc/os-release && echo "${ID:-}")
    # shellcheck disable=SC1091
    like=$(. /etc/os-release && echo "${ID_LIKE:-}")
    case " $id $like " in
        *" debian "*) echo debian ;;
        *" rhel "* | *" centos "* | *" fedora "*) echo el ;;
        *) pgha_die "unsupported OS '$id' (supported: CentOS/RHEL 7+, Debian 12)" ;;
    esac
}

# Installs the packages that are missing; does nothing (and needs no network) when all are present.
pgha_install_packages() {
    local family=$1 missing=() p
    shift
    for p in "$@"; do
        if [[ $family == debian ]]; then
            [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == 'install ok installed' ]] || missing+=("$p")
        else
            rpm -q --whatprovides "$p" >/dev/null 2>&1 || missing+=("$p")
        fi
    done
    ((${#missing[@]} == 0)) && return 0
    if [[ $family == debian ]]; then
        pgha_apt_bounded 120 update -q
        pgha_apt_install --no-install-recommends "${missing[@]}"
    else
        yum install -y -q "${missing[@]}"
    fi
    pgha_changed "installed ${missing[*]}"
}

# apt-get install ARGS...: what needs the network is bounded and retried, since apt-get was seen to hang for
# good (all its methods idle) behind a caching proxy; the install itself then runs from the downloaded
# packages, unbounded, since stopping dpkg halfway would leave packages half-configured.
pgha_apt_install() {
    pgha_apt_bounded 900 install --download-only -y -q "$@"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

# apt-get ARGS..., stopped after SECONDS and tried up to three times; fails when no attempt succeeds.
pgha_apt_bounded() {
    local seconds=$1 attempt rc outcome
    shift
    for attempt in 1 2 3; do
        rc=0
        DEBIAN_FRONTEND=noninteractive timeout --kill-after=10 "$seconds" apt-get "$@" || rc=$?
        ((rc != 0)) || return 0
        outcome="failed (exit $rc)"
        ((rc != 124)) || outcome="did not finish within ${seconds}s"
        pgha_log "apt-get $1 $outcome (attempt $attempt of 3)"
    done
    pgha_die "apt-get $1 failed three times: check the node's package sources and proxy"
}

# Writes stdin to PATH when the content, mode or owner differ; reports a change only then. Feed it with a
# redirection, never a pipe: in a pipeline it runs in a subshell and the change is not counted.
pgha_put_file() {
    local path=$1 mode=$2 owner=$3 tmp
    tmp=$(mktemp "${path%/*}/.pgha.XXXXXX")
    cat >"$tmp"
    if [[ -f $path ]] && cmp -s "$tmp" "$path"; then
        rm -f "$tmp"
    else
        chmod "$mode" "$tmp"
        chown "$owner" "$tmp"
        mv -f "$tmp" "$path"
        pgha_changed "wrote $path"
        return 0
    fi
    if [[ $(stat -c '%a %U:%G' "$path") != "${mode#0} $owner" ]]; then
        chmod "$mode" "$path"
        chown "$owner" "$path"
        pgha_changed "fixed mode/owner of $path"
    fi
}

# Replaces the block between "# BEGIN pgha <name>" and "# END pgha <name>" in FILE with stdin (appended
# when absent), leaving every other line alone.
pgha_put_block() {
    local file=$1 name=$2 block
    block=$(cat)
    local begin="# BEGIN pgha $name" end="# END pgha $name"
    [[ -f $file ]] || : >"$file"
    { awk -v b="$begin" -v e="$end" '$0==b{skip=1;next} $0==e{skip=0;next} !skip' "$file"
      printf '%s\n%s\n%s\n' "$begin" "$block" "$end"; } >"$file.pgha-new"
    if cmp -s "$file" "$file.pgha-new"; then
        rm -f "$file.pgha-new"
    else
        # Keep the original file (owner, mode, inode for bind mounts); write in place.
        cat "$file.pgha-new" >"$file"
        rm -f "$file.pgha-new"
        pgha_changed "updated block '$name' in $file"
    fi
}

# Ensures a directory with mode and owner.
pgha_dir() {
    local path=$1 mode=$2 owner=$3
    if [[ ! -d $path ]]; then
        mkdir -p "$path"
        pgha_changed "created $path"
    fi
    if [[ $(stat -c '%a %U:%G' "$path") != "${mode#0} $owner" ]]; then
        chmod "$mode" "$path"
        chown "$owner" "$path"
        pgha_changed "set mode/owner of $path"
    fi
}

# Downloads URL to FILE (kept as a cache) and verifies its sha256 against SHA, the value of config key KEY;
# an empty SHA is the documented allowUnverifiedDownloads opt-out. A tarball that does not match is deleted
# and refused before anything is unpacked.
pgha_fetch_verified() {
    local url=$1 file=$2 sha=$3 key=$4 actual
    if [[ ! -s $file ]] || { [[ -n $sha ]] && ! echo "$sha  $file" | sha256sum -c --status; }; then
        curl -fsSL --retry 3 -o "$file.part" "$url" || pgha_die "could not download $url (pgha:${key%Sha256}Url)"
        mv -f "$file.part" "$file"
    fi
    if [[ -z $sha ]]; then
        pgha_log "WARNING: $url not verified (allowUnverifiedDownloads)"
        return 0
    fi
    actual=$(sha256sum "$file" | cut -d' ' -f1)
    if [[ $actual != "$sha" ]]; then
        rm -f "$file"
        pgha_die "refused $url: its sha256 is $actual, not $sha (pgha:$key). Fix pgha:$key or the URL; nothing was unpacked or installed."
    fi
}

# A source build is current when STAMP records VERSION and SHA, the tarball it was built from.
pgha_build_current() { [[ -f $1 && $(cat "$1") == "$2 $3" ]]; }
pgha_build_record() {
    mkdir -p "${1%/*}"
    printf '%s %s\n' "$2" "$3" >"$1"
}

# Unpacks TARBALL into a fresh DIR and prints the path of its single top-level directory.
pgha_unpack() {
    local tarball=$1 dir=$2 top
    rm -rf "$dir"
    mkdir -p "$dir"
    tar -xaf "$tarball" -C "$dir"
    top=$(find "$dir" -mindepth 1 -maxdepth 1 -type d)
    [[ -n $top && $(wc -l <<<"$top") == 1 ]] || pgha_die "$tarball does not unpack to one directory"
    printf '%s' "$top"
}

# Runs a command as the postgres user, keeping the caller's working directory out of the way.
pgha_as_postgres() { (cd / && runuser -u postgres -- "$@"); }

# SQL string literal.
pgha_sql_literal() { printf "'%s'" "${1//\'/\'\'}"; }

# Retries CMD until it succeeds or SECONDS pass; returns its last status.
pgha_wait_for() {
    local seconds=$1 deadline
    shift
    deadline=$((SECONDS + seconds))
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 2
    done
}

# Major version of pcs on this host: 9 for 0.9.x, 10 for 0.10.x and newer (one dialect).
pgha_pcs_dialect() {
    local version
    version=$(pcs --version 2>/dev/null) || pgha_die "pcs is not installed"
    case $version in
        0.9.*) echo 9 ;;
        0.1[0-9].* | [1-9].*) echo 10 ;;
        *) pgha_die "unsupported pcs version '$version'" ;;
    esac
}

# Id of the pgsql promotable set: pcs 0.9 names it pgsql-master (the runbook's), 0.10+ pgsql-clone.
pgha_promotable_id() { if [[ $(pgha_pcs_dialect) == 9 ]]; then echo pgsql-master; else echo pgsql-clone; fi; }

# True when Pacemaker's CIB already defines the pgsql resource (the database is then the cluster's), also
# while this node's cluster stack is down (its copy of the CIB on disk).
# (No `| grep -q` here or elsewhere: with pipefail, grep's early exit fails the pipeline by SIGPIPE.)
pgha_pgsql_managed() {
    crm_resource --resource pgsql --query-xml >/dev/null 2>&1 ||
        { [[ -r /var/lib/pacemaker/cib/cib.xml ]] && CIB_file=/var/lib/pacemaker/cib/cib.xml crm_resource --resource pgsql --query-xml >/dev/null 2>&1; }
}

# The pgsql agent's role of NODE (PRI, HS:sync, HS:async, ...; "" when unset).
pgha_pgsql_status() { crm_attribute -N "$1" -n pgsql-status -l reboot -G -q 2>/dev/null || true; }
# True while Pacemaker's maintenance mode is on (pgha-maintenance).
pgha_maintenance_mode_on() { [[ $(crm_attribute -t crm_config -n maintenance-mode -G -q 2>/dev/null || true) == true ]]; }
# True when NODE's pgsql-status is one of STATUS...
pgha_has_status() { local status; status=$(pgha_pgsql_status "$1"); shift; [[ -n $status && " $* " == *" $status "* ]]; }

# The node attribute in which ocf:pgha:pgsql keeps a refused rejoin's whole reason (cleared by a good start).
PGHA_REFUSAL_ATTRIBUTE=pgha-refused-rejoin
# The refused rejoin of NODE ("" when none).
pgha_refusal() { crm_attribute -N "$1" -n "$PGHA_REFUSAL_ATTRIBUTE" -l forever -G -q 2>/dev/null || true; }

# Prints the first cluster node, other than EXCEPT (may be ""), whose pgsql-status is STATUS; fails if none.
pgha_node_with_status() {
    local status=$1 except=${2:-} node
    for node in $(crm_node -l | awk '{print $2}'); do
        [[ $node != "$except" && $(pgha_pgsql_status "$node") == "$status" ]] && echo "$node" && return 0
    done
    return 1
}

# Prints one line read from stdin (a secret: capture it with $(...), never log it).
pgha_read_secret() {
    local value=""
    IFS= read -r value || [[ -n $value ]] || pgha_die "expected a secret on standard input"
    [[ -n $value ]] || pgha_die "empty secret on standard input"
    printf '%s' "$value"
}
