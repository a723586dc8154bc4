/**
 * Failover benchmark on the lab (root), pgha's defaults against the runbook's settings in the same run and on
 * the same lab: the time from an empty lab to a converged cluster with `pulumi up`, a no-op `pulumi up` and
 * `pulumi preview`; then N drills of each measure with pgha's defaults, the runbook's settings applied with
 * `pulumi up`, and N drills again. Prints medians, p90 and the ratio pgha / runbook per measure, and writes
 * JSON. Not a test: numbers vary with the machine; nothing here asserts a speed. A drill that ends without a
 * new primary is counted per measure (target: 0 of N), its evidence printed, and the bench goes on once the
 * cluster is healthy again. The lab is removed at the end, also on failure, unless PGHA_KEEP_LAB=1 (to read a
 * failed drill's logs on the nodes).
 *   npm run bench:failover [-- N [out.json]] [--measures "hang,corosync kill,hang"] [--settings pgha|runbook|both]
 *   (default N=5, out: pgha-bench-failover.json, every measure, both settings)
 */
import * as fs from "fs";
import * as os from "os";
import { parseArgs } from "util";
import { parseConfig } from "../components/config";
import { DrillFailure, drillContext, DrillResult, fullStopStart, runDrill, Scenario, SCENARIOS, switchover, underChange, waitForHealthy } from "../tests/drill";
import { rawConfig } from "../tests/fixtures";
import { initStack, lab, mustEngine, NODES, stackOutputs } from "../tests/lab";

const STACK = "lab";
/** The measures of the failover issue: faults on the primary, and the sync standby's postmaster killed (by default; --measures takes any drill). */
const DEFAULT_DRILLS: Scenario[] = ["kill -9 postmaster", "pg_ctl stop", "power off", "hang", "sync standby kill -9"];
/** Every drill the bench can run. */
const MEASURES: Scenario[] = [...DEFAULT_DRILLS, ...[...SCENARIOS, "sync standby kill -9" as const].filter((s) => !DEFAULT_DRILLS.includes(s))];
/**
 * Measures that only a fencing cluster recovers from: without fencing a hung primary's stop fails and
 * Pacemaker blocks the resource (the runbook's settings never fail it over), so they run with pgha's only.
 */
const FENCED_ONLY: Scenario[] = ["hang"];
/**
 * The planned operations, with their targets: a switchover pauses writes at most 5 s, a full stop and start takes
 * writes again within 30 s; a restart-needing parameter change by `pulumi up` (shared_buffers) pauses writes
 * once, about as long as one switchover (rolling) or one restart (in-place), and its whole `pulumi up` is timed.
 */
const PLANNED = ["switchover", "full stop and start", "rolling restart", "rolling restart, whole pulumi up", "in-place restart", "in-place restart, whole pulumi up"] as const;
/** The restart policies the bench changes a parameter under, by their pause measure. */
const RESTARTS = [["rolling restart", "rolling"], ["in-place restart", "in-place"]] as const;
/** A new shared_buffers value for every parameter change of a run. */
let sharedBuffersMb = 128;
type Measure = Scenario | (typeof PLANNED)[number];

/** One run of a measure: its seconds (a drill's outage, a switchover's pause, a restart's time to writes), rows lost, two-primary samples. */
interface Sample {
    readonly measure: Measure;
    readonly seconds: number;
    readonly rowsLost: number;
    readonly twoPrimaries: number;
}

/** What a round of drills gave: the drills that ended, their samples, and per measure the drills with no new primary. */
interface Round {
    readonly drills: DrillResult[];
    readonly samples: Sample[];
    readonly noNewPrimary: Map<Measure, number>;
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

async function drills(runs: number, measures: Measure[], settings: "pgha" | "runbook", log: (s: string) => void): Promise<Round> {
    const spec = parseConfig(rawConfig(STACK));
    const ctx = drillContext(spec, stackOutputs(STACK));
    const options = settings === "pgha" ? { fenced: true, rejoin: "auto" as const } : { fenced: false, rejoin: "manual" as const };
    const round: Round = { drills: [], samples: [], noNewPrimary: new Map() };
    for (let i = 0; i < runs; i++) {
        // In the order given (a measure may repeat, e.g. "hang,corosync kill,hang": a hang after each kind of drill).
        for (const measure of measures.filter((m): m is Scenario => MEASURES.includes(m as Scenario) && (settings === "pgha" || !FENCED_ONLY.includes(m as Scenario)))) {
            try {
                const d = await runDrill(measure, ctx, (s) => log(`${settings}: ${s}`), options);
                round.drills.push(d);
                round.samples.push({ measure, seconds: d.outageSeconds, rowsLost: d.rowsLost, twoPrimaries: d.twoPrimaries.length });
            } catch (e) {
                // A drill that did not fail over is a result (counted, with its evidence); anything else ends the bench.
                if (!(e instanceof DrillFailure) || e.stage !== "no new primary") {
                    throw e;
                }
                round.noNewPrimary.set(measure, (round.noNewPrimary.get(measure) ?? 0) + 1);
                log(`${settings}: ${measure}: NO NEW PRIMARY (${e.cause})\n${e.evidence}`);
                await waitForHealthy(600);
            }
        }
        // The runbook has no switchover, and with its by-hand rejoin the old primary stays out after one
        // (pgha-switchover then waits for it in vain): switchovers are measured with pgha's defaults only.
        if (settings === "pgha" && measures.includes("switchover")) {
            const primary = Object.entries(await waitForHealthy()).find(([, role]) => role === "PRI")?.[0];
            const moved = await switchover(ctx, NODES.find((n) => n !== primary) as string);
            log(`${settings}: switchover: writes paused ${moved.seconds.toFixed(1)} s, ${moved.rowsLost} row(s) lost`);
            round.samples.push({ measure: "switchover", seconds: moved.seconds, rowsLost: moved.rowsLost, twoPrimaries: 0 });
        }
        for (const [measure, policy] of RESTARTS) {
            if (settings !== "pgha" || !measures.includes(measure)) {
                continue;
            }
            await waitForHealthy();
            mustEngine("config", "set", "--stack", STACK, "pgha:restartPolicy", policy);
            sharedBuffersMb += 16;
            mustEngine("config", "set", "--path", "--stack", STACK, "pgha:postgresqlParameters.shared_buffers", `${sharedBuffersMb}MB`);
            let upSeconds = 0;
            const change = await underChange(ctx, measure.replace(/\W+/g, "_"), async () => {
                upSeconds = mustEngine("up", "--yes", "--skip-preview", "--stack", STACK).seconds;
            });
            log(`${settings}: ${measure} (shared_buffers ${sharedBuffersMb}MB): writes paused ${change.seconds.toFixed(1)} s, pulumi up ${upSeconds.toFixed(1)} s, ${change.rowsLost} row(s) lost`);
            round.samples.push({ measure, seconds: change.seconds, rowsLost: change.rowsLost, twoPrimaries: 0 });
            round.samples.push({ measure: `${measure}, whole pulumi up`, seconds: upSeconds, rowsLost: 0, twoPrimaries: 0 });
            mustEngine("config", "rm", "--stack", STACK, "pgha:restartPolicy");
        }
        if (!measures.includes("full stop and start")) {
            continue;
        }
        await waitForHealthy();
        const restart = await fullStopStart(ctx);
        log(`${settings}: full stop and start: writes accepted ${restart.seconds.toFixed(1)} s after the start, ${restart.rowsLost} row(s) lost`);
        round.samples.push({ measure: "full stop and start", seconds: restart.seconds, rowsLost: restart.rowsLost, twoPrimaries: 0 });
    }
    return round;
}

async function main(): Promise<void> {
    const { values, positionals } = parseArgs({
        allowPositionals: true,
        options: { measures: { type: "string" }, settings: { type: "string", default: "both" } },
    });
    const runs = Number(positionals[0] ?? 5);
    const out = positionals[1] ?? "pgha-bench-failover.json";
    const known: Measure[] = [...MEASURES, ...PLANNED];
    const measures = values.measures === undefined ? [...DEFAULT_DRILLS, ...PLANNED] : values.measures.split(",").map((m) => m.trim()) as Measure[];
    const unknown = measures.filter((m) => !known.includes(m));
    if (!Number.isInteger(runs) || runs < 1 || unknown.length > 0 || !["pgha", "runbook", "both"].includes(values.settings as string)) {
        throw new Error(`usage: bench-failover [N [out.json]] [--measures ${known.join(",")}] [--settings pgha|runbook|both]${unknown.length > 0 ? `; unknown measure(s): ${unknown.join(", ")}` : ""}`);
    }
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

        const none: Round = { drills: [], samples: [], noNewPrimary: new Map() };
        const pgha = values.settings === "runbook" ? none : await drills(runs, measures, "pgha", log);
        let runbook = none;
        if (values.settings !== "pgha") {
            for (const [key, value] of Object.entries(RUNBOOK_SETTINGS)) {
                mustEngine("config", "set", "--stack", STACK, key, value);
            }
            mustEngine("up", "--yes", "--skip-preview", "--stack", STACK);
            runbook = await drills(runs, measures, "runbook", log);
        }

        const summary = known.filter((m) => measures.includes(m) || pgha.samples.some((sample) => sample.measure === m)).map((measure) => {
            const of = (list: Sample[]) => list.filter((d) => d.measure === measure);
            const total = (list: Sample[], key: "rowsLost" | "twoPrimaries") => of(list).reduce((n, d) => n + d[key], 0);
            const statsOf = (round: Round) => (of(round.samples).length > 0 ? stats(of(round.samples).map((d) => d.seconds)) : undefined);
            const mine = statsOf(pgha);
            const theirs = statsOf(runbook);
            return {
                measure,
                runs: { pgha: of(pgha.samples).length + (pgha.noNewPrimary.get(measure) ?? 0), runbook: of(runbook.samples).length + (runbook.noNewPrimary.get(measure) ?? 0) },
                pgha: mine, runbook: theirs, ratio: mine === undefined || theirs === undefined ? undefined : mine.median / theirs.median,
                noNewPrimary: { pgha: pgha.noNewPrimary.get(measure) ?? 0, runbook: runbook.noNewPrimary.get(measure) ?? 0 },
                rowsLost: { pgha: total(pgha.samples, "rowsLost"), runbook: total(runbook.samples, "rowsLost") },
                twoPrimaries: { pgha: total(pgha.samples, "twoPrimaries"), runbook: total(runbook.samples, "twoPrimaries") },
            };
        });
        const f = (n: number) => n.toFixed(1);
        const labels: Partial<Record<Measure, string>> = {
            "sync standby kill -9": "commits stalled, sync standby's postmaster killed",
            "switchover": "writes paused, pgha-switchover (target 5 s)",
            "full stop and start": "writes back after pcs cluster start --all (target 30 s)",
            "rolling restart": "writes paused, shared_buffers changed by pulumi up, rolling (target: one switchover's)",
            "rolling restart, whole pulumi up": "that pulumi up, start to end",
            "in-place restart": "writes paused, shared_buffers changed by pulumi up, pgha:restartPolicy in-place",
            "in-place restart, whole pulumi up": "that pulumi up, start to end",
        };
        const label = (m: Measure) => labels[m] ?? `write outage, primary ${m}`;
        const cell = (x: Stats | undefined) => (x === undefined ? "-" : `${f(x.median)} (${f(x.p90)})`);
        const lines = [
            `pulumi up, empty lab to converged cluster: ${f(convergeSeconds)} s; no-op pulumi up: ${f(noopUpSeconds)} s; pulumi preview: ${f(previewSeconds)} s`,
            `${runs} runs per measure and settings (${os.cpus().length} cores); "no new primary": drills that ended without a failover within 180 s (target 0)`,
            "",
            "| measure | pgha median (p90) s | runbook median (p90) s | pgha / runbook | no new primary pgha / runbook | rows lost pgha / runbook |",
            "|---|---|---|---|---|---|",
            ...summary.map((s) => `| ${label(s.measure)} | ${cell(s.pgha)} | ${cell(s.runbook)} | ${s.ratio?.toFixed(2) ?? "-"} | ${s.noNewPrimary.pgha} of ${s.runs.pgha} / ${s.noNewPrimary.runbook} of ${s.runs.runbook} | ${s.rowsLost.pgha} / ${s.rowsLost.runbook} |`),
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
