/**
 * What an update re-runs. The command provider runs a step again exactly when its inputs (command,
 * stdin, triggers, connection) change, so comparing the steps the program registers before and after a
 * config change shows which steps `pulumi up` would run again.
 */
import type { Registered } from "./mockProgram";

jest.mock("@pulumi/vsphere", () => jest.requireActual("./mockProgram").mockVsphereModule());

async function register(overrides: Record<string, unknown> = {}): Promise<Registered[]> {
    const registered: Registered[] = [];
    await jest.isolateModulesAsync(async () => {
        const { runProgram } = await import("./mockProgram");
        await runProgram("dev", overrides, false, registered);
    });
    return registered;
}

/** Names of resources of `type` whose inputs differ between two runs. */
function changed(before: Registered[], after: Registered[], type: string): string[] {
    const inputs = (list: Registered[]) => new Map(list.filter((r) => r.type === type).map((r) => [r.name, JSON.stringify(r.inputs)]));
    const a = inputs(before);
    const b = inputs(after);
    return [...new Set([...a.keys(), ...b.keys()])].filter((name) => a.get(name) !== b.get(name)).sort();
}

const COMMAND = "command:remote:Command";
let baseline: Registered[];
beforeAll(async () => {
    baseline = await register();
});

test("with nothing changed, no step would run again", async () => {
    const again = await register();
    expect(again.filter((r) => r.type === COMMAND).length).toBeGreaterThan(15);
    expect(changed(baseline, again, COMMAND)).toEqual([]);
});

test("changing a monitor interval re-runs only the CIB push", async () => {
    expect(changed(baseline, await register({ "pgha:pgsqlMonitorIntervalSeconds": "15" }), COMMAND)).toEqual(["vips-cib-push"]);
});

// That the VMs themselves are updated in place: tests/vsphere.test.ts, against the vCenter simulator.
test("changing a VM's size re-runs no step", async () => {
    const resized = await register({ "pgha:vmCpus": "4", "pgha:vmMemoryMiB": "4096" });
    expect(changed(baseline, resized, COMMAND)).toEqual([]);
});

test("changing a database setting re-runs the database steps and the rolling restart's, not the host preparation or the cluster", async () => {
    const steps = changed(baseline, await register({ "pgha:walKeepSizeMb": "2048" }), COMMAND);
    expect(steps).toEqual(["pgtest1-database", "pgtest1-pg-restart", "pgtest2-database", "pgtest2-pg-restart", "pgtest3-database", "pgtest3-pg-restart"]);
});

test("a new PostgreSQL build re-runs each node's install and the restart steps (the servers keep the old binaries until they restart), whose plan names the new build", async () => {
    const sha256 = "0".repeat(64);
    const run = await register({ "pgha:postgresqlSourceSha256": sha256 });
    expect(changed(baseline, run, COMMAND)).toEqual(["pgbackup-postgresql", "pgtest1-pg-restart", "pgtest1-postgresql", "pgtest2-pg-restart", "pgtest2-postgresql", "pgtest3-pg-restart", "pgtest3-postgresql"]);
    const restart = String(run.find((r) => r.name === "pgtest1-pg-restart")?.inputs.create);
    expect(restart).toMatch(/^PostgreSQL 14\.6 sha256 000000000000, a new build: restart, rolled: async standby, sync standby, then primary by one switchover/m);
});

test("a changed PostgreSQL parameter shows its plan in the restart steps, one line per parameter: reload, or a restart that rolls", async () => {
    /** PGHA_PLAN as the command assigns it: quoted on one line, or a here-document for several. */
    const plan = (run: Registered[]) => run.filter((r) => r.name === "pgtest2-pg-restart").map((r) => {
        const command = String(r.inputs.create);
        return /^PGHA_PLAN='([^']*)'$/m.exec(command)?.[1] ?? /^PGHA_PLAN=\$\(cat <<'(\w+)'\n([\s\S]*?)\n\1\n\)$/m.exec(command)?.[2];
    });
    expect(plan(await register({ "pgha:postgresqlParameters": JSON.stringify({ work_mem: "64MB" }) }))).toEqual([expect.stringMatching(/^PostgreSQL \S+ .*, a new build: restart, rolled: .*\nwork_mem=64MB: reload, no restart$/)]);
    expect(plan(await register({ "pgha:postgresqlParameters": JSON.stringify({ shared_buffers: "1GB", work_mem: "64MB" }) })))
        .toEqual([expect.stringMatching(/\nshared_buffers=1GB: restart, rolled: async standby, sync standby, then primary by one switchover.*\nwork_mem=64MB: reload, no restart$/)]);
    expect(plan(await register({ "pgha:postgresqlParameters": JSON.stringify({ shared_buffers: "1GB" }), "pgha:restartPolicy": "in-place" })))
        .toEqual([expect.stringMatching(/\nshared_buffers=1GB: .*then primary in place/)]);
});
