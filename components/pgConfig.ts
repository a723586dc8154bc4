/**
 * PostgreSQL settings and client authentication, rendered from the spec. Settings go to PGDATA/pgha.conf
 * (included from postgresql.conf, so the pgsql agent's own include lines survive); pg_hba.conf is ours.
 */
import { ClusterSpec } from "./config";
import { PGPASS_FILE } from "./nodePaths";
import { ScriptVars } from "./hostPrep";

/** initdb options: data checksums (corruption detection, pg_rewind), scram for TCP, C collation (stable across OS upgrades). */
export const INITDB_OPTS = ["--data-checksums", "--auth-local=peer", "--auth-host=scram-sha-256", "--encoding=UTF8", "--no-locale"];

function literal(value: string): string {
    return `'${value.replace(/'/g, "''")}'`;
}

/**
 * Recovery and pg_rewind --restore-target-wal find the node's own older WAL in its archive (an old primary's
 * segments from before the branch point may be recycled from pg_wal). Set in pgha.conf and given to the pgsql
 * agent, whose recovery.conf is included after pgha.conf and would otherwise set it empty.
 */
export function restoreCommand(spec: ClusterSpec): string {
    return `cp ${spec.postgresql.archiveDir}/%f %p`;
}

/** The managed settings: the runbook's, plus what streaming replication under the pgsql agent needs. */
export function postgresqlSettings(spec: ClusterSpec): string {
    const pg = spec.postgresql;
    const archive = `${pg.archiveDir}/%f`;
    const settings: [string, string][] = [
        // The runbook's settings.
        ["listen_addresses", literal("*")],
        ["port", String(pg.port)],
        ["wal_keep_size", String(pg.walKeepSizeMb)],
        ["log_destination", literal("csvlog")],
        ["logging_collector", "on"],
        ["archive_mode", "on"],
        // Never overwrite an archived segment: a second copy under the same name fails loudly instead.
        ["archive_command", literal(`test ! -f ${archive} && cp %p ${archive}`)],
        ["restore_command", literal(restoreCommand(spec))],
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
    return ["# Managed by pgha: changes here are overwritten.", ...settings.map(([k, v]) => `${k} = ${v}`)].join("\n");
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
