/**
 * The whole dev stack (the runbook's topology on vSphere) under Pulumi mocks: per-node steps and their order,
 * cluster-wide ordering, outputs and where secrets may (not) appear. The VMs themselves are cloned for real
 * against the vCenter simulator (tests/vsphere.test.ts).
 */
import { execFileSync } from "child_process";
import { isSecretInput, mockVsphereModule, ProgramRun, Registered, resolve, runProgram, unwrapSecrets } from "./mockProgram";
import { TEST_SECRETS } from "./fixtures";

jest.mock("@pulumi/vsphere", () => mockVsphereModule());

const NODES = [
    { name: "pgtest1", ip: "192.168.24.11" },
    { name: "pgtest2", ip: "192.168.24.12" },
    { name: "pgtest3", ip: "192.168.24.13" },
];
const NODE_STEPS = ["os-prep", "resource-agents", "postgresql", "pcsd"];
const COMMAND = "command:remote:Command";

let run: ProgramRun;
beforeAll(async () => {
    run = await runProgram("dev");
});

/** Names of everything `r` depends on, directly or through other registered resources. */
function transitiveDependencies(r: Registered): Set<string> {
    const seen = new Set<string>();
    const visit = (urns: string[]) => {
        for (const urn of urns) {
            const name = urn.split("::").pop() as string;
            if (!seen.has(name)) {
                seen.add(name);
                const dep = run.resources.find((x) => x.name === name);
                if (dep) {
                    visit(dep.dependencies);
                }
            }
        }
    };
    visit(r.dependencies);
    return seen;
}

function dependsOn(name: string, on: string): boolean {
    return transitiveDependencies(run.byName(name)).has(on);
}

/** The script text of a step's command, as bash receives it. */
function scriptOf(r: Registered): string {
    const print = (r.inputs.create as string).replace(/^bash -c /, "printf '%s' ").replace(/ pgha-[a-z-]+$/, "");
    return execFileSync("bash", ["-c", print], { encoding: "utf8" });
}

/** The plain text of a serialized input, secret or not. */
function plain(value: unknown): string {
    return JSON.stringify(value);
}

describe("PgNode on vSphere", () => {
    test("each node gets its preparation steps, connected to its own IP", () => {
        for (const node of NODES) {
            for (const step of NODE_STEPS) {
                const r = run.byName(`${node.name}-${step}`);
                expect(r.type).toBe(COMMAND);
                expect(unwrapSecrets(r.inputs.connection).host).toBe(node.ip);
                expect(unwrapSecrets(r.inputs.connection).user).toBe("root");
            }
        }
        expect(run.ofType(COMMAND).filter((r) => unwrapSecrets(r.inputs.connection).host === "192.168.24.11").length).toBeGreaterThanOrEqual(3);
    });

    test("a node's steps run in order, after its VM", () => {
        for (const node of NODES) {
            const names = NODE_STEPS.map((s) => `${node.name}-${s}`);
            expect(dependsOn(names[0], node.name)).toBe(true);
            for (let i = 1; i < names.length; i++) {
                expect(dependsOn(names[i], names[i - 1])).toBe(true);
            }
        }
    });

    test("nothing orders one node's preparation after another node", () => {
        for (const node of NODES) {
            const others = NODES.filter((n) => n !== node).map((n) => n.name);
            for (const step of NODE_STEPS) {
                const deps = [...transitiveDependencies(run.byName(`${node.name}-${step}`))];
                expect(deps.filter((d) => others.some((o) => d === o || d.startsWith(`${o}-`)))).toEqual([]);
            }
        }
    });

    test("the scripts carry their inputs quoted inline, not in the environment", () => {
        const osPrep = run.byName("pgtest2-os-prep");
        expect(osPrep.inputs.environment).toBeUndefined();
        expect(scriptOf(osPrep)).toContain("PGHA_HOSTNAME='pgtest2'\n");
        expect(scriptOf(osPrep)).toContain("192.168.24.14 vip-master");
        expect(scriptOf(run.byName("pgtest1-postgresql"))).toContain("PGHA_PG_SHA256='508840fc1809d39ab72274d5f137dabb9fd7fb4f933da4168aeebb20069edf22'");
    });
});

describe("the backup repository host", () => {
    test("is a fourth VM prepared like a node, without the cluster's packages or ports", () => {
        expect(run.byName("pgbackup").type).toBe("vsphere:index/virtualMachine:VirtualMachine");
        expect(dependsOn("pgbackup-os-prep", "pgbackup")).toBe(true);
        const osPrep = scriptOf(run.byName("pgbackup-os-prep"));
        expect(osPrep).toMatch(/^PGHA_EL_PACKAGES='curl tar bzip2 pgbackrest logrotate gcc /m);
        expect(osPrep).toMatch(/^PGHA_FIREWALL_PORTS=''$/m);
        expect(osPrep).toMatch(/^PGHA_HOSTNAME='pgbackup'$/m);
    });

    test("each node's pgBackRest trusts the backup host's key and host key, the backup host every node's", () => {
        const repoSetup = scriptOf(run.byName("pgbackup-pgbackrest"));
        for (const node of NODES) {
            expect(repoSetup).toContain(`ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${node.name}sshidentity pgha-backup@${node.ip}`);
            expect(repoSetup).toContain(`${node.ip} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost${node.name}sshidentity`);
            const nodeSetup = scriptOf(run.byName(`${node.name}-pgbackrest`));
            expect(nodeSetup).toContain("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIpgbackupsshidentity pgha-backup@192.168.24.16");
            expect(nodeSetup).toMatch(/^repo1-host=192\.168\.24\.16$/m);
            expect(dependsOn(`${node.name}-pgbackrest`, `${node.name}-ssh-identity`)).toBe(true);
            expect(dependsOn(`${node.name}-ssh-identity`, `${node.name}-pcsd`)).toBe(true);
        }
    });

    test("the stanza is made once the cluster runs: after the CIB push, the database steps and every node's pgBackRest", () => {
        for (const step of ["vips-cib-push", ...NODES.map((n) => `${n.name}-database`), "pgbackup-timers", ...NODES.map((n) => `${n.name}-pgbackrest`)]) {
            expect(dependsOn("pgbackup-stanza", step)).toBe(true);
        }
    });

    test("outputs name the repository host and the stanza", async () => {
        expect(await resolve(run.outputs.backupHost)).toEqual({ name: "pgbackup", ip: "192.168.24.16" });
        expect(await resolve(run.outputs.backupStanza)).toBe("pgcluster");
    });
});

describe("cluster, database and configuration push", () => {
    test("cluster auth and setup come after every node's pcsd step", () => {
        for (const node of NODES) {
            expect(dependsOn("pgcluster-auth", `${node.name}-pcsd`)).toBe(true);
        }
        expect(dependsOn("pgcluster-setup", "pgcluster-auth")).toBe(true);
    });

    test("the database is built while the cluster forms: each node's database step after its own preparation, the base backups after the initial primary's preparation (not its database step), none after cluster setup", () => {
        for (const node of NODES) {
            expect(dependsOn(`${node.name}-database`, `${node.name}-pcsd`)).toBe(true);
            expect(dependsOn(`${node.name}-database`, "pgcluster-setup")).toBe(false);
            for (const other of NODES.filter((n) => n !== node)) {
                expect(dependsOn(`${node.name}-database`, `${other.name}-database`)).toBe(false);
            }
        }
        for (const node of NODES.slice(1)) {
            expect(dependsOn(`${node.name}-database`, "pgtest1-pcsd")).toBe(true);
        }
        expect(dependsOn("vips-cib-push", "pgcluster-setup")).toBe(true);
    });

    test("every node's database step is the same script; only a cluster that does not exist yet is bootstrapped in spec order", () => {
        const vars = (node: string) => scriptOf(run.byName(`${node}-database`));
        expect(vars("pgtest1")).toMatch(/^PGHA_BOOTSTRAP_ROLE='primary'$/m);
        for (const node of NODES.slice(1)) {
            expect(vars(node.name)).toMatch(/^PGHA_BOOTSTRAP_ROLE='standby'$/m);
            expect(vars(node.name)).toMatch(/^PGHA_BOOTSTRAP_PRIMARY_IP='192\.168\.24\.11'$/m);
            expect(vars(node.name).replace(/^PGHA_BOOTSTRAP_ROLE=.*$/m, "")).toBe(vars("pgtest1").replace(/^PGHA_BOOTSTRAP_ROLE=.*$/m, ""));
        }
    });

    test("the CIB push comes after the basebackups and every fence secret", () => {
        for (const node of NODES) {
            expect(dependsOn("vips-cib-push", `${node.name}-database`)).toBe(true);
        }
        for (const node of NODES) {
            expect(dependsOn("vips-cib-push", `${node.name}-fence-secret`)).toBe(true);
        }
    });

    test("the CIB push configures fence_vmware_rest and no-quorum-policy=stop, never ignore", () => {
        const push = run.byName("vips-cib-push").inputs.create as string;
        expect(push).toContain("'fence_vmware_rest'");
        expect(push).toContain("'pcmk_host_map=pgtest1:pgtest1;pgtest2:pgtest2;pgtest3:pgtest3'");
        expect(push).toContain("'stonith-enabled=true'");
        expect(push).toContain("'no-quorum-policy=stop'");
        for (const r of run.ofType(COMMAND)) {
            expect(plain(r.inputs)).not.toContain("no-quorum-policy=ignore");
        }
        expect(run.warnings).toEqual([]);
    });

    test("the generated passwords come from random.RandomPassword", () => {
        expect(run.ofType("random:index/randomPassword:RandomPassword").map((r) => r.name).sort())
            .toEqual(["hacluster-password", "postgres-password", "replication-password"]);
    });
});

test("every step's command fits in one argument of a command line (MAX_ARG_STRLEN, 128 KiB): sshd runs it as $SHELL -c COMMAND", () => {
    for (const r of run.ofType(COMMAND)) {
        expect({ step: r.name, fits: Buffer.byteLength(JSON.stringify(r.inputs.create ?? r.inputs.delete)) < 131072 }).toEqual({ step: r.name, fits: true });
    }
});

describe("secrets", () => {
    const secrets = () => [
        TEST_SECRETS.sshPrivateKey.trim().split("\n")[1],
        TEST_SECRETS.fencePassword,
        "generated-hacluster-password-Zq81",
        "generated-postgres-password-Zq81",
        "generated-replication-password-Zq81",
    ];

    test("no secret appears in a command string, a trigger or a VM's inputs", () => {
        for (const r of run.resources) {
            const inputs = r.inputs as any;
            const visible = r.type === COMMAND ? [inputs.create, inputs.triggers, inputs.update, inputs.delete] : [inputs];
            for (const secret of secrets()) {
                expect(plain(visible)).not.toContain(secret);
            }
        }
    });

    test("secrets reach the scripts on stdin, marked secret", () => {
        const stdin = run.byName("pgtest2-database").inputs.stdin;
        expect(unwrapSecrets(stdin)).toBe("generated-postgres-password-Zq81\ngenerated-replication-password-Zq81\n");
        expect(isSecretInput(stdin)).toBe(true);
        expect(plain(run.byName("pgtest3-fence-secret").inputs.stdin)).toContain(TEST_SECRETS.fencePassword);
    });

    test("the SSH key is passed as a secret", () => {
        const connection = run.byName("pgtest1-os-prep").inputs.connection;
        expect(unwrapSecrets(connection).privateKey).toBe(TEST_SECRETS.sshPrivateKey);
        expect(isSecretInput(connection)).toBe(true);
    });

    test("no secret appears in a non-secret output", () => {
        for (const [key, value] of Object.entries(run.outputs)) {
            if (!run.secretOutputs[key]) {
                for (const secret of secrets()) {
                    expect(plain(value)).not.toContain(secret);
                }
            }
        }
    });
});

describe("stack outputs", () => {
    test("endpoints of the two VIPs", () => {
        expect(run.outputs.masterEndpoint).toEqual({ host: "192.168.24.14", port: 5432 });
        expect(run.outputs.slaveEndpoint).toEqual({ host: "192.168.24.15", port: 5432 });
        expect(run.outputs.clusterName).toBe("pgcluster");
        expect(run.outputs.nodes).toEqual(NODES);
    });

    test("connection strings and passwords are secret", async () => {
        for (const key of ["masterConnectionString", "slaveConnectionString", "haclusterPassword", "postgresPassword", "replicationPassword"]) {
            expect(run.secretOutputs[key]).toBe(true);
        }
        expect(run.outputs.masterConnectionString).toBe("postgresql://postgres:generated-postgres-password-Zq81@192.168.24.14:5432/postgres?target_session_attrs=read-write&connect_timeout=5");
        expect(run.outputs.slaveConnectionString).toEqual(expect.stringContaining("@192.168.24.15:5432/"));
        expect(await resolve(run.outputs.postgresPassword)).toBe("generated-postgres-password-Zq81");
    });
});
