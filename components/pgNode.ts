import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ClusterSpec, NodeSpec } from "./config";
import { nodeToolsVars, osPrepVars, postgresqlVars, resourceAgentsVars } from "./hostPrep";
import { NodeConnection, remoteStep } from "./remoteStep";
import { parseRestartParameters } from "./restartPlan";
import { createVm, VspherePlacement } from "./vsphereVm";

export interface PgNodeArgs {
    /** The validated cluster specification. */
    readonly spec: ClusterSpec;
    /** The node this component stands up. */
    readonly node: NodeSpec;
    /** vSphere lookups shared by the cluster's VMs; required in vsphere host mode, ignored otherwise. */
    readonly placement?: VspherePlacement;
    /** Secret SSH private key for the provisioning steps. */
    readonly sshPrivateKey: pulumi.Output<string>;
    /** Secret password for the hacluster user (pcsd authentication). */
    readonly haclusterPassword: pulumi.Output<string>;
}

/**
 * One cluster node, prepared up to the point where Pacemaker can be configured. In vsphere host mode a VM
 * cloned from the template; in existing mode the host already at the node's IP. Then, in order, over SSH:
 * os-prep (hosts, firewall, SELinux, repositories, packages), resource-agents, PostgreSQL, the node's tools
 * and resource agent (tools), pcsd.
 * Steps of one node run in order; nodes are independent of each other.
 */
export class PgNode extends pulumi.ComponentResource {
    /** How later steps reach this node. */
    public readonly connection: NodeConnection;
    /** The node's last preparation step; cluster-wide steps depend on it. */
    public readonly ready: command.remote.Command;
    /**
     * Identity of the host the steps ran on: the VM's id in vsphere mode (a replaced VM re-runs every
     * step), the IP in existing mode.
     */
    public readonly hostIdentity: pulumi.Output<string>;
    /** The parameters this node's PostgreSQL needs a restart for (undefined until its postgresql step ran). */
    public readonly restartParameters: pulumi.Output<ReadonlySet<string> | undefined>;

    constructor(name: string, args: PgNodeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pgha:index:PgNode", name, {}, opts);
        const { spec, node } = args;

        let hostDependency: pulumi.Resource[] = [];
        if (spec.hostMode === "vsphere") {
            if (!args.placement) {
                throw new Error("PgNode: vsphere host mode needs the placement lookups");
            }
            const vm = createVm(spec, node, args.placement, { parent: this });
            hostDependency = [vm];
            this.hostIdentity = vm.id;
        } else {
            this.hostIdentity = pulumi.output(node.ip);
        }

        this.connection = { host: node.ip, user: spec.ssh.user, port: spec.ssh.port, privateKey: args.sshPrivateKey };
        const triggers = [this.hostIdentity];
        const osPrep = remoteStep(`${name}-os-prep`, this.connection, { script: "os-prep.sh", vars: osPrepVars(spec, node.name), triggers }, { parent: this, dependsOn: hostDependency });
        const resourceAgents = remoteStep(`${name}-resource-agents`, this.connection, { script: "resource-agents.sh", vars: resourceAgentsVars(spec), triggers }, { parent: this, dependsOn: [osPrep] });
        const postgresql = remoteStep(`${name}-postgresql`, this.connection, { script: "postgresql.sh", vars: postgresqlVars(spec), triggers }, { parent: this, dependsOn: [resourceAgents] });
        this.restartParameters = postgresql.stdout.apply(parseRestartParameters);
        const tools = remoteStep(`${name}-tools`, this.connection, { script: "node-tools.sh", vars: nodeToolsVars(spec), triggers }, { parent: this, dependsOn: [postgresql] });
        this.ready = remoteStep(`${name}-pcsd`, this.connection, { script: "pcsd.sh", vars: {}, secretLines: [args.haclusterPassword], triggers }, { parent: this, dependsOn: [tools] });

        this.registerOutputs({ hostIdentity: this.hostIdentity });
    }
}
