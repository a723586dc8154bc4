/**
 * Failover benchmark on the lab (root), pgha's defaults against the runbook's settings in the same run and on
 * the same lab: the time from an empty lab to a converged cluster with `pulumi up`, a no-op `pulumi up` and
 * `pulumi preview`; then N drills of each measure with pgha's defaults, the runbook's settings applied with
 * `pulumi up`, and N drills again. Prints medians, p90 and the ratio pgha / runbook per measure, and writes
 * JSON. Not a test: numbers vary with the machine; nothing here asserts a speed. The lab is removed at the
 * end, also on failure, unless PGHA_KEEP_LAB=1 (to read a failed drill's logs on the nodes).
 *   npm run bench:failover [-- N [out.json]]      (default N=5, out: pgha-bench-failover.json)
 */
import * as fs from "fs";
import * as os from "os";
import { parseConfig } from "../components/config";
import { drillContext, DrillResult, fullStopStart, runDrill, Scenario, switchover, waitForHealthy } from "../tests/drill";
import { rawConfig } from "../tests/fixtures";
import { initStack, lab, mustEngine, NODES, stackOutputs } from "../tests/lab";

const STACK = "lab";
/** The measures of the failover issue: faults on the primary, and the sync standby's postmaster killed. */
const MEASURES: Scenario[] = ["kill -9 postmaster", "pg_ctl stop", "power off", "sync standby kill -9"];
/** The planned operations of the self-healing issue, with their targets: a switchover pauses writes at most 5 s, a full stop and start takes writes again within 30 s. */
const PLANNED = ["switchover", "full stop and start"] as const;
type Measure = Scenario | (typeof PLANNED)[number];

/** One run of a measure: its seconds (a drill's outage, a switchover's pause, a restart's time to writes), rows lost, two-primary samples. */
interface Sample {
    readonly measure: Measure;
    readonly seconds: number;
    readonly rowsLost: number;
    readonly twoPrimaries: number;
}
/** The runbook's settings, where pgha's defaults depart from them (its fencing off and the node left out after a failure included). */
export const RUNBOOK_SETTINGS: Record<string, string> = {
    "pgha:pgsqlMonitorIntervalSeconds": "11",
    "pgha:pgsqlPromotedMonitorIntervalSeconds": "10",
    "pgha:pgsqlMonitorTimeoutSeconds": "30",
    "pgha:pgsqlFailureTimeoutSeconds": "0",
    "pgha:corosyncTokenMs": "3000",
    "pgha:dcDeadtimeSeconds": "20",
    "pgha:loadThresholdPercent": "80",
    "pgha:walSenderTimeoutSeconds": "60",
    "pgha:fencingEnabled": "false",
    // The runbook rejoins the old primary by hand (the drills then run pgha-rejoin-node).
    "pgha:autoRejoin": "false",
};

interface Stats {
    readonly median: number;
    readonly p90: number;
    readonly min: number;
    readonly max: number;
}

function stats(values: number[]): Stats {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (q: number) => {
        const i = (sorted.length - 1) * q;
        return sorted[Math.floor(i)] + (sorted[Math.ceil(i)] - sorted[Math.floor(i)]) * (i - Math.floor(i));
    };
    return { median: at(0.5), p90: at(0.9), min: sorted[0], max: sorted[sorted.length - 1] };
}

async function drills(runs: number, settings: "pgha" | "runbook", log: (s: string) => void): Promise<{ drills: DrillResult[]; samples: Sample[] }> {
    const spec = parseConfig(rawConfig(STACK));
    const ctx = drillContext(spec, stackOutputs(STACK));
    const options = settings === "pgha" ? { fenced: true, rejoin: "auto" as const } : { fenced: false, rejoin: "manual" as const };
    const results: DrillResult[] = [];
    const samples: Sample[] = [];
    for (let i = 0; i < runs; i++) {
        for (const measure of MEASURES) {
            const d = await runDrill(measure, ctx, (s) => log(`${settings}: ${s}`), options);
            results.push(d);
            samples.push({ measure, seconds: d.outageSeconds, rowsLost: d.rowsLost, twoPrimaries: d.twoPrimaries.length });
        }
        // The runbook has no switchover, and with its by-hand rejoin the old primary stays out after one
        // (pgha-switchover then waits for it in vain): switchovers are measured with pgha's defaults only.
        if (settings === "pgha") {
            const primary = Object.entries(await waitForHealthy()).find(([, role]) => role === "PRI")?.[0];
            const moved = await switchover(ctx, NODES.find((n) => n !== primary) as string);
            log(`${settings}: switchover: writes paused ${moved.seconds.toFixed(1)} s, ${moved.rowsLost} row(s) lost`);
            samples.push({ measure: "switchover", seconds: moved.seconds, rowsLost: moved.rowsLost, twoPrimaries: 0 });
        }
        await waitForHealthy();
        const restart = await fullStopStart(ctx);
        log(`${settings}: full stop and start: writes accepted ${restart.seconds.toFixed(1)} s after the start, ${restart.rowsLost} row(s) lost`);
        samples.push({ measure: "full stop and start", seconds: restart.seconds, rowsLost: restart.rowsLost, twoPrimaries: 0 });
    }
    return { drills: results, samples };
}

async function main(): Promise<void> {
    const runs = Number(process.argv[2] ?? 5);
    const out = process.argv[3] ?? "pgha-bench-failover.json";
    const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
    await lab("down");
    try {
        const t0 = Date.now();
        await lab("up");
        initStack(STACK);
        mustEngine("up", "--yes", "--skip-preview", "--stack", STACK);
        const convergeSeconds = (Date.now() - t0) / 1000;
        log(`empty lab to converged cluster: ${convergeSeconds.toFixed(1)} s`);
        const noopUpSeconds = mustEngine("up", "--yes", "--skip-preview", "--stack", STACK).seconds;
        const previewSeconds = mustEngine("preview", "--stack", STACK).seconds;
        log(`no-op pulumi up: ${noopUpSeconds.toFixed(1)} s, pulumi preview: ${previewSeconds.toFixed(1)} s`);

        const pgha = await drills(runs, "pgha", log);
        for (const [key, value] of Object.entries(RUNBOOK_SETTINGS)) {
            mustEngine("config", "set", "--stack", STACK, key, value);
        }
        mustEngine("up", "--yes", "--skip-preview", "--stack", STACK);
        const runbook = await drills(runs, "runbook", log);

        const summary = [...MEASURES, ...PLANNED].map((measure) => {
            const of = (list: Sample[]) => list.filter((d) => d.measure === measure);
            const total = (list: Sample[], key: "rowsLost" | "twoPrimaries") => of(list).reduce((n, d) => n + d[key], 0);
            const mine = stats(of(pgha.samples).map((d) => d.seconds));
            const theirs = of(runbook.samples).length > 0 ? stats(of(runbook.samples).map((d) => d.seconds)) : undefined;
            return {
                measure, runs,
                pgha: mine, runbook: theirs, ratio: theirs === undefined ? undefined : mine.median / theirs.median,
                rowsLost: { pgha: total(pgha.samples, "rowsLost"), runbook: total(runbook.samples, "rowsLost") },
                twoPrimaries: { pgha: total(pgha.samples, "twoPrimaries"), runbook: total(runbook.samples, "twoPrimaries") },
            };
        });
        const f = (n: number) => n.toFixed(1);
        const labels: Partial<Record<Measure, string>> = {
            "sync standby kill -9": "commits stalled, sync standby's postmaster killed",
            "switchover": "writes paused, pgha-switchover (target 5 s)",
            "full stop and start": "writes back after pcs cluster start --all (target 30 s)",
        };
        const label = (m: Measure) => labels[m] ?? `write outage, primary ${m}`;
        const lines = [
            `pulumi up, empty lab to converged cluster: ${f(convergeSeconds)} s; no-op pulumi up: ${f(noopUpSeconds)} s; pulumi preview: ${f(previewSeconds)} s`,
            `${runs} drills per measure and settings (${os.cpus().length} cores)`,
            "",
            "| measure | pgha median (p90) s | runbook median (p90) s | pgha / runbook | rows lost pgha / runbook |",
            "|---|---|---|---|---|",
            ...summary.map((s) => `| ${label(s.measure)} | ${f(s.pgha.median)} (${f(s.pgha.p90)}) | ${s.runbook ? `${f(s.runbook.median)} (${f(s.runbook.p90)})` : "-"} | ${s.ratio?.toFixed(2) ?? "-"} | ${s.rowsLost.pgha} / ${s.runbook ? s.rowsLost.runbook : "-"} |`),
        ];
        process.stdout.write(`${lines.join("\n")}\n`);
        fs.writeFileSync(out, JSON.stringify({ machine: { cores: os.cpus().length }, runbookSettings: RUNBOOK_SETTINGS, convergeSeconds, noopUpSeconds, previewSeconds, summary, drills: { pgha: pgha.drills, runbook: runbook.drills } }, null, 2));
        log(`wrote ${out}`);
    } finally {
        if (process.env.PGHA_KEEP_LAB !== "1") {
            await lab("down");
        }
    }
}

main().catch((e) => {
    process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
    process.exit(1);
});
