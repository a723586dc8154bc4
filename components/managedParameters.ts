/**
 * PostgreSQL parameters that pgha sets itself (components/pgConfig.ts), or that the pgsql agent writes, and what
 * controls each: pgha:postgresqlParameters refuses them with this reason. pgConfig.test.ts checks that every
 * parameter pgha.conf sets is here.
 */
const REPLICATION = "streaming replication under the pgsql agent needs it as pgha sets it";
const AGENT = "the pgsql agent sets it on each node for its role";
const PATHS = "pgha's tools and the pgsql agent find the server by it";
const BACKUPS = "WAL archiving follows pgha:backupHost and pgha:backups";
const RESTORE = "a restore sets it for its own run (pgha-restore, pgha-restore-cluster); in the cluster's settings it would stop every standby's recovery";

export const MANAGED_PARAMETERS: Readonly<Record<string, string>> = {
    listen_addresses: "the VIPs move between the nodes, so the server listens on every address; pgha:allowedClientCidrs limits the clients",
    port: "set by pgha:postgresqlPort",
    wal_keep_size: "set by pgha:walKeepSizeMb",
    log_destination: "pgha keeps the runbook's csvlog",
    logging_collector: "pgha keeps the runbook's csvlog",
    archive_mode: BACKUPS,
    archive_command: BACKUPS,
    archive_library: BACKUPS,
    archive_timeout: "set by pgha:archiveTimeoutSeconds",
    restore_command: BACKUPS,
    wal_level: REPLICATION,
    hot_standby: REPLICATION,
    max_wal_senders: REPLICATION,
    max_replication_slots: REPLICATION,
    hot_standby_feedback: REPLICATION,
    restart_after_crash: "Pacemaker, not the postmaster, decides what happens after a crash",
    wal_log_hints: "pg_rewind of an old primary needs it",
    wal_sender_timeout: "set by pgha:walSenderTimeoutSeconds",
    wal_receiver_timeout: "set by pgha:walSenderTimeoutSeconds",
    password_encryption: "pg_hba.conf asks for scram-sha-256",
    primary_conninfo: AGENT,
    primary_slot_name: AGENT,
    recovery_target_timeline: AGENT,
    synchronous_standby_names: `${AGENT} (pgha:repMode)`,
    promote_trigger_file: AGENT,
    ...Object.fromEntries(["", "_action", "_inclusive", "_lsn", "_name", "_time", "_xid"].map((suffix) => [`recovery_target${suffix}`, RESTORE])),
    data_directory: "set by pgha:pgdata",
    config_file: PATHS,
    hba_file: PATHS,
    ident_file: PATHS,
    unix_socket_directories: PATHS,
    external_pid_file: PATHS,
};
