/**
 * The vSphere VM of one node: a clone of the configured template, customized with the node's hostname,
 * domain, static address, gateway and DNS. Guest id, SCSI controller, firmware, NIC type and disk layout
 * come from the template, looked up through the vsphere data sources.
 */
import * as pulumi from "@pulumi/pulumi";
import type * as vsphereTypes from "@pulumi/vsphere";
import { ClusterSpec, NodeSpec, VsphereSpec } from "./config";

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

export function lookupPlacement(placement: VsphereSpec, opts: pulumi.InvokeOptions): VspherePlacement {
    const vsphere = loadVsphere();
    const datacenterId = vsphere.getDatacenterOutput({ name: placement.datacenter }, opts).id;
    const resourcePoolId = placement.resourcePool
        ? vsphere.getResourcePoolOutput({ name: placement.resourcePool, datacenterId }, opts).id
        : vsphere.getComputeClusterOutput({ name: placement.computeCluster as string, datacenterId }, opts).resourcePoolId;
    return {
        resourcePoolId,
        datastoreId: vsphere.getDatastoreOutput({ name: placement.datastore, datacenterId }, opts).id,
        networkId: vsphere.getNetworkOutput({ name: placement.network, datacenterId }, opts).id,
        template: vsphere.getVirtualMachineOutput({ name: placement.template, datacenterId }, opts),
    };
}

export function createVm(
    spec: ClusterSpec,
    node: NodeSpec,
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
        // A VM holds a copy of the database: never deleted or replaced unless the stack says so (pgha:protect).
        { ...opts, protect: spec.protect },
    );
}
