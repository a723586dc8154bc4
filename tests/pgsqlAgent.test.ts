/**
 * ocf:pgha:pgsql (scripts/pgsql-agent.sh) run as Pacemaker runs it. Its pre-promote notification against the
 * lab stack's rendered CIB in a file with the real Pacemaker tools (cibadmin, crm_attribute, crm_resource with
 * CIB_file); only crm_node, the node's own name, is a stand-in. A standby ahead of the node being promoted is
 * banned with one call and the notification ends at once, also when an earlier ban of the same node, expired,
 * is still in the CIB: the heartbeat agent's ban retried for good there, and no primary was promoted for
 * minutes after a hung primary was fenced. And its stop of a stopped postmaster, which fails at once.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseConfig } from "../components/config";
import { rawConfig, ROOT } from "./fixtures";
import { buildCib, cibEnv, CibFile } from "./pcsCib";

const spec = parseConfig(rawConfig("lab"));
const [, me, promoting] = spec.nodes.map((n) => n.name);
const BAN = `cli-ban-pgsql-on-${me}`;

let cib: CibFile;
beforeEach(() => {
    cib = buildCib(spec, true);
    fs.mkdirSync(path.join(cib.dir, "bin"));
    fs.writeFileSync(path.join(cib.dir, "bin", "crm_node"), `#!/bin/sh\necho ${me}\n`, { mode: 0o755 });
});
afterEach(() => cib.cleanup());

const cibadmin = (...args: string[]) => spawnSync("cibadmin", args, { env: cibEnv(cib.file), encoding: "utf8" });
const constraints = () => cibadmin("-Q", "-o", "constraints").stdout;

/** Each node's pgsql-master-baseline (a transient attribute), as the post-demote notifications leave them. */
function baselines(values: Record<string, string>): void {
    spec.nodes.forEach((n, i) => {
        const attrs = values[n.name] === undefined ? "" : `<nvpair id="status-${i + 1}-baseline" name="pgsql-master-baseline" value="${values[n.name]}"/>`;
        const created = cibadmin("--create", "-o", "status", "--xml-text",
            `<node_state id="${i + 1}" uname="${n.name}"><transient_attributes id="${i + 1}"><instance_attributes id="status-${i + 1}">${attrs}</instance_attributes></transient_attributes></node_state>`);
        expect(created.status).toBe(0);
    });
}

/** A ban of this node as the notification left it after an earlier failover: a 30 s lifetime, ended `ago` seconds ago. */
function earlierBan(agoSeconds: number): void {
    const end = new Date(Date.now() - agoSeconds * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
    const created = cibadmin("--create", "-o", "constraints", "--xml-text", `<rsc_location id="${BAN}" rsc="pgsql" role="Started">
        <rule id="${BAN}-rule" score="-INFINITY" boolean-op="and"><expression id="${BAN}-expr" attribute="#uname" operation="eq" value="${me}" type="string"/>
        <date_expression id="${BAN}-lifetime" operation="lt" end="${end}"/></rule></rsc_location>`);
    expect(created.status).toBe(0);
}

/** The agent's pre-promote notification on this node, `promoting` being promoted; bounded, so that a retry loop fails the test. */
function prePromote(conf: { autoRejoin?: boolean; failureTimeoutSeconds?: number } = {}) {
    const clusterConf = path.join(cib.dir, "cluster.conf");
    fs.writeFileSync(clusterConf, `PGHA_AUTO_REJOIN='${conf.autoRejoin ?? true}'\nPGHA_FAILURE_TIMEOUT_SECONDS='${conf.failureTimeoutSeconds ?? 30}'\n`);
    const started = Date.now();
    const r = spawnSync("bash", [path.join(ROOT, "scripts", "pgsql-agent.sh"), "notify"], {
        encoding: "utf8", timeout: 20_000,
        env: {
            ...cibEnv(cib.file), PATH: `${path.join(cib.dir, "bin")}:${process.env.PATH}`, PGHA_CLUSTER_CONF: clusterConf,
            OCF_RESOURCE_INSTANCE: "pgsql:1", OCF_RESKEY_rep_mode: "sync", OCF_RESKEY_node_list: spec.nodes.map((n) => n.name).join(" "),
            OCF_RESKEY_CRM_meta_notify_type: "pre", OCF_RESKEY_CRM_meta_notify_operation: "promote",
            OCF_RESKEY_CRM_meta_notify_promote_uname: `${promoting} `,
        },
    });
    return { status: r.status, seconds: (Date.now() - started) / 1000, output: `${r.stdout}${r.stderr}` };
}

/** The end of this node's ban's lifetime (ms), or "none" / "for good". */
function banLifetime(): number | "none" | "for good" {
    const xml = constraints();
    const ban = new RegExp(`<rsc_location id="${BAN}"[^>]*?(/>|>[\\s\\S]*?</rsc_location>)`).exec(xml)?.[0];
    if (ban === undefined) {
        return "none";
    }
    const end = /<date_expression[^>]*operation="lt"[^>]*end="([^"]+)"/.exec(ban)?.[1];
    return end === undefined ? "for good" : Date.parse(end.replace(" ", "T"));
}

test("a standby ahead of the node being promoted, with its earlier ban expired but still in the CIB: banned again for the failure timeout, at once, the notification failed with the reason", () => {
    baselines({ [me]: "0000000006E52C08", [promoting]: "0000000006E527E8" });
    earlierBan(60);
    // What the heartbeat agent's `crm_resource -B` meets: the expired ban cannot be rewritten by node name.
    expect(spawnSync("crm_resource", ["-B", "-r", "pgsql", "-N", me, "-Q"], { env: cibEnv(cib.file) }).status).toBe(78);
    const r = prePromote();
    expect({ status: r.status, quick: r.seconds < 10 }).toEqual({ status: 1, quick: true });
    expect(r.output).toContain(`removed ${BAN}, which expired at`);
    expect(r.output).toContain(`ocf-exit-reason:my data is newer than that of ${promoting}, the node being promoted (0000000006E52C08 > 0000000006E527E8): out for 30s`);
    const end = banLifetime();
    expect(typeof end).toBe("number");
    expect(Math.abs((end as number) - (Date.now() + 30_000))).toBeLessThan(10_000);
});

test.each([["as far as", "0000000006E527E8"], ["behind", "0000000006E00000"]])("a standby %s the node being promoted stays: no ban, its expired one removed, exit 0", (_, mine) => {
    baselines({ [me]: mine, [promoting]: "0000000006E527E8" });
    earlierBan(5);
    const r = prePromote();
    expect({ status: r.status, ban: banLifetime() }).toEqual({ status: 0, ban: "none" });
    expect(r.output).toContain(`removed ${BAN}, which expired at`);
});

test("a ban whose lifetime has not passed is left alone", () => {
    baselines({ [me]: "0000000006E00000", [promoting]: "0000000006E527E8" });
    earlierBan(-60);
    const before = banLifetime();
    expect(prePromote().status).toBe(0);
    expect(banLifetime()).toBe(before);
});

test("without a baseline of the node being promoted nothing is compared: exit 0, no ban", () => {
    baselines({ [me]: "0000000006E52C08" });
    const r = prePromote();
    expect({ status: r.status, ban: banLifetime() }).toEqual({ status: 0, ban: "none" });
});

test("with pgha:autoRejoin off the ban is the heartbeat agent's, for good", () => {
    baselines({ [me]: "0000000006E52C08", [promoting]: "0000000006E527E8" });
    const r = prePromote({ autoRejoin: false });
    expect(r.status).toBe(1);
    expect(r.output).toContain(`out until a person clears the ban (crm_resource --clear -r pgsql -N ${me})`);
    expect(banLifetime()).toBe("for good");
});

test("the stop of a postmaster that is stopped (SIGSTOP) fails at once, without waiting for a query, so that the node is fenced", async () => {
    const pgdata = path.join(cib.dir, "pgdata");
    fs.mkdirSync(pgdata);
    // A process whose command line is a postmaster's of this data directory.
    const postmaster = spawn("python3", ["-c", "import time; time.sleep(120)", "-D", pgdata], { stdio: "ignore" });
    try {
        fs.writeFileSync(path.join(pgdata, "postmaster.pid"), `${postmaster.pid}\n${pgdata}\n`);
        await new Promise((r) => setTimeout(r, 300));
        process.kill(postmaster.pid as number, "SIGSTOP");
        const clusterConf = path.join(cib.dir, "cluster.conf");
        // No psql there: a query could not tell a stopped server from a missing one.
        fs.writeFileSync(clusterConf, `PGHA_PGDATA='${pgdata}'\nPGHA_BINDIR='${path.join(cib.dir, "no-bin")}'\nPGHA_PG_PORT='5432'\n`);
        const started = Date.now();
        const r = spawnSync("bash", [path.join(ROOT, "scripts", "pgsql-agent.sh"), "stop"], {
            encoding: "utf8", timeout: 20_000, env: { ...process.env, PGHA_CLUSTER_CONF: clusterConf, OCF_RESOURCE_INSTANCE: "pgsql:0" },
        });
        expect({ status: r.status, quick: Date.now() - started < 2000 }).toEqual({ status: 1, quick: true });
        expect(r.stderr).toContain(`PostgreSQL in ${pgdata} does not answer: failing the stop at once so that the node is fenced`);
    } finally {
        postmaster.kill("SIGKILL");
    }
});
