/**
 * End to end on the lab with the real engine: from empty machines to a running cluster with `pulumi up` of
 * the lab stack, what users see of the stack (outputs, secrecy, no-op runs, a config change, a failed step
 * repaired by running up again), the failover drills, `pulumi destroy`, and a lab that leaves nothing behind.
 * Needs root; run with `npm run lab:e2e` (part of `npm test` as root). The lab is removed afterwards, also on
 * failure, unless PGHA_KEEP_LAB=1.
 */
import * as fs from "fs";
import * as path from "path";
import { parseConfig } from "../components/config";
import { spawnSync } from "child_process";
import { DrillResult, formatTable, runDrill, SCENARIOS, sql, waitForFailover, waitForHealthy, Writer } from "./drill";
import { rawConfig, ROOT } from "./fixtures";
import { engine, engineTranscript, initStack, lab, LAB_DIR, location, mustEngine, NODES, onNode, roles, sleep, stackOutputs, VIP_MASTER, VIP_SLAVE, waitFor } from "./lab";

jest.setTimeout(3_600_000);
const log = (line: string) => process.stdout.write(`lab-e2e: ${line}\n`);
const STACK = "lab";

const spec = parseConfig(rawConfig(STACK));
let outputs: Record<string, any>;
let firstUp: { seconds: number; output: string };
const drills: DrillResult[] = [];

/** Every secret of the stack: the generated passwords, the SSH key and the BMC password. */
function stackSecrets(): string[] {
    return [
        outputs.postgresPassword, outputs.replicationPassword, outputs.haclusterPassword,
        fs.readFileSync(path.join(LAB_DIR, "bmc", "password"), "utf8").trim(),
        ...fs.readFileSync(path.join(LAB_DIR, "id_ed25519"), "utf8").split("\n").filter((l) => l.length > 20 && !l.startsWith("-----")),
    ];
}

/** Resource lines of a `pulumi preview --diff` / `up` output that change something (create, update, replace, delete). */
function changedResources(output: string): string[] {
    return output.split("\n").filter((l) => /^\s*[+~-]{1,2}\s+\S+:\S+:\S+\s+\S+/.test(l) || /^\s*\+-\s/.test(l))
        .map((l) => l.trim().split(/\s+/).slice(0, 3).join(" "));
}

beforeAll(() => {
    lab("down");
    const t0 = Date.now();
    log(lab("up").trim().split("\n").pop() as string);
    initStack(STACK);
    const up = mustEngine("up", "--yes", "--skip-preview", "--stack", STACK);
    firstUp = { seconds: (Date.now() - t0) / 1000, output: up.output };
    log(`empty lab to converged cluster with pulumi up: ${firstUp.seconds.toFixed(0)} s`);
    outputs = stackOutputs(STACK);
});

afterAll(() => {
    if (drills.length > 0) {
        process.stdout.write(`\nFailover drills (lab, ${spec.pacemaker.repMode} replication):\n${formatTable(drills)}\n\n`);
        fs.writeFileSync(path.join(LAB_DIR, "..", "pgha-drills.json"), JSON.stringify(drills, null, 2));
    }
    if (process.env.PGHA_KEEP_LAB !== "1") {
        lab("down");
    }
});

test("pulumi up from an empty lab converges to one PRI, one HS:sync, one HS:async with both VIPs in place", () => {
    expect(firstUp.output).toMatch(/Resources:\s*\n\s*\+ \d+ created/);
    const r = roles(NODES[0]);
    expect(Object.values(r).sort()).toEqual(["HS:async", "HS:sync", "PRI"]);
    expect(location(NODES[0], "vip-master")).toBe(NODES.find((n) => r[n] === "PRI"));
    expect(location(NODES[0], "vip-slave")).toBe(NODES.find((n) => r[n] === "HS:sync"));
});

test("pulumi preview --expect-no-changes and a second pulumi up report no changes", () => {
    const preview = engine("preview", "--expect-no-changes", "--stack", STACK);
    expect(preview.status).toBe(0);
    const again = mustEngine("up", "--yes", "--skip-preview", "--expect-no-changes", "--stack", STACK);
    expect(again.output).toMatch(/Resources:\s*\n\s*\d+ unchanged/);
    expect(changedResources(again.output)).toEqual([]);
    log(`no-op: preview ${preview.seconds.toFixed(1)} s, up ${again.seconds.toFixed(1)} s`);
});

test("stack outputs: endpoints in clear, connection strings and passwords secret; the connection strings work", async () => {
    const shown = JSON.parse(mustEngine("stack", "output", "--json", "--stack", STACK).output);
    expect(shown.masterEndpoint).toEqual({ host: VIP_MASTER, port: 5432 });
    expect(shown.slaveEndpoint).toEqual({ host: VIP_SLAVE, port: 5432 });
    expect(shown.nodes.map((n: { name: string }) => n.name)).toEqual(NODES);
    for (const key of ["masterConnectionString", "slaveConnectionString", "postgresPassword", "replicationPassword", "haclusterPassword"]) {
        expect(shown[key]).toBe("[secret]");
    }
    const master = outputs.masterConnectionString as string;
    expect(master).toContain(`@${VIP_MASTER}:5432/`);
    await sql(master, "create table if not exists e2e (id int primary key, note text)");
    await sql(master, "insert into e2e values (1, 'written through vip-master') on conflict (id) do update set note = excluded.note");
    expect(await sql(outputs.slaveConnectionString, "select note from e2e where id = 1")).toEqual([{ note: "written through vip-master" }]);
    await expect(sql(outputs.slaveConnectionString, "insert into e2e values (2, 'through vip-slave')")).rejects.toThrow(/read-only transaction/);
});

test("the database passwords were generated by random.RandomPassword", () => {
    const state = JSON.parse(mustEngine("stack", "export", "--stack", STACK).output);
    const generated = state.deployment.resources.filter((r: { type: string }) => r.type === "random:index/randomPassword:RandomPassword");
    expect(generated.map((r: { urn: string }) => r.urn.split("::").pop()).sort()).toEqual(["hacluster-password", "postgres-password", "replication-password"]);
    expect(outputs.postgresPassword).toMatch(/^[A-Za-z0-9]{32}$/);
});

test("no secret is in the state, the engine's output and logs, the CIB, primary_conninfo or the nodes' logs", () => {
    const state = mustEngine("stack", "export", "--stack", STACK).output;
    const engineLogs = fs.readdirSync(path.join(LAB_DIR, "pulumi", "home", "logs")).map((f) => fs.readFileSync(path.join(LAB_DIR, "pulumi", "home", "logs", f), "utf8"));
    const cib = onNode(NODES[0], "cibadmin -Q");
    const conf = onNode(NODES[1], `cat ${spec.postgresql.pgdata}/postgresql.conf ${spec.postgresql.pgdata}/postgresql.auto.conf /var/lib/pgsql/tmp/recovery.conf 2>/dev/null || true`);
    const nodeLogs = NODES.map((n) => onNode(n, "journalctl --no-pager -q 2>/dev/null | tail -n 20000; cat /var/log/pacemaker/pacemaker.log /var/log/pcsd/pcsd.log 2>/dev/null | tail -n 20000 || true")).join("\n");
    const places = { state, engine: [...engineTranscript, ...engineLogs].join("\n"), cib, conf, nodeLogs };
    for (const secret of stackSecrets()) {
        for (const [where, text] of Object.entries(places)) {
            expect({ where, leaked: text.includes(secret) }).toEqual({ where, leaked: false });
        }
    }
    expect(conf).toMatch(/primary_conninfo = '.*passfile=\/var\/lib\/pgsql\/\.pgpass/);
    for (const node of NODES) {
        expect(onNode(node, "stat -c '%a %U' /var/lib/pgsql/.pgpass").trim()).toBe("600 postgres");
    }
});

test("failover drills with fencing on: each fault on the primary ends with the sync standby promoted, never two primaries, no acknowledged row lost, the old primary back by itself", async () => {
    const ctx = { masterConnectionString: outputs.masterConnectionString as string, bindir: spec.postgresql.bindir, pgdata: spec.postgresql.pgdata };
    const initial = NODES.find((n) => roles(NODES[0])[n] === "PRI") as string;
    for (const scenario of SCENARIOS) {
        drills.push(await runDrill(scenario, ctx, log));
    }
    for (const d of drills) {
        expect({ scenario: d.scenario, rowsLost: d.rowsLost, twoPrimaries: d.twoPrimaries, lateAcks: d.lateAcks, promoted: d.newPrimary })
            .toEqual({ scenario: d.scenario, rowsLost: 0, twoPrimaries: [], lateAcks: 0, promoted: d.syncStandby });
    }
    // Fencing is the difference where the old primary may still run: it is shot before anything else happens.
    for (const d of drills.filter((x) => ["power off", "partition", "corosync kill", "hang"].includes(x.scenario))) {
        expect({ scenario: d.scenario, fenced: d.fenceSeconds !== undefined }).toEqual({ scenario: d.scenario, fenced: true });
    }
    expect(new Set([initial, ...drills.map((d) => d.newPrimary)]).size).toBe(NODES.length);
    expect(Object.values(await waitForHealthy()).sort()).toEqual(["HS:async", "HS:sync", "PRI"]);
});

test("pgha-status on any node: the roles, timelines, lag and VIPs of a healthy cluster, exit 0", () => {
    const r = roles(NODES[0]);
    const status = onNode(NODES[2], "pgha-status");
    for (const node of NODES) {
        expect(status).toMatch(new RegExp(`^${node}\\s+${r[node].replace("|", "\\|")}\\s+(promoted|unpromoted)\\s+\\d+\\s+[0-9A-F]+/[0-9A-F]+`, "m"));
    }
    expect(status).toContain(`vip-master ${VIP_MASTER}: ${NODES.find((n) => r[n] === "PRI")}`);
    expect(status).toMatch(/^OK: primary /m);
});

test("a full stop and start of the cluster comes back by itself: writes within 30 s of the start, no row lost, all three healthy", async () => {
    const table = `full_restart_${Date.now()}`;
    await sql(outputs.masterConnectionString, `create table ${table} (id bigint primary key)`);
    const writer = new Writer(outputs.masterConnectionString, table);
    writer.start();
    await sleep(2000);
    onNode(NODES[0], "pcs cluster stop --all");
    const startedAt = Date.now();
    onNode(NODES[0], "pcs cluster start --all");
    await waitFor("writes after the start", 120, () => (writer.firstAckAfter(startedAt) !== undefined ? true : undefined));
    const writesBackSeconds = ((writer.firstAckAfter(startedAt) as number) - startedAt) / 1000;
    await writer.stop();
    const present = new Set((await sql(outputs.masterConnectionString, `select id from ${table}`)).map((row) => Number(row.id)));
    log(`full stop and start: writes accepted ${writesBackSeconds.toFixed(1)} s after the start`);
    expect(writer.acked.filter((x) => !present.has(x.id))).toEqual([]);
    expect(writesBackSeconds).toBeLessThanOrEqual(30);
    expect(Object.values(await waitForHealthy()).sort()).toEqual(["HS:async", "HS:sync", "PRI"]);
});

test("planned switchover around all three nodes (pgha-switchover): the sync standby takes over, writes pause at most 5 s, no row lost, the old primary is a standby again", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < NODES.length; i++) {
        const before = await waitForHealthy();
        const primary = NODES.find((n) => before[n] === "PRI") as string;
        const sync = NODES.find((n) => before[n] === "HS:sync") as string;
        const table = `switchover_${i}_${Date.now()}`;
        await sql(outputs.masterConnectionString, `create table ${table} (id bigint primary key)`);
        const writer = new Writer(outputs.masterConnectionString, table);
        writer.start();
        await sleep(2000);
        const t0 = Date.now();
        onNode(NODES.find((n) => n !== primary) as string, "pgha-switchover");
        await sleep(1000);
        await writer.stop();
        const pause = writer.longestGapEndingAfter(t0) / 1000;
        const present = new Set((await sql(outputs.masterConnectionString, `select id from ${table}`)).map((row) => Number(row.id)));
        const after = roles(sync);
        log(`switchover ${primary} -> ${sync}: writes paused ${pause.toFixed(1)} s`);
        expect({ newPrimary: NODES.find((n) => after[n] === "PRI"), oldPrimary: after[primary], lost: writer.acked.filter((x) => !present.has(x.id)).length })
            .toEqual({ newPrimary: sync, oldPrimary: expect.stringMatching(/^HS:(sync|async)$/), lost: 0 });
        expect(pause).toBeLessThanOrEqual(5);
        seen.add(sync);
    }
    expect(seen.size).toBe(NODES.length);
});

test("a changed monitor interval: preview --diff lists only the CIB step, up applies it to the CIB", () => {
    mustEngine("config", "set", "--stack", STACK, "pgha:pgsqlPromotedMonitorIntervalSeconds", "7");
    const preview = mustEngine("preview", "--diff", "--stack", STACK);
    expect(changedResources(preview.output)).toEqual(["~ command:remote:Command vips-cib-push"]);
    mustEngine("up", "--yes", "--skip-preview", "--stack", STACK);
    expect(onNode(NODES[0], "cibadmin -Q -o resources")).toMatch(/<op [^>]*name="monitor"[^>]*interval="7s"[^>]*role="(Promoted|Master)"/);
});

test("a step that fails (a node's sshd stopped) is repaired by starting sshd and running pulumi up again", () => {
    const node = NODES[2];
    mustEngine("config", "set", "--stack", STACK, "pgha:walKeepSizeMb", "2048");
    lab("exec", node, "systemctl", "stop", "ssh.socket", "ssh.service");
    const failed = engine("up", "--yes", "--skip-preview", "--stack", STACK);
    expect(failed.status).not.toBe(0);
    expect(failed.output).toContain(`${node}-pg-standby`);
    lab("exec", node, "systemctl", "start", "ssh.service");
    mustEngine("up", "--yes", "--skip-preview", "--stack", STACK);
    expect(onNode(node, `cat ${spec.postgresql.pgdata}/pgha.conf`)).toContain("wal_keep_size = 2048");
    expect(engine("preview", "--expect-no-changes", "--stack", STACK).status).toBe(0);
});

describe("with fencing off (a switch for sites without a fence device)", () => {
    beforeAll(() => {
        mustEngine("config", "set", "--stack", STACK, "pgha:fencingEnabled", "false");
        const up = mustEngine("up", "--yes", "--skip-preview", "--stack", STACK);
        expect(up.output).toContain("pgha:fencingEnabled is false");
    });

    test("a partitioned primary whose link comes back rejoins as a standby by itself, no row lost", async () => {
        const ctx = { masterConnectionString: outputs.masterConnectionString as string, bindir: spec.postgresql.bindir, pgdata: spec.postgresql.pgdata };
        const d = await runDrill("partition", ctx, log, false);
        drills.push({ ...d, scenario: "partition, no fencing" });
        expect({ rowsLost: d.rowsLost, lateAcks: d.lateAcks, promoted: d.newPrimary }).toEqual({ rowsLost: 0, lateAcks: 0, promoted: d.syncStandby });
        expect(Object.values(await waitForHealthy()).sort()).toEqual(["HS:async", "HS:sync", "PRI"]);
    });

    test("two primaries (the primary's cluster stack killed, then started again): the newer primary is never rewound; its rejoin is refused with the reason", async () => {
        const before = await waitForHealthy();
        const old = NODES.find((n) => before[n] === "PRI") as string;
        const table = `two_primaries_${Date.now()}`;
        await sql(outputs.masterConnectionString, `create table ${table} (id bigint primary key)`);
        const writer = new Writer(outputs.masterConnectionString, table);
        writer.start();
        await sleep(2000);
        onNode(old, "pkill -KILL -x corosync");
        const newer = await waitForFailover(old);
        // The old primary's PostgreSQL still runs; the newer one takes writes on its own timeline.
        await waitFor("writes on the newer primary", 60, () => (writer.acked.some((a) => a.node === newer) ? true : undefined));
        await sleep(2000);
        await writer.stop();
        const newerControl = () => onNode(newer, `${spec.postgresql.bindir}/pg_controldata ${spec.postgresql.pgdata} | grep -E "^(Database system identifier|Latest checkpoint location|Latest checkpoint's TimeLineID)"`);
        // The obvious recovery: start the old primary's cluster stack again; Pacemaker keeps one primary.
        onNode(old, "systemctl start corosync pacemaker");
        const kept = await waitFor("one primary again", 180, () => {
            const r = roles(NODES.find((n) => n !== old && n !== newer) as string);
            const primaries = NODES.filter((n) => r[n] === "PRI");
            return primaries.length === 1 ? primaries[0] : undefined;
        });
        log(`two primaries: Pacemaker kept ${kept} (${kept === old ? "the older" : "the newer"} primary)`);
        if (kept === old) {
            // The newer primary is the one that must not be rewound: its start is refused, its data untouched.
            const control = newerControl();
            const refusal = await waitFor(`${newer}'s refused rejoin`, 120, () => {
                const failed = onNode(old, "crm_mon -1 | sed -n '/Failed Resource Actions/,$p'");
                return /newer than the primary|not in the history/.test(failed) ? failed : undefined;
            });
            expect(refusal).toContain(newer);
            const status = spawnSync("bash", [path.join(ROOT, "lab", "lab.sh"), "ssh", old, "pgha-status"], { encoding: "utf8" });
            expect(status.status).toBe(2);
            expect(status.stdout).toMatch(/CRITICAL: needs a person:[\s\S]*refused rejoin/);
            expect(() => onNode(newer, "pgha-rejoin-node --wait 20")).toThrow(/was promoted after|promoted in a way/);
            expect(newerControl()).toBe(control);
            expect(onNode(newer, `ls -d ${spec.postgresql.pgdata}.pgha-* 2>/dev/null || true`).trim()).toBe("");
            // An operator who decides the newer transactions may go says so explicitly.
            onNode(newer, "pgha-rejoin-node --discard-newer-data");
        } else {
            // Pacemaker kept the newer primary: the older one, whose tail was never acknowledged, is rewound by itself.
            const present = new Set((await sql(outputs.masterConnectionString, `select id from ${table}`)).map((row) => Number(row.id)));
            expect(writer.acked.filter((x) => !present.has(x.id))).toEqual([]);
        }
        expect(Object.values(await waitForHealthy()).sort()).toEqual(["HS:async", "HS:sync", "PRI"]);
    });
});

test("pulumi destroy stops the cluster and removes its configuration, and keeps every node's data", async () => {
    await sql(outputs.masterConnectionString, "insert into e2e values (3, 'before destroy') on conflict (id) do nothing");
    mustEngine("destroy", "--yes", "--skip-preview", "--stack", STACK);
    for (const node of NODES) {
        expect(onNode(node, "test -e /etc/corosync/corosync.conf && echo present || echo absent").trim()).toBe("absent");
        expect(onNode(node, "systemctl is-active pacemaker || true").trim()).not.toBe("active");
        expect(onNode(node, `pgrep -u postgres -x postgres >/dev/null && echo running || echo stopped`).trim()).toBe("stopped");
        expect(onNode(node, `${spec.postgresql.bindir}/pg_controldata ${spec.postgresql.pgdata} | grep '^Database cluster state'`)).toMatch(/shut down/);
    }
});

test("lab down leaves no process, mount, cgroup, bridge, veth or directory behind", () => {
    lab("down");
    expect(lab("leftovers").trim()).toBe("");
});
