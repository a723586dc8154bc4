/** Access to the lab (lab/lab.sh, lab/lab.env) and its stacks (lab/pulumi) for the end-to-end tests and the benchmark. */
import { execFile, execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "./fixtures";

/** lab/lab.env as key/value pairs (plain KEY=VALUE lines by design). */
export function labEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const line of fs.readFileSync(path.join(ROOT, "lab", "lab.env"), "utf8").split("\n")) {
        const m = /^([A-Z0-9_a-z]+)=(?:"([^"]*)"|(\S*))/.exec(line);
        if (m) {
            env[m[1]] = m[2] ?? m[3];
        }
    }
    return env;
}

const ENV = labEnv();
export const LAB_DIR = process.env.PGHA_LAB_DIR ?? ENV.PGHA_LAB_DIR_DEFAULT;
export const NODES = ENV.PGHA_LAB_NODES.split(" ");
/** The backup repository host (pgha:backupHost of the lab stack). */
export const BACKUP_HOST = ENV.PGHA_LAB_BACKUP_HOST;
export const nodeIp = (node: string) => ENV[`PGHA_LAB_IP_${node}`];
export const VIP_MASTER = ENV.PGHA_LAB_VIP_MASTER;
export const VIP_SLAVE = ENV.PGHA_LAB_VIP_SLAVE;

/**
 * Runs a program without blocking the event loop (drills keep a writer committing meanwhile); resolves with its
 * stdout, rejects with its output when it fails.
 */
function run(file: string, args: string[], input?: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = execFile(file, args, { encoding: "utf8", timeout: 600_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
            if (error) {
                reject(new Error(`${path.basename(file)} ${args.join(" ").slice(0, 200)}: ${error.message}\n${stdout}${stderr}`));
            } else {
                resolve(stdout);
            }
        });
        child.stdin?.end(input ?? "");
    });
}

/** lab/lab.sh with `args`; resolves with its stdout. */
export function lab(...args: string[]): Promise<string> {
    return run("bash", [path.join(ROOT, "lab", "lab.sh"), ...args]);
}

export interface EngineRun {
    readonly status: number;
    /** stdout and stderr together. */
    readonly output: string;
    readonly seconds: number;
}

/** Every engine command's output in this process, for the tests that look for leaked secrets. */
export const engineTranscript: string[] = [];

/** Twice the longest engine command (an up with source builds, about 700 s here). */
const ENGINE_TIMEOUT_SECONDS = 1800;

/** The command line of an engine command (see engine()). */
function engineCommandLine(args: string[]): string[] {
    return ["--kill-after=30", String(ENGINE_TIMEOUT_SECONDS), "unshare", "--pid", "--fork", "--kill-child", path.join(ROOT, "lab", "pulumi"), ...args];
}

const ENGINE_OPTIONS = { encoding: "utf8" as const, maxBuffer: 512 * 1024 * 1024, env: { ...process.env, PULUMI_CONFIG_PASSPHRASE: undefined } };

function engineRun(args: string[], started: number, status: number, stdout: string, stderr: string): EngineRun {
    const stopped = status === 124 ? `\nstopped after ${ENGINE_TIMEOUT_SECONDS} s\n` : "";
    const output = `${stdout}${stderr}${stopped}`;
    if (!args.includes("--show-secrets")) {
        engineTranscript.push(output);
    }
    return { status, output, seconds: (Date.now() - started) / 1000 };
}

/**
 * Runs the Pulumi CLI on the lab's stacks (lab/pulumi), e.g. engine("up", "--yes", "--stack", "lab"). Its
 * output joins the transcript unless the command was asked to show secrets. The CLI runs as the first process
 * of its own PID namespace, so that whatever it started ends with it (its plugins and language host run in
 * process groups of their own and outlive a signal to the CLI); it is stopped after ENGINE_TIMEOUT_SECONDS.
 */
export function engine(...args: string[]): EngineRun {
    const started = Date.now();
    const result = spawnSync("timeout", engineCommandLine(args), ENGINE_OPTIONS);
    return engineRun(args, started, result.status ?? -1, result.stdout ?? "", result.stderr ?? "");
}

/** Like engine(), without blocking the event loop (a writer commits meanwhile). */
export function engineInBackground(...args: string[]): Promise<EngineRun> {
    const started = Date.now();
    return new Promise((resolve) => {
        execFile("timeout", engineCommandLine(args), ENGINE_OPTIONS, (error, stdout, stderr) => {
            const status = error ? (typeof error.code === "number" ? error.code : -1) : 0;
            resolve(engineRun(args, started, status, stdout, stderr));
        });
    });
}

/** Like engine(), but throws with the output when the command fails. */
export function mustEngine(...args: string[]): EngineRun {
    const run = engine(...args);
    if (run.status !== 0) {
        throw new Error(`pulumi ${args.join(" ")} failed (${run.status}):\n${run.output.split("\n").filter((l) => !l.startsWith("@ ")).slice(-60).join("\n")}`);
    }
    return run;
}

/** Creates lab stack `stack` from the committed Pulumi.<stack>.yaml with the lab's secrets (lab/run-lab.sh init). */
export function initStack(stack: string): void {
    execFileSync("bash", [path.join(ROOT, "lab", "run-lab.sh"), "init", stack], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 600_000 });
}

/** Names of the resources a `pulumi preview` of `stack` would create, update, replace or delete. */
export function plannedChanges(stack: string, ...args: string[]): string[] {
    const plan = JSON.parse(mustEngine("preview", "--json", "--stack", stack, ...args).output);
    return (plan.steps as { op: string; urn: string }[]).filter((s) => s.op !== "same").map((s) => `${s.op} ${s.urn.split("::").pop()}`).sort();
}

/** The stack's outputs with secrets in clear. */
export function stackOutputs(stack: string): Record<string, any> {
    return JSON.parse(mustEngine("stack", "output", "--json", "--show-secrets", "--stack", stack).output);
}

/** Runs a shell command on a node as root over SSH with the lab key; resolves with stdout (rejects on failure). */
export function onNode(node: string, command: string, input?: string): Promise<string> {
    return run("ssh", [
        "-i", path.join(LAB_DIR, "id_ed25519"), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
        "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5",
        `root@${nodeIp(node)}`, "--", command,
    ], input);
}

/** pgsql-status of every node, as seen from `via` ("" for a node without one, or when `via` does not answer). */
export async function roles(via: string): Promise<Record<string, string>> {
    const script = NODES.map((n) => `echo "${n}=$(crm_attribute -N ${n} -n pgsql-status -l reboot -G -q 2>/dev/null)"`).join("; ");
    const out = await onNode(via, script).catch(() => "");
    return Object.fromEntries(NODES.map((n) => [n, new RegExp(`^${n}=(.*)$`, "m").exec(out)?.[1].trim() ?? ""]));
}

/** The node a resource runs on, as seen from `via` ("" when stopped). */
export async function location(via: string, resource: string): Promise<string> {
    const out = await onNode(via, `crm_resource --locate -r ${resource} 2>/dev/null || true`);
    return /is running on: (\S+)/.exec(out)?.[1] ?? "";
}

export async function sleep(ms: number): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` every 500 ms until it returns a value or `seconds` pass. */
export async function waitFor<T>(what: string, seconds: number, check: () => T | undefined | Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + seconds * 1000;
    let last: unknown;
    while (Date.now() < deadline) {
        try {
            const value = await check();
            if (value !== undefined) {
                return value;
            }
        } catch (e) {
            last = e;
        }
        await sleep(500);
    }
    throw new Error(`timed out after ${seconds}s waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}
