/**
 * scripts/node-tools.sh run for real into a scratch directory (root only: it sets owners): it installs the
 * configuration, the scripts and their launchers, reports each file it wrote, and a second run changes
 * nothing. The change count is what tells a reader of `pulumi up` (and pgha_pg_configure's reload) that
 * something changed.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT } from "./fixtures";

const asRoot = process.getuid?.() === 0 ? describe : describe.skip;

asRoot("node-tools.sh", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgha-node-tools-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    function run(conf: string): string {
        const env = {
            PATH: process.env.PATH ?? "/usr/bin:/bin",
            PGHA_CLUSTER_CONF_PATH: path.join(dir, "etc", "cluster.conf"),
            PGHA_CLUSTER_CONF: conf,
            PGHA_LIBRARY_DIR: path.join(dir, "lib"),
            PGHA_SCRIPTS: "a.sh b.sh",
            PGHA_SCRIPT_0: "#!/bin/sh\necho a",
            PGHA_SCRIPT_1: "#!/bin/sh\necho b",
            PGHA_LAUNCHERS: `${path.join(dir, "sbin", "tool-b")}=b.sh`,
        };
        const result = execFileSync("bash", [path.join(ROOT, "scripts", "node-tools.sh")], { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        return result;
    }

    test("installs every file once, counts what it wrote, and a second run changes nothing", () => {
        // Three directories and four files.
        expect(run("X=1")).toMatch(/done, 7 change\(s\)/);
        expect(fs.readFileSync(path.join(dir, "etc", "cluster.conf"), "utf8")).toBe("X=1\n");
        expect(execFileSync(path.join(dir, "sbin", "tool-b"), { encoding: "utf8" })).toBe("b\n");
        expect(run("X=1")).toMatch(/done, 0 change\(s\)/);
        expect(run("X=2")).toMatch(/done, 1 change\(s\)/);
    });
});
