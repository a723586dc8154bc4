import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ClusterSpec } from "./config";
import { INITDB_OPTS, pgScriptVars, postgresqlSettings } from "./pgConfig";
import { PgNode } from "./pgNode";
import { remoteStep } from "./remoteStep";

export interface PgsqlMasterSlaveArgs {
    /** The validated cluster specification. */
    readonly spec: ClusterSpec;
    /** The prepared nodes, in spec order; the first one becomes the initial primary. */
    readonly nodes: readonly PgNode[];

    /** Secret password of the postgres superuser. */
    readonly postgresPassword: pulumi.Output<string>;
    /** Secret password of the replication role. */
    readonly replicationPassword: pulumi.Output<string>;
}

/**
 * The replicated database before Pacemaker takes it over (built while the cluster forms, which it does not
 * need): on the first node initdb, managed settings and
 * pg_hba, the superuser password and the replication role; on the others pg_basebackup from it (skipped
 * when a copy is already there). Every node gets the replication passfile, so no password is ever in
 * primary_conninfo or the CIB. The pgsql resource itself is part of the cluster configuration (cib.ts).
 */
export class PgsqlMasterSlave extends pulumi.ComponentResource {
    /** The bootstrap of the first node and the basebackups of the others. */
    public readonly ready: command.remote.Command[];

    constructor(name: string, args: PgsqlMasterSlaveArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pgha:index:PgsqlMasterSlave", name, {}, opts);
        const { spec, nodes } = args;
        const shared = pgScriptVars(spec);
        const [primaryNode, ...standbyNodes] = nodes;

        const primary = remoteStep(`${spec.nodes[0].name}-pg-primary`, primaryNode.connection, {
            script: "pg-primary.sh",
            libraries: ["pglib.sh"],
            vars: { ...shared, VIP_MASTER: spec.vipMaster, INITDB_OPTS },
            secretLines: [args.postgresPassword, args.replicationPassword],
            triggers: [primaryNode.hostIdentity],
        }, { parent: this, dependsOn: [primaryNode.ready] });

        const standbys = standbyNodes.map((node, i) => remoteStep(`${spec.nodes[i + 1].name}-pg-standby`, node.connection, {
            script: "pg-standby.sh",
            libraries: ["pglib.sh"],
            vars: { ...shared, PRIMARY_IP: spec.nodes[0].ip },
            secretLines: [args.replicationPassword],
            triggers: [node.hostIdentity],
        }, { parent: this, dependsOn: [primary, node.ready] }));

        this.ready = [primary, ...standbys];
        this.registerOutputs({});
    }

    /**
     * Once Pacemaker runs the database (`clusterReady`): a step per node that runs pgha-rolling-restart whenever
     * pgha.conf changes. Every node runs it, since any node may be the primary by then; only the primary acts,
     * restarting the nodes whose settings wait for a restart one at a time, with one switchover.
     */
    rollingRestart(spec: ClusterSpec, nodes: readonly PgNode[], clusterReady: pulumi.Resource[]): command.remote.Command[] {
        return nodes.map((node, i) => remoteStep(`${spec.nodes[i].name}-pg-restart`, node.connection, {
            script: "rolling-restart.sh",
            libraries: ["pglib.sh", "rejoinlib.sh"],
            vars: {},
            triggers: [postgresqlSettings(spec)],
        }, { parent: this, dependsOn: [...this.ready, ...clusterReady] }));
    }
}
