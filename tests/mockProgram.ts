/**
 * Runs index.ts under Pulumi mocks and records what it registers: every resource with its inputs, its
 * dependencies (from the register request, which mocks otherwise ignore) and the stack outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { engineConfig } from "./fixtures";

export interface Registered {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    readonly inputs: Record<string, unknown>;
    /** URNs this resource depends on (dependsOn and input dependencies). */
    readonly dependencies: string[];
}

export interface ProgramRun {
    readonly resources: Registered[];
    readonly outputs: Record<string, unknown>;
    /** Secret-ness of each stack output. */
    readonly secretOutputs: Record<string, boolean>;
    /** Messages passed to pulumi.log.warn. */
    readonly warnings: string[];
    byName(name: string): Registered;
    ofType(type: string): Registered[];
}

/** A fake vSphere template as the data sources would return it. */
export const TEMPLATE = {
    id: "4217a8c1-template-uuid",
    guestId: "centos7_64Guest",
    scsiType: "pvscsi",
    firmware: "bios",
    networkInterfaceTypes: ["vmxnet3"],
    disks: [{ size: 20, thinProvisioned: true, eagerlyScrub: false, label: "Hard disk 1" }],
};

/** The vsphere package's resource and data sources, answered by the mocks below (no vCenter under mocks). */
export function mockVsphereModule(): unknown {
    const invoke = (token: string) => (args: Record<string, unknown>, opts?: pulumi.InvokeOptions) => pulumi.runtime.invoke(token, args, opts);
    class VirtualMachine extends pulumi.CustomResource {
        constructor(name: string, args: Record<string, unknown>, opts?: pulumi.CustomResourceOptions) {
            super("vsphere:index/virtualMachine:VirtualMachine", name, args, opts);
        }
    }
    return {
        VirtualMachine,
        getDatacenter: invoke("vsphere:index/getDatacenter:getDatacenter"),
        getDatastore: invoke("vsphere:index/getDatastore:getDatastore"),
        getNetwork: invoke("vsphere:index/getNetwork:getNetwork"),
        getResourcePool: invoke("vsphere:index/getResourcePool:getResourcePool"),
        getComputeCluster: invoke("vsphere:index/getComputeCluster:getComputeCluster"),
        getVirtualMachine: invoke("vsphere:index/getVirtualMachine:getVirtualMachine"),
    };
}

/** Sets up mocks and config for `stack`, then loads index.ts. Call once per test file (jest isolates modules per file). */
export async function runProgram(stack: string, overrides: Record<string, unknown> = {}, preview = false, resources: Registered[] = []): Promise<ProgramRun> {
    const warnings: string[] = [];
    await pulumi.runtime.setMocks({
        newResource(args) {
            const state: Record<string, unknown> = { ...args.inputs };
            if (args.type === "random:index/randomPassword:RandomPassword") {
                state.result = `generated-${args.name}-Zq81`;
            }
            if (args.type === "command:remote:Command") {
                // What ssh-identity.sh prints (keys made on the machine) and postgresql.sh's parameters that need a
                // restart (a few of PostgreSQL's); the other steps' output is not read.
                state.stdout = args.name.endsWith("-ssh-identity")
                    ? `user-key ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${args.name.replace(/[^A-Za-z0-9]/g, "")}\nhost-key ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost${args.name.replace(/[^A-Za-z0-9]/g, "")}\n`
                    : args.name.endsWith("-postgresql") ? "restart-parameters max_connections shared_buffers wal_level\n" : "";
                state.stderr = "";
            }
            return { id: `${args.name}-id`, state };
        },
        call(args) {
            switch (args.token) {
                case "vsphere:index/getVirtualMachine:getVirtualMachine":
                    return TEMPLATE;
                case "vsphere:index/getComputeCluster:getComputeCluster":
                    return { id: "domain-c1", resourcePoolId: "resgroup-1" };
                default:
                    return { id: `${args.token.split(":").pop()}-${String(args.inputs.name)}` };
            }
        },
    }, "pgha", stack, preview);

    const { config, secretKeys } = engineConfig(stack, overrides);
    pulumi.runtime.setAllConfig(config, secretKeys);

    const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource: (req: any, cb: any) => unknown };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, cb: any) => {
        const type = req.getType();
        const name = req.getName();
        const urn = `urn:pulumi:${stack}::pgha::${type}::${name}`;
        resources.push({
            type,
            name,
            urn,
            inputs: req.getObject()?.toJavaScript() ?? {},
            dependencies: req.getDependenciesList(),
        });
        return register(req, cb);
    };
    const originalWarn = pulumi.log.warn;
    (pulumi.log as { warn: typeof pulumi.log.warn }).warn = async (msg: string) => {
        warnings.push(msg);
    };

    let program: Record<string, unknown>;
    try {
        program = await import("../index");
    } finally {
        (pulumi.log as { warn: typeof pulumi.log.warn }).warn = originalWarn;
    }
    const outputs: Record<string, unknown> = {};
    const secretOutputs: Record<string, boolean> = {};
    for (const [key, value] of Object.entries(program)) {
        outputs[key] = await resolve(value);
        secretOutputs[key] = pulumi.Output.isInstance(value) ? await pulumi.isSecret(value as pulumi.Output<unknown>) : false;
    }
    await new Promise((r) => setTimeout(r, 50));
    return {
        resources,
        outputs,
        secretOutputs,
        warnings,
        byName(name: string) {
            const found = resources.find((r) => r.name === name);
            if (!found) {
                throw new Error(`no resource named ${name}; have ${resources.map((r) => r.name).join(", ")}`);
            }
            return found;
        },
        ofType(type: string) {
            return resources.filter((r) => r.type === type);
        },
    };
}

/** Marker of a secret in serialized resource inputs (the engine's secret signature). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/** True when a serialized input is a secret. */
export function isSecretInput(value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG] === SECRET_VALUE;
}

/** A serialized input with its secret wrappers removed. */
export function unwrapSecrets(value: any): any {
    if (isSecretInput(value)) {
        return unwrapSecrets(value.value);
    }
    if (Array.isArray(value)) {
        return value.map(unwrapSecrets);
    }
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
    }
    return value;
}

/** The plain value of an Output (or a plain value), including secrets. */
export function resolve<T>(value: T | pulumi.Output<T>): Promise<T> {
    if (pulumi.Output.isInstance(value)) {
        return new Promise((r) => (value as pulumi.Output<T>).apply((v) => r(v)));
    }
    return Promise.resolve(value as T);
}
