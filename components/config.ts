/**
 * Validates the stack configuration into a typed {@link ClusterSpec}, in one place, before any resource exists:
 * every key with its own schema (components/configKeys.ts), then the rules that span keys (below). Every
 * problem is reported at once, with the key that holds it and how to fix it.
 */
import * as pulumi from "@pulumi/pulumi";
import * as ipaddr from "ipaddr.js";
import { z } from "zod";
import { CONFIG_KEY_SCHEMAS, CONFIG_KEYS, ConfigKey } from "./configKeys";
import { overdueAfterSeconds } from "./schedule";

/** The keys' schemas, plus the vsphere provider's server: fence_vmware_rest's default vCenter. */
const KEYS = z.object({ ...CONFIG_KEY_SCHEMAS, vsphereServer: z.string().optional() });

/**
 * Every key's value, each valid on its own, defaults applied; inferred from the schemas, so the spec below is
 * built from the declaration as it is (a key renamed or retyped there fails to compile here).
 */
export type ConfigValues = z.output<typeof KEYS>;

export type HostMode = ConfigValues["hostMode"];
export type SelinuxMode = ConfigValues["selinux"];
export type PostgresqlInstall = ConfigValues["postgresqlInstall"];
export type RepMode = ConfigValues["repMode"];
export type RestartPolicy = ConfigValues["restartPolicy"];
export type FenceAgent = Exclude<ConfigValues["fenceAgent"], "">;

export interface NodeSpec {
    /** Hostname and Pacemaker node name. */
    readonly name: string;
    readonly ip: string;
    /** VM name in vCenter (fencing's pcmk_host_map). */
    readonly vmName: string;
    /** The node's BMC, when configured (fence_ipmilan). */
    readonly bmc?: BmcSpec;
}

export interface BmcSpec {
    readonly address: string;
    readonly port: number;
    /** Empty: pgha:fenceUser. */
    readonly user?: string;
}

export interface VsphereSpec {
    readonly datacenter: string;
    readonly computeCluster?: string;
    readonly resourcePool?: string;
    readonly datastore: string;
    readonly network: string;
    readonly folder?: string;
    readonly template: string;
}

export interface PostgresqlSpec {
    readonly install: PostgresqlInstall;
    readonly version: string;
    /** Major version, e.g. "14". */
    readonly major: string;
    readonly prefix: string;
    readonly bindir: string;
    readonly pgdata: string;
    readonly port: number;
    readonly sourceUrl: string;
    readonly sourceSha256?: string;
    readonly buildDocs: boolean;
    readonly uid: number;
    readonly gid: number;
    readonly walKeepSizeMb: number;
    /** wal_sender_timeout and wal_receiver_timeout. */
    readonly walSenderTimeoutSeconds: number;
    readonly replicationUser: string;
    readonly allowedClientCidrs: readonly string[];
    /** pgha:postgresqlParameters: names in lower case, values as pgha.conf quotes them. */
    readonly parameters: Readonly<Record<string, string>>;
    /** pgha:restartPolicy: how a restart reaches the primary. */
    readonly restartPolicy: RestartPolicy;
}

/** Backups with pgBackRest to a repository host (present when pgha:backupHost is set and pgha:backups is on). */
export interface BackupSpec {
    /** The repository host: no database role, no BMC. */
    readonly host: { readonly name: string; readonly ip: string; readonly vmName: string };
    /** pgBackRest's stanza: the cluster's name. */
    readonly stanza: string;
    readonly repoPath: string;
    /** systemd calendar expressions; diff "" = none. */
    readonly fullSchedule: string;
    readonly diffSchedule: string;
    readonly restoreTestSchedule: string;
    readonly retentionFull: number;
    readonly queueMaxMb: number;
    readonly archiveTimeoutSeconds: number;
    /** How old the newest backup and restore drill may be before pgha-status reports them overdue. */
    readonly backupOverdueSeconds: number;
    readonly restoreTestOverdueSeconds: number;
}

export interface ResourceAgentsSpec {
    readonly install: "source" | "package";
    readonly version: string;
    readonly url: string;
    readonly sha256?: string;
}

export interface PacemakerSpec {
    readonly repMode: RepMode;
    readonly monitorIntervalSeconds: number;
    readonly promotedMonitorIntervalSeconds: number;
    readonly monitorTimeoutSeconds: number;
    readonly startTimeoutSeconds: number;
    readonly stopTimeoutSeconds: number;
    readonly promoteTimeoutSeconds: number;
    readonly demoteTimeoutSeconds: number;
    readonly notifyTimeoutSeconds: number;
    readonly vipMonitorIntervalSeconds: number;
    /** 0: Pacemaker's defaults (restart in place, failures never expire). */
    readonly failureTimeoutSeconds: number;
    readonly autoRejoin: boolean;
    /** 0: pcs's default. */
    readonly corosyncTokenMs: number;
    readonly dcDeadtimeSeconds: number;
    readonly loadThresholdPercent: number;
}

export type FencingSpec =
    | { readonly enabled: false }
    | {
        readonly enabled: true;
        readonly agent: "fence_vmware_rest";
        readonly vcenterAddress: string;
        readonly user: string;
        readonly sslInsecure: boolean;
        readonly raceDelaySeconds: number;
    }
    | {
        readonly enabled: true;
        readonly agent: "fence_ipmilan";
        /** Default BMC user (a node's bmc.user overrides it). */
        readonly user: string;
        readonly powerWaitSeconds: number;
        readonly raceDelaySeconds: number;
    };

/** Secrets from config; absent passwords are generated by the program. */
export interface SecretInputs {
    readonly sshPrivateKey: pulumi.Output<string>;
    readonly haclusterPassword?: pulumi.Output<string>;
    readonly postgresPassword?: pulumi.Output<string>;
    readonly replicationPassword?: pulumi.Output<string>;
    readonly fencePassword?: pulumi.Output<string>;
}

export interface ClusterSpec {
    readonly hostMode: HostMode;
    readonly clusterName: string;
    readonly nodes: readonly NodeSpec[];
    readonly vipMaster: string;
    readonly vipSlave: string;
    readonly network: {
        readonly prefixLength: number;
        readonly netmask: string;
        /** The nodes' subnet as CIDR, e.g. 192.168.24.0/24. */
        readonly subnet: string;
        readonly gateway?: string;
        readonly dnsServers: readonly string[];
        readonly domain: string;
        readonly nic: string;
    };
    readonly ssh: { readonly user: string; readonly port: number };
    readonly vm: { readonly cpus: number; readonly memoryMiB: number; readonly diskGiB: number };
    /** VMs protected from deletion and replacement (vsphere mode). */
    readonly protect: boolean;
    /** Present in vsphere mode only. */
    readonly vsphere?: VsphereSpec;
    readonly os: { readonly firewall: boolean; readonly selinux: SelinuxMode; readonly yumBaseUrl: string; readonly epelBaseUrl: string };
    readonly postgresql: PostgresqlSpec;
    /** Absent: no backups and no WAL archive. */
    readonly backup?: BackupSpec;
    readonly resourceAgents: ResourceAgentsSpec;
    readonly allowUnverifiedDownloads: boolean;
    readonly pacemaker: PacemakerSpec;
    readonly fencing: FencingSpec;
    readonly secrets: SecretInputs;
}

/** Raw values by key name (no namespace), as read from config; secrets as Outputs. */
export type RawConfig = Readonly<Record<string, unknown>>;

/** A configuration error: Pulumi prints RunError messages without a stack trace. */
export class ConfigError extends pulumi.RunError {
    constructor(readonly problems: readonly string[]) {
        super(`invalid pgha configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    }
}

/** Marks a secret key whose value the stack holds in plain text. */
const PLAINTEXT_SECRET = Symbol("plaintext secret");

/** Whether the engine passed `fullKey` as a secret (set with --secret). */
function isSecretInStack(fullKey: string): boolean {
    // The SDK exports this check from its runtime module without a type declaration.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (k: string) => boolean };
    return runtimeConfig.isConfigSecret ? runtimeConfig.isConfigSecret(fullKey) : true;
}

/** Reads every declared key from a Pulumi config bag; unset keys are left to their schema's default. */
export function readRawConfig(config: pulumi.Config): RawConfig {
    const raw: Record<string, unknown> = {};
    for (const key of CONFIG_KEYS) {
        raw[key.name] = readKey(config, key);
    }
    return raw;
}

function readKey(config: pulumi.Config, key: ConfigKey): unknown {
    if (key.secret) {
        // Presence is known synchronously from get(); "" is the declared default of optional secrets.
        const value = config.get(key.name);
        if (value === undefined || value === "") {
            return undefined;
        }
        return isSecretInStack(`${config.name}:${key.name}`) ? config.requireSecret(key.name) : PLAINTEXT_SECRET;
    }
    switch (key.type) {
        case "string":
            return config.get(key.name);
        case "integer":
            return config.getNumber(key.name);
        case "boolean":
            return config.getBoolean(key.name);
        case "array":
        case "object":
            return config.getObject<unknown>(key.name);
    }
}

/**
 * Validates raw configuration into a spec. Throws a {@link ConfigError} listing every problem, each naming its
 * `pgha:` key and the fix.
 */
export function parseConfig(raw: RawConfig): ClusterSpec {
    const parsed = STACK_CONFIG.safeParse(raw);
    if (!parsed.success) {
        throw new ConfigError(parsed.error.issues.map(problemText));
    }
    return clusterSpec(parsed.data);
}

/** `pgha:<key>: <message>`, the message led by its place inside the key's value, e.g. `pgha:nodes: nodes[2].ip ...`. */
function problemText(issue: z.core.$ZodIssue): string {
    const [key, ...inside] = issue.path;
    const place = inside.map((step) => (typeof step === "number" ? `[${step}]` : `.${String(step)}`)).join("");
    return `pgha:${String(key)}: ${place ? `${String(key)}${place} ` : ""}${issue.message}`;
}

type Key = keyof ConfigValues;

/** Reports a problem at a key, or at a place inside its value, e.g. ["nodes", 2, "ip"]. */
type Report = (path: readonly [Key, ...(string | number)[]], message: string) => void;

/** A rule that spans keys: it reads `reads` and reports what is wrong in their combination. */
interface Rule {
    readonly reads: readonly Key[];
    readonly check: (values: ConfigValues, report: Report) => void;
}

/** A rule whose check sees only the keys it reads. */
function rule<K extends Key>(reads: readonly K[], check: (values: Pick<ConfigValues, K>, report: Report) => void): Rule {
    return { reads, check };
}

/** The values that occur more than once. */
function duplicates(values: readonly string[]): string[] {
    return [...new Set(values.filter((value, i) => values.indexOf(value) !== i))];
}

/** The nodes' subnet as CIDR: the first node's network at pgha:prefixLength, e.g. 192.168.24.0/24. */
function nodesSubnet({ nodes, prefixLength }: Pick<ConfigValues, "nodes" | "prefixLength">): string {
    return `${ipaddr.IPv4.networkAddressFromCIDR(`${nodes[0].ip}/${prefixLength}`).toString()}/${prefixLength}`;
}

/** Why `address` cannot be a host of `subnet`, if it cannot: it lies outside, or is the network or broadcast address. */
function hostAddressProblem(address: string, subnet: string): string | undefined {
    if (!ipaddr.IPv4.parse(address).match(ipaddr.IPv4.parseCIDR(subnet))) {
        return `${address} is outside the nodes' subnet ${subnet}; use an address in ${subnet} or fix pgha:prefixLength`;
    }
    const reserved = [ipaddr.IPv4.networkAddressFromCIDR(subnet), ipaddr.IPv4.broadcastAddressFromCIDR(subnet)];
    if (reserved.some((r) => r.toString() === address)) {
        return `${address} is the network or broadcast address of ${subnet}; use a host address`;
    }
    return undefined;
}

const distinctNodes = rule(["nodes"], ({ nodes }, report) => {
    for (const name of duplicates(nodes.map((node) => node.name))) {
        report(["nodes"], `duplicate node name ${name}; every node needs its own name`);
    }
    for (const ip of duplicates(nodes.map((node) => node.ip))) {
        report(["nodes"], `duplicate node ip ${ip}; every node needs its own address`);
    }
});

/** The nodes share one subnet, the first node's. */
const nodesInSubnet = rule(["nodes", "prefixLength"], (values, report) => {
    const subnet = nodesSubnet(values);
    values.nodes.forEach((node, i) => {
        const problem = hostAddressProblem(node.ip, subnet);
        if (problem) {
            report(["nodes", i, "ip"], problem);
        }
    });
});

/** A VIP moves between the nodes on their interface: a free host address of their subnet. */
function vipIsFree(key: "vipMaster" | "vipSlave") {
    return rule([key, "nodes", "prefixLength"], (values, report) => {
        const vip = values[key];
        const problem = hostAddressProblem(vip, nodesSubnet(values));
        if (problem) {
            report([key], `VIP ${problem}`);
        }
        const node = values.nodes.find((n) => n.ip === vip);
        if (node) {
            report([key], `VIP ${vip} is node ${node.name}'s address; choose a free address for the VIP`);
        }
    });
}

const distinctVips = rule(["vipMaster", "vipSlave"], ({ vipMaster, vipSlave }, report) => {
    if (vipMaster === vipSlave) {
        report(["vipSlave"], `equals pgha:vipMaster (${vipMaster}); the two VIPs need different addresses`);
    }
});

const gatewayInSubnet = rule(["gateway", "nodes", "prefixLength"], ({ gateway, ...values }, report) => {
    const problem = gateway === "" ? undefined : hostAddressProblem(gateway, nodesSubnet(values));
    if (problem) {
        report(["gateway"], `gateway ${problem}`);
    }
});

const VSPHERE_OBJECTS = ["vsphereDatacenter", "vsphereDatastore", "vsphereNetwork", "vsphereTemplate"] as const;

/** vsphere mode clones the VMs: it needs where to put them and the gateway to give them. */
const vspherePlacement = rule(["hostMode", ...VSPHERE_OBJECTS, "vsphereComputeCluster", "vsphereResourcePool", "gateway"], (values, report) => {
    if (values.hostMode !== "vsphere") {
        return;
    }
    for (const key of VSPHERE_OBJECTS.filter((k) => values[k] === "")) {
        report([key], "required in vsphere mode (pgha:hostMode vsphere); set it to the vCenter object's name");
    }
    if (values.vsphereComputeCluster === "" && values.vsphereResourcePool === "") {
        report(["vsphereComputeCluster"], "set pgha:vsphereComputeCluster or pgha:vsphereResourcePool (vsphere mode)");
    }
    if (values.gateway === "") {
        report(["gateway"], "required in vsphere mode: the default gateway for the cloned VMs");
    }
});

/** Tarballs are verified unless pgha:allowUnverifiedDownloads opts out; package installs download nothing. */
const checksumsSet = rule(["allowUnverifiedDownloads", "postgresqlInstall", "postgresqlSourceSha256", "resourceAgentsInstall", "resourceAgentsSha256"], (values, report) => {
    if (values.allowUnverifiedDownloads) {
        return;
    }
    const needed = [
        ...(values.postgresqlInstall === "source" ? ["postgresqlSourceSha256" as const] : []),
        ...(values.resourceAgentsInstall === "source" ? ["resourceAgentsSha256" as const] : []),
    ];
    for (const key of needed.filter((k) => values[k] === "")) {
        report([key], "missing: set the tarball's sha256 (64 hex digits), or set pgha:allowUnverifiedDownloads true to build unverified");
    }
});

const versionFitsInstall = rule(["postgresqlInstall", "postgresqlVersion"], ({ postgresqlInstall, postgresqlVersion }, report) => {
    const version = JSON.stringify(postgresqlVersion);
    if (postgresqlInstall === "source" && !/^[0-9]{2}\.[0-9]+$/.test(postgresqlVersion)) {
        report(["postgresqlVersion"], `${version}: a source build needs a full version such as 14.6`);
    }
    if (postgresqlInstall === "package" && !/^[0-9]{2}$/.test(postgresqlVersion)) {
        report(["postgresqlVersion"], `${version}: a package install needs the major version such as 15`);
    }
});

/** The backup host is a machine of its own on the nodes' network: no node, VIP or BMC. */
const backupHostApart = rule(["backupHost", "backupHostIp", "nodes", "prefixLength", "vipMaster", "vipSlave"], (values, report) => {
    const { backupHost, backupHostIp } = values;
    if ((backupHost === "") !== (backupHostIp === "")) {
        report([backupHost === "" ? "backupHost" : "backupHostIp"], "pgha:backupHost and pgha:backupHostIp go together: set both (the repository host's name and address) or neither");
        return;
    }
    if (backupHost === "") {
        return;
    }
    const sameName = values.nodes.find((n) => n.name === backupHost);
    if (sameName) {
        report(["backupHost"], `${backupHost} is a cluster node; backups must live on a machine apart from the nodes, so that losing a node loses no backup`);
    }
    const sameIp = values.nodes.find((n) => n.ip === backupHostIp || n.bmcAddress === backupHostIp);
    if (sameIp) {
        report(["backupHostIp"], `${backupHostIp} is node ${sameIp.name}'s address or BMC; the backup host needs its own address`);
    }
    if (backupHostIp === values.vipMaster || backupHostIp === values.vipSlave) {
        report(["backupHostIp"], `${backupHostIp} is a VIP; the backup host needs its own address`);
    }
    const problem = hostAddressProblem(backupHostIp, nodesSubnet(values));
    if (problem) {
        report(["backupHostIp"], `backup host ${problem}`);
    }
});

const distinctMonitorIntervals = rule(["pgsqlMonitorIntervalSeconds", "pgsqlPromotedMonitorIntervalSeconds"], (values, report) => {
    if (values.pgsqlMonitorIntervalSeconds === values.pgsqlPromotedMonitorIntervalSeconds) {
        report(["pgsqlPromotedMonitorIntervalSeconds"], "must differ from pgha:pgsqlMonitorIntervalSeconds (Pacemaker needs distinct intervals per role)");
    }
});

const FENCING_KEYS = ["fencingEnabled", "fenceAgent", "hostMode"] as const;

/** The fence agent in use: pgha:fenceAgent, else the one that fits the hosts; undefined with fencing off. */
function fenceAgent(values: Pick<ConfigValues, (typeof FENCING_KEYS)[number]>): FenceAgent | undefined {
    if (!values.fencingEnabled) {
        return undefined;
    }
    return values.fenceAgent || (values.hostMode === "vsphere" ? "fence_vmware_rest" : "fence_ipmilan");
}

/** fence_vmware_rest's vCenter: pgha:fenceVcenterAddress, else the vsphere provider's server. */
function vcenterAddress(values: Pick<ConfigValues, "fenceVcenterAddress" | "vsphereServer">): string {
    return values.fenceVcenterAddress || values.vsphereServer || "";
}

const fencePasswordSet = rule(["fencingEnabled", "fencePassword"], ({ fencingEnabled, fencePassword }, report) => {
    if (fencingEnabled && fencePassword === undefined) {
        report(["fencePassword"], "required when fencing is on: pulumi config set --secret pgha:fencePassword ...");
    }
});

/** fence_vmware_rest has vCenter power the nodes' VMs, as a user allowed to. */
const vcenterFencing = rule([...FENCING_KEYS, "fenceVcenterAddress", "vsphereServer", "fenceUser"], (values, report) => {
    if (fenceAgent(values) !== "fence_vmware_rest") {
        return;
    }
    if (vcenterAddress(values) === "") {
        report(["fenceVcenterAddress"], "required when fencing is on: the vCenter address (or set vsphere:vsphereServer); or set pgha:fencingEnabled false (unsafe)");
    }
    if (values.fenceUser === "") {
        report(["fenceUser"], "required when fencing is on: a vCenter user allowed to power the cluster's VMs; or set pgha:fencingEnabled false (unsafe)");
    }
});

/**
 * fence_ipmilan needs every node's BMC, on an address of its own (a BMC on a node's address would be
 * unreachable exactly when the node has failed), and a user for each.
 */
const ipmiFencing = rule([...FENCING_KEYS, "nodes", "fenceUser"], (values, report) => {
    if (fenceAgent(values) !== "fence_ipmilan") {
        return;
    }
    const nodes = values.nodes.map(nodeSpec);
    nodes.forEach(({ name, bmc }, i) => {
        if (!bmc) {
            report(["nodes", i], `(${name}) has no bmcAddress: fence_ipmilan needs every node's BMC; set it, or pgha:fenceAgent, or pgha:fencingEnabled false (unsafe)`);
            return;
        }
        const owner = nodes.find((n) => n.ip === bmc.address);
        if (owner) {
            report(["nodes", i, "bmcAddress"], `${bmc.address} is node ${owner.name}'s address; a BMC needs its own address, reachable when the node is down`);
        }
        if (!bmc.user && values.fenceUser === "") {
            report(["fenceUser"], `required for fence_ipmilan: the BMC user (or nodes[${i}].bmcUser for ${name})`);
        }
    });
    for (const endpoint of duplicates(nodes.flatMap(({ bmc }) => (bmc ? [`${bmc.address}:${bmc.port}`] : [])))) {
        report(["nodes"], `two nodes have the same BMC ${endpoint}; every node needs its own`);
    }
});

/** A BMC on a VIP's address would be whichever node holds the VIP. */
const bmcsOffVips = rule([...FENCING_KEYS, "nodes", "vipMaster", "vipSlave"], (values, report) => {
    if (fenceAgent(values) !== "fence_ipmilan") {
        return;
    }
    values.nodes.forEach(({ bmcAddress }, i) => {
        if (bmcAddress === values.vipMaster || bmcAddress === values.vipSlave) {
            report(["nodes", i, "bmcAddress"], `${bmcAddress} is a VIP; give the BMC its own address`);
        }
    });
});

const RULES: readonly Rule[] = [
    distinctNodes,
    nodesInSubnet,
    vipIsFree("vipMaster"),
    vipIsFree("vipSlave"),
    distinctVips,
    gatewayInSubnet,
    vspherePlacement,
    checksumsSet,
    versionFitsInstall,
    backupHostApart,
    distinctMonitorIntervals,
    fencePasswordSet,
    vcenterFencing,
    ipmiFencing,
    bmcsOffVips,
];

/**
 * The whole configuration: every key on its own, then the rules. A rule runs only when every key it reads is
 * valid on its own, so that a bad value is reported once, by its key, not again by each rule that reads it.
 */
const STACK_CONFIG = KEYS.superRefine((values, ctx) => {
    const invalid = new Set(ctx.issues.map((issue) => issue.path?.[0]));
    const report: Report = (path, message) => ctx.addIssue({ code: "custom", path: [...path], message });
    for (const { reads, check } of RULES.filter((r) => !r.reads.some((key) => invalid.has(key)))) {
        check(values, report);
    }
}, { when: () => true }); // zod would skip the rules once any key has failed

/** The BMC's IPMI port when a node does not set bmcPort. */
const IPMI_PORT = 623;

function nodeSpec(node: ConfigValues["nodes"][number]): NodeSpec {
    return {
        name: node.name,
        ip: node.ip,
        vmName: node.vmName ?? node.name,
        bmc: node.bmcAddress === undefined ? undefined : { address: node.bmcAddress, port: node.bmcPort ?? IPMI_PORT, user: node.bmcUser },
    };
}

function clusterSpec(values: ConfigValues): ClusterSpec {
    const subnet = nodesSubnet(values);
    return {
        hostMode: values.hostMode,
        clusterName: values.clusterName,
        nodes: values.nodes.map(nodeSpec),
        vipMaster: values.vipMaster,
        vipSlave: values.vipSlave,
        network: {
            prefixLength: values.prefixLength,
            netmask: ipaddr.IPv4.subnetMaskFromPrefixLength(values.prefixLength).toString(),
            subnet,
            gateway: values.gateway || undefined,
            dnsServers: values.dnsServers,
            domain: values.domain,
            nic: values.nic,
        },
        ssh: { user: values.sshUser, port: values.sshPort },
        vm: { cpus: values.vmCpus, memoryMiB: values.vmMemoryMiB, diskGiB: values.vmDiskGiB },
        protect: values.protect,
        vsphere: values.hostMode === "vsphere" ? vsphereSpec(values) : undefined,
        os: { firewall: values.firewall, selinux: values.selinux, yumBaseUrl: values.yumBaseUrl, epelBaseUrl: values.epelBaseUrl },
        postgresql: postgresqlSpec(values, subnet),
        backup: backupSpec(values),
        resourceAgents: { install: values.resourceAgentsInstall, version: values.resourceAgentsVersion, url: values.resourceAgentsUrl, sha256: values.resourceAgentsSha256 || undefined },
        allowUnverifiedDownloads: values.allowUnverifiedDownloads,
        pacemaker: pacemakerSpec(values),
        fencing: fencingSpec(values),
        secrets: {
            sshPrivateKey: values.sshPrivateKey,
            haclusterPassword: values.haclusterPassword,
            postgresPassword: values.postgresPassword,
            replicationPassword: values.replicationPassword,
            fencePassword: values.fencePassword,
        },
    };
}

function vsphereSpec(values: ConfigValues): VsphereSpec {
    return {
        datacenter: values.vsphereDatacenter,
        computeCluster: values.vsphereComputeCluster || undefined,
        resourcePool: values.vsphereResourcePool || undefined,
        datastore: values.vsphereDatastore,
        network: values.vsphereNetwork,
        folder: values.vsphereFolder || undefined,
        template: values.vsphereTemplate,
    };
}

/** `subnet`: the nodes', which may connect when pgha:allowedClientCidrs lists none. */
function postgresqlSpec(values: ConfigValues, subnet: string): PostgresqlSpec {
    return {
        install: values.postgresqlInstall,
        version: values.postgresqlVersion,
        major: values.postgresqlVersion.split(".")[0],
        prefix: values.postgresqlPrefix,
        bindir: `${values.postgresqlPrefix}/bin`,
        pgdata: values.pgdata,
        port: values.postgresqlPort,
        sourceUrl: values.postgresqlSourceUrl,
        sourceSha256: values.postgresqlSourceSha256 || undefined,
        buildDocs: values.postgresqlBuildDocs,
        uid: values.postgresUid,
        gid: values.postgresGid,
        walKeepSizeMb: values.walKeepSizeMb,
        walSenderTimeoutSeconds: values.walSenderTimeoutSeconds,
        replicationUser: values.replicationUser,
        allowedClientCidrs: values.allowedClientCidrs.length > 0 ? values.allowedClientCidrs : [subnet],
        parameters: values.postgresqlParameters,
        restartPolicy: values.restartPolicy,
    };
}

function backupSpec(values: ConfigValues): BackupSpec | undefined {
    if (!values.backups || values.backupHost === "") {
        return undefined;
    }
    return {
        host: { name: values.backupHost, ip: values.backupHostIp, vmName: values.backupHost },
        stanza: values.clusterName,
        repoPath: values.backupRepoPath,
        fullSchedule: values.backupFullSchedule,
        diffSchedule: values.backupDiffSchedule,
        restoreTestSchedule: values.restoreTestSchedule,
        retentionFull: values.backupRetentionFull,
        queueMaxMb: values.archivePushQueueMaxMb,
        archiveTimeoutSeconds: values.archiveTimeoutSeconds,
        backupOverdueSeconds: overdueAfterSeconds([values.backupFullSchedule, values.backupDiffSchedule]),
        restoreTestOverdueSeconds: overdueAfterSeconds([values.restoreTestSchedule]),
    };
}

function pacemakerSpec(values: ConfigValues): PacemakerSpec {
    return {
        repMode: values.repMode,
        monitorIntervalSeconds: values.pgsqlMonitorIntervalSeconds,
        promotedMonitorIntervalSeconds: values.pgsqlPromotedMonitorIntervalSeconds,
        monitorTimeoutSeconds: values.pgsqlMonitorTimeoutSeconds,
        startTimeoutSeconds: values.pgsqlStartTimeoutSeconds,
        stopTimeoutSeconds: values.pgsqlStopTimeoutSeconds,
        promoteTimeoutSeconds: values.pgsqlPromoteTimeoutSeconds,
        demoteTimeoutSeconds: values.pgsqlDemoteTimeoutSeconds,
        notifyTimeoutSeconds: values.pgsqlNotifyTimeoutSeconds,
        vipMonitorIntervalSeconds: values.vipMonitorIntervalSeconds,
        failureTimeoutSeconds: values.pgsqlFailureTimeoutSeconds,
        autoRejoin: values.autoRejoin,
        corosyncTokenMs: values.corosyncTokenMs,
        dcDeadtimeSeconds: values.dcDeadtimeSeconds,
        loadThresholdPercent: values.loadThresholdPercent,
    };
}

function fencingSpec(values: ConfigValues): FencingSpec {
    const agent = fenceAgent(values);
    const raceDelaySeconds = values.fenceRaceDelaySeconds;
    switch (agent) {
        case undefined:
            return { enabled: false };
        case "fence_vmware_rest":
            return { enabled: true, agent, vcenterAddress: vcenterAddress(values), user: values.fenceUser, sslInsecure: values.fenceSslInsecure, raceDelaySeconds };
        case "fence_ipmilan":
            return { enabled: true, agent, user: values.fenceUser, powerWaitSeconds: values.fencePowerWaitSeconds, raceDelaySeconds };
    }
}
