/**
 * The vSphere VM of one node: a clone of the configured template, customized with the node's hostname,
 * domain, static address, gateway and DNS. Guest id, SCSI controller, firmware, NIC type and disk layout
 * come from the template, looked up through the vsphere data sources.
 */
import * as pulumi from "@pulumi/pulumi";
import type * as vsphereTypes from "@pulumi/vsphere";
import { ClusterSpec, ConfigError, NodeSpec, VsphereSpec } from "./config";

/** Loads @pulumi/vsphere on demand: hosts in `existing` mode must work without the package. */
function loadVsphere(): typeof vsphereTypes {
    try {
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        return require("@pulumi/vsphere");
    } catch {
        throw new pulumi.RunError("pgha:hostMode vsphere needs the @pulumi/vsphere package: run `npm install @pulumi/vsphere`");
    }
}

/** Lookups shared by all VMs of the cluster (one set of invokes, not one per node). */
export interface VspherePlacement {
    readonly resourcePoolId: pulumi.Output<string>;
    readonly datastoreId: pulumi.Output<string>;
    readonly networkId: pulumi.Output<string>;
    readonly template: pulumi.Output<vsphereTypes.GetVirtualMachineResult>;
}

/**
 * The error of a failed vSphere lookup, naming the pgha: key to fix: `pgha:vsphereDatastore: no datastore "X"
 * in datacenter "DC0"` when vCenter has no such object, else the provider's own reason (first line).
 */
export function lookupFailure(key: string, what: string, name: string, datacenter: string | undefined, error: unknown): string {
    const where = datacenter === undefined ? "" : ` in datacenter "${datacenter}"`;
    const message = error instanceof Error ? error.message : String(error);
    if (/not found|cannot find|could not find|no .* found/i.test(message)) {
        return `pgha:${key}: no ${what} "${name}"${where}`;
    }
    const reason = message.replace(/^invoke of \S+ failed: /, "").split("\n")[0];
    return `pgha:${key}: looking up ${what} "${name}"${where} failed: ${reason}`;
}

/** Why the template cannot be cloned into this cluster's VMs (empty when it can). */
export function templateProblems(templateName: string, diskGiB: number, template: Pick<vsphereTypes.GetVirtualMachineResult, "disks" | "networkInterfaceTypes">): string[] {
    const problems: string[] = [];
    if (template.disks.length === 0) {
        problems.push(`pgha:vsphereTemplate: "${templateName}" has no disk to clone`);
    } else if (template.disks[0].size > diskGiB) {
        problems.push(`pgha:vmDiskGiB: ${diskGiB} GiB is smaller than the disk of template "${templateName}" (${template.disks[0].size} GiB); a clone's disk can grow, not shrink`);
    }
    if (template.networkInterfaceTypes.length === 0) {
        problems.push(`pgha:vsphereTemplate: "${templateName}" has no network adapter to connect to pgha:vsphereNetwork`);
    }
    return problems;
}

/** Runs one lookup; its failure stops the program with a ConfigError naming the key to fix. */
async function lookup<T>(key: string, what: string, name: string, datacenter: string | undefined, call: () => Promise<T>): Promise<T> {
    try {
        return await call();
    } catch (error) {
        throw new ConfigError([lookupFailure(key, what, name, datacenter, error)]);
    }
}

export function lookupPlacement(placement: VsphereSpec, diskGiB: number, opts: pulumi.InvokeOptions): VspherePlacement {
    const vsphere = loadVsphere();
    const dc = placement.datacenter;
    const datacenterId = pulumi.output(lookup("vsphereDatacenter", "datacenter", dc, undefined, () => vsphere.getDatacenter({ name: dc }, opts))).apply((d) => d.id as string);
    const inDatacenter = <T>(key: string, what: string, name: string, call: (datacenterId: string) => Promise<T>) =>
        datacenterId.apply((id) => lookup(key, what, name, dc, () => call(id)));
    const pool = placement.resourcePool;
    const cluster = placement.computeCluster as string;
    const resourcePoolId = pool
        ? inDatacenter("vsphereResourcePool", "resource pool", pool, (id) => vsphere.getResourcePool({ name: pool, datacenterId: id }, opts)).id
        : inDatacenter("vsphereComputeCluster", "compute cluster", cluster, (id) => vsphere.getComputeCluster({ name: cluster, datacenterId: id }, opts)).resourcePoolId;
    const template = inDatacenter("vsphereTemplate", "template VM", placement.template, (id) => vsphere.getVirtualMachine({ name: placement.template, datacenterId: id }, opts))
        .apply((t) => {
            const problems = templateProblems(placement.template, diskGiB, t);
            if (problems.length > 0) {
                throw new ConfigError(problems);
            }
            return t;
        });
    return {
        resourcePoolId,
        datastoreId: inDatacenter("vsphereDatastore", "datastore", placement.datastore, (id) => vsphere.getDatastore({ name: placement.datastore, datacenterId: id }, opts)).id,
        networkId: inDatacenter("vsphereNetwork", "network", placement.network, (id) => vsphere.getNetwork({ name: placement.network, datacenterId: id }, opts)).id,
        template,
    };
}

export function createVm(
    spec: ClusterSpec,
    node: Pick<NodeSpec, "name" | "ip" | "vmName">,
    placement: VspherePlacement,
    opts: pulumi.CustomResourceOptions,
): vsphereTypes.VirtualMachine {
    const vsphere = loadVsphere();
    const vsphereSpec = spec.vsphere as VsphereSpec;
    const template = placement.template;
    return new vsphere.VirtualMachine(
        node.name,
        {
            name: node.vmName,
            resourcePoolId: placement.resourcePoolId,
            datastoreId: placement.datastoreId,
            folder: vsphereSpec.folder,
            // The provider waits for the customization and the guest's address; not for a "routable" one (its
            // check of the guest's default route): the SSH steps that follow retry their connection (README).
            waitForGuestNetRoutable: false,
            numCpus: spec.vm.cpus,
            memory: spec.vm.memoryMiB,
            guestId: template.guestId,
            scsiType: template.scsiType,
            firmware: template.firmware,
            networkInterfaces: [{ networkId: placement.networkId, adapterType: template.networkInterfaceTypes[0] }],
            disks: [
                {
                    label: "disk0",
                    size: spec.vm.diskGiB,
                    thinProvisioned: template.disks[0].thinProvisioned,
                    eagerlyScrub: template.disks[0].eagerlyScrub,
                },
            ],
            clone: {
                templateUuid: template.id,
                customize: {
                    linuxOptions: { hostName: node.name, domain: spec.network.domain },
                    networkInterfaces: [{ ipv4Address: node.ip, ipv4Netmask: spec.network.prefixLength }],
                    ipv4Gateway: spec.network.gateway,
                    dnsServerLists: [...spec.network.dnsServers],
                    dnsSuffixLists: [spec.network.domain],
                },
            },
        },
        {
            ...opts,
            // A VM holds a copy of the database: never deleted or replaced unless the stack says so (pgha:protect).
            protect: spec.protect,
            // Settings pgha does not set, which the provider would otherwise "change" on every up: the OVF maps
            // of the clone (read back empty; pgha clones a VM template, never an OVF) and the swap placement
            // (the provider's default, "inherit", against what vCenter reports: nothing, in the simulator; a change
            // of it restarts the guest, which an up must not do to a database node for a setting pgha does not own).
            ignoreChanges: ["clone.ovfNetworkMap", "clone.ovfStorageMap", "swapPlacementPolicy"],
        },
    );
}
