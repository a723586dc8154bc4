/**
 * The runbook's failover drills (section 3) on the lab: a client commits numbered rows through vip-master
 * while the primary is stopped, killed or powered off; the sync standby must take over with both VIPs, no
 * acknowledged row may be lost, and the old primary is brought back with the shipped rejoin tool.
 */
import { Client } from "pg";
import { REJOIN_TOOL_PATH } from "../components/hostPrep";
import { lab, location, NODES, onNode, roles, sleep, waitFor } from "./lab";

export type Scenario = "pg_ctl stop" | "kill -9 postmaster" | "power off";
export const SCENARIOS: Scenario[] = ["pg_ctl stop", "kill -9 postmaster", "power off"];

export interface DrillResult {
    readonly scenario: Scenario;
    readonly oldPrimary: string;
    /** The HS:sync standby when the fault hit: the node that must be promoted. */
    readonly syncStandby: string;
    readonly newPrimary: string;
    /** From the last acknowledged row before the fault to the first one after it. */
    readonly outageSeconds: number;
    /** Acknowledged rows missing on the new primary. */
    readonly rowsLost: number;
    /** Rows whose commit was in flight at the fault (may or may not be there; not counted as lost). */
    readonly inFlight: number;
    readonly rejoinSeconds: number;
}

export interface DrillContext {
    /** The stack's masterConnectionString (through vip-master, read-write sessions only). */
    readonly masterConnectionString: string;
    readonly bindir: string;
    readonly pgdata: string;
}

/** Commits numbered rows through vip-master as fast as it can, reconnecting after errors. */
class Writer {
    private next = 1;
    private running = true;
    private client?: Client;
    readonly acked: { id: number; at: number }[] = [];
    readonly uncertain: number[] = [];
    private loop?: Promise<void>;

    constructor(private readonly connectionString: string, private readonly table: string) {}

    start(): void {
        this.loop = this.run();
    }

    private async connect(): Promise<Client> {
        const client = new Client({
            connectionString: this.connectionString,
            connectionTimeoutMillis: 2000, query_timeout: 3000, keepAlive: true, keepAliveInitialDelayMillis: 1000,
        });
        client.on("error", () => undefined);
        await client.connect();
        // A demoted or stale server must not take writes (target_session_attrs=read-write in the URI).
        const readOnly = await client.query("select pg_is_in_recovery() as r");
        if (readOnly.rows[0].r) {
            await client.end();
            throw new Error("connected to a standby");
        }
        return client;
    }

    private async run(): Promise<void> {
        while (this.running) {
            try {
                this.client ??= await this.connect();
            } catch {
                this.client = undefined;
                await sleep(200);
                continue;
            }
            const id = this.next++;
            try {
                await this.client.query(`insert into ${this.table} (id) values ($1)`, [id]);
                this.acked.push({ id, at: Date.now() });
            } catch {
                // Sent but not acknowledged: it may or may not have committed.
                this.uncertain.push(id);
                const old = this.client;
                this.client = undefined;
                void old.end().catch(() => undefined);
                await sleep(200);
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

/** Runs one statement through a libpq connection string (e.g. a stack output) and returns its rows. */
export async function sql(connectionString: string, text: string, params: unknown[] = []): Promise<any[]> {
    const client = new Client({ connectionString, connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
        return (await client.query(text, params)).rows;
    } finally {
        await client.end();
    }
}


function liveNode(except: string): string {
    return NODES.find((n) => n !== except) as string;
}

/** Waits until `node` is no longer primary and another node is, with vip-master on it and vip-slave on a standby. */
async function waitForFailover(oldPrimary: string): Promise<string> {
    const via = liveNode(oldPrimary);
    return waitFor(`a new primary after ${oldPrimary} failed`, 180, () => {
        const r = roles(via);
        const primary = Object.keys(r).find((n) => r[n] === "PRI" && n !== oldPrimary);
        const standby = Object.keys(r).find((n) => r[n] === "HS:sync" || r[n] === "HS:async");
        if (!primary || location(via, "vip-master") !== primary) {
            return undefined;
        }
        const slaveAt = location(via, "vip-slave");
        return slaveAt !== "" && slaveAt !== oldPrimary && (slaveAt === standby || slaveAt === primary) ? primary : undefined;
    });
}

/**
 * Waits until the cluster is as in the runbook's section 2.5: one PRI, one HS:sync, one HS:async, vip-master
 * on the primary and vip-slave on the sync standby; returns the roles.
 */
export async function waitForHealthy(seconds = 180): Promise<Record<string, string>> {
    return waitFor("PRI, HS:sync and HS:async with both VIPs in place", seconds, () => {
        const r = roles(NODES[0]);
        const primary = NODES.find((n) => r[n] === "PRI");
        const sync = NODES.find((n) => r[n] === "HS:sync");
        const healthy = Object.values(r).sort().join() === "HS:async,HS:sync,PRI"
            && location(NODES[0], "vip-master") === primary && location(NODES[0], "vip-slave") === sync;
        return healthy ? r : undefined;
    });
}

export async function runDrill(scenario: Scenario, ctx: DrillContext, log: (s: string) => void): Promise<DrillResult> {
    // Start from the healthy state of the runbook's section 2.5 (after a rejoin the agent may still be
    // choosing its sync standby).
    const before = await waitForHealthy();
    const oldPrimary = NODES.find((n) => before[n] === "PRI") as string;
    const syncStandby = NODES.find((n) => before[n] === "HS:sync") as string;
    const table = `drill_${scenario.replace(/[^a-z0-9]+/g, "_")}_${Date.now()}`;
    await sql(ctx.masterConnectionString, `create table ${table} (id bigint primary key, at timestamptz default now())`);
    const writer = new Writer(ctx.masterConnectionString, table);
    writer.start();
    // Fault at a random point of the monitor cycle.
    await sleep(3000 + Math.random() * 10_000);
    const faultAt = Date.now();
    log(`${scenario}: fault on ${oldPrimary}`);
    switch (scenario) {
        case "pg_ctl stop":
            onNode(oldPrimary, `runuser -u postgres -- ${ctx.bindir}/pg_ctl -D ${ctx.pgdata} stop -m fast`);
            break;
        case "kill -9 postmaster":
            onNode(oldPrimary, `kill -9 "$(head -n1 ${ctx.pgdata}/postmaster.pid)"`);
            break;
        case "power off":
            lab("poweroff", oldPrimary);
            break;
    }
    const newPrimary = await waitForFailover(oldPrimary);
    const failoverSeen = Date.now();
    await waitFor("writes through vip-master again", 120, () => (writer.firstAckAfter(failoverSeen) !== undefined ? true : undefined));
    await sleep(2000);
    await writer.stop();
    const outageSeconds = writer.longestGapEndingAfter(faultAt) / 1000;

    const present = new Set((await sql(ctx.masterConnectionString, `select id from ${table}`)).map((r) => Number(r.id)));
    const rowsLost = writer.acked.filter((a) => !present.has(a.id)).length;
    log(`${scenario}: ${newPrimary} promoted, outage ${outageSeconds.toFixed(1)} s, ${rowsLost} acknowledged row(s) lost`);

    if (scenario === "power off") {
        lab("poweron", oldPrimary);
    }
    const t0 = Date.now();
    onNode(oldPrimary, REJOIN_TOOL_PATH);
    const rejoinSeconds = (Date.now() - t0) / 1000;
    await waitFor(`${oldPrimary} as a standby`, 120, () => (["HS:sync", "HS:async"].includes(roles(newPrimary)[oldPrimary]) ? true : undefined));
    log(`${scenario}: ${oldPrimary} rejoined in ${rejoinSeconds.toFixed(1)} s`);
    return { scenario, oldPrimary, syncStandby, newPrimary, outageSeconds, rowsLost, inFlight: writer.uncertain.length, rejoinSeconds };
}

export function formatTable(results: DrillResult[]): string {
    const header = ["scenario", "old primary", "sync standby", "new primary", "outage s", "rows lost", "in flight", "rejoin s"];
    const rows = results.map((r) => [r.scenario, r.oldPrimary, r.syncStandby, r.newPrimary, r.outageSeconds.toFixed(1), r.rowsLost, r.inFlight, r.rejoinSeconds.toFixed(1)].map(String));
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
    return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}
