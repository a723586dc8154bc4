/**
 * Applies a stack's steps to its hosts with the step runner (see stepRunner.ts): for the lab on machines
 * whose Pulumi engine lacks the command provider.
 *   ts-node lab/run-steps.ts <stack> <config.json>
 * config.json: {"pgha:key": "value", ...} with the stack's secrets (sshPrivateKey, passwords); mode 0600.
 * Prints one line per step and, last, a JSON summary of the step results (no secrets).
 */
import * as fs from "fs";
import { programSteps, runSteps } from "./stepRunner";

async function main(): Promise<void> {
    const [stack, configFile] = process.argv.slice(2);
    if (!stack || !configFile) {
        throw new Error("usage: run-steps.ts <stack> <config.json>");
    }
    const config = JSON.parse(fs.readFileSync(configFile, "utf8")) as Record<string, string>;
    const { steps, privateKey } = await programSteps(stack, config);
    const results = await runSteps(steps, privateKey, (line) => console.error(line));
    console.log(JSON.stringify(results.map(({ name, seconds, changes }) => ({ name, seconds, changes }))));
}

main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
});
