/**
 * The vSphere path with the real engine, the real vsphere provider and @pulumi/vsphere (toolchain/, built from
 * the vendored source) against VMware's vCenter simulator (tests/vcsim.ts: started on loopback, stopped again):
 * the dev stack with the simulator's objects in place of its EXAMPLE values. Preview lists the VMs and every
 * step; bad vSphere names fail at preview with the key to fix; `pulumi up --target` the VMs (the simulated
 * guests run no SSH, so the steps are not run) clones them as configured, checked with govc; a second up
 * changes nothing; a memory change updates the VMs in place; destroy is refused while the VMs are protected,
 * and deletes them once pgha:protect is false.
 * What vcsim v0.46.0 cannot show with this provider (README, vSphere): the compute-cluster placement (see
 * PLACEMENT) and parallel clones (see upVms).
 */
import * as path from "path";
import { EngineResult, EngineWorkspace } from "./engine";
import { TEST_SECRETS } from "./fixtures";
import { Vcsim } from "./vcsim";

const NODES = [
    { name: "pgtest1", ip: "192.168.24.11" },
    { name: "pgtest2", ip: "192.168.24.12" },
    { name: "pgtest3", ip: "192.168.24.13" },
];
/** Every VM: the cluster nodes and the backup repository host (pgha:backupHost), cloned alike. */
const MACHINES = [...NODES, { name: "pgbackup", ip: "192.168.24.16" }];
const MACHINE_NAMES = MACHINES.map((m) => m.name).sort();
const VM_TYPE = "vsphere:index/virtualMachine:VirtualMachine";
const TEMPLATE = "centos79-template";
const TEMPLATE_DISK_GIB = 20;

/**
 * The simulator's inventory in place of the dev stack's EXAMPLE vCenter objects. The VMs go to the standalone
 * host's pool: with a compute cluster the provider asks for the cluster as a plain ComputeResource, which a
 * real vCenter answers and vcsim does not (ManagedObjectNotFound, already at preview). Only an unknown
 * cluster's lookup is checked.
 */
const PLACEMENT = {
    "pgha:vsphereDatacenter": "DC0",
    "pgha:vsphereComputeCluster": "DC0_C0",
    "pgha:vsphereResourcePool": "DC0_H0/Resources",
    "pgha:vsphereDatastore": "LocalDS_0",
    "pgha:vsphereNetwork": "VM Network",
    "pgha:vsphereFolder": "pgha",
    "pgha:vsphereTemplate": TEMPLATE,
};

let engine: EngineWorkspace;
let vcsim: Vcsim | undefined;
/** The VMs and their parent components, the targets of `pulumi up --target`. */
let vmUrns: string[];

function govc(...args: string[]): string {
    return (vcsim as Vcsim).govc(...args);
}

interface VmInfo {
    readonly config: {
        readonly guestId: string;
        readonly instanceUuid: string;
        readonly hardware: { readonly numCPU: number; readonly memoryMB: number; readonly device: Array<Record<string, any>> };
    };
    readonly guest: { readonly hostName?: string; readonly ipAddress?: string; readonly net?: unknown[] };
}

/** The VMs under the pgha folder, by name (vm.info -json). */
function vmsInFolder(): Map<string, VmInfo> {
    const names = govc("ls", "/DC0/vm/pgha").split("\n").filter(Boolean);
    const vms = new Map<string, VmInfo>();
    for (const name of names) {
        const info = JSON.parse(govc("vm.info", "-json", name)).virtualMachines[0] as VmInfo;
        vms.set(path.basename(name), info);
    }
    return vms;
}

function pulumi(...args: string[]): EngineResult {
    return engine.run(["pulumi", ...args, "--non-interactive", "--stack", "vcsim"]);
}

function expectOk(result: EngineResult): void {
    if (result.status !== 0) {
        throw new Error(`exit ${result.status}:\n${result.output}`);
    }
}

/** The --target arguments that restrict a command to the VMs. */
function vmTargets(): string[] {
    return vmUrns.flatMap((urn) => ["--target", urn]);
}

/**
 * `pulumi up` of the VMs only: the simulated guests cannot run the SSH steps. One VM at a time: with three
 * clones at once, vcsim v0.46.0 dropped a connection ("Post .../sdk: EOF") in one run and stalled past 10
 * minutes in another; one at a time each clone takes about a second.
 */
function upVms(...options: string[]): EngineResult {
    return pulumi("up", "--yes", "--skip-preview", "--parallel", "1", ...options, ...vmTargets());
}

interface PreviewStep {
    readonly op: string;
    readonly urn: string;
    readonly newState?: { readonly type: string; readonly inputs: Record<string, unknown> };
    readonly oldState?: { readonly type: string };
    readonly detailedDiff?: Record<string, unknown>;
}

/**
 * The steps of `pulumi preview --json` with `args`, with the exit status: a preview that plans a refused
 * replacement exits non-zero with the plan still on stdout.
 */
function previewPlan(...args: string[]): { status: number; steps: PreviewStep[] } {
    const preview = pulumi("preview", "--json", ...args);
    return { status: preview.status, steps: (JSON.parse(preview.output) as { steps: PreviewStep[] }).steps };
}

const resourceName = (step: PreviewStep) => step.urn.split("::").pop() as string;
const resourceType = (step: PreviewStep) => (step.newState ?? step.oldState)?.type;

beforeAll(async () => {
    engine = new EngineWorkspace();
    const where = engine.run(["bash", "-c", 'printf %s "$PGHA_PULUMI_BIN"']);
    expectOk(where);
    // One cluster of two hosts, a standalone host, one datastore, no VM: the test makes the template.
    vcsim = await Vcsim.start(where.output.trim(), ["-dc", "1", "-cluster", "1", "-host", "2", "-standalone-host", "1", "-vm", "0", "-ds", "1"]);
    govc("folder.create", "/DC0/vm/pgha");
    govc("vm.create", "-ds", "LocalDS_0", "-pool", "/DC0/host/DC0_H0/Resources", "-net", "VM Network", "-net.adapter", "vmxnet3",
        "-disk", `${TEMPLATE_DISK_GIB}GB`, "-g", "centos7_64Guest", "-on=false", "-folder", "/DC0/vm", TEMPLATE);
    govc("vm.markastemplate", TEMPLATE);
    const server = new URL(vcsim.url);
    engine.createStack("vcsim", "dev", {
        "pgha:sshPrivateKey": TEST_SECRETS.sshPrivateKey,
        "pgha:fencePassword": TEST_SECRETS.fencePassword,
        "pgha:haclusterPassword": "VcsimTestHacluster1",
        "pgha:postgresPassword": "VcsimTestPostgres1",
        "pgha:replicationPassword": "VcsimTestReplication1",
        "vsphere:password": decodeURIComponent(server.password),
    }, {
        ...PLACEMENT,
        "vsphere:vsphereServer": server.host,
        "vsphere:user": decodeURIComponent(server.username),
        "vsphere:allowUnverifiedSsl": "true",
    });
}, 1_200_000);

afterAll(async () => {
    await vcsim?.stop();
    engine?.cleanup();
});

test("preview lists the four VMs (three nodes, the backup host) and every step of the dev stack, with fencing through vCenter", () => {
    const plan = previewPlan();
    expect(plan.status).toBe(0);
    const steps = new Map(plan.steps.map((s) => [resourceName(s), { op: s.op, type: resourceType(s) }]));
    for (const node of NODES) {
        expect(steps.get(node.name)).toEqual({ op: "create", type: VM_TYPE });
        for (const step of ["os-prep", "resource-agents", "postgresql", "tools", "pcsd"]) {
            expect(steps.get(`${node.name}-${step}`)?.op).toBe("create");
        }
    }
    expect(steps.get("vips-cib-push")?.op).toBe("create");
    expect(steps.get("pgbackup")).toEqual({ op: "create", type: VM_TYPE });
    for (const step of ["os-prep", "postgresql", "ssh-identity", "pgbackrest", "tools", "timers", "stanza"]) {
        expect(steps.get(`pgbackup-${step}`)?.op).toBe("create");
    }
    expect([...steps.values()].filter((s) => s.type === VM_TYPE)).toHaveLength(4);
    // Fencing through vCenter: the CIB step creates one fence_vmware_rest device for the three VMs.
    const cib = plan.steps.find((s) => s.urn.endsWith("::vips-cib-push"));
    expect(String(cib?.newState?.inputs.create)).toContain("'stonith' 'create' 'vmfence' 'fence_vmware_rest'");
    expect(String(cib?.newState?.inputs.create)).toContain("'pcmk_host_map=pgtest1:pgtest1;pgtest2:pgtest2;pgtest3:pgtest3'");
    const targets = new Set([VM_TYPE, "pgha:index:PgNode", "pgha:index:BackupRepository"]);
    vmUrns = plan.steps.filter((s) => targets.has(resourceType(s) ?? "")).map((s) => s.urn);
    expect(vmUrns).toHaveLength(8);
}, 300_000);

test.each([
    [{ "pgha:vsphereDatacenter": "DC9" }, 'pgha:vsphereDatacenter: no datacenter "DC9"'],
    [{ "pgha:vsphereTemplate": "centos99" }, 'pgha:vsphereTemplate: no template VM "centos99" in datacenter "DC0"'],
    [{ "pgha:vsphereDatastore": "NoSuchDS" }, 'pgha:vsphereDatastore: no datastore "NoSuchDS" in datacenter "DC0"'],
    [{ "pgha:vsphereNetwork": "No Such Network" }, 'pgha:vsphereNetwork: no network "No Such Network" in datacenter "DC0"'],
    [{ "pgha:vsphereResourcePool": "DC0_H0/Resources/nope" }, 'pgha:vsphereResourcePool: no resource pool "DC0_H0/Resources/nope" in datacenter "DC0"'],
    [{ "pgha:vsphereResourcePool": "", "pgha:vsphereComputeCluster": "DC0_C9" }, 'pgha:vsphereComputeCluster: no compute cluster "DC0_C9" in datacenter "DC0"'],
    [{ "pgha:vmDiskGiB": "15" }, `pgha:vmDiskGiB: 15 GiB is smaller than the disk of template "${TEMPLATE}" (${TEMPLATE_DISK_GIB} GiB)`],
])("bad vSphere input %j fails at preview with the key to fix, not with a provider error", (bad: Record<string, string>, message) => {
    const good: Record<string, string> = { ...PLACEMENT, "pgha:vmDiskGiB": "60" };
    for (const [key, value] of Object.entries(bad)) {
        expectOk(pulumi("config", "set", key, value));
    }
    try {
        const preview = pulumi("preview");
        expect(preview.status).not.toBe(0);
        expect(preview.output).toContain(message);
        // The program's error, not the provider's: no Go trace, no raw vSphere fault.
        expect(preview.output).not.toMatch(/panic:|goroutine|provider2\.go|ServerFaultCode/);
        expect(preview.output).not.toContain("VirtualMachine pgtest1 create");
    } finally {
        for (const key of Object.keys(bad)) {
            expectOk(pulumi("config", "set", key, good[key]));
        }
    }
}, 300_000);

test("up of the VMs clones the template into four customized VMs of the configured size", () => {
    expectOk(upVms());
    const vms = vmsInFolder();
    expect([...vms.keys()].sort()).toEqual(MACHINE_NAMES);
    for (const node of MACHINES) {
        const vm = vms.get(node.name) as VmInfo;
        expect(vm.config.hardware.numCPU).toBe(2);
        expect(vm.config.hardware.memoryMB).toBe(2048);
        expect(vm.config.guestId).toBe("centos7_64Guest");
        const disks = vm.config.hardware.device.filter((d) => "capacityInKB" in d);
        expect(disks.map((d) => d.capacityInKB)).toEqual([60 * 1024 * 1024]);
        const nics = vm.config.hardware.device.filter((d) => "macAddress" in d);
        expect(nics).toHaveLength(1);
        // Guest customization as vcsim applies it to the guest info: hostname, static address, DNS.
        expect(vm.guest.hostName).toBe(node.name);
        expect(vm.guest.ipAddress).toBe(node.ip);
        expect(vm.guest.net).toEqual([expect.objectContaining({
            network: "VM Network",
            ipAddress: [node.ip],
            dnsConfig: expect.objectContaining({ hostName: node.name, searchDomain: ["example.internal"] }),
        })]);
    }
    expect(govc("events", "/DC0/vm/pgha/pgtest1")).toContain("Customization of VM pgtest1 succeeded");
}, 600_000);

/** What a preview of the VMs only would change, by VM name: the operation and the properties it changes. */
function vmChanges(): Map<string, { op: string; properties: string[] }> {
    return new Map(previewPlan(...vmTargets()).steps
        .filter((s) => resourceType(s) === VM_TYPE && s.op !== "same")
        .map((s) => [resourceName(s), { op: s.op, properties: Object.keys(s.detailedDiff ?? {}) }]));
}

function vmIds(): Map<string, string> {
    return new Map([...vmsInFolder()].map(([name, vm]) => [name, vm.config.instanceUuid]));
}

test("a second up changes nothing", () => {
    expect(vmChanges()).toEqual(new Map());
    expectOk(upVms("--expect-no-changes"));
}, 600_000);

test("a changed pgha:vmMemoryMiB updates each VM in place", () => {
    const before = vmIds();
    expectOk(pulumi("config", "set", "pgha:vmMemoryMiB", "4096"));
    const changes = vmChanges();
    expect([...changes.keys()].sort()).toEqual(MACHINE_NAMES);
    for (const change of changes.values()) {
        expect(change.op).toBe("update");
        expect(change.properties).toContain("memory");
    }
    expectOk(upVms());
    const vms = vmsInFolder();
    for (const node of MACHINES) {
        expect(vms.get(node.name)?.config.hardware.memoryMB).toBe(4096);
    }
    expect(vmIds()).toEqual(before);
    expect(vmChanges()).toEqual(new Map());
}, 600_000);

test("a changed pgha:domain (clone customization) would replace every VM: refused while they are protected", () => {
    const before = vmIds();
    expectOk(pulumi("config", "set", "pgha:domain", "other.internal"));
    try {
        const changes = vmChanges();
        expect([...changes.keys()].sort()).toEqual(MACHINE_NAMES);
        for (const change of changes.values()) {
            expect(change.op).toBe("replace");
            expect(change.properties).toContain("clone.customize.linuxOptions.domain");
        }
        const up = upVms();
        expect(up.status).not.toBe(0);
        expect(up.output).toMatch(/unable to replace resource .*\n?.*marked for protection/);
    } finally {
        expectOk(pulumi("config", "set", "pgha:domain", "example.internal"));
    }
    expect(vmIds()).toEqual(before);
    expect(vmChanges()).toEqual(new Map());
}, 600_000);

test("destroy is refused while the VMs are protected (pgha:protect); with pgha:protect false and an up, it deletes them and keeps the template", () => {
    const refused = pulumi("destroy", "--yes", "--skip-preview");
    expect(refused.status).not.toBe(0);
    expect(refused.output).toMatch(/because it is protected/);
    expect([...vmsInFolder().keys()].sort()).toEqual(MACHINE_NAMES);

    expectOk(pulumi("config", "set", "pgha:protect", "false"));
    expectOk(upVms());
    // One at a time, as upVms.
    expectOk(pulumi("destroy", "--yes", "--skip-preview", "--parallel", "1"));
    expect([...vmsInFolder().keys()]).toEqual([]);
    expect(govc("ls", "/DC0/vm")).toContain(TEMPLATE);
}, 600_000);
