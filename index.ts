/**
 * pgha: a three-node PostgreSQL high-availability cluster (Pacemaker + Corosync + pcsd, the pgsql agent's
 * streaming replication, a read-write VIP on the primary and a read-only VIP on the sync standby), on
 * vSphere VMs or existing hosts. Configuration keys: components/configKeys.ts, README.md.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseConfig, readRawConfig } from "./components/config";
import { BackupRepository } from "./components/backupRepository";
import { connectionString } from "./components/endpoints";
import { PacemakerCluster } from "./components/pacemakerCluster";
import { passwordOrGenerated } from "./components/passwords";
import { PgNode } from "./components/pgNode";
import { PgsqlMasterSlave } from "./components/pgsqlMasterSlave";
import { VipPair } from "./components/vipPair";
import { lookupPlacement } from "./components/vsphereVm";

// Everything is validated before the first resource is registered.
const spec = parseConfig({ ...readRawConfig(new pulumi.Config()), vsphereServer: new pulumi.Config("vsphere").get("vsphereServer") });

if (!spec.fencing.enabled) {
    pulumi.log.warn("pgha:fencingEnabled is false: a failed or partitioned primary is not fenced, so a split brain "
        + "(two primaries, a duplicate vip-master) is possible. Use this only for labs and tests.");
}

const haclusterPassword = passwordOrGenerated("hacluster-password", spec.secrets.haclusterPassword);
const postgresPassword = passwordOrGenerated("postgres-password", spec.secrets.postgresPassword);
const replicationPassword = passwordOrGenerated("replication-password", spec.secrets.replicationPassword);

const placement = spec.vsphere ? lookupPlacement(spec.vsphere, spec.vm.diskGiB, {}) : undefined;
const pgNodes = spec.nodes.map((node) => new PgNode(node.name, {
    spec,
    node,
    placement,
    sshPrivateKey: spec.secrets.sshPrivateKey,
    haclusterPassword,
}));

const cluster = new PacemakerCluster(spec.clusterName, { spec, nodes: pgNodes, haclusterPassword, fencePassword: spec.secrets.fencePassword });
const database = new PgsqlMasterSlave("pgsql", { spec, nodes: pgNodes, postgresPassword, replicationPassword });
const vips = new VipPair("vips", { spec, nodes: pgNodes, dependsOn: [...cluster.ready, ...database.ready] });
database.rollingRestart(spec, pgNodes, [vips.ready]);
const backups = spec.backup
    ? new BackupRepository("backups", {
        spec, backup: spec.backup, nodes: pgNodes, placement, sshPrivateKey: spec.secrets.sshPrivateKey, clusterReady: [vips.ready, ...database.ready],
    })
    : undefined;

export const clusterName = spec.clusterName;
export const nodes = spec.nodes.map(({ name, ip }) => ({ name, ip }));
export const masterEndpoint = vips.masterEndpoint;
export const slaveEndpoint = vips.slaveEndpoint;
export const masterConnectionString = connectionString(vips.masterEndpoint, postgresPassword, "read-write");
/** The backup repository host and pgBackRest's stanza (absent without pgha:backupHost). */
export const backupHost = backups?.host;
export const backupStanza = backups?.stanza;
export const slaveConnectionString = connectionString(vips.slaveEndpoint, postgresPassword, "any");
export { haclusterPassword, postgresPassword, replicationPassword };
