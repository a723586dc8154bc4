/**
 * The runbook's source builds, for real, on the lab (stack lab-source, Pulumi.lab-source.yaml): every node
 * downloads PostgreSQL's release tarball and resource-agents 4.12.0 from the server lab.sh runs on the bridge,
 * verifies them, builds them with all its cores and installs them; the cluster then runs on what was built.
 * Also: a tarball with another sha256 is refused before anything is unpacked, a second run builds nothing,
 * and a changed checksum builds again. Needs root (`npm run lab:e2e`); the lab is removed afterwards, also on
 * failure, unless PGHA_KEEP_LAB=1.
 */
import { execFileSync } from "child_process";
import * as path from "path";
import { parseConfig } from "../components/config";
import { postgresqlVars } from "../components/hostPrep";
import { scriptCommand } from "../components/shell";
import { drillContext, runDrill, waitForHealthy } from "./drill";
import { rawConfig } from "./fixtures";
import { engine, initStack, lab, LAB_DIR, labEnv, mustEngine, NODES, onNode, plannedChanges, stackOutputs } from "./lab";

jest.setTimeout(3_600_000);
const log = (line: string) => process.stdout.write(`source-e2e: ${line}\n`);
const STACK = "lab-source";
const ENV = labEnv();
const spec = parseConfig(rawConfig(STACK));
const pg = spec.postgresql;
const SERVED = path.join(LAB_DIR, "sources", "www");
let firstUpSeconds = 0;

/** What each node's step `step` (e.g. "postgresql") printed, as the stack's state has it (stderr, then stdout). */
function stepOutputs(step: string): Record<string, string> {
    const state = JSON.parse(mustEngine("stack", "export", "--stack", STACK).output);
    const byName = new Map<string, string>(state.deployment.resources
        .filter((r: { urn: string }) => r.urn.includes("::"))
        .map((r: { urn: string; outputs?: { stdout?: string; stderr?: string } }) => [r.urn.split("::").pop() as string, `${r.outputs?.stderr ?? ""}\n${r.outputs?.stdout ?? ""}`]));
    return Object.fromEntries(NODES.map((n) => [n, byName.get(`${n}-${step}`) ?? ""]));
}

/** Seconds a node's step reported for its build, by node (fails when a node did not build). */
function buildSeconds(step: string, what: RegExp): Record<string, number> {
    const out = stepOutputs(step);
    return Object.fromEntries(NODES.map((n) => {
        const m = what.exec(out[n]);
        expect({ node: n, built: m !== null }).toEqual({ node: n, built: true });
        return [n, Number((m as RegExpExecArray)[1])];
    }));
}

const sha256 = (file: string) => execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0];
const onAll = (command: string) => Promise.all(NODES.map((n) => onNode(n, command)));

beforeAll(async () => {
    await lab("down");
    const t0 = Date.now();
    await lab("up");
    initStack(STACK);
    mustEngine("up", "--yes", "--skip-preview", "--stack", STACK);
    firstUpSeconds = (Date.now() - t0) / 1000;
    log(`empty lab to a cluster on source-built PostgreSQL and resource-agents: ${firstUpSeconds.toFixed(0)} s`);
});

afterAll(async () => {
    if (process.env.PGHA_KEEP_LAB !== "1") {
        await lab("down");
    }
});

test("every node downloads, verifies, builds and installs PostgreSQL into the prefix, contrib included; the cluster runs on those binaries", async () => {
    const seconds = buildSeconds("postgresql", new RegExp(`built PostgreSQL ${pg.version.replace(/\./g, "\\.")} in (\\d+) s with \\d+ cores and installed it into ${pg.prefix}`));
    log(`PostgreSQL build per node (s): ${JSON.stringify(seconds)}`);
    for (const node of NODES) {
        const facts = await onNode(node, [
            `${pg.bindir}/postgres --version`,
            `ls ${pg.prefix}/share/extension/pg_stat_statements.control ${pg.prefix}/lib/pg_stat_statements.so`,
            `readlink /proc/$(head -n1 ${pg.pgdata}/postmaster.pid)/exe`,
            "ls /var/tmp/pgha-build",
        ].join(" && "));
        expect(facts.split("\n").filter((l) => l !== "")).toEqual([
            `postgres (PostgreSQL) ${pg.version}`,
            `${pg.prefix}/lib/pg_stat_statements.so`,
            `${pg.prefix}/share/extension/pg_stat_statements.control`,
            `${pg.bindir}/postgres`,
            // The unpacked tree is removed after the install; the verified tarball stays as a cache.
            `postgresql-${pg.version}.tar.bz2`,
            `resource-agents-${spec.resourceAgents.version}.tar.gz`,
        ]);
    }
    expect(Object.values(await waitForHealthy()).sort()).toEqual(["HS:async", "HS:sync", "PRI"]);
});

test("resource-agents is built from the tarball on every node and the cluster's ocf:heartbeat:pgsql is the built one", async () => {
    const seconds = buildSeconds("resource-agents", /built resource-agents 4\.12\.0 in (\d+) s and installed it under \/usr/);
    log(`resource-agents build per node (s): ${JSON.stringify(seconds)}`);
    const tarball = path.join(SERVED, ENV.PGHA_LAB_RA_SOURCE_FILE);
    const upstreamAgent = execFileSync("bash", ["-c", `tar -xOzf "${tarball}" resource-agents-4.12.0/heartbeat/pgsql | sha256sum`], { encoding: "utf8" }).split(" ")[0];
    const startedAt = Math.floor(Date.now() / 1000 - firstUpSeconds);
    for (const node of NODES) {
        const agent = "/usr/lib/ocf/resource.d/heartbeat/pgsql";
        const [version, sum, mtime, stamp, held, meta] = (await onNode(node, [
            "ocf-tester --version", `sha256sum ${agent} | cut -d' ' -f1`, `stat -c %Y ${agent}`,
            "cat /var/lib/pgha/resource-agents.source", "apt-mark showhold | grep -x resource-agents",
            "crm_resource --show-metadata ocf:heartbeat:pgsql | grep -c '<parameter name=\"rep_mode\"'",
        ].join(" && "))).trim().split("\n");
        // The agent the package installed carries the package's build date; this one was written by make install.
        expect({ node, version, sum, installedDuringThisRun: Number(mtime) >= startedAt, stamp, held, meta })
            .toEqual({ node, version: "4.12.0", sum: upstreamAgent, installedDuringThisRun: true, stamp: `4.12.0 ${ENV.PGHA_LAB_RA_SOURCE_SHA256}`, held: "resource-agents", meta: "1" });
    }
    // The cluster's pgsql resource is ocf:pgha:pgsql, which runs that agent.
    expect(await onNode(NODES[0], "cibadmin -Q -o resources")).toMatch(/<primitive\b(?=[^>]*\bid="pgsql")(?=[^>]*\bprovider="pgha")[^>]*>/);
});

test("a failover drill on the built binaries: the primary's postmaster killed, the sync standby promoted, no acknowledged row lost", async () => {
    const drill = await runDrill("kill -9 postmaster", drillContext(spec, stackOutputs(STACK)), log);
    expect({ rowsLost: drill.rowsLost, twoPrimaries: drill.twoPrimaries, lateAcks: drill.lateAcks, promoted: drill.newPrimary })
        .toEqual({ rowsLost: 0, twoPrimaries: [], lateAcks: 0, promoted: drill.syncStandby });
    expect(Object.values(await waitForHealthy()).sort()).toEqual(["HS:async", "HS:sync", "PRI"]);
});

test("a second run builds nothing: preview shows no change, and the two build steps run again report 0 changes", () => {
    expect(engine("preview", "--expect-no-changes", "--stack", STACK).status).toBe(0);
    const urn = (name: string) => (JSON.parse(mustEngine("stack", "export", "--stack", STACK).output).deployment.resources as { urn: string }[])
        .map((r) => r.urn).find((u) => u.endsWith(`::${name}`)) as string;
    const again = mustEngine("up", "--yes", "--skip-preview", "--stack", STACK, "--replace", urn(`${NODES[0]}-resource-agents`), "--replace", urn(`${NODES[0]}-postgresql`));
    log(`build steps run again on ${NODES[0]}: ${again.seconds.toFixed(0)} s`);
    const agents = stepOutputs("resource-agents")[NODES[0]];
    const postgresql = stepOutputs("postgresql")[NODES[0]];
    expect({ agents: /resource-agents 4\.12\.0 already built from that tarball/.test(agents), changes: /done, 0 change\(s\)/.test(agents) }).toEqual({ agents: true, changes: true });
    expect({ postgresql: postgresql.includes(`PostgreSQL ${pg.version} already built from that tarball at ${pg.prefix}`), changes: /done, 0 change\(s\)/.test(postgresql) })
        .toEqual({ postgresql: true, changes: true });
});

test("a tarball whose sha256 does not match is refused before anything is unpacked, naming the key to fix; nothing installed is touched", async () => {
    const wrong = ENV.PGHA_LAB_RA_SOURCE_SHA256;
    const fingerprint = `sha256sum ${pg.bindir}/postgres; stat -c %Y ${pg.bindir}/postgres; ls /var/tmp/pgha-build`;
    const before = await onAll(fingerprint);
    mustEngine("config", "set", "--stack", STACK, "pgha:postgresqlSourceSha256", wrong);
    try {
        const refused = engine("up", "--yes", "--skip-preview", "--stack", STACK);
        expect(refused.status).not.toBe(0);
        expect(refused.output).toContain(`refused ${pg.sourceUrl}: its sha256 is ${ENV.PGHA_LAB_PG_SOURCE_SHA256}, not ${wrong} (pgha:postgresqlSourceSha256). Fix pgha:postgresqlSourceSha256 or the URL; nothing was unpacked or installed.`);
        const after = await onAll(fingerprint);
        // Same binaries; the refused download was deleted and nothing was unpacked next to the cached tarballs.
        expect(after).toEqual(before.map((b) => b.replace(`postgresql-${pg.version}.tar.bz2\n`, "")));
        expect(Object.values(await waitForHealthy()).sort()).toEqual(["HS:async", "HS:sync", "PRI"]);
    } finally {
        mustEngine("config", "set", "--stack", STACK, "pgha:postgresqlSourceSha256", ENV.PGHA_LAB_PG_SOURCE_SHA256);
    }
    // Back to the right checksum: nothing is built again either.
    mustEngine("up", "--yes", "--skip-preview", "--stack", STACK);
    const binaries = (lines: string[]) => lines.map((l) => l.split("\n").slice(0, 2).join("\n"));
    expect(binaries(await onAll(fingerprint))).toEqual(binaries(before));
});

test("the documentation build is refused up front, with the reason and the key, on a node that lacks its tools", async () => {
    // The lab-source stack builds without the docs, so os-prep did not install the DocBook DTD: a build that
    // asks for the docs (a new version, so that it would build) stops before downloading anything.
    const binary = `sha256sum ${pg.bindir}/postgres; ls /var/tmp/pgha-build`;
    const before = await onNode(NODES[2], binary);
    const vars = { ...postgresqlVars(spec), PG_BUILD_DOCS: true, PG_VERSION: "15.99" };
    const refused = await onNode(NODES[2], `${scriptCommand("postgresql.sh", vars)} 2>&1; echo "exit=$?"`);
    expect(refused).toMatch(/pgha:postgresqlBuildDocs is true, but this node lacks (xmllint|the DocBook XML 4\.5 DTD)[^\n]*: install them or set pgha:postgresqlBuildDocs false\n/);
    expect(refused).toMatch(/exit=1\s*$/);
    expect(await onNode(NODES[2], binary)).toBe(before);
});

test("a changed checksum builds again: resource-agents from a recompressed tarball (same tree, another sha256) is built and installed on every node", async () => {
    const name = "resource-agents-4.12.0-recompressed.tar.gz";
    const file = path.join(SERVED, name);
    execFileSync("bash", ["-c", `gzip -dc "${path.join(SERVED, ENV.PGHA_LAB_RA_SOURCE_FILE)}" | gzip -1 >"${file}"`]);
    const sum = sha256(file);
    expect(sum).not.toBe(ENV.PGHA_LAB_RA_SOURCE_SHA256);
    // Served from the lab's state dir, which lab down removes with the stack that points at it.
    mustEngine("config", "set", "--stack", STACK, "pgha:resourceAgentsUrl", `http://${ENV.PGHA_LAB_BRIDGE_ADDR}:${ENV.PGHA_LAB_SOURCES_PORT}/${name}`);
    mustEngine("config", "set", "--stack", STACK, "pgha:resourceAgentsSha256", sum);
    expect(plannedChanges(STACK)).toEqual(NODES.map((n) => `update ${n}-resource-agents`));
    mustEngine("up", "--yes", "--skip-preview", "--stack", STACK);
    buildSeconds("resource-agents", /built resource-agents 4\.12\.0 in (\d+) s/);
    expect((await onAll("cat /var/lib/pgha/resource-agents.source")).map((s) => s.trim())).toEqual(NODES.map(() => `4.12.0 ${sum}`));
    expect(Object.values(await waitForHealthy()).sort()).toEqual(["HS:async", "HS:sync", "PRI"]);
});
