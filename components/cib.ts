/**
 * The cluster configuration (CIB) as pcs commands, in the two pcs dialects: 0.9 (EL7: master set,
 * Master/Slave roles, score= on orders) and 0.10+ (promotable clone, Promoted/Unpromoted, kind=).
 * Each command is the argument list that follows `pcs -f <file>`. No secret is ever part of it: the
 * replication password is in a .pgpass, the fence password in a root-only file read by password_script.
 */
import { ClusterSpec } from "./config";
import { AGENT_PG_CTL, FENCE_PASSWORD_FILE, PGPASS_FILE, PGSQL_TMPDIR } from "./nodePaths";
import { restoreCommand } from "./pgConfig";
import { shellQuote } from "./shell";

export type PcsDialect = "0.9" | "0.10+";
export const PCS_DIALECTS: readonly PcsDialect[] = ["0.9", "0.10+"];


export const PGSQL_RESOURCE = "pgsql";
/**
 * The agent of the pgsql resource: ocf:heartbeat:pgsql with pgha's automatic, safe rejoin and fail-fast stop
 * (scripts/pgsql-agent.sh, installed on every node by the tools step); same parameters and metadata.
 */
export const PGSQL_AGENT = "ocf:pgha:pgsql";
/** fence_vmware_rest: one device that powers every node's VM. */
export const VMWARE_FENCE_DEVICE = "vmfence";
/** fence_ipmilan: one device per node, for that node's BMC. */
export function ipmiFenceDevice(node: string): string {
    return `fence-${node}`;
}

/** Id of the promotable set: pcs 0.9 uses the name we give (the runbook's pgsql-master), 0.10+ makes pgsql-clone. */
export function promotableId(dialect: PcsDialect): string {
    return dialect === "0.9" ? "pgsql-master" : "pgsql-clone";
}

/** libpq options the agent appends to primary_conninfo: TCP keepalives and the passfile, never a password. */
export function primaryConninfoOpt(): string {
    return `passfile=${PGPASS_FILE} keepalives_idle=60 keepalives_interval=5 keepalives_count=5 connect_timeout=5`;
}

const seconds = (n: number) => `${n}s`;

/** Cluster-wide properties and, when fencing is on, the fence devices (PacemakerCluster's part). */
export function clusterCommands(spec: ClusterSpec, dialect: PcsDialect): string[][] {
    const commands: string[][] = [
        ["property", "set", "no-quorum-policy=stop"],
        ["property", "set", `stonith-enabled=${spec.fencing.enabled}`],
        ["property", "set", `dc-deadtime=${seconds(spec.pacemaker.dcDeadtimeSeconds)}`],
        ["property", "set", `load-threshold=${spec.pacemaker.loadThresholdPercent}%`],
    ];
    return spec.fencing.enabled ? [...commands, ...fencingCommands(spec, dialect)] : commands;
}

/**
 * The fence devices, and what keeps two quorate halves of a two-node cluster from shooting each other at
 * once: priority-fencing-delay (Pacemaker 2.0.4+), under which the side without the promoted instance waits;
 * on pcs 0.9 (Pacemaker 1.1, without it) a random delay on each device of a two-node cluster.
 */
function fencingCommands(spec: ClusterSpec, dialect: PcsDialect): string[][] {
    const f = spec.fencing;
    if (!f.enabled) {
        return [];
    }
    const legacy = dialect === "0.9";
    const raceDelay = f.raceDelaySeconds > 0
        ? (legacy ? (spec.nodes.length === 2 ? [`pcmk_delay_max=${seconds(f.raceDelaySeconds)}`] : []) : [])
        : [];
    const commands: string[][] = legacy ? [] : [["property", "set", `priority-fencing-delay=${seconds(f.raceDelaySeconds)}`]];
    // Old agents (EL7) know the login and password parameters only by their old names.
    const credentials = (user: string) => legacy
        ? [`login=${user}`, `passwd_script=cat ${FENCE_PASSWORD_FILE}`]
        : [`username=${user}`, `password_script=cat ${FENCE_PASSWORD_FILE}`];
    const monitor = ["op", "monitor", "interval=60s"];
    if (f.agent === "fence_vmware_rest") {
        const hostMap = spec.nodes.map((n) => `${n.name}:${n.vmName}`).join(";");
        commands.push([
            "stonith", "create", VMWARE_FENCE_DEVICE, "fence_vmware_rest",
            legacy ? `ipaddr=${f.vcenterAddress}` : `ip=${f.vcenterAddress}`, ...credentials(f.user),
            "ssl=1", `ssl_insecure=${f.sslInsecure ? 1 : 0}`, `pcmk_host_map=${hostMap}`, ...raceDelay, ...monitor,
        ]);
        return commands;
    }
    for (const node of spec.nodes) {
        const bmc = node.bmc as NonNullable<typeof node.bmc>;
        const device = ipmiFenceDevice(node.name);
        commands.push([
            "stonith", "create", device, "fence_ipmilan",
            legacy ? `ipaddr=${bmc.address}` : `ip=${bmc.address}`, `ipport=${bmc.port}`, ...credentials(bmc.user ?? f.user),
            "lanplus=1", "method=onoff", `power_wait=${f.powerWaitSeconds}`, `pcmk_host_list=${node.name}`, ...raceDelay, ...monitor,
        ]);
        // A node never runs the device that fences it (it could not, once it is the one that failed).
        commands.push(["constraint", "location", device, "avoids", node.name]);
    }
    return commands;
}

/** The pgsql promotable set (PgsqlMasterSlave's part). */
export function pgsqlCommands(spec: ClusterSpec, dialect: PcsDialect): string[][] {
    const legacy = dialect === "0.9";
    const pg = spec.postgresql;
    const pm = spec.pacemaker;
    const op = (name: string, timeout: number, ...extra: string[]) => ["op", name, `timeout=${seconds(timeout)}`, ...extra];
    // A failed instance moves at once and comes back (rejoining) after the failure timeout.
    const failureHandling = pm.failureTimeoutSeconds > 0
        ? ["meta", "migration-threshold=1", `failure-timeout=${seconds(pm.failureTimeoutSeconds)}`]
        : [];
    return [[
        "resource", "create", PGSQL_RESOURCE, PGSQL_AGENT,
        // PostgreSQL's pg_ctl whose promote waits (scripts/pg-ctl.sh), installed by the tools step.
        `pgctl=${AGENT_PG_CTL}`,
        `psql=${pg.bindir}/psql`,
        `pgdata=${pg.pgdata}`,
        `pgport=${pg.port}`,
        `tmpdir=${PGSQL_TMPDIR}`,
        `node_list=${spec.nodes.map((n) => n.name).join(" ")}`,
        `master_ip=${spec.vipMaster}`,
        `repuser=${pg.replicationUser}`,
        `rep_mode=${pm.repMode}`,
        `primary_conninfo_opt=${primaryConninfoOpt()}`,
        // Without backups there is no archive to restore from.
        ...(spec.backup ? [`restore_command=${restoreCommand(spec)}`] : []),
        ...op("start", pm.startTimeoutSeconds, "interval=0s"),
        ...op("stop", pm.stopTimeoutSeconds, "interval=0s"),
        ...op("promote", pm.promoteTimeoutSeconds, "interval=0s"),
        ...op("demote", pm.demoteTimeoutSeconds, "interval=0s"),
        ...op("notify", pm.notifyTimeoutSeconds, "interval=0s"),
        ...op("monitor", pm.monitorTimeoutSeconds, `interval=${seconds(pm.monitorIntervalSeconds)}`),
        ...op("monitor", pm.monitorTimeoutSeconds, `interval=${seconds(pm.promotedMonitorIntervalSeconds)}`, `role=${legacy ? "Master" : "Promoted"}`),
        ...failureHandling,
        ...(legacy ? ["master", "master-max=1", "master-node-max=1"] : ["promotable", "promoted-max=1", "promoted-node-max=1"]),
        // priority: the node with the promoted instance (priority + 1) wins a two-node fencing race.
        `clone-max=${spec.nodes.length}`, "clone-node-max=1", "notify=true", "priority=1",
    ]];
}

/** pgsql-status of the standby that vip-slave follows. */
export function standbyStatus(spec: ClusterSpec): string {
    return spec.pacemaker.repMode === "sync" ? "HS:sync" : "HS:async";
}

/**
 * The two VIPs and the runbook's constraints (VipPair's part): vip-master with the promoted instance,
 * started after promotion and stopped after demotion; vip-slave on the sync standby (200), else on the
 * primary (100), never on a node without a healthy status.
 */
export function vipCommands(spec: ClusterSpec, dialect: PcsDialect): string[][] {
    const legacy = dialect === "0.9";
    const ms = promotableId(dialect);
    const net = spec.network;
    const vip = (id: string, ip: string, label: string) => [
        "resource", "create", id, "ocf:heartbeat:IPaddr2",
        `ip=${ip}`, `cidr_netmask=${net.prefixLength}`, `nic=${net.nic}`, `iflabel=${label}`,
        "op", "monitor", `interval=${seconds(spec.pacemaker.vipMonitorIntervalSeconds)}`,
    ];
    const standby = standbyStatus(spec);
    return [
        vip("vip-master", spec.vipMaster, "master"),
        // Stickiness 0: vip-slave must be free to follow the sync standby when the roles move.
        [...vip("vip-slave", spec.vipSlave, "slave"), "meta", "resource-stickiness=0"],
        ["constraint", "colocation", "add", "vip-master", "with", legacy ? "master" : "Promoted", ms, "INFINITY"],
        ["constraint", "order", "promote", ms, "then", "start", "vip-master", "symmetrical=false", legacy ? "score=INFINITY" : "kind=Mandatory"],
        ["constraint", "order", "demote", ms, "then", "stop", "vip-master", "symmetrical=false", legacy ? "score=0" : "kind=Optional"],
        ["constraint", "location", "vip-slave", "rule", "score=200", "pgsql-status", "eq", standby],
        ["constraint", "location", "vip-slave", "rule", "score=100", "pgsql-status", "eq", "PRI"],
        ["constraint", "location", "vip-slave", "rule", "score=-INFINITY", "not_defined", "pgsql-status"],
        ["constraint", "location", "vip-slave", "rule", "score=-INFINITY", "pgsql-status", "ne", standby, "and", "pgsql-status", "ne", "PRI"],
    ];
}

/** The whole configuration, in the order it is built: properties and fencing, pgsql, VIPs and constraints. */
export function cibCommands(spec: ClusterSpec, dialect: PcsDialect): string[][] {
    return [...clusterCommands(spec, dialect), ...pgsqlCommands(spec, dialect), ...vipCommands(spec, dialect)];
}

/** The commands as shell lines, one per command, each argument quoted (cib-push.sh prefixes `pcs -f FILE`). */
export function cibCommandLines(spec: ClusterSpec, dialect: PcsDialect): string {
    return cibCommands(spec, dialect).map((args) => args.map(shellQuote).join(" ")).join("\n");
}
