#!/usr/bin/env bash
# Installs what the tests need on a Debian 12 machine, skipping what is already there: Debian's
# Pacemaker/pcs/corosync/resource-agents/fence-agents (real tools for the CIB and scheduler tests),
# PostgreSQL 15 (real timelines for the rejoin rule's test; no cluster of it is started here),
# the shellcheck linter, the npm dependencies, and the Pulumi engine with the vSphere provider and SDK and the
# vCenter simulator (built once into a cache outside the repo).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(pacemaker pacemaker-cli-utils pcs corosync resource-agents fence-agents postgresql-15 shellcheck)
missing=()
for p in "${packages[@]}"; do
    [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == 'install ok installed' ]] || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
    if ((EUID != 0)); then
        echo "setup: missing Debian packages ${missing[*]}; run as root (or install them) first" >&2
        exit 1
    fi
    echo "setup: installing ${missing[*]}"
    # The packages' maintainer scripts must start no daemon here (PostgreSQL's "main" cluster, pcsd, corosync).
    policy=/usr/sbin/policy-rc.d
    own_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 0755 "$policy"
        own_policy=1
    fi
    rc=0
    { DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"; } || rc=$?
    if ((own_policy)); then rm -f "$policy"; fi
    ((rc == 0)) || { echo "setup: apt-get failed (exit $rc)" >&2; exit 1; }
fi

if [[ ! -d node_modules/@pulumi/pulumi || package.json -nt node_modules/.package-lock.json ]]; then
    echo "setup: npm install"
    npm install --no-audit --no-fund
fi

# The Pulumi engine for the engine tests: reused from the cache (or a compatible pulumi on PATH) when present.
bin="$(bash toolchain/pulumi-toolchain.sh | tail -n 1)"

# @pulumi/vsphere: npm's (an optional dependency) where the registry serves it, else the package the toolchain
# built from the vendored SDK of the same version, copied (not linked, so that it loads this @pulumi/pulumi).
# shellcheck source=toolchain/versions.env
. toolchain/versions.env
installed="$(node -p 'try { require("./node_modules/@pulumi/vsphere/package.json").version } catch { "" }')"
if [[ $installed != "$PGHA_PULUMI_VSPHERE_VERSION" ]]; then
    built="$bin/../nodejs/vsphere"
    if [[ ! -f $built/package.json ]]; then
        echo "setup: npm did not install @pulumi/vsphere $PGHA_PULUMI_VSPHERE_VERSION and the toolchain in $bin has no build of it" >&2
        exit 1
    fi
    echo "setup: @pulumi/vsphere $PGHA_PULUMI_VSPHERE_VERSION from the toolchain's build of the vendored SDK"
    rm -rf node_modules/@pulumi/vsphere
    cp -a "$built" node_modules/@pulumi/vsphere
fi
