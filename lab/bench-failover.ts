/**
 * Failover benchmark on the lab (root): the time from an empty lab to a converged cluster with `pulumi up`, a
 * no-op `pulumi up` and `pulumi preview`, then N drills of each scenario (stop, kill -9, power off) with outage
 * and rejoin times. Prints a table and writes JSON. Not a test: numbers vary with the machine; nothing here
 * asserts a speed.
 *   npm run bench:failover [-- N [out.json]]      (default N=3, out: pgha-bench-failover.json)
 */
import * as fs from "fs";
import { parseConfig } from "../components/config";
import { DrillResult, runDrill, SCENARIOS } from "../tests/drill";
import { rawConfig } from "../tests/fixtures";
import { initStack, lab, mustEngine, stackOutputs } from "../tests/lab";

function stats(values: number[]): { median: number; min: number; max: number } {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

async function main(): Promise<void> {
    const runs = Number(process.argv[2] ?? 3);
    const out = process.argv[3] ?? "pgha-bench-failover.json";
    const spec = parseConfig(rawConfig("lab"));
    const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
    lab("down");
    try {
        const t0 = Date.now();
        lab("up");
        initStack("lab");
        mustEngine("up", "--yes", "--skip-preview", "--stack", "lab");
        const convergeSeconds = (Date.now() - t0) / 1000;
        log(`empty lab to converged cluster: ${convergeSeconds.toFixed(1)} s`);
        const noopUpSeconds = mustEngine("up", "--yes", "--skip-preview", "--stack", "lab").seconds;
        const previewSeconds = mustEngine("preview", "--stack", "lab").seconds;
        log(`no-op pulumi up: ${noopUpSeconds.toFixed(1)} s, pulumi preview: ${previewSeconds.toFixed(1)} s`);

        const ctx = { masterConnectionString: stackOutputs("lab").masterConnectionString, bindir: spec.postgresql.bindir, pgdata: spec.postgresql.pgdata };
        const drills: DrillResult[] = [];
        for (let i = 0; i < runs; i++) {
            for (const scenario of SCENARIOS) {
                drills.push(await runDrill(scenario, ctx, log));
            }
        }
        const summary = SCENARIOS.map((scenario) => {
            const mine = drills.filter((d) => d.scenario === scenario);
            return {
                scenario,
                runs: mine.length,
                outageSeconds: stats(mine.map((d) => d.outageSeconds)),
                rejoinSeconds: stats(mine.map((d) => d.rejoinSeconds)),
                rowsLost: mine.reduce((n, d) => n + d.rowsLost, 0),
            };
        });
        const f = (n: number) => n.toFixed(1);
        const lines = [
            `empty lab to converged cluster (pulumi up): ${f(convergeSeconds)} s; no-op pulumi up: ${f(noopUpSeconds)} s; pulumi preview: ${f(previewSeconds)} s`,
            "| scenario | runs | outage median (min-max) s | rejoin median (min-max) s | rows lost |",
            "|---|---|---|---|---|",
            ...summary.map((s) => `| ${s.scenario} | ${s.runs} | ${f(s.outageSeconds.median)} (${f(s.outageSeconds.min)}-${f(s.outageSeconds.max)}) | ${f(s.rejoinSeconds.median)} (${f(s.rejoinSeconds.min)}-${f(s.rejoinSeconds.max)}) | ${s.rowsLost} |`),
        ];
        process.stdout.write(`${lines.join("\n")}\n`);
        fs.writeFileSync(out, JSON.stringify({ machine: { cores: require("os").cpus().length }, convergeSeconds, noopUpSeconds, previewSeconds, summary, drills }, null, 2));
        log(`wrote ${out}`);
    } finally {
        lab("down");
    }
}

main().catch((e) => {
    process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
    process.exit(1);
});
