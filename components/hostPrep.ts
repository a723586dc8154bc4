/**
 * Pure rendering of what a node's preparation steps need: /etc/hosts lines, firewall ports, package lists
 * and the inputs of each script under scripts/.
 */
import { ClusterSpec } from "./config";
import { CLUSTER_CONF_PATH, NODE_LIBRARY_DIR, PGPASS_FILE, PGSQL_TMPDIR } from "./nodePaths";
import { ScriptValue, scriptText, shellQuote } from "./shell";


/** The scripts the tools step installs in NODE_LIBRARY_DIR: the node tools and the libraries they load. */
const NODE_SCRIPTS = ["lib.sh", "pglib.sh", "rejoinlib.sh", "pgsql-agent.sh", "pg-ctl.sh", "rejoin-node.sh", "switchover.sh", "rolling-restart.sh", "maintenance.sh", "status.sh", "restore-cluster.sh", "archive-get.sh"];
/** The entry points, each a launcher of one of those scripts: the cluster's resource agent and the operators' tools. */
export const NODE_TOOLS: readonly { readonly path: string; readonly script: string }[] = [
    { path: "/usr/lib/ocf/resource.d/pgha/pgsql", script: "pgsql-agent.sh" },
    { path: "/usr/local/sbin/pgha-rejoin-node", script: "rejoin-node.sh" },
    { path: "/usr/local/sbin/pgha-switchover", script: "switchover.sh" },
    { path: "/usr/local/sbin/pgha-rolling-restart", script: "rolling-restart.sh" },
    { path: "/usr/local/sbin/pgha-maintenance", script: "maintenance.sh" },
    { path: "/usr/local/sbin/pgha-status", script: "status.sh" },
    { path: "/usr/local/sbin/pgha-restore-cluster", script: "restore-cluster.sh" },
];

export type ScriptVars = Readonly<Record<string, ScriptValue>>;

/** Host names the VIPs get in /etc/hosts (the runbook's). */
export const VIP_MASTER_NAME = "vip-master";
export const VIP_SLAVE_NAME = "vip-slave";

/** /etc/hosts lines for every node, the backup host and both VIPs. */
export function hostsBlock(spec: ClusterSpec): string {
    return [
        ...spec.nodes.map((n) => `${n.ip} ${n.name}`),
        ...(spec.backup ? [`${spec.backup.host.ip} ${spec.backup.host.name}`] : []),
        `${spec.vipMaster} ${VIP_MASTER_NAME}`,
        `${spec.vipSlave} ${VIP_SLAVE_NAME}`,
    ].join("\n");
}

/** Ports the cluster uses: pcsd, pacemaker remote, corosync (knet/udpu), dlm, PostgreSQL. */
export function firewallPorts(spec: ClusterSpec): string[] {
    return ["2224/tcp", "3121/tcp", "5404-5406/udp", "21064/tcp", `${spec.postgresql.port}/tcp`];
}

const EL_CLUSTER = ["pacemaker", "pcs", "corosync", "psmisc", "policycoreutils-python", "curl", "tar", "bzip2", "perl"];
// Build dependencies of the source installs, for each distribution: this is the one list of them.
const EL_RA_BUILD = ["autoconf", "automake", "libtool", "make", "gcc-c++", "glib2-devel", "libxslt", "docbook-style-xsl", "python3"];
const EL_PG_BUILD = ["gcc", "readline-devel", "zlib-devel", "openssl-devel", "libxml2-devel", "libxslt-devel", "pam-devel", "perl-ExtUtils-Embed", "bison", "flex"];
const EL_PG_DOCS = ["docbook-dtds", "docbook-style-xsl", "libxslt", "libxml2"];
const DEBIAN_RA_BUILD = ["curl", "autoconf", "automake", "libtool", "make", "g++", "pkg-config", "libglib2.0-dev", "xsltproc", "docbook-xsl", "python3"];
// resource-agents comes with pacemaker-cli-utils either way; a source install goes over it.
const DEBIAN_CLUSTER = ["pacemaker", "pacemaker-cli-utils", "pcs", "corosync", "resource-agents", "fence-agents", "psmisc", "perl"];
const DEBIAN_PG_BUILD = ["curl", "build-essential", "libreadline-dev", "zlib1g-dev", "libssl-dev", "libxml2-dev", "libxslt1-dev", "libpam0g-dev", "bison", "flex", "bzip2"];
const DEBIAN_PG_DOCS = ["docbook-xml", "docbook-xsl", "xsltproc", "libxml2-utils"];

/** The fence agent's package: EL splits fence-agents per agent; Debian's fence_ipmilan needs ipmitool (a Recommends only). */
function fencePackages(spec: ClusterSpec, family: "el" | "debian"): string[] {
    if (!spec.fencing.enabled) {
        return [];
    }
    if (family === "el") {
        return [spec.fencing.agent === "fence_ipmilan" ? "fence-agents-ipmilan" : "fence-agents-vmware-rest"];
    }
    return spec.fencing.agent === "fence_ipmilan" ? ["ipmitool"] : [];
}

/** What a host is: a cluster node, or the backup host (pgBackRest's repository, PostgreSQL for restores only). */
export type HostRole = "node" | "backup";

/**
 * pgBackRest (EL: from the PGDG or EPEL repository configured beforehand), on every host when backups are on,
 * and logrotate, which rotates its logs with the package's own configuration (Debian installs it only as a
 * recommendation, which os-prep leaves out).
 */
function backupPackages(spec: ClusterSpec): string[] {
    return spec.backup ? ["pgbackrest", "logrotate"] : [];
}

/** Packages os-prep installs on EL hosts (the runbook's list, plus the fence agent and pgBackRest). */
export function elPackages(spec: ClusterSpec, role: HostRole = "node"): string[] {
    const pg = spec.postgresql;
    const build = pg.install === "source" ? [...EL_PG_BUILD, ...(pg.buildDocs ? EL_PG_DOCS : [])] : [];
    if (role === "backup") {
        return unique(["curl", "tar", "bzip2", ...backupPackages(spec), ...build]);
    }
    const raBuild = spec.resourceAgents.install === "source" ? EL_RA_BUILD : [];
    return unique([...EL_CLUSTER, ...fencePackages(spec, "el"), ...backupPackages(spec), ...raBuild, ...build]);
}

/** Packages os-prep installs on Debian hosts, PostgreSQL's too (one transaction instead of two). */
export function debianPackages(spec: ClusterSpec, role: HostRole = "node"): string[] {
    const pg = spec.postgresql;
    const build = pg.install === "source" ? [...DEBIAN_PG_BUILD, ...(pg.buildDocs ? DEBIAN_PG_DOCS : [])] : [];
    if (role === "backup") {
        return unique([...backupPackages(spec), ...debianPostgresqlPackages(spec), ...build]);
    }
    const raBuild = spec.resourceAgents.install === "source" ? DEBIAN_RA_BUILD : [];
    return unique([...DEBIAN_CLUSTER, ...fencePackages(spec, "debian"), ...backupPackages(spec), ...debianPostgresqlPackages(spec), ...raBuild, ...build]);
}

/** PostgreSQL packages the postgresql step installs on Debian hosts in package mode. */
export function debianPostgresqlPackages(spec: ClusterSpec): string[] {
    return spec.postgresql.install === "package" ? [`postgresql-${spec.postgresql.major}`, "postgresql-contrib"] : [];
}

function unique(values: string[]): string[] {
    return [...new Set(values)];
}

/** os-prep's inputs for host `name`; the backup host opens no cluster port (pgBackRest goes over SSH). */
export function osPrepVars(spec: ClusterSpec, name: string, role: HostRole = "node"): ScriptVars {
    return {
        HOSTNAME: name,
        HOSTS_BLOCK: hostsBlock(spec),
        FIREWALL: spec.os.firewall,
        FIREWALL_PORTS: role === "node" ? firewallPorts(spec) : [],
        SELINUX: spec.os.selinux,
        YUM_BASEURL: spec.os.yumBaseUrl,
        EPEL_BASEURL: spec.os.epelBaseUrl,
        EL_PACKAGES: elPackages(spec, role),
        DEBIAN_PACKAGES: debianPackages(spec, role),
    };
}

export function resourceAgentsVars(spec: ClusterSpec): ScriptVars {
    const ra = spec.resourceAgents;
    return { RA_INSTALL: ra.install, RA_VERSION: ra.version, RA_URL: ra.url, RA_SHA256: ra.sha256 ?? "" };
}

/** postgresql.sh's inputs; on the backup host only the binaries (restores), no data directory of the cluster's. */
export function postgresqlVars(spec: ClusterSpec, role: HostRole = "node"): ScriptVars {
    const pg = spec.postgresql;
    return {
        PG_SERVER_DIRS: role === "node",
        PG_INSTALL: pg.install,
        PG_VERSION: pg.version,
        PG_MAJOR: pg.major,
        PG_PREFIX: pg.prefix,
        PGDATA: pg.pgdata,
        PG_PORT: pg.port,
        PG_URL: pg.sourceUrl,
        PG_SHA256: pg.sourceSha256 ?? "",
        PG_BUILD_DOCS: pg.buildDocs,
        PG_UID: pg.uid,
        PG_GID: pg.gid,
        DEBIAN_PG_PACKAGES: debianPostgresqlPackages(spec),
    };
}

/** /etc/pgha/cluster.conf: shell assignments the node tools and the resource agent load. */
export function clusterConf(spec: ClusterSpec): string {
    const pg = spec.postgresql;
    const values: [string, string][] = [
        ["PGHA_PGDATA", pg.pgdata],
        ["PGHA_BINDIR", pg.bindir],
        ["PGHA_PG_PORT", String(pg.port)],
        // Backups: the stanza ("" without backups), and how old the newest backup and restore drill may be.
        ["PGHA_STANZA", spec.backup?.stanza ?? ""],
        ["PGHA_BACKUP_HOST", spec.backup?.host.name ?? ""],
        ["PGHA_BACKUP_HOST_IP", spec.backup?.host.ip ?? ""],
        ["PGHA_BACKUP_OVERDUE_SECONDS", String(spec.backup?.backupOverdueSeconds ?? 0)],
        ["PGHA_RESTORE_TEST_OVERDUE_SECONDS", String(spec.backup?.restoreTestOverdueSeconds ?? 0)],
        ["PGHA_REPLICATION_USER", pg.replicationUser],
        ["PGHA_PGPASS_FILE", PGPASS_FILE],
        ["PGHA_PGSQL_TMPDIR", PGSQL_TMPDIR],
        ["PGHA_NODES", spec.nodes.map((n) => `${n.name}=${n.ip}`).join(" ")],
        ["PGHA_VIP_MASTER", spec.vipMaster],
        ["PGHA_VIP_SLAVE", spec.vipSlave],
        ["PGHA_AUTO_REJOIN", String(spec.pacemaker.autoRejoin)],
        ["PGHA_FAILURE_TIMEOUT_SECONDS", String(spec.pacemaker.failureTimeoutSeconds)],
    ];
    return ["# Written by pgha (the node's tools step): changes here are overwritten.", ...values.map(([k, v]) => `${k}=${shellQuote(v)}`)].join("\n");
}

export function nodeToolsVars(spec: ClusterSpec): ScriptVars {
    return {
        CLUSTER_CONF_PATH,
        CLUSTER_CONF: clusterConf(spec),
        LIBRARY_DIR: NODE_LIBRARY_DIR,
        SCRIPTS: NODE_SCRIPTS,
        ...Object.fromEntries(NODE_SCRIPTS.map((name, i) => [`SCRIPT_${i}`, scriptText(name)])),
        LAUNCHERS: NODE_TOOLS.map((t) => `${t.path}=${t.script}`),
    };
}
