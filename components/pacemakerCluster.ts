import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { FENCE_PASSWORD_FILE } from "./nodePaths";
import { ClusterSpec } from "./config";
import { PgNode } from "./pgNode";
import { remoteDestroyStep, remoteStep } from "./remoteStep";

/** How long cluster-wide steps wait for the cluster to settle before failing with its status. */
export const CLUSTER_WAIT_SECONDS = 300;

export interface PacemakerClusterArgs {
    /** The validated cluster specification. */
    readonly spec: ClusterSpec;
    /** The prepared nodes, in spec order; the first one runs the cluster-wide commands. */
    readonly nodes: readonly PgNode[];
    /** Secret password of the hacluster user (the one PgNode set). */
    readonly haclusterPassword: pulumi.Output<string>;
    /** Secret password of the fence user; required when fencing is on. */
    readonly fencePassword?: pulumi.Output<string>;
}

/** `name=ip` words for the cluster scripts. */
export function nodeAddressList(spec: ClusterSpec): string[] {
    return spec.nodes.map((n) => `${n.name}=${n.ip}`);
}

/**
 * The Corosync/Pacemaker cluster: pcs authentication where not yet authorized, `pcs cluster setup` once
 * (in the dialect of the pcs on the hosts), start and enable on every node, and a bounded wait for all
 * nodes online with quorum. With fencing on, also the fence password on every node for the fence device.
 * On existing hosts a teardown step undoes the cluster (not the data) when the stack is destroyed.
 */
export class PacemakerCluster extends pulumi.ComponentResource {
    /** Steps after which the cluster runs with quorum (and, with fencing, every node holds the fence password). */
    public readonly ready: command.remote.Command[];

    constructor(name: string, args: PacemakerClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pgha:index:PacemakerCluster", name, {}, opts);
        const { spec, nodes } = args;
        const first = nodes[0];
        const triggers = nodes.map((n) => n.hostIdentity);
        const nodeList = nodeAddressList(spec);

        const auth = remoteStep(`${name}-auth`, first.connection, {
            script: "cluster-auth.sh",
            vars: { NODES: nodeList },
            secretLines: [args.haclusterPassword],
            triggers,
        }, { parent: this, dependsOn: nodes.map((n) => n.ready) });
        const setup = remoteStep(`${name}-setup`, first.connection, {
            script: "cluster-setup.sh",
            vars: { CLUSTER_NAME: spec.clusterName, NODES: nodeList, WAIT_SECONDS: CLUSTER_WAIT_SECONDS, TOKEN_MS: spec.pacemaker.corosyncTokenMs },
            triggers,
        }, { parent: this, dependsOn: [auth] });

        const fenceSecrets = spec.fencing.enabled
            ? nodes.map((node, i) => remoteStep(`${spec.nodes[i].name}-fence-secret`, node.connection, {
                script: "fence-secret.sh",
                vars: { FENCE_PASSWORD_FILE },
                secretLines: [args.fencePassword as pulumi.Output<string>],
                triggers: [node.hostIdentity],
            }, { parent: this, dependsOn: [node.ready] }))
            : [];

        // Existing hosts outlive the stack: `pulumi destroy` stops the cluster and removes its configuration,
        // and keeps the data (VMs are protected instead, pgha:protect).
        if (spec.hostMode === "existing") {
            remoteDestroyStep(`${name}-teardown`, first.connection, { script: "cluster-teardown.sh", vars: {} }, { parent: this, dependsOn: [setup] });
        }

        this.ready = [setup, ...fenceSecrets];
        this.registerOutputs({});
    }
}
