/**
 * Runs the program's remote.Command steps over SSH, in the engine's dependency order (steps whose
 * dependencies are done run in parallel), without the Pulumi engine.
 *
 * Why it exists: the command provider (pulumi-resource-command) cannot be built on machines whose Go proxy
 * does not serve its module (toolchain/README.md), so the real `pulumi up` cannot run the steps there. The
 * program is evaluated under Pulumi's mock runtime to obtain exactly the commands, stdin and dependencies it
 * registers; each command then goes to the node the way the provider sends it (an SSH exec request with
 * the command string, secrets on stdin). It keeps no state: every run executes every step, which the
 * scripts' idempotency makes safe (and which the lab test uses to prove it).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Registered, runProgram, unwrapSecrets } from "../tests/mockProgram";

export interface Step {
    readonly name: string;
    readonly host: string;
    readonly port: number;
    readonly user: string;
    readonly command: string;
    readonly stdin?: string;
    readonly dependsOn: string[];
}

export interface StepResult {
    readonly name: string;
    readonly seconds: number;
    /** The count from the script's last line ("done, N change(s)"). */
    readonly changes: number;
    readonly output: string;
}

/** The steps `stack` registers with `config` (pgha:* keys, secrets in plain text here, in memory only). */
export async function programSteps(stack: string, config: Record<string, string>): Promise<{ steps: Step[]; privateKey: string; outputs: Record<string, unknown> }> {
    const run = await runProgram(stack, config);
    const commands = run.ofType("command:remote:Command");
    const names = new Set(commands.map((c) => c.name));
    const steps = commands.map((c: Registered) => {
        const connection = unwrapSecrets(c.inputs.connection);
        return {
            name: c.name,
            host: connection.host,
            port: connection.port ?? 22,
            user: connection.user ?? "root",
            command: c.inputs.create as string,
            stdin: c.inputs.stdin === undefined ? undefined : unwrapSecrets(c.inputs.stdin),
            dependsOn: c.dependencies.map((urn) => urn.split("::").pop() as string).filter((n) => names.has(n)),
        };
    });
    const privateKey = unwrapSecrets(commands[0].inputs.connection).privateKey as string;
    return { steps, privateKey, outputs: run.outputs };
}

/** Runs one command on its node over SSH; resolves with its output, rejects when it fails. */
function runOnNode(step: Step, keyFile: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const ssh = spawn("ssh", [
            "-i", keyFile, "-p", String(step.port),
            "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", "ConnectTimeout=10", `${step.user}@${step.host}`, "--", step.command,
        ], { stdio: ["pipe", "pipe", "pipe"] });
        let output = "";
        ssh.stdout.on("data", (d) => (output += d));
        ssh.stderr.on("data", (d) => (output += d));
        ssh.stdin.end(step.stdin ?? "");
        ssh.on("close", (code) => (code === 0 ? resolve(output) : reject(new Error(`${step.name} failed (exit ${code}):\n${output}`))));
    });
}

/** Runs every step once, dependencies first, independent steps in parallel. */
export async function runSteps(steps: Step[], privateKey: string, log: (line: string) => void = () => undefined): Promise<StepResult[]> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgha-steps-"));
    const keyFile = path.join(dir, "key");
    fs.writeFileSync(keyFile, privateKey.endsWith("\n") ? privateKey : `${privateKey}\n`, { mode: 0o600 });
    const results: StepResult[] = [];
    const started = new Map<string, Promise<void>>();
    const runStep = (step: Step): Promise<void> => {
        let promise = started.get(step.name);
        if (!promise) {
            promise = (async () => {
                await Promise.all(step.dependsOn.map((d) => runStep(steps.find((s) => s.name === d) as Step)));
                const t0 = Date.now();
                log(`${step.name}: running on ${step.host}`);
                const output = await runOnNode(step, keyFile);
                // stdout and stderr interleave: take the summary line wherever it landed.
                const summaries = [...output.matchAll(/^pgha\[[^\]]*\]: done, (\d+) change\(s\)$/gm)];
                const changes = Number(summaries.pop()?.[1] ?? NaN);
                const result = { name: step.name, seconds: (Date.now() - t0) / 1000, changes, output };
                log(`${step.name}: ${Number.isNaN(changes) ? "?" : changes} change(s), ${result.seconds.toFixed(1)} s`);
                results.push(result);
            })();
            started.set(step.name, promise);
        }
        return promise;
    };
    try {
        await Promise.all(steps.map(runStep));
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    return results;
}
