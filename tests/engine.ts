/**
 * Runs the real Pulumi engine (toolchain/) on the program: a scratch engine environment
 * (toolchain/engine-env.sh: PULUMI_HOME, file backend, a project view of this checkout), stack configs built
 * from the committed stack files.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { ROOT, stackFileConfig } from "./fixtures";

export interface EngineResult {
    readonly status: number;
    readonly output: string;
}

export class EngineWorkspace {
    readonly dir: string;
    readonly project: string;

    constructor() {
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgha-engine-"));
        this.project = path.join(this.dir, "project");
    }

    /** Runs `args` (e.g. ["pulumi", "preview"]) in the project with the engine environment; stdin optional. */
    run(args: string[], input?: string): EngineResult {
        const script = 'source "$1/toolchain/engine-env.sh" "$2" >/dev/null && cd "$PGHA_PULUMI_PROJECT" && shift 2 && exec "$@"';
        const result = spawnSync("bash", ["-c", script, "_", ROOT, this.dir, ...args], {
            input,
            encoding: "utf8",
            env: { ...process.env, PULUMI_CONFIG_PASSPHRASE: "pgha-engine-test" },
            timeout: 1_200_000,
            // A preview's JSON holds every step's script: past spawnSync's default of 1 MiB it was cut off.
            maxBuffer: 64 * 1024 * 1024,
        });
        return { status: result.status ?? -1, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
    }

    /** Creates stack `name` whose plain config is the committed stack file `from` plus `extra` lines, then sets `secrets`. */
    createStack(name: string, from: string, secrets: Record<string, string>, extra: Record<string, string> = {}): void {
        must(this.run(["pulumi", "stack", "init", name, "--secrets-provider", "passphrase", "--no-select"]));
        // stack init wrote the passphrase salt; the committed stack file's config goes beside it.
        const file = path.join(this.project, `Pulumi.${name}.yaml`);
        const salt = fs.readFileSync(file, "utf8");
        const config = { ...stackFileConfig(from), ...extra };
        fs.writeFileSync(file, `${salt}${yaml.dump({ config })}`);
        for (const [key, value] of Object.entries(secrets)) {
            must(this.run(["pulumi", "config", "set", "--secret", "--stack", name, key], value));
        }
    }

    cleanup(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

function must(result: EngineResult): void {
    if (result.status !== 0) {
        throw new Error(`engine command failed (${result.status}):\n${result.output}`);
    }
}
