/**
 * End to end on the namespace lab: from nothing to a running cluster with the lab stack, proof through the
 * exported endpoints, idempotency of every step, and the runbook's failover drills around all three nodes.
 * Needs root; run with `npm run lab:e2e` (part of `npm test` as root). The lab is removed afterwards, also
 * on failure, unless PGHA_KEEP_LAB=1.
 *
 * The program's steps are applied by lab/stepRunner.ts: the command provider that `pulumi up` needs
 * cannot be built where the Go proxy does not serve it (toolchain/README.md).
 */
import * as fs from "fs";
import * as path from "path";
import { parseConfig } from "../components/config";
import { programSteps, runSteps, Step, StepResult } from "../lab/stepRunner";
import { DrillResult, formatTable, runDrill, SCENARIOS, sql, waitForHealthy } from "./drill";
import { rawConfig } from "./fixtures";
import { lab, LAB_DIR, labSecrets, location, NODES, onNode, roles, VIP_MASTER, VIP_SLAVE } from "./lab";

jest.setTimeout(1_800_000);
const log = (line: string) => process.stdout.write(`lab-e2e: ${line}\n`);

const spec = parseConfig(rawConfig("lab"));
let secrets: Record<string, string>;
let steps: Step[];
let privateKey: string;
let firstRun: StepResult[];
const drills: DrillResult[] = [];

beforeAll(async () => {
    lab("down");
    const t0 = Date.now();
    log(lab("up").trim().split("\n").pop() as string);
    secrets = labSecrets();
    ({ steps, privateKey } = await programSteps("lab", secrets));
    firstRun = await runSteps(steps, privateKey, log);
    log(`empty lab to converged cluster: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
});

afterAll(() => {
    if (drills.length > 0) {
        const table = formatTable(drills);
        process.stdout.write(`\nFailover drills (lab, ${spec.pacemaker.repMode} replication):\n${table}\n\n`);
        fs.writeFileSync(path.join(LAB_DIR, "..", "pgha-drills.json"), JSON.stringify(drills, null, 2));
    }
    if (process.env.PGHA_KEEP_LAB !== "1") {
        lab("down");
    }
});

test("the first run applies every step of the lab stack", () => {
    expect(firstRun.map((r) => r.name).sort()).toEqual(steps.map((s) => s.name).sort());
    expect(firstRun.find((r) => r.name === "vips-cib-push")?.changes).toBeGreaterThan(0);
});

test("pcs shows one PRI, one HS:sync, one HS:async, with vip-master on the primary and vip-slave on the sync standby", () => {
    const r = roles(NODES[0]);
    expect(Object.values(r).sort()).toEqual(["HS:async", "HS:sync", "PRI"]);
    const primary = NODES.find((n) => r[n] === "PRI");
    const sync = NODES.find((n) => r[n] === "HS:sync");
    expect(location(NODES[0], "vip-master")).toBe(primary);
    expect(location(NODES[0], "vip-slave")).toBe(sync);
    expect(onNode(NODES[0], "pcs status")).toMatch(/3 nodes configured/);
});

test("a row written through masterEndpoint is read back through slaveEndpoint; slaveEndpoint refuses writes", async () => {
    const pw = secrets["pgha:postgresPassword"];
    await sql(pw, VIP_MASTER, "create table if not exists e2e (id int primary key, note text)");
    await sql(pw, VIP_MASTER, "insert into e2e values (1, 'written through vip-master') on conflict (id) do update set note = excluded.note");
    const rows = await sql(pw, VIP_SLAVE, "select note from e2e where id = 1");
    expect(rows).toEqual([{ note: "written through vip-master" }]);
    await expect(sql(pw, VIP_SLAVE, "insert into e2e values (2, 'through vip-slave')")).rejects.toThrow(/read-only transaction/);
});

test("no password is in the CIB, in primary_conninfo or in a node's logs; the passfile is postgres-only", () => {
    const cib = onNode(NODES[0], "cibadmin -Q");
    const conf = onNode(NODES[1], `cat ${spec.postgresql.pgdata}/postgresql.conf ${spec.postgresql.pgdata}/postgresql.auto.conf /var/lib/pgsql/tmp/recovery.conf 2>/dev/null || true`);
    const logs = onNode(NODES[0], "cat /var/log/pacemaker/pacemaker.log /var/log/pcsd/pcsd.log 2>/dev/null | tail -n 20000 || true");
    for (const key of ["pgha:haclusterPassword", "pgha:postgresPassword", "pgha:replicationPassword"]) {
        expect(cib).not.toContain(secrets[key]);
        expect(conf).not.toContain(secrets[key]);
        expect(logs).not.toContain(secrets[key]);
    }
    expect(conf).toMatch(/primary_conninfo = '.*passfile=\/var\/lib\/pgsql\/\.pgpass/);
    for (const node of NODES) {
        expect(onNode(node, "stat -c '%a %U' /var/lib/pgsql/.pgpass").trim()).toBe("600 postgres");
    }
});

test("every step is idempotent: a second run succeeds and changes nothing", async () => {
    const second = await runSteps(steps, privateKey, log);
    expect(second).toHaveLength(steps.length);
    expect(second.filter((r) => r.changes !== 0).map((r) => `${r.name}: ${r.changes} change(s)\n${r.output}`)).toEqual([]);
});

test("failover drills: the sync standby takes over each time, the primary role goes around all three nodes, no acknowledged row is lost", async () => {
    const ctx = { postgresPassword: secrets["pgha:postgresPassword"], bindir: spec.postgresql.bindir, pgdata: spec.postgresql.pgdata };
    const initial = NODES.find((n) => roles(NODES[0])[n] === "PRI") as string;
    // Every scenario once, then on until every node has been primary (the runbook's round), at most two rounds.
    for (let i = 0; i < 2 * SCENARIOS.length; i++) {
        const primaries = new Set([initial, ...drills.map((d) => d.newPrimary)]);
        if (i >= SCENARIOS.length && primaries.size === NODES.length) {
            break;
        }
        drills.push(await runDrill(SCENARIOS[i % SCENARIOS.length], ctx, log));
    }
    expect(drills.map((d) => d.rowsLost)).toEqual(drills.map(() => 0));
    for (const d of drills) {
        expect(d.newPrimary).toBe(d.syncStandby);
    }
    expect(new Set([initial, ...drills.map((d) => d.newPrimary)]).size).toBe(NODES.length);
    // And the cluster settles back to the runbook's healthy state.
    expect(Object.values(await waitForHealthy()).sort()).toEqual(["HS:async", "HS:sync", "PRI"]);
});
