/** Every node script passes shellcheck (with the repository's .shellcheckrc). */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "./fixtures";

const scriptDirs = ["scripts", "lab"].map((d) => path.join(ROOT, d)).filter((d) => fs.existsSync(d));
const scripts = scriptDirs.flatMap((dir) => fs.readdirSync(dir).filter((f) => f.endsWith(".sh")).map((f) => path.join(dir, f)));

test("there are scripts to check", () => {
    expect(scripts.length).toBeGreaterThanOrEqual(10);
});

test.each(scripts.map((s) => [path.relative(ROOT, s)]))("%s passes shellcheck", (script) => {
    const result = (() => {
        try {
            execFileSync("shellcheck", ["--format=gcc", script], { cwd: ROOT, encoding: "utf8" });
            return "";
        } catch (e) {
            return String((e as { stdout?: string }).stdout ?? e);
        }
    })();
    expect(result).toBe("");
});

test("every node script is strict (the libraries they load are not scripts of their own)", () => {
    const nodeScripts = scripts.filter((s) => s.includes(`${path.sep}scripts${path.sep}`));
    const executables = nodeScripts.filter((s) => fs.readFileSync(s, "utf8").startsWith("#!"));
    // A library (loaded by scripts, never run) says so in its first line.
    const libraries = nodeScripts.filter((s) => fs.readFileSync(s, "utf8").startsWith("# shellcheck shell=bash\n"));
    expect([...executables, ...libraries].sort()).toEqual([...nodeScripts].sort());
    expect(libraries.map((s) => path.basename(s)).sort()).toEqual(["backuplib.sh", "lib.sh", "pglib.sh", "rejoinlib.sh"]);
    for (const script of executables) {
        expect(fs.readFileSync(script, "utf8")).toMatch(/^set -euo pipefail$/m);
    }
});
