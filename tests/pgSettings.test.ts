/**
 * pgha.conf on a real PostgreSQL server on this machine (scripts/pglib.sh's pgha_pg_configure, as the database
 * steps run it): pgha:postgresqlParameters checked by the server's own parser before anything is written, a
 * reloadable change taken without a restart, one that needs a restart reported as waiting. Needs root (the
 * server runs as postgres) and PostgreSQL 15 (tools/setup.sh installs it).
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseConfig } from "../components/config";
import { postgresqlSettings } from "../components/pgConfig";
import { rawConfig, ROOT } from "./fixtures";

const BIN = "/usr/lib/postgresql/15/bin";
const PORT = 55433;
const asRoot = process.getuid?.() === 0 ? describe : describe.skip;

let tmp: string;
let data: string;
const asPostgres = (args: string[]) => execFileSync("runuser", ["-u", "postgres", "--", ...args], { cwd: "/", encoding: "utf8" });
const sql = (text: string) => asPostgres([`${BIN}/psql`, "-X", "-At", "-h", tmp, "-p", String(PORT), "-d", "postgres", "-c", text]).trim();

/** pgha.conf as the program renders it for the lab without backups, with these parameters. */
const settings = (parameters: Record<string, unknown>) => postgresqlSettings(parseConfig(rawConfig("lab", { backupHost: "", backupHostIp: "", postgresqlParameters: parameters })));

/** pgha_pg_configure with SETTINGS; its exit status and output (ending with changes=N when it passed). */
function configure(pgSettings: string): { status: number; output: string } {
    const libraries = ["lib.sh", "pglib.sh"].map((f) => `. ${path.join(ROOT, "scripts", f)}`).join("; ");
    const r = spawnSync("bash", ["-c", `set -euo pipefail; PGHA_STEP=test; ${libraries}; pgha_pg_configure; echo "changes=$PGHA_CHANGES"`], {
        encoding: "utf8",
        env: {
            ...process.env, PGHOST: tmp, PGHA_BINDIR: BIN, PGHA_PGDATA: data, PGHA_PG_PORT: String(PORT), PGHA_PG_SETTINGS: pgSettings,
            PGHA_PG_HBA: "local all all trust",
        },
    });
    return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

asRoot("pgha.conf on a real server", () => {
    beforeAll(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pgha-settings-"));
        fs.chmodSync(tmp, 0o755);
        execFileSync("chown", ["postgres:postgres", tmp]);
        data = path.join(tmp, "data");
        asPostgres([`${BIN}/initdb`, "-D", data, "--auth-local=trust", "-U", "postgres"]);
        // This test's own address, port and socket: postgresql.auto.conf is read after pgha.conf.
        fs.writeFileSync(path.join(data, "postgresql.auto.conf"), `listen_addresses = ''\nport = ${PORT}\nunix_socket_directories = '${tmp}'\nlogging_collector = off\n`);
        execFileSync("chown", ["postgres:postgres", path.join(data, "postgresql.auto.conf")]);
        expect(configure(settings({ work_mem: "64MB" })).status).toBe(0);
        asPostgres([`${BIN}/pg_ctl`, "-D", data, "-w", "-l", path.join(tmp, "log"), "start"]);
    });

    afterAll(() => {
        spawnSync("runuser", ["-u", "postgres", "--", `${BIN}/pg_ctl`, "-D", data, "-w", "-m", "immediate", "stop"], { cwd: "/" });
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    test("a reloadable parameter changes on the running server without a restart", () => {
        expect(sql("show work_mem")).toBe("64MB");
        const started = sql("select pg_postmaster_start_time()");
        const run = configure(settings({ work_mem: "128MB", statement_timeout: 0 }));
        expect(run.status).toBe(0);
        expect(run.output).not.toMatch(/waiting for a restart/);
        expect(sql("show work_mem")).toBe("128MB");
        expect(sql("select pg_postmaster_start_time()")).toBe(started);
        expect(configure(settings({ work_mem: "128MB", statement_timeout: 0 })).output).toMatch(/^changes=0$/m);
    });

    test.each([
        ["a parameter PostgreSQL does not know", { work_mem: "32MB", wrok_mem: "32MB" }, /unrecognized configuration parameter "wrok_mem"/],
        ["a value PostgreSQL refuses", { work_mem: "lots" }, /invalid value for parameter "work_mem": "lots"/],
        ["a value out of range", { max_connections: 0 }, /0 is outside the valid range for parameter "max_connections"/],
    ])("%s is refused with PostgreSQL's words and nothing changes", (_, parameters, words) => {
        const before = fs.readFileSync(path.join(data, "pgha.conf"), "utf8");
        const run = configure(settings(parameters));
        expect(run.status).not.toBe(0);
        expect(run.output).toMatch(/PostgreSQL refuses the settings \(pgha:postgresqlParameters\), nothing was changed: /);
        expect(run.output).toMatch(words);
        expect(fs.readFileSync(path.join(data, "pgha.conf"), "utf8")).toBe(before);
        expect(sql("show work_mem")).toBe("128MB");
    });

    test("a parameter that needs a restart is written and reported as waiting for one", () => {
        const run = configure(settings({ work_mem: "128MB", shared_buffers: "256MB" }));
        expect(run.status).toBe(0);
        expect(run.output).toMatch(/settings waiting for a restart: shared_buffers/);
        expect(sql("select pending_restart from pg_settings where name = 'shared_buffers'")).toBe("t");
    });
});
