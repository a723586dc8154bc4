/**
 * Failover drills on the lab (the runbook's section 3, and the faults only fencing makes safe): a client
 * commits numbered rows through vip-master while a fault hits the primary; every node's role is sampled from
 * inside the node a few times a second. A drill proves: the sync standby took over, no acknowledged row was
 * lost, at no moment were two nodes writable primaries, no write was acknowledged by the old primary after
 * the new one was promoted, and the old primary came back as a standby by itself.
 */
import { ChildProcessWithoutNullStreams, spawn } from "child_process";
import * as path from "path";
import { ClusterSpec } from "../components/config";
import { Client } from "pg";
import { ROOT } from "./fixtures";
import { lab, location, NODES, onNode, roles, sleep, waitFor } from "./lab";

export type Scenario =
    | "pg_ctl stop" | "kill -9 postmaster" | "power off"
    | "partition" | "corosync kill" | "hang"
    | "sync standby kill -9";
/** The runbook's drills and the ones only fencing makes safe: a fault on the primary. */
export const SCENARIOS: Scenario[] = ["pg_ctl stop", "kill -9 postmaster", "power off", "partition", "corosync kill", "hang"];

export interface DrillOptions {
    /** Whether the cluster fences (the drill then looks for the fencing of the node at fault). */
    readonly fenced?: boolean;
    /** How the node at fault comes back: by itself (ocf:pgha:pgsql), or by pgha-rejoin-node run by hand (the runbook's way). */
    readonly rejoin?: "auto" | "manual";
    /** How long the drill waits for a new primary with both VIPs in place after the fault (default 180 s). */
    readonly failoverSeconds?: number;
}

/**
 * A drill that did not end as it must, with what a person needs to see why: `stage` says where it stopped
 * ("no new primary": the cluster did not fail over within the drill's bound), the message holds the cause and
 * the cluster's evidence (clusterEvidence), which is all a CI log keeps once the lab is gone.
 */
export class DrillFailure extends Error {
    constructor(readonly stage: "no new primary" | "other", readonly cause: string, readonly evidence: string) {
        super(`${cause}\n${evidence}`);
        this.name = "DrillFailure";
    }
}

/** Lines of each node's journal that clusterEvidence shows: the first and the last half of them. */
const EVIDENCE_JOURNAL_LINES = 300;

/**
 * What each node saw, for a failure's report: `crm_mon -1 -A -f` (roles, attributes, fail counts, failed
 * actions), the fencing history, the constraints (bans included), and the journal of pacemaker (which holds
 * the agents' and fence agents' output), corosync and pcsd since `since` (ms; the last hour when not given),
 * the previous boot included (a fenced node was rebooted): its first and last EVIDENCE_JOURNAL_LINES / 2
 * lines, so that a message repeated until the end does not hide how it began, without the fence agent's
 * Python deprecation warnings (two lines per call) and the PAM session lines of the agent's runuser calls
 * (four per monitor). A node that does not answer says so.
 */
export async function clusterEvidence(since?: number): Promise<string> {
    const from = since === undefined ? "-1h" : `@${Math.floor(since / 1000) - 30}`;
    const script = [
        "echo '## crm_mon -1 -A -f'; crm_mon -1 -A -f 2>&1",
        "echo '## fencing history'; stonith_admin --history '*' --verbose 2>&1",
        "echo '## constraints'; cibadmin -Q -o constraints 2>&1",
        `echo '## journal: pacemaker, corosync, pcsd since ${from} (first and last ${EVIDENCE_JOURNAL_LINES / 2} lines)'`,
        `journalctl --no-pager -q -o short-precise --since ${from} -u pacemaker -u corosync -u pcsd 2>&1 | grep -vE 'DeprecationWarning|from pipes import quote|pam_unix\\(runuser:session\\)' | awk -v half=${EVIDENCE_JOURNAL_LINES / 2} '{ l[NR] = $0 } END { for (i = 1; i <= NR; i++) { if (i == half + 1 && NR > 2 * half) { print "... " NR - 2 * half " lines left out ..."; i = NR - half + 1 } print l[i] } }'`,
    ].join("; ");
    const views = await Promise.all(NODES.map((n) => onNode(n, script).catch((e) => `(${n} did not answer: ${String(e).split("\n")[0]})`)));
    return NODES.map((n, i) => `===== evidence from ${n} =====\n${views[i]}`).join("\n");
}

export interface DrillResult {
    readonly scenario: string;
    /** The primary when the fault hit. */
    readonly oldPrimary: string;
    /** The HS:sync standby when the fault hit: the node that must be promoted. */
    readonly syncStandby: string;
    readonly newPrimary: string;
    /** The longest time writes stood still from the fault on (a failover's outage, or the commits stalled by a lost sync standby). */
    readonly outageSeconds: number;
    /** From the fault to the completed fencing of the node at fault (undefined: not fenced). */
    readonly fenceSeconds?: number;
    /** From the fault until the node at fault was a standby again. */
    readonly rejoinSeconds: number;
    /** Acknowledged rows missing on the new primary. */
    readonly rowsLost: number;
    /** Rows whose commit was in flight at the fault (may or may not be there; not counted as lost). */
    readonly inFlight: number;
    /** Moments at which two nodes were writable primaries (from the samples). */
    readonly twoPrimaries: string[];
    /** Writes the old primary acknowledged after the new primary was promoted. */
    readonly lateAcks: number;
}

export interface DrillContext {
    /** The stack's masterConnectionString (through vip-master, read-write sessions only). */
    readonly masterConnectionString: string;
    readonly bindir: string;
    readonly pgdata: string;
    readonly port: number;
}

/** The drills' view of a stack: its configuration and its outputs. */
export function drillContext(spec: ClusterSpec, outputs: Record<string, any>): DrillContext {
    const { bindir, pgdata, port } = spec.postgresql;
    return { masterConnectionString: outputs.masterConnectionString as string, bindir, pgdata, port };
}

/** Runs one statement through a libpq connection string (e.g. a stack output) and returns its rows. */
export async function sql(connectionString: string, text: string, params: unknown[] = []): Promise<any[]> {
    const client = new Client({ connectionString, connectionTimeoutMillis: 5000 });
    client.on("error", () => undefined);
    await client.connect();
    try {
        return (await client.query(text, params)).rows;
    } finally {
        await client.end();
    }
}

/** Commits numbered rows through vip-master as fast as it can, reconnecting after errors; records which node acknowledged each. */
export class Writer {
    private next = 1;
    private running = true;
    private client?: Client;
    private node = "";
    readonly acked: { id: number; at: number; node: string }[] = [];
    readonly uncertain: number[] = [];
    private loop?: Promise<void>;

    constructor(private readonly connectionString: string, private readonly table: string) {}

    start(): void {
        this.loop = this.run();
    }

    private async connect(): Promise<Client> {
        const client = new Client({
            connectionString: this.connectionString,
            // A short connect timeout: an attempt that started while the VIP was away must not hide its return for long.
            connectionTimeoutMillis: 500, query_timeout: 3000, keepAlive: true, keepAliveInitialDelayMillis: 1000,
        });
        client.on("error", () => undefined);
        await client.connect();
        try {
            const who = await client.query("select pg_is_in_recovery() as standby, pg_read_file('/etc/hostname') as node");
            // A demoted or stale server must not take writes (target_session_attrs=read-write in the URI).
            if (who.rows[0].standby) {
                throw new Error("connected to a standby");
            }
            this.node = String(who.rows[0].node).trim();
        } catch (e) {
            await client.end().catch(() => undefined);
            throw e;
        }
        return client;
    }

    private async run(): Promise<void> {
        while (this.running) {
            try {
                this.client ??= await this.connect();
            } catch {
                this.client = undefined;
                await sleep(100);
                continue;
            }
            const id = this.next++;
            try {
                await this.client.query(`insert into ${this.table} (id) values ($1)`, [id]);
                this.acked.push({ id, at: Date.now(), node: this.node });
            } catch {
                // Sent but not acknowledged: it may or may not have committed.
                this.uncertain.push(id);
                const old = this.client;
                this.client = undefined;
                void old.end().catch(() => undefined);
                await sleep(100);
            }
        }
        await this.client?.end().catch(() => undefined);
    }

    async stop(): Promise<void> {
        this.running = false;
        await this.loop;
    }

    firstAckAfter(t: number): number | undefined {
        return this.acked.find((a) => a.at > t)?.at;
    }

    /**
     * The write outage: the longest time between two consecutive acknowledgements that ends after `t`. A
     * fault such as `pg_ctl stop` takes effect some time after it is issued, so the gap is found, not assumed
     * to start at `t`.
     */
    longestGapEndingAfter(t: number): number {
        let longest = 0;
        for (let i = 1; i < this.acked.length; i++) {
            if (this.acked[i].at > t) {
                longest = Math.max(longest, this.acked[i].at - this.acked[i - 1].at);
            }
        }
        return longest;
    }
}

type Role = "primary" | "standby" | "down" | "other";

/**
 * Samples every node's PostgreSQL role from inside the node, four times a second, independent of the network:
 * "primary" is a server that answers on its local socket and is not in recovery, i.e. one that takes new
 * writing sessions. A server that is starting (its control file still says "in production" after a crash),
 * hung or stopping is "other". Writes a hung primary's open sessions still acknowledge are the drills'
 * late acks. A node that goes down stops sampling; its sampler starts again when the node is back.
 */
export class RoleSampler {
    readonly samples = new Map<string, { at: number; role: Role }[]>();
    private readonly procs = new Map<string, ChildProcessWithoutNullStreams>();
    private running = true;
    private readonly timer: NodeJS.Timeout;

    constructor(private readonly ctx: DrillContext) {
        for (const node of NODES) {
            this.samples.set(node, []);
            this.ensure(node);
        }
        this.timer = setInterval(() => NODES.forEach((n) => this.ensure(n)), 1000);
    }

    private ensure(node: string): void {
        if (!this.running || this.procs.has(node)) {
            return;
        }
        const { bindir, pgdata, port } = this.ctx;
        // The postmaster.pid's process must be this data directory's postmaster: pids are reused at once in a node.
        // setpriv, not runuser: no PAM session (and journal lines) four times a second.
        const loop = `while :; do r=down; p=$(head -n1 ${pgdata}/postmaster.pid 2>/dev/null); if [ -n "$p" ] && tr '\\0' ' ' </proc/$p/cmdline 2>/dev/null | grep -q -- "-D ${pgdata}"; then
            case "$(timeout 1 setpriv --reuid=postgres --regid=postgres --clear-groups ${bindir}/psql -XAtq -p ${port} -d postgres -c 'select pg_is_in_recovery()' 2>/dev/null)" in
            f) r=primary ;; t) r=standby ;; *) r=other ;; esac; fi; echo "$(date +%s%3N) $r"; sleep 0.25; done`;
        const proc = spawn("bash", [path.join(ROOT, "lab", "lab.sh"), "exec", node, "bash", "-c", loop], { detached: true });
        this.procs.set(node, proc);
        let rest = "";
        proc.stdout.on("data", (chunk: Buffer) => {
            const lines = (rest + chunk.toString()).split("\n");
            rest = lines.pop() ?? "";
            for (const line of lines) {
                const [at, role] = line.split(" ");
                this.samples.get(node)?.push({ at: Number(at), role: role as Role });
            }
        });
        proc.stderr.on("data", () => undefined);
        proc.on("exit", () => this.procs.delete(node));
    }

    /** The first time after `t` that `node` was sampled as a writable primary. */
    promotedAt(node: string, t: number): number | undefined {
        return this.samples.get(node)?.find((s) => s.at > t && s.role === "primary")?.at;
    }

    /**
     * Moments at which two nodes were both sampled as writable primaries. A node counts as primary from a
     * primary sample until its next sample if that one is primary too (at most 0.5 s); a last primary sample
     * before anything else (a crash, a power cut) counts for its own moment only.
     */
    twoPrimaries(): string[] {
        const intervals = NODES.flatMap((node) => {
            const s = this.samples.get(node) ?? [];
            return s.map((x, i) => ({ node, role: x.role, from: x.at, to: s[i + 1]?.role === "primary" ? Math.min(s[i + 1].at, x.at + 500) : x.at }))
                .filter((x) => x.role === "primary");
        });
        const overlaps: string[] = [];
        for (const a of intervals) {
            for (const b of intervals) {
                if (a.node < b.node && a.from <= b.to && b.from <= a.to) {
                    overlaps.push(`${a.node} and ${b.node} at ${new Date(Math.max(a.from, b.from)).toISOString()}`);
                }
            }
        }
        return overlaps;
    }

    stop(): void {
        this.running = false;
        clearInterval(this.timer);
        for (const proc of this.procs.values()) {
            try {
                process.kill(-(proc.pid as number), "SIGKILL");
            } catch {
                // already gone
            }
        }
    }
}

function liveNode(except: string): string {
    return NODES.find((n) => n !== except) as string;
}

/** Waits until `node` is no longer primary and another node is, with vip-master on it and vip-slave on a standby or it. */
export async function waitForFailover(oldPrimary: string, seconds = 180): Promise<string> {
    const via = liveNode(oldPrimary);
    return waitFor(`a new primary after ${oldPrimary} failed`, seconds, async () => {
        const r = await roles(via);
        const primary = Object.keys(r).find((n) => r[n] === "PRI" && n !== oldPrimary);
        if (!primary || (await location(via, "vip-master")) !== primary) {
            return undefined;
        }
        const slaveAt = await location(via, "vip-slave");
        return slaveAt !== "" && slaveAt !== oldPrimary ? primary : undefined;
    });
}

/**
 * Waits until the cluster is as in the runbook's section 2.5: one PRI, one HS:sync, one HS:async, vip-master
 * on the primary and vip-slave on the sync standby; returns the roles.
 */
export async function waitForHealthy(seconds = 240): Promise<Record<string, string>> {
    return waitFor("PRI, HS:sync and HS:async with both VIPs in place", seconds, healthyRoles).catch(async (e) => {
        // What the cluster looks like instead, for whoever reads the failure (e.g. in CI).
        const status = await Promise.all(NODES.map((n) => onNode(n, "pgha-status 2>&1").catch((err) => String(err))));
        throw new Error(`${String(e)}\n${NODES.map((n, i) => `--- pgha-status on ${n}:\n${status[i]}`).join("\n")}\n${await clusterEvidence(Date.now() - seconds * 1000)}`);
    });
}

async function healthyRoles(): Promise<Record<string, string> | undefined> {
    for (const via of NODES) {
        const r = await roles(via);
        const primary = NODES.find((n) => r[n] === "PRI");
        const sync = NODES.find((n) => r[n] === "HS:sync");
        if (Object.values(r).sort().join() === "HS:async,HS:sync,PRI"
            && (await location(via, "vip-master")) === primary && (await location(via, "vip-slave")) === sync) {
            return r;
        }
    }
    return undefined;
}

/** Completion time (ms) of the last fencing of `target` seen from `via`, if any since `after`. */
async function fencedAt(via: string, target: string, after: number): Promise<number | undefined> {
    const history = await onNode(via, `stonith_admin --history ${target} --verbose --output-as=xml 2>/dev/null || true`);
    const times = [...history.matchAll(/<fence_event\b[^>]*status="success"[^>]*completed="([^"]+)"/g)].map((m) => Date.parse(m[1]));
    const last = Math.max(...times, 0);
    return last > after - 1000 ? last : undefined;
}

/** Brings the fault on `node` about; returns what undoes it once the drill is over (if anything does). */
async function inject(scenario: Exclude<Scenario, "sync standby kill -9">, node: string, ctx: DrillContext): Promise<() => Promise<unknown>> {
    const postmaster = `"$(head -n1 ${ctx.pgdata}/postmaster.pid)"`;
    switch (scenario) {
        case "pg_ctl stop":
            await onNode(node, `runuser -u postgres -- ${ctx.bindir}/pg_ctl -D ${ctx.pgdata} stop -m fast`);
            return async () => undefined;
        case "kill -9 postmaster":
            await onNode(node, `kill -9 ${postmaster}`);
            return async () => undefined;
        case "power off":
            await lab("poweroff", node);
            return async () => undefined;
        case "partition":
            await lab("partition", node);
            // Fencing reboots the node (a fresh link); without fencing the link comes back here.
            return () => lab("heal", node);
        case "corosync kill":
            await onNode(node, "pkill -KILL -x corosync");
            return async () => undefined;
        case "hang":
            await onNode(node, `kill -STOP ${postmaster}`);
            return async () => undefined;
    }
}

/** Waits until `node` reports HS:sync or HS:async (seen from `via`). */
async function waitForStandby(node: string, via: string, seconds = 300): Promise<void> {
    await waitFor(`${node} back as a standby`, seconds, async () => (["HS:sync", "HS:async"].includes((await roles(via))[node]) ? true : undefined));
}

export async function runDrill(scenario: Scenario, ctx: DrillContext, log: (s: string) => void, options: DrillOptions = {}): Promise<DrillResult> {
    const { fenced = true, rejoin = "auto", failoverSeconds = 180 } = options;
    // Start from the healthy state of the runbook's section 2.5.
    const before = await waitForHealthy();
    const oldPrimary = NODES.find((n) => before[n] === "PRI") as string;
    const syncStandby = NODES.find((n) => before[n] === "HS:sync") as string;
    const onStandby = scenario === "sync standby kill -9";
    const target = onStandby ? syncStandby : oldPrimary;
    const table = `drill_${scenario.replace(/[^a-z0-9]+/g, "_")}_${Date.now()}`;
    await sql(ctx.masterConnectionString, `create table ${table} (id bigint primary key, at timestamptz default now())`);
    const sampler = new RoleSampler(ctx);
    const writer = new Writer(ctx.masterConnectionString, table);
    let faultAt = Date.now();
    let stage: DrillFailure["stage"] = "other";
    try {
        writer.start();
        // Fault at a random point of the monitor cycle.
        await sleep(3000 + Math.random() * 4000);
        faultAt = Date.now();
        log(`${scenario}: fault on ${target}`);
        const undo = await inject(scenario === "sync standby kill -9" ? "kill -9 postmaster" : scenario, target, ctx);
        stage = "no new primary";
        const newPrimary = onStandby ? oldPrimary : await waitForFailover(oldPrimary, failoverSeconds);
        stage = "other";
        const recoveredAt = Date.now();
        await waitFor("writes through vip-master again", 120, () => (writer.firstAckAfter(recoveredAt) !== undefined ? true : undefined));
        await sleep(onStandby ? 5000 : 1000);
        await writer.stop();
        const outageSeconds = writer.longestGapEndingAfter(faultAt) / 1000;
        const fence = fenced ? await fencedAt(newPrimary, target, faultAt) : undefined;
        await undo();
        if (scenario === "power off" && !fenced) {
            // Without fencing nothing powers the node on again: its operator does.
            await lab("poweron", target);
        }

        const present = new Set((await sql(ctx.masterConnectionString, `select id from ${table}`)).map((r) => Number(r.id)));
        const rowsLost = writer.acked.filter((a) => !present.has(a.id)).length;
        const promotedAt = onStandby ? undefined : sampler.promotedAt(newPrimary, faultAt) ?? recoveredAt;
        const lateAcks = promotedAt === undefined ? 0 : writer.acked.filter((a) => a.node === oldPrimary && a.at > promotedAt).length;
        log(`${scenario}: ${onStandby ? "commits stalled" : `${newPrimary} promoted, outage`} ${outageSeconds.toFixed(1)} s, ${rowsLost} acknowledged row(s) lost`);

        // The node at fault comes back as a standby (fenced nodes are rebooted by the fencing).
        if (rejoin === "manual") {
            await waitFor(`${target} reachable`, 300, () => onNode(target, "true").then(() => true));
            await onNode(target, "pgha-rejoin-node");
        }
        await waitForStandby(target, newPrimary);
        const rejoinSeconds = (Date.now() - faultAt) / 1000;
        log(`${scenario}: ${target} a standby again ${rejoinSeconds.toFixed(1)} s after the fault`);
        return {
            scenario, oldPrimary, syncStandby, newPrimary, outageSeconds, rejoinSeconds, rowsLost, lateAcks,
            fenceSeconds: fence === undefined ? undefined : (fence - faultAt) / 1000,
            inFlight: writer.uncertain.length,
            twoPrimaries: sampler.twoPrimaries(),
        };
    } catch (e) {
        if (e instanceof DrillFailure) {
            throw e;
        }
        const cause = `${scenario} drill (fault on ${target} at ${new Date(faultAt).toISOString()}): ${e instanceof Error ? e.message : String(e)}`;
        log(`${cause}; collecting the cluster's evidence`);
        throw new DrillFailure(stage, cause, await clusterEvidence(faultAt));
    } finally {
        await writer.stop();
        sampler.stop();
    }
}

/** A planned operation measured under writes through vip-master: the seconds it cost writes, and rows lost. */
export interface PlannedResult {
    readonly seconds: number;
    readonly rowsLost: number;
}

/** Runs `operation` while a writer commits rows through vip-master; `measure` turns the writer's record into seconds. */
async function underWrites(ctx: DrillContext, name: string, operation: (writer: Writer) => Promise<number>, measure: (writer: Writer, startedAt: number) => number): Promise<PlannedResult> {
    const table = `${name}_${Date.now()}`;
    await sql(ctx.masterConnectionString, `create table ${table} (id bigint primary key)`);
    const writer = new Writer(ctx.masterConnectionString, table);
    try {
        writer.start();
        await sleep(2000);
        const startedAt = await operation(writer);
        await sleep(1000);
        await writer.stop();
        const present = new Set((await sql(ctx.masterConnectionString, `select id from ${table}`)).map((row) => Number(row.id)));
        return { seconds: measure(writer, startedAt), rowsLost: writer.acked.filter((a) => !present.has(a.id)).length };
    } catch (e) {
        const cause = `${name}: ${e instanceof Error ? e.message : String(e)}`;
        throw new DrillFailure("other", cause, await clusterEvidence(Date.now() - 300_000));
    } finally {
        await writer.stop();
    }
}

/** `pcs cluster stop --all`, then `start --all`: seconds from the start until writes are accepted again (at most 120). */
export async function fullStopStart(ctx: DrillContext): Promise<PlannedResult> {
    return underWrites(ctx, "full_restart", async (writer) => {
        await onNode(NODES[0], "pcs cluster stop --all");
        const startedAt = Date.now();
        await onNode(NODES[0], "pcs cluster start --all");
        await waitFor("writes after the start", 120, () => (writer.firstAckAfter(startedAt) !== undefined ? true : undefined));
        return startedAt;
    }, (writer, startedAt) => ((writer.firstAckAfter(startedAt) as number) - startedAt) / 1000);
}

/** pgha-switchover (with `args`, e.g. --to NODE) run on `runOn`: the longest pause of writes from its start on. */
export async function switchover(ctx: DrillContext, runOn: string, args = ""): Promise<PlannedResult> {
    return underChange(ctx, "switchover", async () => {
        await onNode(runOn, `pgha-switchover ${args}`.trim());
    });
}

/** A planned change (a switchover, a pulumi up) while a writer commits through vip-master: its longest write pause. */
export async function underChange(ctx: DrillContext, name: string, change: () => Promise<void>): Promise<PlannedResult> {
    return underWrites(ctx, name, async () => {
        const startedAt = Date.now();
        await change();
        return startedAt;
    }, (writer, startedAt) => writer.longestGapEndingAfter(startedAt) / 1000);
}

export function formatTable(results: DrillResult[]): string {
    const header = ["scenario", "old primary", "sync standby", "new primary", "outage s", "fenced after s", "rejoined after s", "rows lost", "in flight", "two primaries", "late acks"];
    const rows = results.map((r) => [r.scenario, r.oldPrimary, r.syncStandby, r.newPrimary, r.outageSeconds.toFixed(1),
        r.fenceSeconds === undefined ? "-" : r.fenceSeconds.toFixed(1), r.rejoinSeconds.toFixed(1), r.rowsLost, r.inFlight, r.twoPrimaries.length, r.lateAcks].map(String));
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
    return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}
