/**
 * lib.sh's tarball verification and build stamps, run for real with bash and curl (file:// URLs): the source
 * installs (scripts/postgresql.sh, scripts/resource-agents.sh) decide with these whether to refuse a download
 * and whether to build.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { withLibSh } from "./fixtures";

let dir: string;
beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgha-tarball-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const lib = (script: string) => withLibSh(script, dir);

describe("pgha_fetch_verified", () => {
    const content = "a release tarball\n";
    const other = "4a8ac1d43c7e9dd6c5bfba1a2c1b63dcef6f0c8dc7bcac8d0c3b2f16f4c5f3d2";
    let url: string;
    let actual: string;
    beforeEach(() => {
        fs.writeFileSync(path.join(dir, "upstream.tar.gz"), content);
        url = `file://${path.join(dir, "upstream.tar.gz")}`;
        actual = spawnSync("sha256sum", [path.join(dir, "upstream.tar.gz")], { encoding: "utf8" }).stdout.split(" ")[0];
    });

    test("a tarball with the configured sha256 is downloaded and kept", () => {
        expect(lib(`pgha_fetch_verified ${url} got.tar.gz ${actual} postgresqlSourceSha256`)).toEqual({ status: 0, output: "" });
        expect(fs.readFileSync(path.join(dir, "got.tar.gz"), "utf8")).toBe(content);
    });

    test("another sha256 is refused, naming the key, and the download is deleted", () => {
        const r = lib(`pgha_fetch_verified ${url} got.tar.gz ${other} resourceAgentsSha256`);
        expect(r.status).not.toBe(0);
        expect(r.output).toContain(`refused ${url}: its sha256 is ${actual}, not ${other} (pgha:resourceAgentsSha256). Fix pgha:resourceAgentsSha256 or the URL; nothing was unpacked or installed.`);
        expect(fs.readdirSync(dir)).toEqual(["upstream.tar.gz"]);
    });

    test("a cached tarball that no longer matches is downloaded again", () => {
        fs.writeFileSync(path.join(dir, "got.tar.gz"), "an older release\n");
        expect(lib(`pgha_fetch_verified ${url} got.tar.gz ${actual} postgresqlSourceSha256`).status).toBe(0);
        expect(fs.readFileSync(path.join(dir, "got.tar.gz"), "utf8")).toBe(content);
    });

    test("a download that fails names the URL key", () => {
        const r = lib(`pgha_fetch_verified file://${dir}/missing.tar.gz got.tar.gz ${other} postgresqlSourceSha256`);
        expect(r.status).not.toBe(0);
        expect(r.output).toContain(`could not download file://${dir}/missing.tar.gz (pgha:postgresqlSourceUrl)`);
    });
});

describe("build stamps: a build is current only for the version and the tarball it was made from", () => {
    const current = (version: string, sha: string) => lib(`pgha_build_current stamps/pg ${version} ${sha}`).status === 0;

    test("nothing recorded: build", () => {
        expect(current("15.18", "aa")).toBe(false);
    });

    test("recorded: the same version and sha256 skip the build; a changed version or sha256 builds again", () => {
        expect(lib("pgha_build_record stamps/pg 15.18 aa").status).toBe(0);
        expect({ same: current("15.18", "aa"), newVersion: current("15.19", "aa"), newSha: current("15.18", "bb") })
            .toEqual({ same: true, newVersion: false, newSha: false });
    });
});
