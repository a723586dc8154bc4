/** The backup host's side of the end-to-end tests: its tools, restored copies, WAL volumes and archive bounds. */
import { sql } from "./drill";
import { BACKUP_HOST, NODES, onNode } from "./lab";

/** Runs a command on the backup host as root (`input` on its stdin); resolves with stdout. */
export function onBackupHost(command: string, input?: string): Promise<string> {
    return onNode(BACKUP_HOST, command, input);
}

/** A copy restored by pgha-restore: where it is and on which port it runs. */
export interface RestoredCopy {
    readonly dir: string;
    readonly port: number;
    readonly output: string;
}

/** Runs pgha-restore with `args` on the backup host and returns the copy it started. */
export async function restore(args: string): Promise<RestoredCopy> {
    const output = await onBackupHost(`pgha-restore ${args} 2>&1`);
    const match = /into (\S+), running read-only on port (\d+)/.exec(output);
    if (!match) {
        throw new Error(`pgha-restore ${args} printed no copy:\n${output}`);
    }
    return { dir: match[1], port: Number(match[2]), output };
}

/** Runs SQL on a restored copy; the rows as arrays of text. */
export async function copySql(copy: RestoredCopy, text: string): Promise<string[][]> {
    const out = await onBackupHost(`runuser -u postgres -- psql -X -At -F '|' -h /var/lib/pgha-restore -p ${copy.port} -d postgres -v ON_ERROR_STOP=1`, text);
    return out.split("\n").filter((l) => l !== "").map((l) => l.split("|"));
}

export async function removeCopy(copy: RestoredCopy): Promise<void> {
    await onBackupHost(`pgha-restore --stop ${copy.dir}`);
}

/** Writes about `mb` MiB of WAL on the primary (through vip-master) and removes what it wrote. */
export async function writeWal(masterConnectionString: string, mb: number): Promise<void> {
    await sql(masterConnectionString, "create table if not exists pgha_wal_filler (payload text)");
    // 1 KiB rows (a row's WAL is about its size), 64 MiB a batch.
    for (let written = 0; written < mb; written += 64) {
        await sql(masterConnectionString, "insert into pgha_wal_filler select md5(i::text) || repeat('x', 990) from generate_series(1, 60000) i");
        await sql(masterConnectionString, "truncate pgha_wal_filler");
    }
    await sql(masterConnectionString, "drop table pgha_wal_filler");
}

/** What a database node holds for the archive: WAL segments waiting to be archived, and pgBackRest's spool. */
export interface ArchiveFootprint {
    readonly node: string;
    readonly readySegments: number;
    readonly spoolMb: number;
    /** Directories of the old local archive (none may be left). */
    readonly localArchive: string;
}

export async function archiveFootprints(pgdata: string): Promise<ArchiveFootprint[]> {
    return Promise.all(NODES.map(async (node) => {
        const out = await onNode(node, [
            `echo ready=$(find ${pgdata}/pg_wal/archive_status -name '*.ready' | wc -l)`,
            "echo spool=$(du -sm /var/spool/pgbackrest | cut -f1)",
            "echo local=$(ls -d /var/lib/pgsql/archive 2>/dev/null)",
        ].join("; "));
        const value = (key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(out)?.[1] ?? "";
        return { node, readySegments: Number(value("ready")), spoolMb: Number(value("spool")), localArchive: value("local") };
    }));
}

/**
 * The segments in the repository's archive as runs of consecutive segments per timeline ("tli 11: 23-40, 60-7F"
 * in the segment numbers' hex), for the log of a test about gaps.
 */
export async function archivedRuns(repoPath: string, stanza: string): Promise<string> {
    const names = (await onBackupHost(`find ${repoPath}/archive/${stanza} -type f -name '[0-9A-F]*-*' -printf '%f\n'`)).split("\n").filter((n) => /^[0-9A-F]{24}-/.test(n));
    const byTimeline = new Map<string, number[]>();
    for (const name of names) {
        const segment = parseInt(name.slice(8, 16), 16) * 256 + parseInt(name.slice(16, 24), 16);
        byTimeline.set(name.slice(0, 8), [...(byTimeline.get(name.slice(0, 8)) ?? []), segment]);
    }
    return [...byTimeline.entries()].sort().map(([tli, segments]) => {
        const runs: [number, number][] = [];
        for (const n of segments.sort((a, b) => a - b)) {
            const last = runs[runs.length - 1];
            if (last && n === last[1] + 1) {
                last[1] = n;
            } else {
                runs.push([n, n]);
            }
        }
        return `tli ${tli}: ${runs.map(([a, b]) => (a === b ? a.toString(16) : `${a.toString(16)}-${b.toString(16)}`)).join(", ")}`;
    }).join("; ");
}

/** pgha-status on `node`: its output and exit code. */
export async function status(node: string): Promise<{ output: string; code: number }> {
    const output = await onNode(node, "pgha-status 2>&1; echo exit=$?");
    return { output, code: Number(/^exit=(\d+)$/m.exec(output)?.[1] ?? -1) };
}

/** The newest restore drill's row on the cluster (through vip-master). */
export async function newestDrill(masterConnectionString: string): Promise<{ id: number; ok: boolean; restore_seconds: string; rpo_seconds: string; detail: string }> {
    const rows = await sql(masterConnectionString, "select id, ok, restore_seconds, rpo_seconds, detail from pgha.restore_drills where finished_at is not null order by id desc limit 1");
    return rows[0];
}

/** What a restore to the moment before a mistaken DROP TABLE gave back. */
export interface DropTableRecovery {
    /** Rows acknowledged before the restore target. */
    readonly ackedBefore: number;
    /** Of those, the ones the restored copy lacks. */
    readonly missing: number[];
    /** Rows in the copy written after the target. */
    readonly writtenAfter: number;
    readonly restoreOutput: string;
}

/**
 * A writer commits rows (id, written at) through vip-master; the moment T is taken from the primary's clock, the
 * writer goes on for a while, then the table is dropped. pgha-restore --time T on the backup host must give back
 * every row acknowledged before T and none written after it.
 */
export async function dropTableRecovery(masterConnectionString: string, writerFactory: (table: string) => { start(): void; stop(): Promise<void>; acked: { id: number; at: number }[] }, pause: (ms: number) => Promise<void>): Promise<DropTableRecovery> {
    const table = "orders_dropped_by_mistake";
    await sql(masterConnectionString, `create table ${table} (id bigint primary key, written_at timestamptz not null default clock_timestamp())`);
    const writer = writerFactory(table);
    writer.start();
    await pause(3000);
    const [{ target, at }] = await sql(masterConnectionString, "select clock_timestamp()::text as target, extract(epoch from clock_timestamp()) * 1000 as at");
    await pause(2000);
    await writer.stop();
    await sql(masterConnectionString, `drop table ${table}`);
    const copy = await restore(`--time '${target}'`);
    try {
        const restored = new Set((await copySql(copy, `select id from ${table}`)).map(([id]) => Number(id)));
        const [[after]] = await copySql(copy, `select count(*) from ${table} where written_at > '${target}'`);
        const before = writer.acked.filter((a) => a.at < Number(at));
        return { ackedBefore: before.length, missing: before.filter((a) => !restored.has(a.id)).map((a) => a.id), writtenAfter: Number(after), restoreOutput: copy.output };
    } finally {
        await removeCopy(copy);
    }
}

/** The primary and the archive while the backup host is off, and after it is back. */
export interface RepositoryOutage {
    /** Rows acknowledged through vip-master while the backup host was off. */
    readonly ackedWhileOff: number;
    readonly footprintsWhileOff: ArchiveFootprint[];
    /** pgha-status on each node while the backup host was off, and once archiving had caught up. */
    readonly statusWhileOff: { output: string; code: number }[];
    readonly statusAfter: { output: string; code: number }[];
    /** From power on until no WAL waited on any node. */
    readonly catchUpSeconds: number;
}

/**
 * Powers the backup host off, keeps a writer committing and writes `walMb` MiB of WAL through the primary, waits
 * until pgha-status reports the repository gone (and, with `archiverFails`, the primary's archiving failing),
 * looks at the nodes, powers the host on and waits until archiving has caught up by itself.
 */
export async function repositoryOutage(
    masterConnectionString: string, pgdata: string, walMb: number, writer: { start(): void; stop(): Promise<void>; acked: unknown[] }, archiverFails: boolean,
    lab: (...args: string[]) => Promise<string>, waitFor: <T>(what: string, seconds: number, check: () => Promise<T | undefined>) => Promise<T>,
): Promise<RepositoryOutage> {
    await lab("poweroff", BACKUP_HOST);
    let poweredOn = false;
    try {
        writer.start();
        await writeWal(masterConnectionString, walMb);
        // Every node reports the repository gone; within the queue bound the primary's archiver fails too (past
        // it, pgBackRest drops the oldest WAL and reports it archived).
        const statusWhileOff = await waitFor("pgha-status to report the repository gone", 240, async () => {
            const all = await Promise.all(NODES.map(status));
            return all.every((s) => /repository: does not answer/.test(s.output) && (!archiverFails || /WAL archiving: FAILING/.test(s.output))) ? all : undefined;
        });
        const footprintsWhileOff = await archiveFootprints(pgdata);
        await writer.stop();
        const ackedWhileOff = writer.acked.length;
        await lab("poweron", BACKUP_HOST);
        poweredOn = true;
        const on = Date.now();
        await waitFor("archiving to catch up", 600, async () => {
            const footprints = await archiveFootprints(pgdata);
            const all = await Promise.all(NODES.map(status));
            return footprints.every((f) => f.readySegments === 0) && all.every((s) => /WAL archiving: ok/.test(s.output)) ? true : undefined;
        });
        const catchUpSeconds = (Date.now() - on) / 1000;
        return { ackedWhileOff, footprintsWhileOff, statusWhileOff, statusAfter: await Promise.all(NODES.map(status)), catchUpSeconds };
    } finally {
        if (!poweredOn) {
            await writer.stop().catch(() => undefined);
            await lab("poweron", BACKUP_HOST);
        }
    }
}
