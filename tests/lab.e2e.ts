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
import { DrillFailure, drillContext, DrillResult, formatTable, fullStopStart, runDrill, SCENARIOS, sql, switchover, underChange, waitForFailover, waitForHealthy, Writer } from "./drill";
import { rawConfig } from "./fixtures";
import { archivedRuns, archiveFootprints, dropTableRecovery, newestDrill, onBackupHost, repositoryOutage, status, writeWal } from "./backups";
import { BACKUP_HOST, engine, engineInBackground, engineTranscript, initStack, lab, LAB_DIR, location, mustEngine, nodeIp, NODES, onNode, plannedChanges, roles, sleep, stackOutputs, VIP_MASTER, VIP_SLAVE, waitFor } from "./lab";

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

beforeAll(async () => {
    await lab("down");
    const t0 = Date.now();
    await lab("up");
    initStack(STACK);
    const up = mustEngine("up", "--yes", "--skip-preview", "--stack", STACK);
    firstUp = { seconds: (Date.now() - t0) / 1000, output: up.output };
    log(`empty lab to converged cluster with pulumi up: ${firstUp.seconds.toFixed(0)} s`);
    outputs = stackOutputs(STACK);
});

afterAll(async () => {
    if (drills.length > 0) {
        process.stdout.write(`\nFailover drills (lab, ${spec.pacemaker.repMode} replication):\n${formatTable(drills)}\n\n`);
        fs.writeFileSync(path.join(LAB_DIR, "..", "pgha-drills.json"), JSON.stringify(drills, null, 2));
    }
    if (process.env.PGHA_KEEP_LAB !== "1") {
        await lab("down");
    }
});

test("pulumi up from an empty lab converges to one PRI, one HS:sync, one HS:async with both VIPs in place", async () => {
    expect(firstUp.output).toMatch(/Resources:\s*\n\s*\+ \d+ created/);
    const r = await roles(NODES[0]);
    expect(Object.values(r).sort()).toEqual(["HS:async", "HS:sync", "PRI"]);
    expect(await location(NODES[0], "vip-master")).toBe(NODES.find((n) => r[n] === "PRI"));
    expect(await location(NODES[0], "vip-slave")).toBe(NODES.find((n) => r[n] === "HS:sync"));
});

test("pulumi preview --expect-no-changes and a second pulumi up report no changes", () => {
    const preview = engine("preview", "--expect-no-changes", "--stack", STACK);
    expect(preview.status).toBe(0);
    const again = mustEngine("up", "--yes", "--skip-preview", "--expect-no-changes", "--stack", STACK);
    expect(again.output).toMatch(/Resources:\s*\n\s*\d+ unchanged\s*\n\s*\nDuration/);
    expect(plannedChanges(STACK)).toEqual([]);
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

/** Runs a oneshot unit of the backup host as its timer would; its result ("success" when it passed). */
async function runTimerJob(unit: string): Promise<string> {
    return (await onBackupHost(`systemctl start ${unit}.service; systemctl show -p Result --value ${unit}.service`)).trim();
}

describe("backups (pgBackRest on the lab's backup host)", () => {
    test("pulumi up leaves a full backup proven by a passed restore drill; the timers are set; pgha-status shows both on every node; no node keeps a local WAL archive", async () => {
        expect(outputs.backupHost).toEqual({ name: BACKUP_HOST, ip: nodeIp(BACKUP_HOST) });
        expect(outputs.backupStanza).toBe(spec.clusterName);
        expect(await onBackupHost("pgha-backup list")).toMatch(/full backup: \d{8}-\d{6}F/);
        const drill = await newestDrill(outputs.masterConnectionString);
        expect(drill).toMatchObject({ ok: true, detail: expect.stringMatching(/canary found, pg_amcheck clean/) });
        log(`restore drill after pulumi up: RTO ${drill.restore_seconds} s, RPO ${drill.rpo_seconds} s`);
        expect(await onBackupHost("systemctl is-enabled pgha-backup-full.timer pgha-backup-diff.timer pgha-restore-test.timer")).toBe("enabled\nenabled\nenabled\n");
        // The first day of the schedule: a differential backup, as its timer takes it.
        expect(await runTimerJob("pgha-backup-diff")).toBe("success");
        for (const node of NODES) {
            const { output, code } = await status(node);
            expect({ node, code }).toEqual({ node, code: 0 });
            expect(output).toMatch(/newest backup: \d{8}-\d{6}F_\d{8}-\d{6}D \(diff\)/);
            expect(output).toMatch(/restore drill: passed/);
            expect(output).toMatch(/WAL archiving: ok/);
        }
        expect((await archiveFootprints(spec.postgresql.pgdata)).map((f) => f.localArchive)).toEqual(["", "", ""]);
    });

    test("a table dropped by mistake: pgha-restore on the backup host to the moment before the DROP gives back every row acknowledged before it and none written after", async () => {
        const recovery = await dropTableRecovery(outputs.masterConnectionString, (table) => new Writer(outputs.masterConnectionString, table), sleep);
        log(`dropped table restored: ${recovery.ackedBefore} rows acknowledged before the target; ${recovery.restoreOutput.split("\n")[0]}`);
        expect(recovery.ackedBefore).toBeGreaterThan(100);
        expect(recovery).toMatchObject({ missing: [], writtenAfter: 0 });
    });

    test("the backup host powered off under writes: the primary keeps committing with WAL waiting within the queue bound, pgha-status says archiving fails (exit 1); powered on, archiving catches up by itself and the restore drill passes", async () => {
        const queueSegments = (spec.backup?.queueMaxMb ?? 0) / 16;
        await sql(outputs.masterConnectionString, "create table outage_rows (id bigint primary key)");
        const outage = await repositoryOutage(outputs.masterConnectionString, spec.postgresql.pgdata, queueSegments * 16 / 2,
            new Writer(outputs.masterConnectionString, "outage_rows"), true, lab, waitFor);
        log(`backup host off: ${outage.ackedWhileOff} rows committed, WAL waiting per node ${outage.footprintsWhileOff.map((f) => `${f.node} ${f.readySegments}`).join(", ")} segments; caught up ${outage.catchUpSeconds.toFixed(0)} s after power on`);
        expect(outage.ackedWhileOff).toBeGreaterThan(100);
        expect(outage.statusWhileOff.map((s) => s.code)).toEqual([1, 1, 1]);
        expect(Math.max(...outage.footprintsWhileOff.map((f) => f.readySegments))).toBeGreaterThan(0);
        expect(Math.max(...outage.footprintsWhileOff.map((f) => f.readySegments))).toBeLessThanOrEqual(queueSegments);
        expect(outage.statusAfter.map((s) => s.code)).toEqual([0, 0, 0]);
        expect(await runTimerJob("pgha-restore-test")).toBe("success");
        expect(await newestDrill(outputs.masterConnectionString)).toMatchObject({ ok: true });
    });

    test("past the queue bound the primary still commits and drops the oldest waiting WAL: pgha-status reports the archive's gap (exit 2) until a new backup starts a gap-free archive", async () => {
        const queueMb = spec.backup?.queueMaxMb ?? 0;
        await sql(outputs.masterConnectionString, "create table outage_past_bound_rows (id bigint primary key)");
        const outage = await repositoryOutage(outputs.masterConnectionString, spec.postgresql.pgdata, queueMb * 2,
            new Writer(outputs.masterConnectionString, "outage_past_bound_rows"), false, lab, waitFor);
        log(`backup host off past the bound: WAL waiting per node ${outage.footprintsWhileOff.map((f) => `${f.node} ${f.readySegments}`).join(", ")} segments; the archive holds ${await archivedRuns(spec.backup?.repoPath ?? "", spec.backup?.stanza ?? "")}; backups ${(await onBackupHost("pgha-backup list")).replace(/\s+/g, " ")}`);
        expect(outage.ackedWhileOff).toBeGreaterThan(100);
        expect(Math.max(...outage.footprintsWhileOff.map((f) => f.readySegments))).toBeLessThanOrEqual(queueMb / 16);
        for (const after of outage.statusAfter) {
            expect(after.code).toBe(2);
            expect(after.output).toMatch(/WAL archive: GAP after [0-9A-F]{24}, archived \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
        }
        await onBackupHost("pgha-backup full");
        expect((await Promise.all(NODES.map(status))).map((s) => s.code)).toEqual([0, 0, 0]);
    });

    test("a failover while the backup host is off is not held up by the archive: the sync standby promoted within the usual time, no row lost", async () => {
        await lab("poweroff", BACKUP_HOST);
        try {
            const drill = await runDrill("kill -9 postmaster", drillContext(spec, outputs), log);
            expect(drill.rowsLost).toBe(0);
            expect(drill.newPrimary).toBe(drill.syncStandby);
            // Before restore_command was bounded, promoting probed the archive over SSH's timeouts: 35 s.
            expect(drill.outageSeconds).toBeLessThan(20);
        } finally {
            await lab("poweron", BACKUP_HOST);
        }
        await waitForHealthy();
    });

    test("after 2 GiB of WAL no database node holds more than the queue bound of archive or spool", async () => {
        await writeWal(outputs.masterConnectionString, 2048);
        const footprints = await archiveFootprints(spec.postgresql.pgdata);
        log(`after 2 GiB of WAL: ${footprints.map((f) => `${f.node} ${f.readySegments} segments waiting, spool ${f.spoolMb} MiB`).join("; ")}`);
        for (const f of footprints) {
            expect(f.readySegments * 16 + f.spoolMb).toBeLessThanOrEqual(spec.backup?.queueMaxMb ?? 0);
            expect(f.localArchive).toBe("");
        }
    });
});

test("the database passwords were generated by random.RandomPassword", () => {
    const state = JSON.parse(mustEngine("stack", "export", "--stack", STACK).output);
    const generated = state.deployment.resources.filter((r: { type: string }) => r.type === "random:index/randomPassword:RandomPassword");
    expect(generated.map((r: { urn: string }) => r.urn.split("::").pop()).sort()).toEqual(["hacluster-password", "postgres-password", "replication-password"]);
    expect(outputs.postgresPassword).toMatch(/^[A-Za-z0-9]{32}$/);
});

test("no secret is in the state, the engine's output and logs, the CIB, primary_conninfo or the nodes' logs", async () => {
    const state = mustEngine("stack", "export", "--stack", STACK).output;
    const engineLogs = fs.readdirSync(path.join(LAB_DIR, "pulumi", "home", "logs")).map((f) => fs.readFileSync(path.join(LAB_DIR, "pulumi", "home", "logs", f), "utf8"));
    const cib = await onNode(NODES[0], "cibadmin -Q");
    const conf = await onNode(NODES[1], `cat ${spec.postgresql.pgdata}/postgresql.conf ${spec.postgresql.pgdata}/postgresql.auto.conf /var/lib/pgsql/tmp/recovery.conf 2>/dev/null || true`);
    const nodeLogs = (await Promise.all(NODES.map((n) => onNode(n, "journalctl --no-pager -q 2>/dev/null | tail -n 20000; cat /var/log/pacemaker/pacemaker.log /var/log/pcsd/pcsd.log 2>/dev/null | tail -n 20000 || true")))).join("\n");
    const places = { state, engine: [...engineTranscript, ...engineLogs].join("\n"), cib, conf, nodeLogs };
    for (const secret of stackSecrets()) {
        for (const [where, text] of Object.entries(places)) {
            expect({ where, leaked: text.includes(secret) }).toEqual({ where, leaked: false });
        }
    }
    expect(conf).toMatch(/primary_conninfo = '.*passfile=\/var\/lib\/pgsql\/\.pgpass/);
    for (const node of NODES) {
        expect((await onNode(node, "stat -c '%a %U' /var/lib/pgsql/.pgpass")).trim()).toBe("600 postgres");
    }
});

test("failover drills with fencing on: each fault on the primary ends with the sync standby promoted, never two primaries, no acknowledged row lost, the old primary back by itself", async () => {
    const ctx = drillContext(spec, outputs);
    const initialRoles = await roles(NODES[0]);
    const initial = NODES.find((n) => initialRoles[n] === "PRI") as string;
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
    // Every old primary was rewound: none needed the fallback that copies the data afresh and sets the old aside.
    for (const node of NODES) {
        expect({ node, setAside: (await onNode(node, `ls -d ${spec.postgresql.pgdata}.pgha-* 2>/dev/null || true`)).trim() }).toEqual({ node, setAside: "" });
    }
    expect(Object.values(await waitForHealthy()).sort()).toEqual(["HS:async", "HS:sync", "PRI"]);
    // A standby banned for a while (ahead of the node being promoted) removes its ban when it starts again:
    // an expired one left in the CIB made the next ban of that node fail, and a promotion wait behind it.
    const lifetimes = await onNode(NODES[0], `cibadmin -Q --xpath "//rsc_location[starts-with(@id,'cli-ban-')]//date_expression" 2>/dev/null || true`);
    const expired = [...lifetimes.matchAll(/id="([^"]+)"[^>]*end="([^"]+)"/g)].filter((m) => Date.parse(m[2].replace(" ", "T")) < Date.now()).map((m) => m[1]);
    expect(expired).toEqual([]);
});

test("a drill the cluster cannot recover from (Pacemaker in maintenance mode, the primary killed) fails with each node's crm_mon, fencing history and journal in its message", async () => {
    const ctx = drillContext(spec, outputs);
    const before = await waitForHealthy();
    const primary = NODES.find((n) => before[n] === "PRI") as string;
    // In maintenance mode Pacemaker watches nothing and moves nothing: the dead primary stays dead.
    await onNode(NODES[0], "pcs property set maintenance-mode=true");
    let failure: unknown;
    try {
        failure = await runDrill("kill -9 postmaster", ctx, log, { failoverSeconds: 15 }).then(() => undefined, (e) => e);
    } finally {
        await onNode(NODES[0], "pcs property set maintenance-mode=false");
    }
    // Out of maintenance mode Pacemaker finds the dead primary (its attributes still say PRI until then) and
    // fails it over as usual; checked first, so that a failed check below leaves the next tests a healthy cluster.
    await waitForFailover(primary);
    expect(Object.values(await waitForHealthy()).sort()).toEqual(["HS:async", "HS:sync", "PRI"]);
    expect(failure).toBeInstanceOf(DrillFailure);
    const { stage, message, evidence } = failure as DrillFailure;
    // What CI's log shows of a failed drill.
    log(`the deliberately failed drill's report:\n${message}`);
    expect(stage).toBe("no new primary");
    expect(message).toMatch(/timed out after 15s waiting for a new primary/);
    for (const node of NODES) {
        const view = new RegExp(`===== evidence from ${node} =====\\n## crm_mon -1 -A -f\\n[\\s\\S]*?Node Attributes:[\\s\\S]*?## fencing history\\n[\\s\\S]*?## constraints\\n<constraints>[\\s\\S]*?## journal: [^\\n]*\\n(\\w{3} \\d\\d [\\d:.]+ ${node} .*\\n)+`);
        expect({ node, evidence: view.test(evidence) }).toEqual({ node, evidence: true });
    }
});

test("pgha-status on any node: the roles, timelines, lag and VIPs of a healthy cluster, exit 0", async () => {
    const r = await waitForHealthy();
    const status = await onNode(NODES[2], "pgha-status; echo exit=$?");
    expect(status).toMatch(/^exit=0$/m);
    for (const node of NODES) {
        expect(status).toMatch(new RegExp(`^${node}\\s+${r[node].replace("|", "\\|")}\\s+(promoted|unpromoted)\\s+\\d+\\s+[0-9A-F]+/[0-9A-F]+`, "m"));
    }
    expect(status).toContain(`vip-master ${VIP_MASTER}: ${NODES.find((n) => r[n] === "PRI")}`);
    expect(status).toMatch(/^OK: primary /m);
});

test("a full stop and start of the cluster comes back by itself: writes again (bench:failover measures the 30 s target), no row lost, all three healthy", async () => {
    const restart = await fullStopStart(drillContext(spec, outputs));
    log(`full stop and start: writes accepted ${restart.seconds.toFixed(1)} s after the start`);
    expect(restart.rowsLost).toBe(0);
    expect(Object.values(await waitForHealthy()).sort()).toEqual(["HS:async", "HS:sync", "PRI"]);
});

test("planned switchover around all three nodes (pgha-switchover): the target takes over, writes pause briefly (bench:failover measures the 5 s target), no row lost, the old primary is a standby again", async () => {
    const ctx = drillContext(spec, outputs);
    const seen = new Set<string>();
    for (let i = 0; i < NODES.length; i++) {
        const before = await waitForHealthy();
        const primary = NODES.find((n) => before[n] === "PRI") as string;
        const sync = NODES.find((n) => before[n] === "HS:sync") as string;
        // The sync standby by default; a node that has not been primary yet with --to, on the primary (which
        // picks its sync standby itself, so the default alone may go back and forth between two nodes).
        const target = seen.has(sync) ? NODES.find((n) => n !== primary && !seen.has(n)) as string : sync;
        const moved = target === sync
            ? await switchover(ctx, NODES.find((n) => n !== primary) as string)
            : await switchover(ctx, primary, `--to ${target}`);
        const after = await roles(target);
        log(`switchover ${primary} -> ${target} (${before[target]}): writes paused ${moved.seconds.toFixed(1)} s`);
        expect({ newPrimary: NODES.find((n) => after[n] === "PRI"), oldPrimary: after[primary], lost: moved.rowsLost })
            .toEqual({ newPrimary: target, oldPrimary: expect.stringMatching(/^HS:(sync|async)$/), lost: 0 });
        // Not the speed target: a switchover that waits out an agent's timeout pauses writes for tens of seconds.
        expect(moved.seconds).toBeLessThan(15);
        seen.add(target);
    }
    expect(seen.size).toBe(NODES.length);
});

test("scheduled backups across the failovers and switchovers above: the timers' differential and full backups and the restore drill pass with no person involved", async () => {
    const before = await onBackupHost("pgha-backup list");
    expect(await runTimerJob("pgha-backup-diff")).toBe("success");
    expect(await runTimerJob("pgha-backup-full")).toBe("success");
    expect(await runTimerJob("pgha-restore-test")).toBe("success");
    const labels = (list: string): string[] => list.match(/(?<=(full|diff) backup: )\S+/g) ?? [];
    const taken = labels(await onBackupHost("pgha-backup list")).filter((label) => !labels(before).includes(label));
    expect(taken).toEqual([expect.stringMatching(/D$/), expect.stringMatching(/F$/)]);
    expect(await newestDrill(outputs.masterConnectionString)).toMatchObject({ ok: true });
    expect((await Promise.all(NODES.map(status))).map((s) => s.code)).toEqual([0, 0, 0]);
});

test("full-cluster recovery from the repository (pgha-restore-cluster on a standby): its data as of a moment before, it the primary, the other two rebuilt as standbys by the rejoin; every row acknowledged before the moment is there, none written after; backups and drills go on", async () => {
    const master = outputs.masterConnectionString as string;
    await sql(master, "create table recovered_rows (id bigint primary key, written_at timestamptz not null default clock_timestamp())");
    const writer = new Writer(master, "recovered_rows");
    writer.start();
    await sleep(3000);
    const [{ target, at }] = await sql(master, "select clock_timestamp()::text as target, extract(epoch from clock_timestamp()) * 1000 as at");
    await sleep(2000);
    await writer.stop();
    const before = await waitForHealthy();
    const node = NODES.find((n) => before[n] === "HS:async") as string;
    const t0 = Date.now();
    const output = await onNode(node, `pgha-restore-cluster --time '${target}' --discard-everything-after-the-target 2>&1`);
    const after = await waitForHealthy(600);
    log(`full-cluster recovery on ${node}: ${((Date.now() - t0) / 1000).toFixed(0)} s to a healthy cluster; ${output.trim().split("\n").pop()}`);
    expect(after[node]).toBe("PRI");
    const rows = new Set((await sql(master, "select id from recovered_rows")).map((r) => Number(r.id)));
    const acked = writer.acked.filter((a) => a.at < Number(at));
    expect(acked.length).toBeGreaterThan(100);
    expect(acked.filter((a) => !rows.has(a.id)).map((a) => a.id)).toEqual([]);
    expect((await sql(master, `select count(*)::int as n from recovered_rows where written_at > '${target}'`))[0].n).toBe(0);
    expect(await onNode(node, `ls -d ${spec.postgresql.pgdata}.pgha-before-restore-*`)).toMatch(/pgha-before-restore-\d{14}/);
    expect(await runTimerJob("pgha-backup-full")).toBe("success");
    expect(await runTimerJob("pgha-restore-test")).toBe("success");
    expect((await Promise.all(NODES.map(status))).map((s) => s.code)).toEqual([0, 0, 0]);
});

test("a changed monitor interval: preview --diff lists only the CIB step, up applies it to the CIB", async () => {
    mustEngine("config", "set", "--stack", STACK, "pgha:pgsqlPromotedMonitorIntervalSeconds", "7");
    expect(plannedChanges(STACK)).toEqual(["update vips-cib-push"]);
    const diff = mustEngine("preview", "--diff", "--stack", STACK).output;
    expect(diff.match(/: \(update\)/g)).toHaveLength(1);
    expect(diff).toMatch(/: \(update\)\s*\n(\s*\[[^\n]*\]\s*\n)*?\s*\[urn=[^\]]*::vips-cib-push\]/);
    mustEngine("up", "--yes", "--skip-preview", "--stack", STACK);
    expect(await onNode(NODES[0], "cibadmin -Q -o resources")).toMatch(/<op [^>]*name="monitor"[^>]*interval="7s"[^>]*role="(Promoted|Master)"/);
});

test("a node that does not answer (the first configured node's sshd stopped) fails only its own step, named after it; the other nodes still get a reload-only change; nothing is restarted; sshd back, pulumi up completes", async () => {
    const node = NODES[0];
    const others = NODES.slice(1);
    const walKeepSize = () => Promise.all(others.map(async (n) => (await onNode(n, `runuser -u postgres -- ${spec.postgresql.bindir}/psql -X -At -d postgres -c "show wal_keep_size"`)).trim()));
    mustEngine("config", "set", "--stack", STACK, "pgha:walKeepSizeMb", "2048");
    await lab("exec", node, "systemctl", "stop", "ssh.socket", "ssh.service");
    try {
        const failed = engine("up", "--yes", "--skip-preview", "--stack", STACK);
        expect(failed.status).not.toBe(0);
        expect(failed.output).toMatch(new RegExp(`${node}-database \\*\\*updating failed\\*\\*`));
        expect(await walKeepSize()).toEqual(others.map(() => "2GB"));
        // The restart steps come after every node's database step: none ran.
        expect(failed.output).not.toMatch(/pgha\[rolling-restart\]/);
    } finally {
        await lab("exec", node, "systemctl", "start", "ssh.service");
    }
    mustEngine("up", "--yes", "--skip-preview", "--stack", STACK);
    expect(await onNode(node, `cat ${spec.postgresql.pgdata}/pgha.conf`)).toContain("wal_keep_size = 2048");
    expect(engine("preview", "--expect-no-changes", "--stack", STACK).status).toBe(0);
});

describe("changing a running cluster (pgha:postgresqlParameters)", () => {
    /** A query's value on every node, over its local socket. */
    const onEveryNode = (query: string) => Promise.all(NODES.map(async (n) => (await onNode(n, `runuser -u postgres -- ${spec.postgresql.bindir}/psql -X -At -d postgres -c "${query}"`)).trim()));
    const pghaConf = () => Promise.all(NODES.map((n) => onNode(n, `cat ${spec.postgresql.pgdata}/pgha.conf`)));
    const up = () => engineInBackground("up", "--yes", "--skip-preview", "--stack", STACK);
    /** pulumi up under a writer through vip-master: the engine's output, the longest write pause and the rows lost. */
    const upUnderWrites = async (name: string) => {
        let output = "";
        const change = await underChange(drillContext(spec, outputs), name, async () => {
            const run = await up();
            output = run.output;
            expect({ status: run.status, tail: run.status === 0 ? "" : run.output.slice(-3000) }).toEqual({ status: 0, tail: "" });
        });
        return { ...change, output };
    };

    test("a reloadable parameter (work_mem): reloaded on every node, no PostgreSQL restarted, writes not paused, no row lost", async () => {
        const started = await onEveryNode("select pg_postmaster_start_time()");
        mustEngine("config", "set", "--path", "--stack", STACK, "pgha:postgresqlParameters.work_mem", "12MB");
        // What the reviewer reads, once per node's restart step.
        expect(mustEngine("preview", "--diff", "--stack", STACK).output.match(/\+ work_mem=12MB: reload, no restart\n/g)).toHaveLength(3);
        const change = await upUnderWrites("reload");
        log(`work_mem changed by pulumi up: longest write pause ${change.seconds.toFixed(1)} s`);
        expect(change.output).toMatch(/no setting waits for a restart on any node: nothing to restart/);
        expect(await onEveryNode("show work_mem")).toEqual(["12MB", "12MB", "12MB"]);
        expect(await onEveryNode("select pg_postmaster_start_time()")).toEqual(started);
        expect(change.rowsLost).toBe(0);
        expect(change.seconds).toBeLessThan(2);
    });

    test("a parameter that needs a restart (shared_buffers) rolls: the standbys one at a time, the current primary last by one switchover; every node runs the new value; writes paused once; no row lost", async () => {
        // The primary is not the first configured node: the order comes from the cluster, not from pgha:nodes.
        if ((await waitForHealthy())[NODES[0]] === "PRI") {
            await onNode(NODES[0], "pgha-switchover");
        }
        const before = await waitForHealthy();
        const at = (role: string) => NODES.find((n) => before[n] === role) as string;
        mustEngine("config", "set", "--path", "--stack", STACK, "pgha:postgresqlParameters.shared_buffers", "160MB");
        const preview = mustEngine("preview", "--diff", "--stack", STACK).output;
        expect(preview.match(/\+ shared_buffers=160MB: restart, rolled: async standby, sync standby, then primary by one switchover \(writes pause ~5 s\)\n/g)).toHaveLength(3);
        // In maintenance mode (changes by hand) nothing is restarted: the settings are written, the restart waits.
        const started = await onEveryNode("select pg_postmaster_start_time()");
        await onNode(at("HS:async"), "pgha-maintenance on");
        try {
            expect((await status(at("HS:async"))).output).toMatch(/maintenance mode is on/);
            const refused = await up();
            expect(refused.status).not.toBe(0);
            expect(refused.output).toMatch(/maintenance mode is on \(pgha-maintenance off ends it\): nothing is restarted/);
            expect(await onEveryNode("select pg_postmaster_start_time()")).toEqual(started);
            expect((await status(at("HS:async"))).output).toMatch(/settings waiting for a restart: .*shared_buffers/);
        } finally {
            await onNode(at("HS:async"), "pgha-maintenance off");
        }
        // pulumi up again resumes.
        const change = await upUnderWrites("rolling_restart");
        log(`shared_buffers changed by pulumi up (${at("PRI")} primary): longest write pause ${change.seconds.toFixed(1)} s`);
        // The engine shows a step's lines more than once (while it runs and when it ends).
        const restarted = [...new Set([...change.output.matchAll(/changed: restarted (\S+)/g)].map((m) => m[1]))];
        expect(restarted).toEqual([at("HS:async"), at("HS:sync"), at("PRI")]);
        expect(change.output).toMatch(new RegExp(`restarted ${at("PRI")} by a switchover`));
        expect(await onEveryNode("show shared_buffers")).toEqual(["160MB", "160MB", "160MB"]);
        expect(await onEveryNode("select count(*) from pg_settings where pending_restart")).toEqual(["0", "0", "0"]);
        const after = await waitForHealthy();
        expect(after[at("PRI")]).toMatch(/^HS:(sync|async)$/);
        expect(change.rowsLost).toBe(0);
        // One switchover's pause (the 15 s bound of the switchover test), not a restart's or a failover's.
        expect(change.seconds).toBeLessThan(15);
    });

    test("with pgha:restartPolicy in-place the standbys roll and the primary restarts where it is: no switchover, every node runs the new value, no row lost", async () => {
        const before = await waitForHealthy();
        const at = (role: string) => NODES.find((n) => before[n] === role) as string;
        mustEngine("config", "set", "--stack", STACK, "pgha:restartPolicy", "in-place");
        mustEngine("config", "set", "--path", "--stack", STACK, "pgha:postgresqlParameters.shared_buffers", "176MB");
        try {
            expect(mustEngine("preview", "--diff", "--stack", STACK).output).toMatch(/\+ shared_buffers=176MB: restart, rolled: async standby, sync standby, then primary in place \(writes stop while it restarts\)/);
            const started = await onEveryNode("select pg_postmaster_start_time()");
            const change = await upUnderWrites("in_place_restart");
            log(`shared_buffers changed in place (${at("PRI")} primary): longest write pause ${change.seconds.toFixed(1)} s`);
            const restarted = [...new Set([...change.output.matchAll(/changed: restarted (?:the primary )?(\S+)/g)].map((m) => m[1]))];
            expect(restarted).toEqual([at("HS:async"), at("HS:sync"), at("PRI")]);
            expect(change.output).toMatch(new RegExp(`restarted the primary ${at("PRI")} in place`));
            expect(change.output).not.toMatch(/switching over/);
            expect((await waitForHealthy())[at("PRI")]).toBe("PRI");
            const now = await onEveryNode("select pg_postmaster_start_time()");
            expect(now.filter((time, i) => time !== started[i])).toHaveLength(3);
            expect(await onEveryNode("show shared_buffers")).toEqual(["176MB", "176MB", "176MB"]);
            expect(change.rowsLost).toBe(0);
            expect(change.seconds).toBeLessThan(15);
        } finally {
            mustEngine("config", "rm", "--stack", STACK, "pgha:restartPolicy");
        }
    });

    test("an unknown parameter and a value PostgreSQL refuses fail the step with the key named and change nothing; a parameter pgha sets itself is refused at preview", async () => {
        const conf = await pghaConf();
        const refused = async (key: string, value: string, words: RegExp) => {
            mustEngine("config", "set", "--path", "--stack", STACK, `pgha:postgresqlParameters.${key}`, value);
            const run = await up();
            expect(run.status).not.toBe(0);
            expect(run.output).toMatch(/PostgreSQL refuses the settings \(pgha:postgresqlParameters\), nothing was changed/);
            expect(run.output).toMatch(words);
            expect(await pghaConf()).toEqual(conf);
        };
        await refused("wrok_mem", "1MB", /unrecognized configuration parameter "wrok_mem"/);
        mustEngine("config", "rm", "--path", "--stack", STACK, "pgha:postgresqlParameters.wrok_mem");
        await refused("work_mem", "lots", /invalid value for parameter "work_mem": "lots"/);
        mustEngine("config", "set", "--path", "--stack", STACK, "pgha:postgresqlParameters.port", "5433");
        const preview = engine("preview", "--stack", STACK);
        expect(preview.status).not.toBe(0);
        expect(preview.output).toMatch(/pgha:postgresqlParameters: postgresqlParameters\.port is managed by pgha: set by pgha:postgresqlPort/);
        mustEngine("config", "rm", "--path", "--stack", STACK, "pgha:postgresqlParameters.port");
        mustEngine("config", "set", "--path", "--stack", STACK, "pgha:postgresqlParameters.work_mem", "12MB");
        // Back to the settings in place: the refused runs left nothing to do.
        const repaired = await up();
        expect(repaired.status).toBe(0);
        expect(await pghaConf()).toEqual(conf);
        expect(engine("preview", "--expect-no-changes", "--stack", STACK).status).toBe(0);
    });
    test("a PostgreSQL package changed under the running servers (another Debian build from the mirror): pgha-status lists it, pgha-rolling-restart on the primary rolls it through, every node runs the installed build, no row lost", async () => {
        const before = await waitForHealthy();
        const at = (role: string) => NODES.find((n) => before[n] === role) as string;
        const installed = (await onNode(NODES[0], "dpkg-query -W -f='${Version}' postgresql-15")).trim();
        const other = (await onNode(NODES[0], "apt-cache madison postgresql-15 | awk '{print $3}'")).split("\n").map((v) => v.trim()).find((v) => v !== "" && v !== installed);
        expect(other).toBeDefined();
        // What an OS package update does: the files replaced under the running server, which keeps its binaries.
        await Promise.all(NODES.map((n) => onNode(n, `DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-downgrades postgresql-15=${other} postgresql-client-15=${other} >/dev/null`)));
        const runs = () => onEveryNode("show server_version");
        const old = await runs();
        const otherVersion = `${String(other).split("-")[0]} (Debian ${other})`;
        expect((await status(at("PRI"))).output).toMatch(/settings waiting for a restart: .*the PostgreSQL build \(runs /);
        expect((await status(at("PRI"))).output).toContain(`, ${otherVersion} installed)`);
        const change = await underChange(drillContext(spec, outputs), "package_roll", async () => {
            const output = await onNode(at("PRI"), "pgha-rolling-restart 2>&1");
            const restarted = [...new Set([...output.matchAll(/changed: restarted (\S+)/g)].map((m) => m[1]))];
            expect(restarted).toEqual([at("HS:async"), at("HS:sync"), at("PRI")]);
        });
        log(`PostgreSQL package ${installed} -> ${other} rolled by pgha-rolling-restart: longest write pause ${change.seconds.toFixed(1)} s`);
        const now = await runs();
        expect(new Set(now).size).toBe(1);
        expect(now[0]).not.toBe(old[0]);
        expect(now[0]).toBe(otherVersion);
        expect(change.rowsLost).toBe(0);
        expect((await status(at("HS:async"))).output).not.toMatch(/waiting for a restart/);
    });
});

describe("with fencing off (a switch for sites without a fence device)", () => {
    beforeAll(() => {
        mustEngine("config", "set", "--stack", STACK, "pgha:fencingEnabled", "false");
        const up = mustEngine("up", "--yes", "--skip-preview", "--stack", STACK);
        expect(up.output).toContain("pgha:fencingEnabled is false");
    });

    test("a partitioned primary whose link comes back rejoins as a standby by itself, no row lost", async () => {
        const ctx = drillContext(spec, outputs);
        const d = await runDrill("partition", ctx, log, { fenced: false });
        drills.push({ ...d, scenario: "partition, no fencing" });
        expect({ rowsLost: d.rowsLost, lateAcks: d.lateAcks, promoted: d.newPrimary }).toEqual({ rowsLost: 0, lateAcks: 0, promoted: d.syncStandby });
        expect(Object.values(await waitForHealthy()).sort()).toEqual(["HS:async", "HS:sync", "PRI"]);
    });

    test("two primaries (the primary's cluster stack killed, then started again): the newer primary is never rewound; its rejoin is refused with the reason", async () => {
        const before = await waitForHealthy();
        const old = NODES.find((n) => before[n] === "PRI") as string;
        const third = NODES.find((n) => before[n] === "HS:async") as string;
        const table = `two_primaries_${Date.now()}`;
        await sql(outputs.masterConnectionString, `create table ${table} (id bigint primary key)`);
        const writer = new Writer(outputs.masterConnectionString, table);
        writer.start();
        await sleep(2000);
        await onNode(old, "pkill -KILL -x corosync");
        const newer = await waitForFailover(old);
        // The old primary's PostgreSQL still runs; the newer one takes writes on its own timeline.
        await waitFor("writes on the newer primary", 60, () => (writer.acked.some((a) => a.node === newer) ? true : undefined));
        await sleep(2000);
        await writer.stop();
        // The recovery that went wrong in the field: the old primary is wanted back as the primary and its
        // cluster stack is started again; Pacemaker then demotes the newer primary.
        await onNode(third, `pcs constraint location ${"pgsql-clone"} rule constraint-id=keep-old-primary role=Promoted score=INFINITY '#uname' eq ${old}`);
        await onNode(old, "systemctl start corosync pacemaker");
        const newerControl = () => onNode(newer, `${spec.postgresql.bindir}/pg_controldata ${spec.postgresql.pgdata} | grep -E "^(Database system identifier|Latest checkpoint location|Latest checkpoint's TimeLineID)"`);
        try {
            const refusal = await waitFor(`${newer}'s rejoin, refused`, 180, async () => {
                const failed = await onNode(third, "crm_mon -1 | sed -n '/Failed Resource Actions/,$p'");
                return /newer than the primary|not in the history/.test(failed) ? failed : undefined;
            });
            expect(refusal).toContain(newer);
            expect((await roles(third))[old]).toBe("PRI");
            const control = await newerControl();
            const setAside = () => onNode(newer, `ls -d ${spec.postgresql.pgdata}.pgha-* 2>/dev/null || true`);
            const setAsideBefore = await setAside();
            const status = await onNode(third, "pgha-status; echo exit=$?");
            expect(status).toMatch(new RegExp(`CRITICAL: needs a person:[\\s\\S]*refused rejoin of ${newer}: ${newer} (is on timeline|'s timeline).*Nothing was rewound`));
            expect(status).toMatch(/^exit=2$/m);
            await expect(onNode(newer, "pgha-rejoin-node --wait 20")).rejects.toThrow(/was promoted after|promoted in a way/);
            expect(await newerControl()).toBe(control);
            expect(await setAside()).toBe(setAsideBefore);
        } finally {
            await onNode(third, "pcs constraint remove keep-old-primary");
        }
        // The newer primary archived its timeline to the shared repository: recovery would follow it there.
        const discardedHistory = `${Number(/TimeLineID:\s+(\d+)/.exec(await newerControl())?.[1]).toString(16).toUpperCase().padStart(8, "0")}.history`;
        const repository = `${spec.backup?.repoPath}/archive/${spec.backup?.stanza}/*/`;
        expect(await onBackupHost(`ls ${repository}`)).toContain(discardedHistory);
        // An operator who decides that the newer transactions may go says so explicitly.
        await onNode(newer, "pgha-rejoin-node --discard-newer-data");
        expect(Object.values(await waitForHealthy()).sort()).toEqual(["HS:async", "HS:sync", "PRI"]);
        // Its timeline was moved aside in the repository, kept.
        expect(await onBackupHost(`ls ${repository}`)).not.toContain(discardedHistory);
        expect(await onBackupHost(`ls ${spec.backup?.repoPath}/pgha-discarded/${spec.backup?.stanza}/*/*/`)).toContain(discardedHistory);
        // A timeline a backup needs is never moved aside.
        const info = await onBackupHost(`runuser -u postgres -- pgbackrest --stanza=${spec.backup?.stanza} info --output=json`);
        const backupTimeline = parseInt(/"archive":\{"start":"([0-9A-F]{8})/.exec(info)?.[1] ?? "", 16);
        const archived = await onBackupHost(`ls -R ${repository}`);
        await expect(onBackupHost(`pgha-archive-set-aside ${backupTimeline} ${backupTimeline}`)).rejects.toThrow(/a backup in the repository starts or stops on timeline/);
        expect(await onBackupHost(`ls -R ${repository}`)).toBe(archived);
    });
});

test("pulumi destroy stops the cluster and removes its configuration, and keeps every node's data and the backups", async () => {
    await sql(outputs.masterConnectionString, "insert into e2e values (3, 'before destroy') on conflict (id) do nothing");
    mustEngine("destroy", "--yes", "--skip-preview", "--stack", STACK);
    for (const node of NODES) {
        expect((await onNode(node, "test -e /etc/corosync/corosync.conf && echo present || echo absent")).trim()).toBe("absent");
        expect((await onNode(node, "systemctl is-active pacemaker || true")).trim()).not.toBe("active");
        expect((await onNode(node, `pgrep -u postgres -x postgres >/dev/null && echo running || echo stopped`)).trim()).toBe("stopped");
        expect(await onNode(node, `${spec.postgresql.bindir}/pg_controldata ${spec.postgresql.pgdata} | grep '^Database cluster state'`)).toMatch(/shut down/);
    }
    // The backup host's timers stop with their cluster; the repository stays.
    expect(await onBackupHost("systemctl list-timers --all --no-legend 'pgha-*' | wc -l")).toBe("0\n");
    expect(await onBackupHost("pgha-backup list")).toMatch(/full backup: /);
});

test("lab down leaves no process, mount, cgroup, bridge, veth or directory behind", async () => {
    await lab("down");
    expect((await lab("leftovers")).trim()).toBe("");
});
