import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import {
    backupTimersVars, backupToolsVars, nodePgbackrestConf, parseSshIdentity, pgbackrestSetupVars, repoDirs, repoPgbackrestConf,
    RESTORE_CONF, restorePgbackrestConf, SshIdentity,
} from "./backup";
import { BackupSpec, ClusterSpec } from "./config";
import { osPrepVars, postgresqlVars, ScriptVars } from "./hostPrep";
import { PgNode } from "./pgNode";
import { NodeConnection, remoteDestroyStep, remoteStep } from "./remoteStep";
import { createVm, VspherePlacement } from "./vsphereVm";

export interface BackupRepositoryArgs {
    /** The validated cluster specification. */
    readonly spec: ClusterSpec;
    /** Its backups (spec.backup). */
    readonly backup: BackupSpec;
    /** The prepared cluster nodes, in spec order. */
    readonly nodes: readonly PgNode[];
    /** vSphere lookups shared with the nodes' VMs; required in vsphere host mode. */
    readonly placement?: VspherePlacement;
    /** Secret SSH private key for the provisioning steps. */
    readonly sshPrivateKey: pulumi.Output<string>;
    /** The steps after which the cluster runs with its settings (the stanza is made from the running primary). */
    readonly clusterReady: pulumi.Resource[];
}

/**
 * The backup repository host and pgBackRest on every machine. The host (a VM cloned like the nodes in vsphere
 * mode, the host at its address in existing mode) gets pgBackRest and PostgreSQL's binaries (for restores),
 * the tools pgha-backup, pgha-restore and pgha-restore-test, and the timers of backups and restore drills.
 * Each machine makes postgres an SSH key of its own; the program passes only the public keys and host keys
 * between them. Once the cluster runs, the stanza is created and the first full backup taken and restored.
 */
export class BackupRepository extends pulumi.ComponentResource {
    /** The repository host's name and address. */
    public readonly host: { name: string; ip: string };
    public readonly stanza: string;
    /** The stanza step: the repository holds a verified backup. */
    public readonly ready: command.remote.Command;

    constructor(name: string, args: BackupRepositoryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pgha:index:BackupRepository", name, {}, opts);
        const { spec, backup, nodes } = args;
        const host = backup.host;
        this.host = { name: host.name, ip: host.ip };
        this.stanza = backup.stanza;

        let hostDependency: pulumi.Resource[] = [];
        let hostIdentity: pulumi.Output<string> = pulumi.output(host.ip);
        if (spec.hostMode === "vsphere") {
            if (!args.placement) {
                throw new Error("BackupRepository: vsphere host mode needs the placement lookups");
            }
            const vm = createVm(spec, host, args.placement, { parent: this });
            hostDependency = [vm];
            hostIdentity = vm.id;
        }
        const connection: NodeConnection = { host: host.ip, user: spec.ssh.user, port: spec.ssh.port, privateKey: args.sshPrivateKey };
        const triggers = [hostIdentity];
        const step = (suffix: string, script: string, vars: ScriptVars | pulumi.Output<ScriptVars>, dependsOn: pulumi.Resource[], libraries: string[] = []) =>
            remoteStep(`${host.name}-${suffix}`, connection, { script, vars, triggers, libraries }, { parent: this, dependsOn });

        const osPrep = step("os-prep", "os-prep.sh", osPrepVars(spec, host.name, "backup"), hostDependency);
        const postgresql = step("postgresql", "postgresql.sh", postgresqlVars(spec, "backup"), [osPrep]);
        const repoIdentity = step("ssh-identity", "ssh-identity.sh", {}, [postgresql]);
        const repoKeys = repoIdentity.stdout.apply(parseSshIdentity);

        // Each node: its own identity, then its pgBackRest trusting the repository host.
        const nodeIdentities = nodes.map((node, i) => {
            const nodeName = spec.nodes[i].name;
            const identity = remoteStep(`${nodeName}-ssh-identity`, node.connection, { script: "ssh-identity.sh", vars: {}, triggers: [node.hostIdentity] }, { parent: this, dependsOn: [node.ready] });
            return { node, name: nodeName, ip: spec.nodes[i].ip, identity: identity.stdout.apply(parseSshIdentity), step: identity };
        });
        const nodeSetups = nodeIdentities.map(({ node, name: nodeName, step: identityStep }) => remoteStep(`${nodeName}-pgbackrest`, node.connection, {
            script: "pgbackrest-setup.sh",
            vars: repoKeys.apply((identity): ScriptVars => pgbackrestSetupVars(nodePgbackrestConf(spec, backup), [{ ip: host.ip, identity }], [])),
            triggers: [node.hostIdentity],
        }, { parent: this, dependsOn: [identityStep, repoIdentity] }));

        const peers = pulumi.all(nodeIdentities.map(({ ip, identity }) => identity.apply((id: SshIdentity) => ({ ip, identity: id }))));
        const repoSetup = step("pgbackrest", "pgbackrest-setup.sh", peers.apply((p): ScriptVars => ({
            ...pgbackrestSetupVars(repoPgbackrestConf(spec, backup), p, repoDirs(backup)),
            RESTORE_CONF_PATH: RESTORE_CONF,
            RESTORE_CONF: restorePgbackrestConf(spec, backup),
        })), [repoIdentity, ...nodeIdentities.map((n) => n.step)]);
        const tools = step("tools", "node-tools.sh", backupToolsVars(spec, backup), [repoSetup]);
        const timers = step("timers", "backup-timers.sh", backupTimersVars(backup), [tools]);
        // An existing host outlives the stack: on destroy its timers stop (their cluster is gone): the timers
        // step with no unit wanted removes every pgha unit. The repository stays (a VM is protected instead,
        // pgha:protect).
        if (spec.hostMode === "existing") {
            remoteDestroyStep(`${host.name}-teardown`, connection, { script: "backup-timers.sh", vars: { UNITS: [] } }, { parent: this, dependsOn: [timers] });
        }
        this.ready = step("stanza", "backup-stanza.sh", {}, [timers, ...nodeSetups, ...args.clusterReady], ["backuplib.sh"]);
        this.registerOutputs({ host: this.host, stanza: this.stanza });
    }
}
