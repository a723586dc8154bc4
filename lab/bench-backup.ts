/**
 * Backup benchmark on the lab (root): with DATA_GIB GiB of data in the cluster, the time of a full backup and of a
 * restore (pgha-restore --latest on the backup host) per GiB; the archive's lag behind commits (the RPO of a
 * restore) under a steady write load; and the write throughput with WAL archived to the backup host against the
 * old local copy (archive_command cp into a directory on the primary), as rows per second of a committing
 * writer and as MiB per second of bulk WAL; the WAL of the local rounds is missing from the repository, so a
 * full backup ends the bench. Not a test: numbers vary with the machine; nothing here asserts a
 * speed. The lab is stood up and removed, also on failure, unless PGHA_KEEP_LAB=1; --reuse takes the lab stack
 * as it runs.
 *   npm run bench:backup [-- DATA_GIB [out.json]] [--reuse]      (default 1 GiB, out: pgha-bench-backup.json)
 */
import * as fs from "fs";
import { parseArgs } from "util";
import { parseConfig } from "../components/config";
import { onBackupHost, removeCopy, restore, writeWal } from "../tests/backups";
import { sql, Writer } from "../tests/drill";
import { rawConfig } from "../tests/fixtures";
import { initStack, lab, mustEngine, onNode, sleep, stackOutputs } from "../tests/lab";

const STACK = "lab";
/** The old local archive (before pgha used pgBackRest), on the primary, for the throughput comparison. */
const LOCAL_ARCHIVE = "/var/lib/pgsql/bench-local-archive";

const seconds = (since: number) => (Date.now() - since) / 1000;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Rows per second a writer commits through vip-master over `ms` (into an emptied table: the writer numbers its rows from 1). */
async function writerRate(master: string, ms: number): Promise<number> {
    await sql(master, "truncate bench_writes");
    const writer = new Writer(master, "bench_writes");
    writer.start();
    await sleep(ms);
    await writer.stop();
    return writer.acked.length / (ms / 1000);
}

interface Rate {
    readonly rowsPerSecond: number;
    readonly walMibPerSecond: number;
}

/** A committing writer's rows per second for 10 s, and bulk WAL's MiB per second over 256 MiB. */
async function rate(master: string): Promise<Rate> {
    return { rowsPerSecond: await writerRate(master, 10_000), walMibPerSecond: await bulkRate(master, 256) };
}

/** MiB per second of bulk WAL written through vip-master. */
async function bulkRate(master: string, mb: number): Promise<number> {
    const t0 = Date.now();
    await writeWal(master, mb);
    return mb / seconds(t0);
}

/** Seconds from a commit until the WAL segment holding it is archived (pg_stat_archiver on the primary). */
async function archiveLag(master: string): Promise<number> {
    const [{ segment }] = await sql(master, "select pg_walfile_name(pg_current_wal_lsn()) as segment");
    const t0 = Date.now();
    for (;;) {
        const [{ archived }] = await sql(master, "select coalesce(last_archived_wal, '') >= $1 as archived from pg_stat_archiver", [segment]);
        if (archived) {
            return seconds(t0);
        }
        await sleep(250);
    }
}

async function main(): Promise<void> {
    const { positionals, values } = parseArgs({ allowPositionals: true, options: { reuse: { type: "boolean", default: false } } });
    const dataGib = Number(positionals[0] ?? 1);
    const out = positionals[1] ?? "pgha-bench-backup.json";
    const spec = parseConfig(rawConfig(STACK));
    if (!values.reuse) {
        await lab("down");
        await lab("up");
        initStack(STACK);
        mustEngine("up", "--yes", "--skip-preview", "--stack", STACK);
    }
    const master = stackOutputs(STACK).masterConnectionString as string;
    await sql(master, "create table if not exists bench_writes (id bigint primary key)");
    await sql(master, "truncate bench_writes");

    // The data: DATA_GIB GiB of 1 KiB rows.
    await sql(master, "drop table if exists bench_data");
    await sql(master, "create table bench_data (id bigint, payload text)");
    for (let gib = 0; gib < dataGib; gib += 0.125) {
        await sql(master, "insert into bench_data select i, md5(i::text) || repeat('y', 990) from generate_series(1, 120000) i");
    }
    const [{ bytes }] = await sql(master, "select pg_database_size('postgres') as bytes");
    const databaseGib = Number(bytes) / 1024 ** 3;

    let t0 = Date.now();
    await onBackupHost("pgha-backup full");
    const backupSeconds = seconds(t0);
    t0 = Date.now();
    const copy = await restore("--latest");
    const restoreSeconds = seconds(t0);
    await removeCopy(copy);

    // The archive's lag under a steady writer (archive_timeout bounds it under light traffic).
    const writer = new Writer(master, "bench_writes");
    writer.start();
    const lags: number[] = [];
    for (let i = 0; i < 3; i++) {
        lags.push(await archiveLag(master));
    }
    await writer.stop();

    // Throughput: archiving to the backup host and the old local copy on the primary, taken in turns (three
    // rounds, the medians), so that neither profits from what ran before it.
    const primary = String((await sql(master, "select pg_read_file('/etc/hostname') as node"))[0].node).trim();
    const rounds: { repository: Rate; local: Rate }[] = [];
    try {
        for (let round = 0; round < 3; round++) {
            const repository = await rate(master);
            await sql(master, `alter system set archive_command = 'mkdir -p ${LOCAL_ARCHIVE} && test ! -f ${LOCAL_ARCHIVE}/%f && cp %p ${LOCAL_ARCHIVE}/%f'`);
            await sql(master, "select pg_reload_conf()");
            const local = await rate(master);
            await sql(master, "alter system reset archive_command");
            await sql(master, "select pg_reload_conf()");
            rounds.push({ repository, local });
        }
    } finally {
        await sql(master, "alter system reset archive_command");
        await sql(master, "select pg_reload_conf()");
        await onNode(primary, `rm -rf ${LOCAL_ARCHIVE}`);
        // What went to the local copy is missing from the repository's archive: a full backup starts it afresh.
        await onBackupHost("pgha-backup full");
    }
    const medianOf = (side: "repository" | "local", key: keyof Rate) => median(rounds.map((r) => r[side][key]));
    const toRepository = { rowsPerSecond: medianOf("repository", "rowsPerSecond"), walMibPerSecond: medianOf("repository", "walMibPerSecond") };
    const toLocalCopy = { rowsPerSecond: medianOf("local", "rowsPerSecond"), walMibPerSecond: medianOf("local", "walMibPerSecond") };

    const result = {
        date: new Date().toISOString(), queueMaxMb: spec.backup?.queueMaxMb, primary,
        databaseGib: Number(databaseGib.toFixed(2)),
        fullBackupSecondsPerGib: Number((backupSeconds / databaseGib).toFixed(1)),
        restoreSecondsPerGib: Number((restoreSeconds / databaseGib).toFixed(1)),
        archiveLagSeconds: { median: median(lags), max: Math.max(...lags), samples: lags },
        throughput: { rounds, toRepository, toLocalCopy, rowsRatio: Number((toRepository.rowsPerSecond / toLocalCopy.rowsPerSecond).toFixed(3)), walRatio: Number((toRepository.walMibPerSecond / toLocalCopy.walMibPerSecond).toFixed(3)) },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    fs.writeFileSync(out, JSON.stringify(result, null, 2));
}

main()
    .catch((e) => {
        process.stderr.write(`bench:backup failed: ${e instanceof Error ? e.stack : String(e)}\n`);
        process.exitCode = 1;
    })
    .finally(async () => {
        if (process.env.PGHA_KEEP_LAB !== "1" && !process.argv.includes("--reuse")) {
            await lab("down");
        }
    });
