// Fallback typings for the parts of @pulumi/vsphere that pgha uses, for machines whose npm registry does
// not serve the package (it is an optional dependency). tsconfig's `paths` prefers the real package when
// it is installed, so these never shadow the real types. Names and shapes follow @pulumi/vsphere 4.x.
import * as pulumi from "@pulumi/pulumi";

export interface GetDatacenterResult { readonly id: string; }
export interface GetDatastoreResult { readonly id: string; }
export interface GetNetworkResult { readonly id: string; }
export interface GetResourcePoolResult { readonly id: string; }
export interface GetComputeClusterResult { readonly id: string; readonly resourcePoolId: string; }
export interface GetVirtualMachineDisk {
    readonly size: number;
    readonly thinProvisioned: boolean;
    readonly eagerlyScrub: boolean;
    readonly label: string;
}
export interface GetVirtualMachineResult {
    readonly id: string;
    readonly guestId: string;
    readonly scsiType: string;
    readonly firmware: string;
    readonly networkInterfaceTypes: string[];
    readonly disks: GetVirtualMachineDisk[];
}

export function getDatacenterOutput(args: { name?: pulumi.Input<string> }, opts?: pulumi.InvokeOptions): pulumi.Output<GetDatacenterResult>;
export function getDatastoreOutput(args: { name: pulumi.Input<string>; datacenterId?: pulumi.Input<string> }, opts?: pulumi.InvokeOptions): pulumi.Output<GetDatastoreResult>;
export function getNetworkOutput(args: { name: pulumi.Input<string>; datacenterId?: pulumi.Input<string> }, opts?: pulumi.InvokeOptions): pulumi.Output<GetNetworkResult>;
export function getResourcePoolOutput(args: { name?: pulumi.Input<string>; datacenterId?: pulumi.Input<string> }, opts?: pulumi.InvokeOptions): pulumi.Output<GetResourcePoolResult>;
export function getComputeClusterOutput(args: { name: pulumi.Input<string>; datacenterId?: pulumi.Input<string> }, opts?: pulumi.InvokeOptions): pulumi.Output<GetComputeClusterResult>;
export function getVirtualMachineOutput(args: { name?: pulumi.Input<string>; datacenterId?: pulumi.Input<string> }, opts?: pulumi.InvokeOptions): pulumi.Output<GetVirtualMachineResult>;

export interface VirtualMachineArgs {
    name?: pulumi.Input<string>;
    resourcePoolId: pulumi.Input<string>;
    datastoreId?: pulumi.Input<string>;
    folder?: pulumi.Input<string>;
    numCpus?: pulumi.Input<number>;
    memory?: pulumi.Input<number>;
    guestId?: pulumi.Input<string>;
    scsiType?: pulumi.Input<string>;
    firmware?: pulumi.Input<string>;
    networkInterfaces?: pulumi.Input<pulumi.Input<{ networkId: pulumi.Input<string>; adapterType?: pulumi.Input<string> }>[]>;
    disks?: pulumi.Input<pulumi.Input<{ label?: pulumi.Input<string>; size?: pulumi.Input<number>; thinProvisioned?: pulumi.Input<boolean>; eagerlyScrub?: pulumi.Input<boolean> }>[]>;
    clone?: pulumi.Input<{
        templateUuid: pulumi.Input<string>;
        customize?: pulumi.Input<{
            linuxOptions?: pulumi.Input<{ hostName: pulumi.Input<string>; domain: pulumi.Input<string> }>;
            networkInterfaces?: pulumi.Input<pulumi.Input<{ ipv4Address?: pulumi.Input<string>; ipv4Netmask?: pulumi.Input<number> }>[]>;
            ipv4Gateway?: pulumi.Input<string>;
            dnsServerLists?: pulumi.Input<pulumi.Input<string>[]>;
            dnsSuffixLists?: pulumi.Input<pulumi.Input<string>[]>;
        }>;
    }>;
    waitForGuestNetTimeout?: pulumi.Input<number>;
}

export declare class VirtualMachine extends pulumi.CustomResource {
    constructor(name: string, args: VirtualMachineArgs, opts?: pulumi.CustomResourceOptions);
    readonly name: pulumi.Output<string>;
    readonly defaultIpAddress: pulumi.Output<string>;
    readonly moid: pulumi.Output<string>;
}
