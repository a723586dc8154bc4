import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ClusterSpec } from "./config";
import { INITDB_OPTS, pgScriptVars, postgresqlSettings } from "./pgConfig";
import { PgNode } from "./pgNode";
import { postgresqlVars, ScriptVars } from "./hostPrep";
import { remoteStep } from "./remoteStep";
import { buildPlan, restartPlan } from "./restartPlan";

export interface PgsqlMasterSlaveArgs {
    /** The validated cluster specification. */
    readonly spec: ClusterSpec;
    /** The prepared nodes, in spec order; the first one becomes the initial primary of a new cluster. */
    readonly nodes: readonly PgNode[];

    /** Secret password of the postgres superuser. */
    readonly postgresPassword: pulumi.Output<string>;
    /** Secret password of the replication role. */
    readonly replicationPassword: pulumi.Output<string>;
}

/**
 * The replicated database: one step per node, `<node>-database`, the same whatever the node's role (after
 * failovers any node may be the primary): managed settings, pg_hba and the replication passfile on every node,
 * reloaded where the server runs; the passwords and the replication role on the node the cluster says is the
 * primary. Only while the cluster does not exist yet does the spec order matter: the first node is initdb'd and
 * the others take a base backup from it (they wait for it). No step depends on another node's database step,
 * so a node that is down fails its own step and the others still get a reload-only change. Built while the
 * cluster forms, which it does not need; no password is ever in primary_conninfo or the CIB. The pgsql
 * resource itself is part of the cluster configuration (cib.ts).
 */
export class PgsqlMasterSlave extends pulumi.ComponentResource {
    /** Every node's database step. */
    public readonly ready: command.remote.Command[];

    constructor(name: string, args: PgsqlMasterSlaveArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pgha:index:PgsqlMasterSlave", name, {}, opts);
        const { spec, nodes } = args;
        const shared = pgScriptVars(spec);
        const initialPrimary = nodes[0];

        this.ready = nodes.map((node, i) => {
            const bootstrapRole = i === 0 ? "primary" : "standby";
            return remoteStep(`${spec.nodes[i].name}-database`, node.connection, {
                script: "database.sh",
                libraries: ["pglib.sh"],
                vars: { ...shared, BOOTSTRAP_ROLE: bootstrapRole, BOOTSTRAP_PRIMARY_IP: spec.nodes[0].ip, INITDB_OPTS },
                secretLines: [args.postgresPassword, args.replicationPassword],
                triggers: [node.hostIdentity],
            }, {
                parent: this,
                // The initial primary's preparation, not its database step: the base backups wait for its server.
                dependsOn: i === 0 ? [node.ready] : [node.ready, initialPrimary.ready],
                // The steps of pgha before the roles were decided at run time.
                aliases: [{ name: `${spec.nodes[i].name}-pg-${bootstrapRole}` }],
            });
        });
        this.registerOutputs({});
    }

    /**
     * Once Pacemaker runs the database (`clusterReady`): a step per node that runs pgha-rolling-restart whenever
     * pgha.conf or the PostgreSQL build changes. Every node runs it, since any node may be the primary by then;
     * only the primary acts, restarting the nodes where something waits for a restart one at a time, with one
     * switchover (or the primary in place, pgha:restartPolicy). Its PLAN says so to whoever reads a preview.
     */
    rollingRestart(spec: ClusterSpec, nodes: readonly PgNode[], clusterReady: pulumi.Resource[]): command.remote.Command[] {
        return nodes.map((node, i) => remoteStep(`${spec.nodes[i].name}-pg-restart`, node.connection, {
            script: "rolling-restart.sh",
            libraries: ["pglib.sh", "rejoinlib.sh"],
            vars: node.restartParameters.apply((restartParameters): ScriptVars => ({
                RESTART_POLICY: spec.postgresql.restartPolicy,
                // The plan, for whoever reviews a preview's diff (the script does not read it).
                PLAN: [buildPlan(spec.postgresql, spec.postgresql.restartPolicy), restartPlan(spec.postgresql.parameters, restartParameters, spec.postgresql.restartPolicy)].join("\n"),
            })),
            // A new build too: the servers keep their old binaries until they restart.
            triggers: [postgresqlSettings(spec), JSON.stringify(postgresqlVars(spec))],
        }, { parent: this, dependsOn: [this.ready[i], ...clusterReady] }));
    }
}
