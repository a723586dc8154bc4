#!/usr/bin/env bash
# Makes the ocf:heartbeat:pgsql agent fit for PostgreSQL 12+.
#   source:  builds resource-agents PGHA_RA_VERSION from the verified tarball (refused before unpacking when
#            its sha256 differs: autogen.sh, configure, make with all cores, make install) and installs it
#            under /usr over the distribution's agents, as the runbook does; skipped when that version was
#            built from the tarball with PGHA_RA_SHA256. On Debian the resource-agents package (a dependency
#            of pacemaker-cli-utils) is held, so that an upgrade cannot put its agents back silently.
#   package: the distribution's agents (Debian 12: 4.12.0; EL 7's do not support PostgreSQL 12+).
# Either way the agent library's ocf_promotion_score bug (upstream's 4.12.0 has it too), which passes
# "-v -INFINITY" to crm_attribute unquoted and makes every pgsql start time out, is repaired.
# Inputs: PGHA_RA_INSTALL, PGHA_RA_VERSION, PGHA_RA_URL, PGHA_RA_SHA256 (empty only with allowUnverifiedDownloads).
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"

shellfuncs=/usr/lib/ocf/lib/heartbeat/ocf-shellfuncs
stamp=/var/lib/pgha/resource-agents.source

repair_promotion_score() {
    # Upstream's later form names the resource explicitly and quotes the arguments.
    # shellcheck disable=SC2016 # literal shell text in the agent library
    local broken='${HA_SBIN_DIR}/crm_attribute -p $@' fixed='${HA_SBIN_DIR}/crm_attribute -p "${OCF_RESOURCE_INSTANCE}" "$@"'
    if grep -qF -- "$broken" "$shellfuncs"; then
        PGHA_FROM=$broken PGHA_TO=$fixed perl -pi -e 's/\Q$ENV{PGHA_FROM}\E/$ENV{PGHA_TO}/' "$shellfuncs"
        grep -qF -- "$fixed" "$shellfuncs" || pgha_die "could not repair ocf_promotion_score in $shellfuncs"
        pgha_changed "repaired ocf_promotion_score in $shellfuncs"
    fi
}

# shellcheck disable=SC2016 # a literal line of the agent
pgsql_supports_pg12() { grep -q 'ocf_version_cmp "$version" "12"' /usr/lib/ocf/resource.d/heartbeat/pgsql 2>/dev/null; }

build_from_source() {
    local build=/var/tmp/pgha-build tarball started=$SECONDS libdir=()
    mkdir -p "$build"
    tarball="$build/resource-agents-$PGHA_RA_VERSION.tar.gz"
    pgha_fetch_verified "$PGHA_RA_URL" "$tarball" "$PGHA_RA_SHA256" resourceAgentsSha256
    cd "$(pgha_unpack "$tarball" "$build/resource-agents-src")"
    # A tag's archive (not a release made with make dist) has no version file: the build would call itself
    # UNKNOWN. The tarball is the verified one of this version.
    [[ -s .tarball-version ]] || echo "$PGHA_RA_VERSION" >.tarball-version
    [[ $(pgha_os_family) != el ]] || libdir=(--libdir=/usr/lib64)
    ./autogen.sh >/dev/null
    ./configure -q --prefix=/usr --sysconfdir=/etc --localstatedir=/var "${libdir[@]}" --with-ocf-root=/usr/lib/ocf
    make -s -j"$(nproc)"
    make -s install
    cd /
    rm -rf "$build/resource-agents-src"
    pgsql_supports_pg12 || pgha_die "resource-agents $PGHA_RA_VERSION installed, but its pgsql agent lacks PostgreSQL 12+ support"
    pgha_build_record "$stamp" "$PGHA_RA_VERSION" "$PGHA_RA_SHA256"
    pgha_changed "built resource-agents $PGHA_RA_VERSION in $((SECONDS - started)) s and installed it under /usr"
}

# Puts the distribution's agents back over ones built here before (a switch from source to package).
restore_package_agents() {
    if [[ $(pgha_os_family) == debian ]]; then
        apt-mark unhold resource-agents >/dev/null
        pgha_apt_install --reinstall resource-agents
    else
        yum reinstall -y -q resource-agents
    fi
    rm -f "$stamp"
    pgha_changed "reinstalled the distribution's resource-agents over the ones built from source"
}

if [[ $PGHA_RA_INSTALL == package ]]; then
    [[ ! -f $stamp ]] || restore_package_agents
    [[ -f $shellfuncs ]] || pgha_die "resource-agents is not installed (os-prep installs it)"
    pgsql_supports_pg12 || pgha_die "the distribution's pgsql agent does not support PostgreSQL 12+: set pgha:resourceAgentsInstall source"
elif pgha_build_current "$stamp" "$PGHA_RA_VERSION" "$PGHA_RA_SHA256" && pgsql_supports_pg12; then
    pgha_log "resource-agents $PGHA_RA_VERSION already built from that tarball"
else
    build_from_source
fi
repair_promotion_score
if [[ $PGHA_RA_INSTALL == source && $(pgha_os_family) == debian ]] && ! apt-mark showhold | grep -qx resource-agents; then
    apt-mark hold resource-agents >/dev/null
    pgha_changed "held the resource-agents package (its agents are replaced by the ones built from source)"
fi
pgha_summary
