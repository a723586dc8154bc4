#!/usr/bin/env bash
# Installs PostgreSQL and prepares its user, directories and environment. The database itself is
# created later, on the first node only (pg-bootstrap.sh).
#   source:  postgres user/group with fixed uid/gid, verified tarball (refused before unpacking when its
#            sha256 differs), configure --prefix --with-pgport, make with all cores (world or core + contrib),
#            install; skipped when the prefix holds PGHA_PG_VERSION built from the tarball with PGHA_PG_SHA256.
#   package: the distribution's packages (Debian postgresql-<major>, EL PGDG postgresql<major>-server).
# On the backup host (PGHA_PG_SERVER_DIRS false) only the binaries and the user: it restores backups, it holds
# no data directory of the cluster's.
# Inputs: PGHA_PG_INSTALL PGHA_PG_VERSION PGHA_PG_MAJOR PGHA_PG_PREFIX PGHA_PGDATA PGHA_PG_SERVER_DIRS
#         PGHA_PG_PORT PGHA_PG_URL PGHA_PG_SHA256 PGHA_PG_BUILD_DOCS PGHA_PG_UID PGHA_PG_GID
#         PGHA_DEBIAN_PG_PACKAGES
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"

family=$(pgha_os_family)
bindir="$PGHA_PG_PREFIX/bin"

# What PostgreSQL's documentation build needs and this node lacks, comma-separated; empty when complete.
missing_docs_tools() {
    local missing=() tool
    for tool in xsltproc xmllint xmlcatalog; do
        command -v "$tool" >/dev/null || missing+=("$tool")
    done
    if command -v xmlcatalog >/dev/null; then
        xmlcatalog /etc/xml/catalog "-//OASIS//DTD DocBook XML V4.5//EN" >/dev/null 2>&1 || missing+=("the DocBook XML 4.5 DTD")
        xmlcatalog /etc/xml/catalog http://docbook.sourceforge.net/release/xsl/current/xhtml/chunk.xsl >/dev/null 2>&1 || missing+=("the DocBook XSL stylesheets")
    fi
    local joined="" item
    for item in "${missing[@]}"; do joined+="${joined:+, }$item"; done
    printf '%s' "$joined"
}

installed_version() { "$bindir/postgres" --version 2>/dev/null | awk '{print $NF}'; }

if [[ $PGHA_PG_INSTALL == package ]]; then
    if [[ $family == debian ]]; then
        # The Debian package creates a "main" cluster it starts itself; the cluster manages its own data dir.
        # shellcheck disable=SC2086 # a word list
        pgha_install_packages debian $PGHA_DEBIAN_PG_PACKAGES
    else
        pgha_install_packages el "postgresql$PGHA_PG_MAJOR-server" "postgresql$PGHA_PG_MAJOR-contrib"
    fi
    [[ $(installed_version) == "$PGHA_PG_MAJOR".* ]] || pgha_die "no PostgreSQL $PGHA_PG_MAJOR at $bindir (check pgha:postgresqlPrefix)"
    id postgres >/dev/null 2>&1 || pgha_die "the package did not create the postgres user"
    # Debian's package creates a cluster "main" and starts it on the same port; only Pacemaker may start
    # PostgreSQL here. Keep every other cluster stopped and out of the boot (its data stays).
    if command -v pg_lsclusters >/dev/null; then
        while read -r version name _port status _owner datadir _log; do
            [[ $datadir != "$PGHA_PGDATA" ]] || continue
            if [[ $status == online* ]]; then
                systemctl stop "postgresql@$version-$name"
                pgha_changed "stopped the distribution's cluster $version/$name"
            fi
            start_conf=/etc/postgresql/$version/$name/start.conf
            if [[ -f $start_conf && $(grep -v '^#' "$start_conf" | xargs) != disabled ]]; then
                printf '# pgha: the cluster runs PostgreSQL from %s under Pacemaker\ndisabled\n' "$PGHA_PGDATA" >"$start_conf"
                pgha_changed "kept the distribution's cluster $version/$name out of the boot"
            fi
        done < <(pg_lsclusters -h)
    fi
else
    if ! getent group postgres >/dev/null; then
        groupadd -g "$PGHA_PG_GID" postgres
        pgha_changed "group postgres ($PGHA_PG_GID)"
    fi
    if ! id postgres >/dev/null 2>&1; then
        useradd -u "$PGHA_PG_UID" -g postgres -m -s /bin/bash postgres
        pgha_changed "user postgres ($PGHA_PG_UID)"
    fi
    [[ $(id -u postgres) == "$PGHA_PG_UID" ]] || pgha_log "WARNING: postgres has uid $(id -u postgres), not $PGHA_PG_UID"

    stamp=/var/lib/pgha/postgresql.source
    if [[ $(installed_version) == "$PGHA_PG_VERSION" ]] && pgha_build_current "$stamp" "$PGHA_PG_VERSION" "$PGHA_PG_SHA256"; then
        pgha_log "PostgreSQL $PGHA_PG_VERSION already built from that tarball at $PGHA_PG_PREFIX"
    else
        if [[ $PGHA_PG_BUILD_DOCS == true && -n $(missing_docs_tools) ]]; then
            pgha_die "pgha:postgresqlBuildDocs is true, but this node lacks $(missing_docs_tools) (os-prep installs them from the distribution's packages; without them the docs build fails late or reaches for the internet): install them or set pgha:postgresqlBuildDocs false"
        fi
        started=$SECONDS
        build=/var/tmp/pgha-build
        mkdir -p "$build"
        tarball="$build/postgresql-$PGHA_PG_VERSION.tar.bz2"
        pgha_fetch_verified "$PGHA_PG_URL" "$tarball" "$PGHA_PG_SHA256" postgresqlSourceSha256
        cd "$(pgha_unpack "$tarball" "$build/postgresql-src")"
        ./configure --quiet --prefix="$PGHA_PG_PREFIX" --with-pgport="$PGHA_PG_PORT" --with-openssl --with-libxml --with-libxslt --with-pam
        if [[ $PGHA_PG_BUILD_DOCS == true ]]; then
            make -s -j"$(nproc)" world
            make -s install-world
        else
            make -s -j"$(nproc)"
            make -s -C contrib -j"$(nproc)"
            make -s install
            make -s -C contrib install
        fi
        cd /
        rm -rf "$build/postgresql-src"
        [[ $(installed_version) == "$PGHA_PG_VERSION" ]] || pgha_die "build finished but $bindir/postgres is not $PGHA_PG_VERSION (check pgha:postgresqlVersion against the tarball)"
        pgha_build_record "$stamp" "$PGHA_PG_VERSION" "$PGHA_PG_SHA256"
        # A server already running keeps its binaries until it restarts (a rolling restart, standbys first).
        pgha_changed "built PostgreSQL $PGHA_PG_VERSION in $((SECONDS - started)) s with $(nproc) cores and installed it into $PGHA_PG_PREFIX"
    fi
fi

pg_group=$(id -gn postgres)
if [[ $PGHA_PG_SERVER_DIRS == true ]]; then
    [[ -d ${PGHA_PGDATA%/*} ]] || { mkdir -p "${PGHA_PGDATA%/*}"; pgha_changed "created ${PGHA_PGDATA%/*}"; }
    pgha_dir "$PGHA_PGDATA" 0700 "postgres:$pg_group"
    # The pgsql agent's tmpdir (PGSQL.lock, recovery.conf) and the replication passfile live here.
    pgha_dir /var/lib/pgsql 0755 "postgres:$pg_group"
    pgha_dir /var/lib/pgsql/tmp 0700 "postgres:$pg_group"
fi

home=$(getent passwd postgres | cut -d: -f6)
pgha_put_file "$home/.pgha_profile" 0644 "postgres:$pg_group" <<EOF
# Written by pgha: the PostgreSQL environment of the runbook.
export PGHOME=$PGHA_PG_PREFIX
export PGDATA=$PGHA_PGDATA
export PGPORT=$PGHA_PG_PORT
export PGPASSFILE=/var/lib/pgsql/.pgpass
export PATH=\$PGHOME/bin:\$PATH
export LD_LIBRARY_PATH=\$PGHOME/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}
EOF
profile="$home/.bash_profile"
[[ -e $profile ]] || { install -m 0644 -o postgres -g "$pg_group" /dev/null "$profile"; pgha_changed "created $profile"; }
pgha_put_block "$profile" environment <<<'[ -f ~/.pgha_profile ] && . ~/.pgha_profile'

# The parameters that need a restart, as this server says (context postmaster): preview tells by them whether a
# changed pgha:postgresqlParameters reloads or rolls (components/restartPlan.ts).
printf 'restart-parameters %s\n' "$(pgha_as_postgres "$PGHA_PG_PREFIX/bin/postgres" --describe-config | awk -F'\t' '$2 == "postmaster" {print $1}' | paste -sd' ' -)"
pgha_summary
