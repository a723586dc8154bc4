/**
 * The rejoin rule of scripts/rejoinlib.sh (used by ocf:pgha:pgsql's automatic rejoin and by pgha-rejoin-node)
 * on real PostgreSQL timelines on this machine: servers on loopback addresses, promoted and rewound as in the
 * cluster. An old primary is rewound; a node promoted later than the primary, or in a way the primary never
 * saw, is refused with its data untouched unless the override is given. Needs root (the servers run as
 * postgres) and PostgreSQL 15 (tools/setup.sh installs it).
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseConfig } from "../components/config";
import { postgresqlSettings } from "../components/pgConfig";
import { rawConfig, ROOT } from "./fixtures";

const BIN = "/usr/lib/postgresql/15/bin";
const PORT = 55432;
const PASSWORD = "rejoin-test-secret";
const ADDRESSES: Record<string, string> = { a: "127.0.0.2", b: "127.0.0.3", c: "127.0.0.4", d: "127.0.0.5" };
const asRoot = process.getuid?.() === 0 ? describe : describe.skip;

let tmp: string;
const asPostgres = (args: string[], input?: string) =>
    execFileSync("runuser", ["-u", "postgres", "--", ...args], { cwd: "/", encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] });

class Server {
    readonly data: string;
    readonly socket: string;
    constructor(readonly name: string) {
        this.data = path.join(tmp, name, "data");
        this.socket = path.join(tmp, name, "sock");
    }
    get address(): string {
        return ADDRESSES[this.name];
    }
    private ctl(...args: string[]): void {
        asPostgres([`${BIN}/pg_ctl`, "-D", this.data, "-w", "-l", path.join(tmp, this.name, "log"), ...args]);
    }
    start(): void {
        this.ctl("start");
    }
    stop(mode = "fast"): void {
        this.ctl("stop", "-m", mode);
    }
    promote(): void {
        this.ctl("promote");
    }
    sql(text: string): string {
        return asPostgres([`${BIN}/psql`, "-X", "-q", "-A", "-t", "-h", this.socket, "-p", String(PORT), "-d", "postgres", "-c", text]).trim();
    }
    /** The cluster's managed settings (pgha.conf) included, and this server's own. */
    configure(): void {
        fs.mkdirSync(this.socket, { recursive: true });
        execFileSync("chown", ["postgres:postgres", this.socket, path.join(tmp, this.name)]);
        fs.appendFileSync(path.join(this.data, "postgresql.conf"), "include = 'pgha.conf'\n");
        this.ownSettings();
    }
    /**
     * pgha.conf of a cluster without a backup host (no WAL archive: pg_rewind finds what it needs in pg_wal), this
     * server's address and socket, and whom it follows: pg_rewind copies the source's configuration files, which
     * here differ per server.
     */
    private ownSettings(primary?: Server): void {
        fs.writeFileSync(path.join(this.data, "pgha.conf"), `${postgresqlSettings(parseConfig(rawConfig("lab", { backupHost: "", backupHostIp: "" })))}\n`, { mode: 0o600 });
        const follow = primary
            ? `primary_conninfo = 'host=${primary.address} port=${PORT} user=replicator passfile=${path.join(tmp, "pgpass")}'\nrecovery_target_timeline = 'latest'\n`
            : "";
        fs.writeFileSync(path.join(this.data, "postgresql.auto.conf"), `listen_addresses = '${this.address}'\nport = ${PORT}\nunix_socket_directories = '${this.socket}'\nlogging_collector = off\n${follow}`);
        execFileSync("chown", ["postgres:postgres", path.join(this.data, "postgresql.auto.conf"), path.join(this.data, "pgha.conf")]);
    }
    controlFile(): string {
        return asPostgres([`${BIN}/pg_controldata`, this.data]).split("\n").filter((l) => /^(Database system identifier|Latest checkpoint location|Latest checkpoint's TimeLineID)/.test(l)).join("\n");
    }
    /** Makes this (stopped) server a standby of `primary`, as the resource agent does at start. */
    followAndStart(primary: Server): void {
        fs.writeFileSync(path.join(this.data, "standby.signal"), "");
        execFileSync("chown", ["postgres:postgres", path.join(this.data, "standby.signal")]);
        this.ownSettings(primary);
        this.start();
    }
}

/** Shell commands that load lib.sh, pglib.sh and rejoinlib.sh. */
const LIBRARIES = ["lib.sh", "pglib.sh", "rejoinlib.sh"].map((f) => `. ${path.join(ROOT, "scripts", f)}`).join("; ");

/** `node`'s configuration as /etc/pgha/cluster.conf would give it, in the environment. */
function nodeEnv(node: Server): NodeJS.ProcessEnv {
    return {
        // PGHOST: the node's own server over its local socket, as on a node.
        ...process.env, PGHOST: node.socket, PGHA_PGDATA: node.data, PGHA_BINDIR: BIN, PGHA_PG_PORT: String(PORT), PGHA_REPLICATION_USER: "replicator",
        PGHA_PGPASS_FILE: path.join(tmp, "pgpass"), PGHA_PGSQL_TMPDIR: path.join(tmp, node.name), PGHA_STANZA: "",
        PGHA_NODES: Object.entries(ADDRESSES).map(([n, a]) => `${n}=${a}`).join(" "),
    };
}

/** Runs rejoinlib.sh's FN for `node`; the verdict and output. */
function rejoin(node: Server, fn: string, ...args: string[]): { status: number; verdict: string; reason: string; output: string } {
    const script = `${LIBRARIES}; ${fn} "$@"; rc=$?; echo "VERDICT=\${PGHA_VERDICT:-}"; echo "REASON=\${PGHA_REASON:-}"; exit $rc`;
    const result = spawnSync("bash", ["-c", script, "rejoin", ...args], { env: nodeEnv(node), encoding: "utf8" });
    const value = (k: string) => new RegExp(`^${k}=(.*)$`, "m").exec(result.stdout)?.[1] ?? "";
    return { status: result.status ?? -1, verdict: value("VERDICT"), reason: value("REASON"), output: `${result.stdout}${result.stderr}` };
}

const servers: Record<string, Server> = {};

/** Polls `check` every 200 ms for up to 30 s. */
function until(what: string, check: () => boolean): void {
    for (let i = 0; i < 150; i++) {
        if (check()) return;
        spawnSync("sleep", ["0.2"]);
    }
    throw new Error(`timed out waiting for ${what}`);
}

/** A new standby of `primary`, copied with pg_basebackup as the cluster's steps do. */
function newStandby(standby: Server, primary: Server): void {
    execFileSync("chown", ["postgres:postgres", path.join(tmp, standby.name)]);
    asPostgres([`${BIN}/pg_basebackup`, "-d", `host=${primary.address} port=${PORT} user=replicator passfile=${path.join(tmp, "pgpass")}`, "-D", standby.data, "-X", "stream", "-c", "fast", "-w"]);
    standby.configure();
    standby.followAndStart(primary);
}

asRoot("the rejoin rule on real timelines", () => {
    beforeAll(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pgha-rejoin-"));
        fs.chmodSync(tmp, 0o755);
        fs.writeFileSync(path.join(tmp, "pgpass"), `*:${PORT}:*:replicator:${PASSWORD}\n`, { mode: 0o600 });
        execFileSync("chown", ["postgres:postgres", path.join(tmp, "pgpass")]);
        for (const name of Object.keys(ADDRESSES)) {
            servers[name] = new Server(name);
            fs.mkdirSync(path.join(tmp, name));
        }
        const { a, b, c } = servers;
        execFileSync("chown", ["postgres:postgres", path.join(tmp, "a")]);
        asPostgres([`${BIN}/initdb`, "-D", a.data, "--data-checksums", "--auth-local=trust", "--auth-host=scram-sha-256", "-U", "postgres"]);
        fs.writeFileSync(path.join(a.data, "pg_hba.conf"), "local all all trust\nlocal replication all trust\nhost all all 127.0.0.0/8 scram-sha-256\nhost replication all 127.0.0.0/8 scram-sha-256\n");
        a.configure();
        a.start();
        // The replication role as database.sh makes it (pglib.sh), with the password the passfile holds.
        execFileSync("bash", ["-c", `set -euo pipefail; . ${path.join(ROOT, "scripts", "lib.sh")}; . ${path.join(ROOT, "scripts", "pglib.sh")}
            run_sql() { runuser -u postgres -- ${BIN}/psql -X -q -A -t -h ${a.socket} -p ${PORT} -d postgres -v ON_ERROR_STOP=1; }
            pgha_pg_replication_role run_sql replicator >/dev/null`], { cwd: "/" });
        a.sql(`ALTER ROLE replicator PASSWORD '${PASSWORD}'`);
        a.sql("create table t (id int primary key)");
        a.sql("insert into t select generate_series(1, 100)");
        for (const standby of [b, c]) {
            newStandby(standby, a);
        }
        asPostgres([`${BIN}/psql`, "-X", "-q", "-h", a.socket, "-p", String(PORT), "-d", "postgres", "-c", "select pg_switch_wal()"]);
    }, 120_000);

    afterAll(() => {
        for (const server of Object.values(servers)) {
            try {
                server.stop("immediate");
            } catch {
                // not running
            }
        }
        if (process.env.PGHA_KEEP_REJOIN !== "1") fs.rmSync(tmp, { recursive: true, force: true });
    });

    test("a standby on the primary's timeline is in step: it starts as it is", () => {
        const { a, b } = servers;
        b.stop();
        expect(rejoin(b, "pgha_rejoin_verdict", "a")).toMatchObject({ status: 0, verdict: "in-step" });
        b.followAndStart(a);
    });

    test("an old primary, whose timeline the new primary branched off from, is rewound and follows it; its lock is removed", () => {
        const { a, b } = servers;
        b.promote();
        // The old primary keeps writing after the branch point (what a real failover's unacknowledged tail is).
        a.sql("insert into t select generate_series(101, 150)");
        a.stop("immediate");
        fs.writeFileSync(path.join(tmp, "a", "PGSQL.lock"), "");
        expect(rejoin(a, "pgha_rejoin_verdict", "b")).toMatchObject({ status: 0, verdict: "rewind", reason: expect.stringMatching(/^timeline 1, from which the primary b's timeline 2 branched off at [0-9A-F]+\/[0-9A-F]+$/) });
        const prepared = rejoin(a, "pgha_prepare_standby", "b");
        expect(prepared.output).toMatch(/pg_rewind from b: servers diverged at WAL location/);
        expect(fs.existsSync(path.join(tmp, "a", "PGSQL.lock"))).toBe(false);
        a.followAndStart(b);
        b.sql("insert into t values (1000)");
        expect(rejoin(a, "pgha_rejoin_verdict", "b").verdict).toBe("in-step");
    });

    test("a node promoted later than the primary (a newer timeline) is refused and left untouched, unless the override is given", () => {
        const { a, b } = servers;
        // Two primaries: a, now a standby of b, is promoted as well and takes transactions b never sees.
        a.promote();
        a.sql("insert into t values (2000)");
        a.stop("immediate");
        const before = a.controlFile();
        const verdict = rejoin(a, "pgha_rejoin_verdict", "b");
        expect(verdict).toMatchObject({ verdict: "refuse", reason: expect.stringMatching(/is on timeline 3, newer than the primary b's timeline 2 .*Nothing was rewound/) });
        const refused = rejoin(a, "pgha_prepare_standby", "b");
        expect(refused.status).not.toBe(0);
        expect(refused.output).toContain("pgha-rejoin-node --discard-newer-data");
        expect(a.controlFile()).toBe(before);
        const discarded = rejoin(a, "pgha_prepare_standby", "b", "--discard-newer-data");
        expect(discarded.status).toBe(0);
        expect(discarded.output).toMatch(/WARNING: discarding, as asked/);
        expect(discarded.output).toMatch(/moved the WAL of the discarded timelines to /);
        a.followAndStart(b);
        expect(rejoin(a, "pgha_rejoin_verdict", "b").verdict).toBe("in-step");
    });

    test("a node promoted on a timeline the primary never saw (same number, other history) is refused", () => {
        const { b, c } = servers;
        // c followed the old primary a past the point where b was promoted; promoted on its own, it also
        // makes timeline 2, branching off later.
        c.promote();
        c.sql("insert into t values (3000)");
        c.stop("immediate");
        const before = c.controlFile();
        const verdict = rejoin(c, "pgha_rejoin_verdict", "b");
        expect(verdict).toMatchObject({ verdict: "refuse", reason: expect.stringMatching(/timeline 2 is not in the history of the primary b \(timeline 2\)/) });
        expect(rejoin(c, "pgha_prepare_standby", "b").status).not.toBe(0);
        expect(c.controlFile()).toBe(before);
        expect(b.sql("select count(*) from t")).toBe("101");
    });

    test("a node of another database cluster is refused", () => {
        const { b } = servers;
        const other = new Server("a");
        const alien = path.join(tmp, "alien");
        fs.mkdirSync(alien);
        execFileSync("chown", ["postgres:postgres", alien]);
        asPostgres([`${BIN}/initdb`, "-D", path.join(alien, "data"), "-U", "postgres"]);
        const result = rejoin(Object.assign(Object.create(Server.prototype), other, { data: path.join(alien, "data"), name: "alien" }), "pgha_rejoin_verdict", "b");
        expect(result).toMatchObject({ verdict: "refuse", reason: expect.stringMatching(/belongs to another database cluster/) });
        expect(b.sql("select 1")).toBe("1");
    });

    test("a standby that streamed the old primary's WAL after the failover is found diverged while it runs, and rewound at its start although it fetched the new primary's history", () => {
        const { a, b, d } = servers;
        // b is the primary (timeline 2) and a its standby; d becomes another standby of b.
        newStandby(d, b);
        a.promote();
        // The old primary b still writes, and d streams that (as through a vip-master left on b without fencing).
        b.sql("insert into t select generate_series(5000, 5049)");
        const written = b.sql("select pg_current_wal_lsn()");
        until("d to replay the old primary's last write", () => d.sql(`select pg_last_wal_replay_lsn() >= '${written}'`) === "t");
        d.stop();
        d.followAndStart(a);
        until("d's walreceiver to fetch a's timeline history", () => fs.existsSync(path.join(d.data, "pg_wal", "00000003.history")));
        expect(rejoin(d, "pgha_standby_diverged", "a")).toMatchObject({
            status: 0, reason: expect.stringMatching(/holds WAL of timeline 2 up to [0-9A-F]+\/[0-9A-F]+, past [0-9A-F]+\/[0-9A-F]+ where the primary a's timeline 3 branched off/),
        });
        d.stop();
        expect(rejoin(d, "pgha_rejoin_verdict", "a").verdict).toBe("rewind");
        expect(rejoin(d, "pgha_prepare_standby", "a").output).toMatch(/pg_rewind from a: servers diverged at WAL location/);
        d.followAndStart(a);
        a.sql("insert into t values (6000)");
        until("d to stream from a", () => d.sql("select count(*) from t where id = 6000") === "1");
        expect(rejoin(d, "pgha_standby_diverged", "a").status).toBe(1);
        expect(d.sql("select count(*) from t")).toBe(a.sql("select count(*) from t"));
    });

    test("a node whose data directory is empty (e.g. moved aside by a person) is copied afresh from the primary", () => {
        const { a, d } = servers;
        // a is the primary (timeline 3), d its standby.
        d.stop();
        const aside = `${d.data}.by-hand`;
        fs.renameSync(d.data, aside);
        fs.mkdirSync(d.data, { mode: 0o700 });
        execFileSync("chown", ["postgres:postgres", d.data]);
        expect(rejoin(d, "pgha_rejoin_verdict", "a")).toMatchObject({ verdict: "copy", reason: `${d.data} is empty` });
        expect(rejoin(d, "pgha_prepare_standby", "a").output).toMatch(/pg_basebackup from a into the empty/);
        d.followAndStart(a);
        a.sql("insert into t values (4500)");
        until("d to stream from a", () => d.sql("select count(*) from t where id = 4500") === "1");
        fs.rmSync(aside, { recursive: true, force: true });
    });

    test("two rejoins of one node at once (Pacemaker's start and pgha-rejoin-node) take turns: one rewinds, the other finds it in step; a running server is never touched", () => {
        const { a, b, d } = servers;
        // b, the old primary (timeline 2), stopped as after a crash; a is the primary on timeline 3.
        b.stop("immediate");
        const script = `${LIBRARIES}; pgha_prepare_standby a`;
        const both = spawnSync("bash", ["-c", `(bash -c '${script}' > ${tmp}/one.log 2>&1; echo $? >> ${tmp}/one.log) & (bash -c '${script}' > ${tmp}/two.log 2>&1; echo $? >> ${tmp}/two.log) & wait`], { env: nodeEnv(b), encoding: "utf8" });
        expect(both.status).toBe(0);
        const logs = ["one", "two"].map((n) => fs.readFileSync(path.join(tmp, `${n}.log`), "utf8"));
        expect(logs.map((l) => l.trim().split("\n").pop())).toEqual(["0", "0"]);
        expect(logs.filter((l) => /pg_rewind from a: servers diverged/.test(l))).toHaveLength(1);
        expect(logs.join("")).not.toMatch(/pg_rewind failed|pg_basebackup/);
        expect(fs.readdirSync(tmp).filter((f) => f.includes(".pgha-"))).toEqual([]);
        b.followAndStart(a);
        a.sql("insert into t values (7000)");
        until("b to stream from a", () => b.sql("select count(*) from t where id = 7000") === "1");
        // d runs (a standby of a): preparing it fails and leaves it running.
        const running = rejoin(d, "pgha_prepare_standby", "a");
        expect(running.status).not.toBe(0);
        expect(running.output).toContain(`PostgreSQL runs in ${d.data}: a running server is never rewound or copied over`);
        expect(d.sql("select pg_is_in_recovery()")).toBe("t");
    });
});
