/**
 * The project's configuration keys, each declared once, in the `pgha:` namespace: its zod schema holds the type,
 * constraints and default, its metadata the description and whether it is a secret. components/config.ts
 * validates the stack configuration with these schemas and the rules that span keys; Pulumi.yaml's `config:`
 * block and the README's key table are generated from them (npm run docs:config, tools/docs-config.ts).
 *
 * Messages name what was wrong and the fix; config.ts prefixes them with the key and, inside a list or an
 * object, the place (`pgha:nodes: nodes[2].ip ...`). They read the key from the issue's path, so these schemas
 * are meant to be parsed as properties of one object.
 */
import * as pulumi from "@pulumi/pulumi";
import * as ipaddr from "ipaddr.js";
import { z } from "zod";
import { MANAGED_PARAMETERS } from "./managedParameters";
import { scheduleProblem } from "./schedule";

/** A refused value as messages quote it. */
function shown(value: unknown): string {
    return JSON.stringify(value);
}

/** The key a problem belongs to. */
function keyOf(issue: z.core.$ZodRawIssue): string {
    return String(issue.path?.[0]);
}

/** Text; surrounding spaces, easily left in a stack file, are dropped. */
function text() {
    return z.string({ error: (issue) => `expected a string, got ${shown(issue.input)}` }).trim();
}

/** Text that matches `pattern`; `refusal` says what is wrong with a value, given as quoted. */
function matching(pattern: RegExp, refusal: (value: string) => string) {
    return text().regex(pattern, { error: (issue) => refusal(shown(issue.input)) });
}

function integer(min: number, max: number, refusal = (value: string) => `expected an integer from ${min} to ${max}, got ${value}`) {
    const error = (issue: z.core.$ZodRawIssue) => refusal(shown(issue.input));
    return z.int({ error }).min(min, { error }).max(max, { error });
}

function flag() {
    return z.boolean({ error: (issue) => `expected true or false, got ${shown(issue.input)}` });
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
    return text().pipe(z.enum(values, { error: (issue) => `unknown value ${shown(issue.input)}; use one of ${values.join(", ")}` }));
}

function stringList(item: z.ZodString) {
    return z.array(item, { error: (issue) => `expected a list of strings, got ${shown(issue.input)}` });
}

/** An absolute path without spaces or `..` (scripts use it as given), without trailing slashes. */
function absolutePath() {
    return text()
        .refine((path) => path.startsWith("/") && !path.split("/").includes("..") && !/\s/.test(path), {
            error: (issue) => `${shown(issue.input)} is not an absolute path; give a path starting with / without spaces or ..`,
        })
        .overwrite((path) => path.replace(/\/+$/, "") || "/");
}

/** A download URL; no spaces or quotes, as scripts fetch it. */
function url() {
    return matching(/^(https?|ftp):\/\/[^\s'"]+$/, (value) => `${value} is not an http(s) or ftp URL`);
}

/** A repository's base URL, which paths are appended to: without trailing slashes. */
function baseUrl() {
    return url().overwrite((base) => base.replace(/\/+$/, ""));
}

/** A tarball's SHA-256 in lower case; empty: not set (config.ts says when one is needed). */
function sha256() {
    return text().toLowerCase().regex(/^([0-9a-f]{64})?$/, { error: (issue) => `${shown(issue.input)} is not a sha256 (64 hex digits)` });
}

/**
 * An IPv4 address as a dotted quad (ipaddr.js alone also takes forms such as 10.1 that belong in no config);
 * `label` names it in messages where the key does not, e.g. "VIP"; `orEmpty`: "" means not set.
 */
function ipv4(label = "", { orEmpty = false } = {}) {
    return text().refine((address) => (orEmpty && address === "") || ipaddr.IPv4.isValidFourPartDecimal(address), {
        error: (issue) => `${label}${label ? " " : ""}${shown(issue.input)} is not an IPv4 address`,
    });
}

function cidr() {
    return text().refine((range) => ipaddr.IPv4.isValidCIDRFourPartDecimal(range), { error: (issue) => `${shown(issue.input)} is not a CIDR such as 10.0.0.0/8` });
}

/**
 * A secret, set with `pulumi config set --secret`: the engine keeps a string and hands the program an Output,
 * which the docs declare as a string; a value stored in plain text is refused.
 */
function secret() {
    return z.custom<pulumi.Output<string>>((value) => pulumi.Output.isInstance(value), {
        error: (issue) => `is stored in plain text; set it as a secret: pulumi config set --secret pgha:${keyOf(issue)} ...`,
    }).meta({ type: "string", secret: true });
}

/**
 * A secret that the program generates when it is not set. Pulumi.yaml declares it plain with the default ""
 * (the engine refuses a default on secret keys); readRawConfig takes "" as not set.
 */
function optionalSecret() {
    return secret().optional().meta({ default: "" });
}

/** A timer's schedule (components/schedule.ts); `orEmpty`: "" means never. */
function schedule({ orEmpty = false } = {}) {
    return text().refine((expression) => (orEmpty && expression === "") || scheduleProblem(expression) === undefined, {
        error: (issue) => scheduleProblem(String(issue.input)) ?? "",
    });
}

/** A key without a default: absent or empty, it is refused with `required: ` and how to set it. */
function required<T extends z.ZodType>(schema: T, howToSet: (key: string) => string) {
    return z.custom((value) => value !== undefined && value !== "", { error: (issue) => `required: ${howToSet(keyOf(issue))}`, abort: true }).pipe(schema);
}

function vip(role: string) {
    return required(ipv4("VIP"), (key) => `set the ${role} virtual IP with pulumi config set pgha:${key} <ip>`);
}

const NODE_FIELDS = {
    name: matching(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, (value) => `${value} is not a valid hostname (lower-case letters, digits, -)`),
    ip: ipv4(),
    vmName: matching(/^[^;:]+$/, () => "must be a non-empty VM name without ; or :").optional(),
    // A dotted quad is a host name too.
    bmcAddress: text().pipe(z.hostname({ error: (issue) => `${shown(issue.input)} is not an IPv4 address or host name` })).optional(),
    // Pulumi hands numbers in objects over as numbers; accept their string form too.
    bmcPort: z.preprocess(
        (port) => (typeof port === "string" && /^[0-9]+$/.test(port) ? Number(port) : port),
        integer(1, 65535, (value) => `${value} is not a port (1-65535)`),
    ).optional(),
    // IPMI user names: at most 16 bytes; no spaces or characters that would need quoting in the CIB.
    bmcUser: matching(/^[A-Za-z0-9_.@-]{1,16}$/, (value) => `${value} is not a BMC user name (1-16 characters, no spaces)`).optional(),
};

const NODE = z.strictObject(NODE_FIELDS, {
    error: (issue) => issue.code === "unrecognized_keys"
        ? `(${(issue.input as { name: string }).name}) has unknown field(s) ${issue.keys.join(", ")}; a node takes ${Object.keys(NODE_FIELDS).join(", ")}`
        : undefined,
}).refine((node) => node.bmcAddress !== undefined || (node.bmcPort === undefined && node.bmcUser === undefined), {
    error: (issue) => `(${(issue.input as { name: string }).name}) has bmcPort or bmcUser but no bmcAddress`,
});

/** Checked before the fields, so that an entry that is no node at all gets one message, not one per field. */
const NODE_ENTRY = z.looseObject({ name: z.string(), ip: z.string() });

function nodeList() {
    const entry = z.custom((value) => NODE_ENTRY.safeParse(value).success, {
        error: (issue) => `must be {name, ip} with string values, got ${shown(issue.input)}`,
    }).pipe(NODE);
    return z.array(entry, { error: (issue) => `expected a list of {name, ip}, got ${shown(issue.input)}` })
        // Not .min(2): zod runs length checks on anything with a length, a string too.
        .refine((nodes) => nodes.length >= 2, {
            error: (issue) => `has ${(issue.input as unknown[]).length} node(s); a cluster needs at least 2 (3 recommended, so that quorum survives one failure)`,
        });
}

/**
 * PostgreSQL parameters by name: a value is text, a number or true/false (on/off). A name is an identifier, or
 * an extension's `prefix.name`, folded to lower case as PostgreSQL does; the parameters pgha sets itself are
 * refused with what controls them. Whether PostgreSQL knows a name and takes its value is for the server's own
 * parser to say, on the node, before anything is written (scripts/pglib.sh).
 */
function postgresqlParameters() {
    const value = z.union([z.string(), z.number(), z.boolean()], { error: (issue) => `expected text, a number or true/false, got ${shown(issue.input)}` })
        .transform((v) => (typeof v === "boolean" ? (v ? "on" : "off") : String(v)))
        .refine((v) => !/[\n\r]/.test(v), { error: "a value is one line" });
    return z.record(z.string(), value, { error: (issue) => `expected a map of parameter names to values, e.g. {"work_mem": "64MB"}, got ${shown(issue.input)}` })
        .superRefine((parameters, ctx) => {
            for (const name of Object.keys(parameters)) {
                const folded = name.toLowerCase();
                if (!/^[a-z_][a-z0-9_$]*(\.[a-z_][a-z0-9_$]*)?$/.test(folded)) {
                    ctx.addIssue({ code: "custom", path: [name], message: "is not a PostgreSQL parameter name (letters, digits and _, an extension's as prefix.name)" });
                } else if (MANAGED_PARAMETERS[folded] !== undefined) {
                    ctx.addIssue({ code: "custom", path: [name], message: `is managed by pgha: ${MANAGED_PARAMETERS[folded]}` });
                } else if (folded !== name && folded in parameters) {
                    ctx.addIssue({ code: "custom", path: [name], message: `is given twice (PostgreSQL's names ignore case: ${folded})` });
                }
            }
        })
        .transform((parameters) => Object.fromEntries(Object.entries(parameters).map(([name, v]) => [name.toLowerCase(), v])))
        .meta({ type: "object" });
}

/** Every key's schema, in the order Pulumi.yaml and the README list them. */
export const CONFIG_KEY_SCHEMAS = {
    // Topology
    hostMode: oneOf(["vsphere", "existing"]).default("vsphere").describe("How hosts come to exist: `vsphere` clones a VM per node from a template; `existing` adopts hosts already running at the node IPs (no VM is created)."),
    nodes: required(nodeList(), () => "a list of at least 2 {name, ip} entries, e.g. [{\"name\":\"pgtest1\",\"ip\":\"192.168.24.11\"}, ...]").describe("Cluster nodes, a list of `{name, ip}`. Names become hostnames and Pacemaker node names; the first node is the initial primary. At least 2, 3 recommended. Optional per node: `vmName` (the VM's name in vCenter, for fence_vmware_rest; default: the node name); `bmcAddress`, `bmcPort` (default 623) and `bmcUser` (default: pgha:fenceUser), the node's BMC for fence_ipmilan."),
    vipMaster: vip("read-write").describe("Read-write virtual IP (vip-master); follows the primary. Must be in the nodes' subnet."),
    vipSlave: vip("read-only").describe("Read-only virtual IP (vip-slave); follows the sync standby, falls back to the primary. Must be in the nodes' subnet."),
    prefixLength: integer(8, 30).default(24).describe("Prefix length of the nodes' subnet (24 = 255.255.255.0); node IPs and VIPs must share it."),
    gateway: ipv4("gateway", { orEmpty: true }).default("").describe("Default gateway given to cloned VMs (required in vsphere mode)."),
    dnsServers: stringList(ipv4()).default([]).describe("DNS servers given to cloned VMs."),
    domain: text().default("localdomain").describe("DNS domain given to cloned VMs."),
    nic: matching(/^[a-zA-Z0-9_.:-]{1,15}$/, (value) => `${value} is not an interface name (e.g. ens33, eth0)`).default("ens33").describe("Network interface on the nodes that carries the node IP and the VIPs."),
    clusterName: matching(/^[A-Za-z0-9_-]{1,32}$/, (value) => `${value}: use 1-32 letters, digits, - or _`).default("pgcluster").describe("Pacemaker/Corosync cluster name."),
    // SSH
    sshUser: matching(/^[a-z_][a-z0-9_-]{0,31}$/, (value) => `${value} is not a user name`).default("root").describe("User for the SSH connections of every provisioning step; must be root or have password-less sudo as root."),
    sshPort: integer(1, 65535).default(22).describe("SSH port of the nodes."),
    sshPrivateKey: required(secret(), (key) => `pulumi config set --secret pgha:${key} < ~/.ssh/id_ed25519`).describe("Private key (PEM/OpenSSH text) for SSH to the nodes. Required. Set with `pulumi config set --secret pgha:sshPrivateKey < key`."),
    // VM sizing and vSphere placement
    vmCpus: integer(1, 128).default(2).describe("vCPUs per VM (vsphere mode). A change restarts each VM's guest, all three at once unless applied one VM at a time (README, Operating the cluster)."),
    vmMemoryMiB: integer(512, 1048576).default(2048).describe("Memory per VM in MiB (vsphere mode). A change restarts each VM's guest, all three at once unless applied one VM at a time (README, Operating the cluster)."),
    vmDiskGiB: integer(10, 65536).default(60).describe("System disk size per VM in GiB (vsphere mode); not smaller than the template's disk."),
    vsphereDatacenter: text().default("").describe("vSphere datacenter (required in vsphere mode)."),
    vsphereComputeCluster: text().default("").describe("vSphere compute cluster whose root resource pool receives the VMs; set this or vsphereResourcePool."),
    vsphereResourcePool: text().default("").describe("vSphere resource pool path for the VMs (e.g. `cluster1/Resources/db`); overrides vsphereComputeCluster."),
    vsphereDatastore: text().default("").describe("Datastore for the VMs' disks (required in vsphere mode)."),
    vsphereNetwork: text().default("").describe("Port group the VMs' NIC connects to (required in vsphere mode)."),
    vsphereFolder: text().default("").describe("VM folder, relative to the datacenter's vm folder; empty: the datacenter's root VM folder."),
    protect: flag().default(true).describe("Protect the cluster's VMs (vsphere mode) so that `pulumi destroy` or a change that would replace a VM is refused; set false (and `pulumi up`) before destroying a cluster on purpose. On existing hosts `pulumi destroy` stops the cluster and removes its configuration but never touches PGDATA, the WAL archive or the packages."),
    vsphereTemplate: text().default("").describe("CentOS 7.9 template to clone (open-vm-tools and perl installed for guest customization); required in vsphere mode."),
    // Operating system
    firewall: flag().default(true).describe("Keep firewalld on and open exactly the cluster's ports (pcsd 2224/tcp, corosync 5404-5406/udp, pacemaker remote 3121/tcp, dlm 21064/tcp, PostgreSQL port); false stops and disables firewalld as the runbook did."),
    selinux: oneOf(["enforcing", "permissive", "disabled"]).default("permissive").describe("SELinux mode on EL hosts: `enforcing`, `permissive` or `disabled` (the runbook's choice). Permissive by default because no policy is shipped for a source build under /postgresql; a change of mode to or from disabled needs a reboot."),
    yumBaseUrl: baseUrl().default("https://vault.centos.org/7.9.2009").describe("Base URL of the CentOS 7.9 repositories (os, updates, extras); CentOS 7 is end of life, so the vault or an internal mirror of it."),
    epelBaseUrl: baseUrl().default("https://archives.fedoraproject.org/pub/archive/epel/7").describe("Base URL of the EPEL 7 archive or mirror (EL hosts; used only for build dependencies the base repos lack)."),
    // PostgreSQL
    postgresqlInstall: oneOf(["source", "package"]).default("source").describe("`source`: build PostgreSQL from the source tarball into postgresqlPrefix (the runbook); `package`: install the distribution's packages (Debian: postgresql-<major>; EL: PGDG postgresql<major>-server, repository configured beforehand)."),
    postgresqlVersion: text().default("14.6").describe("PostgreSQL version: full version for source builds (14.6); the major version (15) for package installs."),
    postgresqlPrefix: absolutePath().default("/postgresql/pg14").describe("Absolute install prefix; binaries are in <prefix>/bin. For package installs the package's prefix, e.g. /usr/lib/postgresql/15 on Debian."),
    pgdata: absolutePath().default("/postgresql/pgdata").describe("Absolute path of the data directory (PGDATA)."),
    postgresqlPort: integer(1, 65535).default(5432).describe("PostgreSQL port on the nodes and the VIPs."),
    postgresqlSourceUrl: url().default("https://ftp.postgresql.org/pub/source/v14.6/postgresql-14.6.tar.bz2").describe("URL of the PostgreSQL source tarball (source installs)."),
    postgresqlSourceSha256: sha256().default("").describe("SHA-256 of the PostgreSQL source tarball (64 hex digits); required for source installs unless allowUnverifiedDownloads is true. A tarball that does not match is refused before anything is unpacked; a changed sha256 or version rebuilds."),
    postgresqlBuildDocs: flag().default(true).describe("true: `make world` / `install-world` as the runbook, with the HTML and man pages (os-prep installs the docbook tools and xsltproc; the build is refused before it starts when they are missing); false: core and contrib only, minutes faster."),
    postgresUid: integer(1, 65534).default(666).describe("uid of the postgres user created on every node (the runbook's 666); the same on every node so data directories move between nodes."),
    postgresGid: integer(1, 65534).default(666).describe("gid of the postgres group."),
    walKeepSizeMb: integer(0, 1048576).default(10240).describe("wal_keep_size in MB (the runbook's 10240)."),
    replicationUser: matching(/^(?!postgres$)[a-z_][a-z0-9_]{0,62}$/, (value) => `${value}: use a lower-case role name other than postgres`).default("replicator").describe("Replication role created with REPLICATION LOGIN; its password comes from replicationPassword."),
    allowedClientCidrs: stringList(cidr()).default([]).describe("CIDRs allowed to connect to PostgreSQL (scram-sha-256) besides the nodes; empty: the nodes' subnet."),
    postgresqlParameters: postgresqlParameters().default({}).describe("PostgreSQL parameters for every node, e.g. `{\"work_mem\": \"64MB\", \"max_connections\": 200}` (`pulumi config set --path 'pgha:postgresqlParameters.work_mem' 64MB`), written to pgha.conf after pgha's own settings. Each node's PostgreSQL checks names and values with its own parser before anything is written; a refused one fails that node's step with the key named and changes nothing. Parameters pgha sets itself (replication, archiving, ports and paths, restart_after_crash, ...) are refused with the key that controls them. A running server reloads; a parameter that needs a restart is rolled through the cluster in the same up: the standbys one at a time, then the primary by one switchover (README, Changing a running cluster)."),
    restartPolicy: oneOf(["rolling", "in-place"]).default("rolling").describe("How a change that needs a PostgreSQL restart reaches the primary, once the standbys have been restarted one at a time: `rolling`, one planned switchover to the restarted sync standby (writes pause for the switchover, a few seconds; the primary moves); `in-place`, the primary restarted where it is under Pacemaker's maintenance mode (writes stop for the restart, about as long; the primary stays). Either way the change starts only on a healthy cluster and stops at the first node that does not come back."),
    // Backups (pgBackRest on a repository host)
    backupHost: matching(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)?$/, (value) => `${value} is not a valid hostname (lower-case letters, digits, -)`).default("").describe("Name of the backup repository host: a machine apart from the cluster nodes, with no database role, that keeps the backups and the WAL archive (pgBackRest). vsphere mode clones it like the nodes; existing mode adopts the host at pgha:backupHostIp. Empty: no backup host, no backups and no WAL archive (each node keeps only pgha:walKeepSizeMb of WAL; no point-in-time recovery)."),
    backupHostIp: ipv4("backup host", { orEmpty: true }).default("").describe("IPv4 address of pgha:backupHost, in the nodes' subnet; required with pgha:backupHost."),
    backups: flag().default(true).describe("Back up the cluster to pgha:backupHost when one is set: WAL archiving into its repository, scheduled backups taken from a standby, and restore drills. false: no backups (the backup host is left alone)."),
    backupRepoPath: absolutePath().default("/var/lib/pgbackrest").describe("Directory of the pgBackRest repository on the backup host."),
    backupFullSchedule: schedule().default("Sun *-*-* 01:00:00").describe("When the backup host takes a full backup (a systemd calendar: hourly, daily, weekly, or `[DAYS ]*-*-* HH:MM[:SS]` with DAYS such as `Sun` or `Mon..Sat`). Weekly by default."),
    backupDiffSchedule: schedule({ orEmpty: true }).default("Mon..Sat *-*-* 01:00:00").describe("When the backup host takes a differential backup (changes since the last full one); same form as pgha:backupFullSchedule. Daily except on the full backup's day by default; empty: none."),
    backupRetentionFull: integer(1, 1000).default(2).describe("Full backups kept (pgBackRest repo1-retention-full); an older full backup, its differentials and the WAL only they need are expired after each backup, so the repository stays bounded."),
    restoreTestSchedule: schedule().default("Sun *-*-* 05:00:00").describe("When the backup host runs a restore drill (pgha-restore-test: a canary row written through the primary, the newest backup plus WAL restored into a scratch directory, the canary and pg_amcheck checked there); same form as pgha:backupFullSchedule. Weekly by default."),
    archiveTimeoutSeconds: integer(10, 3600).default(60).describe("archive_timeout: a WAL segment goes to the repository at least this often while anything is written, which bounds what a restore can lose under light traffic (the RPO). Each switch costs a segment, compressed in the repository."),
    archivePushQueueMaxMb: integer(16, 1048576).default(4096).describe("At most this much WAL waits on the primary for the backup host (pgBackRest archive-push-queue-max). Past it the primary drops the oldest waiting WAL from the archive and keeps running: point-in-time recovery then has a gap until the next backup, which pgha-status reports (exit 2)."),

    // Resource agents
    resourceAgentsInstall: oneOf(["source", "package"]).default("source").describe("`source`: build resource-agents from the verified tarball and install it under /usr over the distribution's agents (the runbook; EL 7's agents do not support PostgreSQL 12+); on Debian the resource-agents package is then held, so that an upgrade cannot put its agents back silently. `package`: the distribution's agents (Debian 12: 4.12.0)."),
    resourceAgentsVersion: matching(/^[0-9]+\.[0-9]+\.[0-9]+$/, (value) => `${value} is not a version such as 4.12.0`).default("4.12.0").describe("resource-agents version of the tarball (source installs); a changed version or sha256 rebuilds."),
    resourceAgentsUrl: url().default("https://github.com/ClusterLabs/resource-agents/archive/refs/tags/v4.12.0.tar.gz").describe("URL of the resource-agents source tarball; it must unpack to resource-agents-<version>/."),
    resourceAgentsSha256: sha256().default("").describe("SHA-256 of the resource-agents tarball; required for source installs unless allowUnverifiedDownloads is true. A tarball that does not match is refused before anything is unpacked."),
    allowUnverifiedDownloads: flag().default(false).describe("Opt-out: build from tarballs whose sha256 is not configured. Not for production."),
    // Passwords (generated with random.RandomPassword when not set)
    haclusterPassword: optionalSecret().describe("Password of the hacluster user (pcsd authentication). Optional: generated when not set, exported as a secret output."),
    postgresPassword: optionalSecret().describe("Password of the postgres superuser. Optional: generated when not set, exported as a secret output."),
    replicationPassword: optionalSecret().describe("Password of the replication role. Optional: generated when not set, exported as a secret output."),
    // Pacemaker resources
    repMode: oneOf(["sync", "async"]).default("sync").describe("pgsql agent rep_mode: `sync` (one synchronous standby, no acknowledged commit lost on failover) or `async`."),
    pgsqlMonitorIntervalSeconds: integer(1, 3600).default(3).describe("Monitor interval of unpromoted pgsql instances. 3 s instead of the runbook's 11 s: the agent elects a primary after 3 monitors of every standby (xlog_check_count), so this sets how long a cluster start or a full restart takes to accept writes; each monitor costs a few psql and crm_attribute calls."),
    pgsqlPromotedMonitorIntervalSeconds: integer(1, 3600).default(1).describe("Monitor interval of the promoted pgsql instance. 1 s instead of the runbook's 10 s: it bounds how long a dead or stopped primary goes unnoticed (half of it on average) and how long commits wait when the sync standby dies (the primary's monitor hands the sync role to the other standby); a monitor costs about a tenth of a CPU second."),
    pgsqlMonitorTimeoutSeconds: integer(5, 3600).default(10).describe("Timeout of pgsql monitor operations. 10 s instead of the runbook's 30 s: a hung primary (one that accepts no connection) is found after this long, then fenced within seconds (ocf:pgha:pgsql fails its stop at once); it must stay above what a monitor takes on a loaded node."),
    pgsqlStartTimeoutSeconds: integer(10, 86400).default(120).describe("Timeout of pgsql start."),
    pgsqlStopTimeoutSeconds: integer(10, 86400).default(120).describe("Timeout of pgsql stop."),
    pgsqlPromoteTimeoutSeconds: integer(10, 86400).default(120).describe("Timeout of pgsql promote."),
    pgsqlDemoteTimeoutSeconds: integer(10, 86400).default(120).describe("Timeout of pgsql demote."),
    pgsqlNotifyTimeoutSeconds: integer(10, 86400).default(90).describe("Timeout of pgsql notify."),
    corosyncTokenMs: integer(0, 300000).refine((ms) => !(ms > 0 && ms < 300), { error: (issue) => `${shown(issue.input)} ms is too short to tell a busy node from a dead one; use 300 or more (1000 is the default), or 0 for pcs's default` }).default(1000).describe("Corosync's token timeout in ms: how long a node may be silent before the others declare it lost (then consensus, 1.2 times this, before the new membership), set with token_coefficient 0 (no increase per node). 1000 instead of pcs's 3000 plus 650 per node beyond two (the runbook's): a dead or cut-off node is noticed in about 2.2 s, not 8. Raise it for links that drop packets for a second or more. 0: pcs's defaults. Applied to an existing cluster with pcs cluster config update (pcs 0.10+)."),
    dcDeadtimeSeconds: integer(1, 3600).default(5).describe("How long a starting node waits for a cluster coordinator before electing one (Pacemaker's dc-deadtime). 5 s instead of Pacemaker's 20 s (the runbook's): a full stop and start of the cluster accepts writes sooner; quorum still guards the start."),
    loadThresholdPercent: integer(1, 100000).default(400).describe("CPU load, in percent of the cores, above which Pacemaker slows its recovery (load-threshold): at twice this, it runs one cluster action at a time. 400 instead of Pacemaker's 80 (the runbook's): a busy database server often has a load of two per core, and a throttled failover fires its demote, promote, notifications and VIP one after the other (a 3.5 s switchover took 8 s on a loaded node); this cluster runs a handful of resources, so parallel actions cost nothing."),
    walSenderTimeoutSeconds: integer(1, 3600).default(10).describe("wal_sender_timeout and wal_receiver_timeout in seconds: how long a primary waits on a vanished standby (a powered-off sync standby holds up synchronous commits this long at most) and a standby on a vanished primary. 10 s instead of PostgreSQL's 60 s (the runbook's)."),
    pgsqlFailureTimeoutSeconds: integer(0, 86400).default(30).describe("After PostgreSQL fails on a node, Pacemaker moves the primary away at once (migration-threshold=1; the runbook restarts it in place first, which the agent's PGSQL.lock makes fail anyway) and starts that node's instance again after this many seconds (failure-timeout), which rejoins it as a standby (pgha:autoRejoin). 0: the runbook's behaviour (no migration-threshold or failure-timeout: the node stays out until a person cleans it up)."),
    autoRejoin: flag().default(true).describe("A failed, fenced or partitioned old primary, or any node whose data left the primary's history, becomes a standby by itself when Pacemaker starts it again (at boot, after pgsqlFailureTimeoutSeconds, after a partition heals): rewound with pg_rewind (else copied afresh, the old data kept aside) when that loses no acknowledged transaction; refused, and reported by pgha-status, when the node was promoted later than the current primary or in a way it never saw. false: such a node stays out until pgha-rejoin-node runs on it."),
    vipMonitorIntervalSeconds: integer(1, 3600).default(5).describe("Monitor interval of the two IPaddr2 VIPs (the runbook's 5s)."),
    // Fencing
    fencingEnabled: flag().default(true).describe("Fence (power off and on) a failed or unreachable node before anything it ran is recovered elsewhere. Turning it off allows split brain; the program warns at preview and up."),
    fenceAgent: oneOf(["", "fence_vmware_rest", "fence_ipmilan"]).default("").describe("Fence agent: `fence_vmware_rest` (vCenter powers the node's VM; one device for all nodes) or `fence_ipmilan` (each node's BMC, IPMI 2.0 lanplus; one device per node, never run on the node it fences). Empty: fence_vmware_rest in vsphere mode, fence_ipmilan with existing hosts."),
    fenceVcenterAddress: text().default("").describe("vCenter address for fence_vmware_rest; empty: the vsphere provider's vsphere:vsphereServer."),
    fenceUser: text().default("").describe("User of the fence device: the vCenter user for fence_vmware_rest (needs only power operations on the cluster's VMs), the BMC user for fence_ipmilan (a node's `bmcUser` overrides it); required when fencing is on."),
    fencePassword: optionalSecret().describe("Password of the fence user (BMCs: at most 20 characters, IPMI 2.0); required when fencing is on. Kept in a root-only file on each node that the fence devices read through password_script, never in the CIB, argv or logs."),
    fenceSslInsecure: flag().default(false).describe("Skip TLS certificate verification of vCenter for fencing (self-signed certificates)."),
    fencePowerWaitSeconds: integer(0, 60).default(2).describe("fence_ipmilan: seconds to wait after a power off or on before polling the BMC (the agent's power_wait; 2 is the agent's default for BMCs whose status lags; 0 for BMCs that report the new state at once)."),
    fenceRaceDelaySeconds: integer(0, 300).default(5).describe("Two-node split (each side still quorate): the side without the primary waits this long before it shoots, so that only one side does (priority-fencing-delay, with the promoted pgsql instance counting most; pcs 0.9 / Pacemaker 1.1: a random pcmk_delay_max of this length on two-node clusters). A side that holds the majority never waits."),
};

/** What the docs say of a key, as its schema's JSON Schema has it. */
const DOCUMENTED = z.object({
    type: z.enum(["string", "integer", "boolean", "array", "object"]),
    /** Element type of an array key. */
    items: z.object({ type: z.enum(["string", "object"]) }).transform((items) => items.type).optional(),
    /** Used when the stack does not set the key; absent for required keys. */
    default: z.union([z.string(), z.number(), z.boolean(), z.array(z.unknown()), z.record(z.string(), z.unknown())]).optional(),
    description: z.string(),
    /**
     * Set with `pulumi config set --secret`; read as a secret, plain-text values refused. Pulumi.yaml marks
     * only required secrets `secret: true`: the engine refuses a default ("") for such keys.
     */
    secret: z.boolean().optional(),
});

/** A key as the docs describe it; `name` is without the `pgha:` namespace. */
export type ConfigKey = Readonly<{ name: string } & z.output<typeof DOCUMENTED>>;

export const CONFIG_KEYS: readonly ConfigKey[] = Object.entries(
    z.toJSONSchema(z.object(CONFIG_KEY_SCHEMAS), { io: "output", unrepresentable: "any" }).properties ?? {},
).map(([name, property]) => ({ name, ...DOCUMENTED.parse(property) }));
