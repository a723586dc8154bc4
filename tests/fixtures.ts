/** For tests: stack configurations (the committed stack files plus test secrets), and lib.sh run in bash. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_KEYS } from "../components/configKeys";
import { RawConfig } from "../components/config";

export const ROOT = path.join(__dirname, "..");

/** Recognizable test secrets: tests search commands, triggers and outputs for them. */
export const TEST_SECRETS = {
    sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nTESTKEYs3cr3t\n-----END OPENSSH PRIVATE KEY-----\n",
    fencePassword: "FenceS3cr3t-7f1c",
} as const;

/** The `config:` map of Pulumi.<stack>.yaml, with values as Pulumi stores them (strings or objects). */
export function stackFileConfig(stack: string): Record<string, unknown> {
    const doc = yaml.load(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
    return doc.config;
}

/**
 * The stack's configuration as the engine hands it to the program (all values strings, objects as JSON),
 * plus the test secrets, for pulumi.runtime.setAllConfig.
 */
export function engineConfig(stack: string, overrides: Record<string, unknown> = {}): { config: Record<string, string>; secretKeys: string[] } {
    const merged: Record<string, unknown> = { ...stackFileConfig(stack), ...secretConfig(), ...overrides };
    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries(merged)) {
        if (value === undefined || (typeof value === "object" && value !== null && "secure" in value)) {
            continue;
        }
        config[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    const secretKeys = CONFIG_KEYS.filter((k) => k.secret && `pgha:${k.name}` in config).map((k) => `pgha:${k.name}`);
    return { config, secretKeys };
}

function secretConfig(): Record<string, string> {
    return { "pgha:sshPrivateKey": TEST_SECRETS.sshPrivateKey, "pgha:fencePassword": TEST_SECRETS.fencePassword };
}

/** The stack's configuration as parseConfig receives it from readRawConfig (typed values, defaults applied). */
export function rawConfig(stack: string, overrides: Record<string, unknown> = {}): RawConfig {
    const { config } = engineConfig(stack);
    const raw: Record<string, unknown> = { vsphereServer: config["vsphere:vsphereServer"] };
    for (const key of CONFIG_KEYS) {
        const value = config[`pgha:${key.name}`];
        if (key.secret) {
            raw[key.name] = value === undefined ? undefined : pulumi.secret(value);
        } else if (value === undefined) {
            raw[key.name] = key.default;
        } else if (key.type === "string") {
            raw[key.name] = value;
        } else {
            raw[key.name] = JSON.parse(value);
        }
    }
    return { ...raw, ...overrides };
}

/** Runs `script` in bash with scripts/lib.sh loaded (strict mode, step name "test") in `cwd`; its status and output. */
export function withLibSh(script: string, cwd: string, env: NodeJS.ProcessEnv = process.env): { status: number; output: string } {
    const r = spawnSync("bash", ["-c", `set -euo pipefail; PGHA_STEP=test; . "${path.join(ROOT, "scripts", "lib.sh")}"; ${script}`], { encoding: "utf8", cwd, env });
    return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}
