/**
 * lib.sh's bounded apt-get (pgha_apt_bounded, pgha_apt_install), run with bash and coreutils' timeout against
 * an apt-get on PATH that hangs, fails or succeeds as told: a hung package download fails its step with a
 * reason instead of hanging `pulumi up`, and a slow start is retried.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { withLibSh } from "./fixtures";

let dir: string;
beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgha-apt-"));
    // Each call appends its arguments to calls; the first HANGS calls hang, then FAILS calls fail, the rest succeed.
    fs.mkdirSync(path.join(dir, "bin"));
    fs.writeFileSync(path.join(dir, "bin", "apt-get"), `#!/bin/bash
n=$(( $(wc -l <"${dir}/calls" 2>/dev/null || echo 0) + 1 ))
echo "$*" >>"${dir}/calls"
if (( n <= \${HANGS:-0} )); then exec sleep 30; fi
if (( n <= \${HANGS:-0} + \${FAILS:-0} )); then exit 100; fi
`, { mode: 0o755 });
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const run = (script: string, env: Record<string, string> = {}) =>
    withLibSh(script, dir, { ...process.env, PATH: `${path.join(dir, "bin")}:${process.env.PATH}`, ...env });
const calls = () => fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n");

test("an apt-get that hangs is stopped after the bound and tried again", () => {
    const r = run("pgha_apt_bounded 1 update -q", { HANGS: "2" });
    expect(r.status).toBe(0);
    expect(calls()).toEqual(["update -q", "update -q", "update -q"]);
    expect(r.output.match(/apt-get update did not finish within 1s \(attempt \d of 3\)/g)).toHaveLength(2);
});

test("three attempts that hang or fail fail the step with the reason", () => {
    const r = run("pgha_apt_bounded 1 update -q", { HANGS: "1", FAILS: "2" });
    expect(r.status).not.toBe(0);
    expect(calls()).toHaveLength(3);
    expect(r.output).toContain("apt-get update failed (exit 100) (attempt 3 of 3)");
    expect(r.output).toContain("ERROR: apt-get update failed three times: check the node's package sources and proxy");
});

test("an install downloads (bounded) before it installs from what was downloaded", () => {
    const r = run("pgha_apt_install --no-install-recommends pcs");
    expect(r.status).toBe(0);
    expect(calls()).toEqual(["install --download-only -y -q --no-install-recommends pcs", "install -y -q --no-install-recommends pcs"]);
});
