/**
 * Pure rendering of the backups (pgBackRest): the configuration of the database nodes and of the repository
 * host, the backup host's tools and timers, and the SSH trust between them. The database nodes push WAL to
 * the repository host and fetch it back; the repository host takes backups from a standby and restores into
 * scratch directories of its own. Both sides reach each other over SSH as postgres, with keys made on the
 * machines themselves: only public keys pass through the program.
 */
import { BackupSpec, ClusterSpec } from "./config";
import { NODE_LIBRARY_DIR } from "./nodePaths";
import { ScriptVars } from "./hostPrep";
import { scriptText, shellQuote } from "./shell";

/** pgBackRest's configuration file on every machine (its default path). */
export const PGBACKREST_CONF = "/etc/pgbackrest/pgbackrest.conf";
/** The backup host's configuration for restores into its own scratch directories (pgha-restore). */
export const RESTORE_CONF = "/etc/pgbackrest/pgha-restore.conf";
/** The backup host's tools read their settings here. */
export const BACKUP_CONF_PATH = "/etc/pgha/backup.conf";
/** Where pgha-restore and the restore drill put their scratch copies. */
export const RESTORE_ROOT = "/var/lib/pgha-restore";
/** Port of a restored copy on the backup host (localhost only). */
export const RESTORE_PORT = 5499;
/** pgBackRest's spool (asynchronous archiving's status files) and logs. */
const SPOOL_PATH = "/var/spool/pgbackrest";
const LOG_PATH = "/var/log/pgbackrest";

/** The Unix socket directory of PostgreSQL as installed: the packages' /var/run/postgresql, a source build's /tmp. */
export function socketDirectory(spec: ClusterSpec): string {
    return spec.postgresql.install === "package" ? "/var/run/postgresql" : "/tmp";
}

/** archive_command: pgBackRest pushes each WAL segment asynchronously (through the spool) to the repository. */
export function archiveCommand(backup: BackupSpec): string {
    return `pgbackrest --stanza=${backup.stanza} archive-push "%p"`;
}

/**
 * restore_command: recovery, standbys that fell behind and pg_rewind fetch WAL from the repository through
 * scripts/archive-get.sh (installed by the node's tools step), which bounds what an unreachable repository
 * costs: without it a promotion waited on SSH's timeouts for every history file it probed (a failover took
 * 35 s instead of 7 with the backup host off).
 */
export function archiveGetCommand(): string {
    return `${NODE_LIBRARY_DIR}/archive-get.sh %f "%p"`;
}

function ini(sections: readonly [string, readonly [string, string | number][]][]): string {
    return ["# Managed by pgha: changes here are overwritten.", ...sections.flatMap(([name, options]) => [
        "",
        `[${name}]`,
        ...options.map(([key, value]) => `${key}=${value}`),
    ])].join("\n");
}

/** Options every machine shares: compression, logs, a bounded number of processes. */
function commonOptions(): [string, string | number][] {
    return [
        ["compress-type", "lz4"],
        ["log-path", LOG_PATH],
        ["log-level-file", "info"],
        ["process-max", 2],
    ];
}

/**
 * A database node's pgbackrest.conf: the repository is on the backup host; WAL is pushed asynchronously with
 * at most archivePushQueueMaxMb waiting, so that a dead repository never fills the primary's disk.
 */
export function nodePgbackrestConf(spec: ClusterSpec, backup: BackupSpec): string {
    const pg = spec.postgresql;
    return ini([
        ["global", [
            ["repo1-host", backup.host.ip],
            ["repo1-host-user", "postgres"],
            ["archive-async", "y"],
            ["spool-path", SPOOL_PATH],
            // Bytes: pgBackRest's size units are binary either way, this leaves no doubt.
            ["archive-push-queue-max", backup.queueMaxMb * 1024 * 1024],
            // archive_command waits this long for the asynchronous push: a shutdown (a switchover's demote)
            // tries the waiting WAL three times, so a dead repository may hold it up 15 s, not 3 minutes.
            ["archive-timeout", 5],
            ...commonOptions(),
        ]],
        [backup.stanza, [
            ["pg1-path", pg.pgdata],
            ["pg1-port", pg.port],
            ["pg1-socket-path", socketDirectory(spec)],
        ]],
    ]);
}

/**
 * The repository host's pgbackrest.conf: every node as a pg host, so that pgBackRest finds the primary itself
 * (after any failover) and takes backups from a standby.
 */
export function repoPgbackrestConf(spec: ClusterSpec, backup: BackupSpec): string {
    const pg = spec.postgresql;
    return ini([
        ["global", [
            ["repo1-path", backup.repoPath],
            ["repo1-retention-full", backup.retentionFull],
            ["start-fast", "y"],
            ["backup-standby", "y"],
            // pgbackrest check waits this long for a WAL segment to reach the repository.
            ["archive-timeout", 120],
            ...commonOptions(),
        ]],
        [backup.stanza, spec.nodes.flatMap((node, i): [string, string | number][] => [
            [`pg${i + 1}-host`, node.ip],
            [`pg${i + 1}-host-user`, "postgres"],
            [`pg${i + 1}-path`, pg.pgdata],
            [`pg${i + 1}-port`, pg.port],
            [`pg${i + 1}-socket-path`, socketDirectory(spec)],
        ])],
    ]);
}

/** The repository host's configuration for restores into a local scratch directory (given with --pg1-path). */
export function restorePgbackrestConf(spec: ClusterSpec, backup: BackupSpec): string {
    return ini([
        ["global", [["repo1-path", backup.repoPath], ...commonOptions()]],
        // pg1-path is always given: the scratch directory of the copy at hand.
        [backup.stanza, [["pg1-port", RESTORE_PORT], ["pg1-socket-path", RESTORE_ROOT]]],
    ]);
}

/** A systemd unit: sections of key=value lines. */
function unit(sections: Record<string, readonly string[]>): string {
    return ["# Managed by pgha: changes here are overwritten.", ...Object.entries(sections).flatMap(([name, lines]) => ["", `[${name}]`, ...lines])].join("\n");
}

export interface SystemdUnit {
    readonly name: string;
    readonly content: string;
}

/** A oneshot service that runs `command`, and its timer at `schedule`; catches up a run missed while off. */
function timedJob(name: string, description: string, command: string, schedule: string): SystemdUnit[] {
    return [
        { name: `${name}.service`, content: unit({ Unit: [`Description=${description}`], Service: ["Type=oneshot", `ExecStart=${command}`] }) },
        { name: `${name}.timer`, content: unit({ Unit: [`Description=${description} (schedule)`], Timer: [`OnCalendar=${schedule}`, "Persistent=true"], Install: ["WantedBy=timers.target"] }) },
    ];
}

/** The backup host's scheduled jobs: full and differential backups, restore drills. */
export function backupUnits(backup: BackupSpec): SystemdUnit[] {
    return [
        ...timedJob("pgha-backup-full", "pgha: full backup of the cluster", "/usr/local/sbin/pgha-backup full", backup.fullSchedule),
        ...(backup.diffSchedule === "" ? [] : timedJob("pgha-backup-diff", "pgha: differential backup of the cluster", "/usr/local/sbin/pgha-backup diff", backup.diffSchedule)),
        ...timedJob("pgha-restore-test", "pgha: restore drill of the newest backup", "/usr/local/sbin/pgha-restore-test", backup.restoreTestSchedule),
    ];
}

/** The scripts the backup host's tools step installs, and its entry points. */
const BACKUP_HOST_SCRIPTS = ["lib.sh", "backuplib.sh", "backup.sh", "restore.sh", "restore-test.sh", "archive-set-aside.sh"];
export const BACKUP_HOST_TOOLS: readonly { readonly path: string; readonly script: string }[] = [
    { path: "/usr/local/sbin/pgha-backup", script: "backup.sh" },
    { path: "/usr/local/sbin/pgha-restore", script: "restore.sh" },
    { path: "/usr/local/sbin/pgha-restore-test", script: "restore-test.sh" },
    { path: "/usr/local/sbin/pgha-archive-set-aside", script: "archive-set-aside.sh" },
];

/** /etc/pgha/backup.conf: shell assignments the backup host's tools load. */
export function backupConf(spec: ClusterSpec, backup: BackupSpec): string {
    const pg = spec.postgresql;
    const values: [string, string][] = [
        ["PGHA_STANZA", backup.stanza],
        ["PGHA_REPO_PATH", backup.repoPath],
        ["PGHA_NODES", spec.nodes.map((n) => `${n.name}=${n.ip}`).join(" ")],
        ["PGHA_BINDIR", pg.bindir],
        ["PGHA_PG_PORT", String(pg.port)],
        ["PGHA_SOCKET_DIR", socketDirectory(spec)],
        ["PGHA_RESTORE_CONF", RESTORE_CONF],
        ["PGHA_RESTORE_ROOT", RESTORE_ROOT],
        ["PGHA_RESTORE_PORT", String(RESTORE_PORT)],
    ];
    return ["# Written by pgha (the backup host's tools step): changes here are overwritten.", ...values.map(([k, v]) => `${k}=${shellQuote(v)}`)].join("\n");
}

/** Inputs of node-tools.sh on the backup host: its configuration, scripts and launchers. */
export function backupToolsVars(spec: ClusterSpec, backup: BackupSpec): ScriptVars {
    return {
        CLUSTER_CONF_PATH: BACKUP_CONF_PATH,
        CLUSTER_CONF: backupConf(spec, backup),
        LIBRARY_DIR: NODE_LIBRARY_DIR,
        SCRIPTS: BACKUP_HOST_SCRIPTS,
        ...Object.fromEntries(BACKUP_HOST_SCRIPTS.map((name, i) => [`SCRIPT_${i}`, scriptText(name)])),
        LAUNCHERS: BACKUP_HOST_TOOLS.map((t) => `${t.path}=${t.script}`),
    };
}

/** Inputs of backup-timers.sh: the units, each as NAME and content. */
export function backupTimersVars(backup: BackupSpec): ScriptVars {
    const units = backupUnits(backup);
    return {
        UNITS: units.map((u) => u.name),
        ...Object.fromEntries(units.map((u, i) => [`UNIT_${i}`, u.content])),
    };
}

/** What one machine's SSH identity step printed: postgres's public key and the machine's host key. */
export interface SshIdentity {
    readonly userKey: string;
    readonly hostKey: string;
}

/**
 * Parses the output of ssh-identity.sh (`user-key ...` and `host-key ...` lines). A step that has not run (a
 * targeted update leaves it out) has no output: its identity is empty, and pgbackrest-setup.sh refuses empty keys.
 */
export function parseSshIdentity(stdout: string | undefined): SshIdentity {
    if (!stdout) {
        return { userKey: "", hostKey: "" };
    }
    const line = (kind: string) => {
        const match = new RegExp(`^${kind} (ssh-ed25519 [A-Za-z0-9+/=]+)`, "m").exec(stdout);
        if (!match) {
            throw new Error(`ssh-identity.sh printed no ${kind} line:\n${stdout}`);
        }
        return match[1];
    };
    return { userKey: line("user-key"), hostKey: line("host-key") };
}

/**
 * Inputs of pgbackrest-setup.sh on one machine: its pgbackrest.conf, the postgres keys allowed to log in to
 * it (the peers'), the host keys it trusts (the peers', by address) and the directories pgBackRest needs; the
 * backup host adds its restore configuration (RESTORE_CONF_PATH, RESTORE_CONF).
 */
export function pgbackrestSetupVars(conf: string, peers: readonly { ip: string; identity: SshIdentity }[], dirs: readonly string[]): ScriptVars {
    return {
        PGBACKREST_CONF_PATH: PGBACKREST_CONF,
        PGBACKREST_CONF: conf,
        AUTHORIZED_KEYS: peers.map((p) => `${p.identity.userKey} pgha-backup@${p.ip}`).join("\n"),
        KNOWN_HOSTS: peers.map((p) => `${p.ip} ${p.identity.hostKey}`).join("\n"),
        PEERS: peers.map((p) => p.ip),
        DIRS: [SPOOL_PATH, LOG_PATH, ...dirs],
        RESTORE_CONF_PATH: "",
        RESTORE_CONF: "",
    };
}

/** Directories of the repository host besides the spool and logs: the repository and the scratch root. */
export function repoDirs(backup: BackupSpec): string[] {
    return [backup.repoPath, RESTORE_ROOT];
}
