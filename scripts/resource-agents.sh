#!/usr/bin/env bash
# Makes the ocf:heartbeat:pgsql agent fit for PostgreSQL 12+.
#   EL: builds resource-agents PGHA_RA_VERSION from the verified tarball and installs it over the
#       distribution's agents (EL7 ships agents that only support PostgreSQL < 10); skipped when that version
#       is already installed.
#   Debian 12: uses the distribution's package (4.12.0) and repairs its ocf_promotion_score bug, which
#       passes "-v -INFINITY" to crm_attribute unquoted and makes every pgsql start time out.
# Inputs: PGHA_RA_VERSION, PGHA_RA_URL, PGHA_RA_SHA256 (empty only with allowUnverifiedDownloads).
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"

shellfuncs=/usr/lib/ocf/lib/heartbeat/ocf-shellfuncs
stamp=/var/lib/pgha/resource-agents.version

repair_promotion_score() {
    # Upstream's form names the resource explicitly and quotes the arguments.
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

if [[ $(pgha_os_family) == debian ]]; then
    [[ -f $shellfuncs ]] || pgha_die "resource-agents is not installed (os-prep installs it)"
    repair_promotion_score
    pgsql_supports_pg12 || pgha_die "the installed pgsql agent does not support PostgreSQL 12+"
    pgha_summary
    exit 0
fi

if [[ -f $stamp && $(cat "$stamp") == "$PGHA_RA_VERSION" ]] && pgsql_supports_pg12; then
    pgha_log "resource-agents $PGHA_RA_VERSION already installed"
    pgha_summary
    exit 0
fi

build=/var/tmp/pgha-build
mkdir -p "$build"
tarball="$build/resource-agents-$PGHA_RA_VERSION.tar.gz"
pgha_fetch_verified "$PGHA_RA_URL" "$tarball" "$PGHA_RA_SHA256"
cd "$(pgha_unpack "$tarball" "$build/resource-agents-src")"
./autogen.sh >/dev/null
./configure -q --prefix=/usr --sysconfdir=/etc --localstatedir=/var --libdir=/usr/lib64 --with-ocf-root=/usr/lib/ocf
make -s -j"$(nproc)"
make -s install
pgsql_supports_pg12 || pgha_die "resource-agents $PGHA_RA_VERSION installed, but its pgsql agent lacks PostgreSQL 12+ support"
mkdir -p "${stamp%/*}"
echo "$PGHA_RA_VERSION" >"$stamp"
pgha_changed "installed resource-agents $PGHA_RA_VERSION from source"
pgha_summary
