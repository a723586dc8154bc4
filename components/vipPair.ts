import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { cibCommandLines, standbyStatus } from "./cib";
import { ClusterSpec } from "./config";
import { CLUSTER_WAIT_SECONDS } from "./pacemakerCluster";
import { PgNode } from "./pgNode";
import { remoteStep } from "./remoteStep";

/** Where applications connect. */
export interface Endpoint {
    readonly host: string;
    readonly port: number;
}

export interface VipPairArgs {
    /** The validated cluster specification. */
    readonly spec: ClusterSpec;
    /** The prepared nodes, in spec order; the first one pushes the configuration. */
    readonly nodes: readonly PgNode[];
    /** Steps that must be done before Pacemaker takes over: cluster up, database bootstrapped and copied. */
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

/**
 * vip-master (read-write, follows the primary) and vip-slave (read-only, follows the sync standby). Its
 * step pushes the whole cluster configuration, of which the VIPs and their constraints are the last part
 * (cib.ts renders it for both pcs dialects), and returns once the VIPs run where they belong.
 */
export class VipPair extends pulumi.ComponentResource {
    public readonly masterEndpoint: Endpoint;
    public readonly slaveEndpoint: Endpoint;
    /** The configuration push; done when PRI, the standby and both VIPs are in place. */
    public readonly ready: command.remote.Command;

    constructor(name: string, args: VipPairArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pgha:index:VipPair", name, {}, opts);
        const { spec, nodes } = args;
        this.masterEndpoint = { host: spec.vipMaster, port: spec.postgresql.port };
        this.slaveEndpoint = { host: spec.vipSlave, port: spec.postgresql.port };

        this.ready = remoteStep(`${name}-cib-push`, nodes[0].connection, {
            script: "cib-push.sh",
            vars: {
                PCS9_COMMANDS: cibCommandLines(spec, "0.9"),
                PCS10_COMMANDS: cibCommandLines(spec, "0.10+"),
                BINDIR: spec.postgresql.bindir,
                PGDATA: spec.postgresql.pgdata,
                STANDBY_STATUS: standbyStatus(spec),
                WAIT_SECONDS: CLUSTER_WAIT_SECONDS,
            },
            triggers: nodes.map((n) => n.hostIdentity),
        }, { parent: this, dependsOn: args.dependsOn });
        this.registerOutputs({ masterEndpoint: this.masterEndpoint, slaveEndpoint: this.slaveEndpoint });
    }
}
