/** Builds a CIB file with the real pcs from the rendered commands, as cib-push.sh does on a node. */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { cibCommandLines, PGSQL_AGENT } from "../components/cib";
import { ClusterSpec } from "../components/config";

export interface CibFile {
    readonly dir: string;
    readonly file: string;
    cleanup(): void;
}

/** Environment for the Pacemaker CLI tools working on FILE instead of a live cluster. */
export function cibEnv(file: string): NodeJS.ProcessEnv {
    return { ...process.env, CIB_file: file };
}

/** Built CIBs by input: each pcs call costs about a second, and scenarios share configurations. */
const built = new Map<string, string>();

/**
 * An empty CIB (cibadmin --empty), optionally with node entries, then every rendered 0.10+ command
 * applied through bash exactly as cib-push.sh evaluates the lines. pcs validates a resource's parameters
 * against its agent's metadata, and ocf:pgha:pgsql is installed on the cluster's nodes, not here: the pgsql
 * resource is created against ocf:heartbeat:pgsql, whose metadata ocf:pgha:pgsql passes through unchanged
 * (tests/agent.test.ts), and then given its provider.
 */
export function buildCib(spec: ClusterSpec, withNodes = false, lines = cibCommandLines(spec, "0.10+")): CibFile {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgha-cib-"));
    const file = path.join(dir, "cib.xml");
    const key = JSON.stringify([withNodes, spec.nodes.map((n) => n.name), lines]);
    const cached = built.get(key);
    if (cached !== undefined) {
        fs.writeFileSync(file, cached);
        return { dir, file, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
    }
    fs.writeFileSync(file, execFileSync("cibadmin", ["--empty"], { encoding: "utf8" }));
    if (withNodes) {
        spec.nodes.forEach((n, i) => {
            execFileSync("cibadmin", ["--create", "-o", "nodes", "--xml-text", `<node id="${i + 1}" uname="${n.name}"/>`], { env: cibEnv(file) });
        });
    }
    const script = `set -euo pipefail\nwhile IFS= read -r line; do eval "pcs -f \\"$CIB_FILE\\" $line" >/dev/null; done`;
    const hereLines = lines.split(`'${PGSQL_AGENT}'`).join("'ocf:heartbeat:pgsql'");
    execFileSync("bash", ["-c", script], { input: `${hereLines}\n`, env: { ...process.env, CIB_FILE: file }, stdio: ["pipe", "pipe", "pipe"] });
    const [, provider] = PGSQL_AGENT.split(":");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/(<primitive id="pgsql" class="ocf" type="pgsql") provider="heartbeat"/, `$1 provider="${provider}"`));
    built.set(key, fs.readFileSync(file, "utf8"));
    return { dir, file, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** crm_verify -V on the file: its exit status and everything it printed. */
export function crmVerify(file: string): { status: number; output: string } {
    try {
        const output = execFileSync("crm_verify", ["--xml-file", file, "-V"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        return { status: 0, output };
    } catch (e) {
        const err = e as { status: number; stdout: string; stderr: string };
        return { status: err.status, output: `${err.stdout}${err.stderr}` };
    }
}
