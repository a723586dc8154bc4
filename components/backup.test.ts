import { backupConf, backupUnits, nodePgbackrestConf, parseSshIdentity, pgbackrestSetupVars, repoPgbackrestConf, restorePgbackrestConf } from "./backup";
import { BackupSpec, parseConfig } from "./config";
import { hostsBlock, debianPackages } from "./hostPrep";
import { pgsqlCommands } from "./cib";
import { postgresqlSettings } from "./pgConfig";
import { rawConfig } from "../tests/fixtures";

const lab = parseConfig(rawConfig("lab"));
const backup = lab.backup as BackupSpec;
const withoutBackups = parseConfig(rawConfig("lab", { backupHost: "", backupHostIp: "" }));

/** key=value lines of an ini section. */
function section(ini: string, name: string): Record<string, string> {
    const body = ini.split(/^\[/m).find((s) => s.startsWith(`${name}]`)) ?? "";
    return Object.fromEntries(body.split("\n").slice(1).filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

describe("pgBackRest's configuration per role", () => {
    test("a database node pushes to the backup host asynchronously, at most archivePushQueueMaxMb waiting", () => {
        const conf = nodePgbackrestConf(lab, backup);
        expect(section(conf, "global")).toMatchObject({
            "repo1-host": "10.250.77.16", "repo1-host-user": "postgres", "archive-async": "y", "spool-path": "/var/spool/pgbackrest",
            "archive-push-queue-max": String(256 * 1024 * 1024),
        });
        expect(section(conf, "pgcluster")).toEqual({ "pg1-path": "/var/lib/pgsql/data", "pg1-port": "5432", "pg1-socket-path": "/var/run/postgresql" });
        expect(conf).not.toMatch(/repo1-path|pg2-/);
    });

    test("the backup host knows every node, takes backups from a standby and keeps the configured full backups", () => {
        const stanza = section(repoPgbackrestConf(lab, backup), "pgcluster");
        lab.nodes.forEach((node, i) => {
            expect(stanza).toMatchObject({ [`pg${i + 1}-host`]: node.ip, [`pg${i + 1}-host-user`]: "postgres", [`pg${i + 1}-path`]: "/var/lib/pgsql/data" });
        });
        expect(section(repoPgbackrestConf(lab, backup), "global")).toMatchObject({ "repo1-path": "/var/lib/pgbackrest", "repo1-retention-full": "2", "backup-standby": "y", "start-fast": "y" });
    });

    test("restores on the backup host use its own repository and a scratch directory, never a node", () => {
        const conf = restorePgbackrestConf(lab, backup);
        expect(section(conf, "global")["repo1-path"]).toBe("/var/lib/pgbackrest");
        expect(conf).not.toMatch(/-host=/);
    });

    test("a source build's socket is PostgreSQL's default /tmp", () => {
        const source = parseConfig(rawConfig("dev"));
        expect(section(nodePgbackrestConf(source, source.backup as BackupSpec), "pgcluster")["pg1-socket-path"]).toBe("/tmp");
    });
});

describe("WAL archiving and restore settings", () => {
    test("with backups: archive-push to the repository, archive-get everywhere WAL is restored, a bounded archive lag", () => {
        const settings = postgresqlSettings(lab);
        expect(settings).toContain("archive_mode = on");
        expect(settings).toContain(`archive_command = 'pgbackrest --stanza=pgcluster archive-push "%p"'`);
        expect(settings).toContain(`restore_command = '/usr/local/lib/pgha/archive-get.sh %f "%p"'`);
        expect(settings).toContain("archive_timeout = '60s'");
        expect(pgsqlCommands(lab, "0.10+")[0]).toContain(`restore_command=/usr/local/lib/pgha/archive-get.sh %f "%p"`);
    });

    test("without backups nothing is archived and nothing restored: no WAL outgrows wal_keep_size", () => {
        const settings = postgresqlSettings(withoutBackups);
        expect(settings).toContain("archive_mode = off");
        expect(settings).not.toMatch(/archive_command|restore_command/);
        expect(pgsqlCommands(withoutBackups, "0.10+")[0].some((word) => word.startsWith("restore_command"))).toBe(false);
    });

    test("pgBackRest is installed on the nodes only with backups; the backup host is in /etc/hosts", () => {
        expect(debianPackages(lab)).toContain("pgbackrest");
        expect(debianPackages(withoutBackups)).not.toContain("pgbackrest");
        expect(debianPackages(lab, "backup")).toEqual(["pgbackrest", "logrotate", "postgresql-15", "postgresql-contrib"]);
        expect(hostsBlock(lab)).toContain("10.250.77.16 pgbackup");
        expect(hostsBlock(withoutBackups)).not.toContain("pgbackup");
    });
});

describe("the backup host's timers and tools", () => {
    test("a full and a differential backup and a restore drill, each a oneshot service with a persistent timer", () => {
        const units = backupUnits(backup);
        expect(units.map((u) => u.name)).toEqual([
            "pgha-backup-full.service", "pgha-backup-full.timer", "pgha-backup-diff.service", "pgha-backup-diff.timer", "pgha-restore-test.service", "pgha-restore-test.timer",
        ]);
        const timer = units.find((u) => u.name === "pgha-backup-full.timer")?.content;
        expect(timer).toMatch(/^OnCalendar=Sun \*-\*-\* 01:00:00$/m);
        expect(timer).toMatch(/^Persistent=true$/m);
        expect(units.find((u) => u.name === "pgha-backup-diff.service")?.content).toMatch(/^ExecStart=\/usr\/local\/sbin\/pgha-backup diff$/m);
    });

    test("no differential backups: no such timer", () => {
        const noDiff = parseConfig(rawConfig("lab", { backupDiffSchedule: "" })).backup as BackupSpec;
        expect(backupUnits(noDiff).map((u) => u.name)).not.toContain("pgha-backup-diff.timer");
    });

    test("the tools' configuration names the stanza and every node", () => {
        expect(backupConf(lab, backup)).toContain("PGHA_NODES='pglab1=10.250.77.11 pglab2=10.250.77.12 pglab3=10.250.77.13'");
        expect(backupConf(lab, backup)).toContain("PGHA_STANZA='pgcluster'");
        expect(backupConf(lab, backup)).toContain("PGHA_REPO_PATH='/var/lib/pgbackrest'");
    });
});

describe("SSH trust between the machines", () => {
    const identity = "pgha[ssh-identity]: done, 0 change(s)\nuser-key ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIUser\nhost-key ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost\n";

    test("a machine's identity is its postgres key and its host key", () => {
        expect(parseSshIdentity(identity)).toEqual({ userKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIUser", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost" });
        expect(() => parseSshIdentity("user-key ssh-ed25519 AAAA\n")).toThrow(/no host-key line/);
        expect(parseSshIdentity(undefined)).toEqual({ userKey: "", hostKey: "" });
    });

    test("the peers' keys may log in; their host keys are known by address", () => {
        const vars = pgbackrestSetupVars("conf", [{ ip: "10.250.77.11", identity: parseSshIdentity(identity) }], ["/var/lib/pgbackrest"]);
        expect(vars.AUTHORIZED_KEYS).toBe("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIUser pgha-backup@10.250.77.11");
        expect(vars.KNOWN_HOSTS).toBe("10.250.77.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost");
        expect(vars.DIRS).toEqual(["/var/spool/pgbackrest", "/var/log/pgbackrest", "/var/lib/pgbackrest"]);
    });
});
