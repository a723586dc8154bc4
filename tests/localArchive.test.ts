import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseConfig } from "../components/config";
import { postgresqlSettings } from "../components/pgConfig";
import { ROOT, rawConfig, withLibSh } from "./fixtures";

/** pglib.sh loaded, for a data directory at `pgdata` whose server is not running. */
function pglib(script: string, pgdata: string): { status: number; output: string } {
    return withLibSh(`. "${path.join(ROOT, "scripts", "pglib.sh")}"; pgha_pg_running() { return 1; }; ${script}`, pgdata, { ...process.env, PGHA_PGDATA: pgdata });
}

describe("the local WAL archive of older pgha versions", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgha-archive-"));
        fs.mkdirSync(path.join(dir, "data"));
        fs.mkdirSync(path.join(dir, "arch"));
        for (const segment of ["000000010000000000000001", "000000010000000000000002", "00000002.history"]) {
            fs.writeFileSync(path.join(dir, "arch", segment), "wal");
        }
        // The archive_command older versions wrote into pgha.conf.
        fs.writeFileSync(path.join(dir, "data", "pgha.conf"), `archive_mode = on\narchive_command = 'test ! -f ${dir}/arch/%f && cp %p ${dir}/arch/%f'\n`);
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    test("is found from the archive_command in place, and removed once pgha.conf archives elsewhere", () => {
        const pgdata = path.join(dir, "data");
        const settings = postgresqlSettings(parseConfig(rawConfig("lab")));
        const run = pglib(`old=$(pgha_local_archive_dir); echo "old=$old"; cat >"$PGHA_PGDATA/pgha.conf" <<'END'\n${settings}\nEND\npgha_remove_local_archive "$old"; pgha_summary`, pgdata);
        expect(run.output).toContain(`old=${dir}/arch`);
        expect(run.output).toMatch(/changed: removed the local WAL archive .*\/arch \(3 files, \d+ MiB\)/);
        expect(fs.existsSync(path.join(dir, "arch"))).toBe(false);
        // A second run finds nothing to remove.
        expect(pglib(`pgha_remove_local_archive "$(pgha_local_archive_dir)"; pgha_summary`, pgdata).output).toMatch(/done, 0 change\(s\)/);
    });

    test("is kept while pgha.conf still archives there", () => {
        const pgdata = path.join(dir, "data");
        const run = pglib(`pgha_remove_local_archive "$(pgha_local_archive_dir)"; pgha_summary`, pgdata);
        expect(run.output).toMatch(/done, 0 change\(s\)/);
        expect(fs.readdirSync(path.join(dir, "arch"))).toHaveLength(3);
    });
});
