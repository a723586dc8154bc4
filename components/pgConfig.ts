/**
 * PostgreSQL settings and client authentication, rendered from the spec. Settings go to PGDATA/pgha.conf
 * (included from postgresql.conf, so the pgsql agent's own include lines survive); pg_hba.conf is ours.
 */
import { archiveCommand, archiveGetCommand } from "./backup";
import { ClusterSpec } from "./config";
import { PGPASS_FILE } from "./nodePaths";
import { ScriptVars } from "./hostPrep";

/** initdb options: data checksums (corruption detection, pg_rewind), scram for TCP, C collation (stable across OS upgrades). */
export const INITDB_OPTS = ["--data-checksums", "--auth-local=peer", "--auth-host=scram-sha-256", "--encoding=UTF8", "--no-locale"];

function literal(value: string): string {
    return `'${value.replace(/'/g, "''")}'`;
}

/**
 * Recovery, a standby that fell behind and pg_rewind --restore-target-wal fetch older WAL from the backup
 * repository (an old primary's segments from before the branch point may be recycled from pg_wal). Set in
 * pgha.conf and given to the pgsql agent, whose recovery.conf is included after pgha.conf and would otherwise
 * set it empty. "" without backups: nothing is archived, WAL comes from the primary only.
 */
export function restoreCommand(spec: ClusterSpec): string {
    return spec.backup ? archiveGetCommand() : "";
}

/**
 * WAL archiving: into the backup repository (pgBackRest, asynchronous and bounded on the primary), at least
 * every archiveTimeoutSeconds while anything is written (the archive's lag, the RPO of a restore, under light
 * traffic). Without backups nothing is archived, so that no node keeps WAL beyond wal_keep_size.
 */
function archiveSettings(spec: ClusterSpec): [string, string][] {
    if (!spec.backup) {
        return [["archive_mode", "off"]];
    }
    return [
        ["archive_mode", "on"],
        ["archive_command", literal(archiveCommand(spec.backup))],
        ["archive_timeout", literal(`${spec.backup.archiveTimeoutSeconds}s`)],
        ["restore_command", literal(restoreCommand(spec))],
    ];
}

/** The managed settings: the runbook's, plus what streaming replication under the pgsql agent needs. */
export function postgresqlSettings(spec: ClusterSpec): string {
    const pg = spec.postgresql;
    const settings: [string, string][] = [
        // The runbook's settings.
        ["listen_addresses", literal("*")],
        ["port", String(pg.port)],
        ["wal_keep_size", String(pg.walKeepSizeMb)],
        ["log_destination", literal("csvlog")],
        ["logging_collector", "on"],
        ...archiveSettings(spec),
        // Replication under the pgsql agent.
        ["wal_level", "replica"],
        ["hot_standby", "on"],
        ["max_wal_senders", "10"],
        ["max_replication_slots", "10"],
        ["hot_standby_feedback", "on"],
        // Pacemaker, not the postmaster, decides what happens after a crash.
        ["restart_after_crash", "off"],
        // pg_rewind of an old primary (checksums are on too).
        ["wal_log_hints", "on"],
        // A vanished standby holds up synchronous commits this long at most (PostgreSQL's default: 60 s).
        ["wal_sender_timeout", literal(`${pg.walSenderTimeoutSeconds}s`)],
        ["wal_receiver_timeout", literal(`${pg.walSenderTimeoutSeconds}s`)],
        ["password_encryption", literal("scram-sha-256")],
    ];
    const parameters = Object.entries(pg.parameters);
    return [
        "# Managed by pgha: changes here are overwritten.",
        ...settings.map(([k, v]) => `${k} = ${v}`),
        ...(parameters.length > 0 ? ["# pgha:postgresqlParameters", ...parameters.map(([k, v]) => `${k} = ${literal(v)}`)] : []),
    ].join("\n");
}

/** pg_hba.conf: peer locally, scram-sha-256 over TCP for the nodes (replication) and the allowed client networks only. */
export function pgHba(spec: ClusterSpec): string {
    const pg = spec.postgresql;
    const lines = [
        "# Managed by pgha: changes here are overwritten.",
        "# TYPE  DATABASE     USER       ADDRESS          METHOD",
        "local   all          all                         peer",
        "local   replication  all                         peer",
        "host    all          all        127.0.0.1/32     scram-sha-256",
        "host    all          all        ::1/128          scram-sha-256",
        ...spec.nodes.map((n) => `host    replication  ${pg.replicationUser}  ${n.ip}/32  scram-sha-256`),
        ...spec.nodes.map((n) => `host    all          all        ${n.ip}/32  scram-sha-256`),
        ...pg.allowedClientCidrs.map((cidr) => `host    all          all        ${cidr}  scram-sha-256`),
    ];
    return lines.join("\n");
}

/** Inputs shared by the database scripts (pglib.sh). */
export function pgScriptVars(spec: ClusterSpec): ScriptVars {
    const pg = spec.postgresql;
    return {
        BINDIR: pg.bindir,
        PGDATA: pg.pgdata,
        PG_PORT: pg.port,
        REPLICATION_USER: pg.replicationUser,
        PG_SETTINGS: postgresqlSettings(spec),
        PG_HBA: pgHba(spec),
        PGPASS_FILE: PGPASS_FILE,
    };
}
