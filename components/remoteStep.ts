import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ScriptVars } from "./hostPrep";
import { scriptCommand } from "./shell";

/** How the provisioning steps reach one node over SSH. */
export interface NodeConnection {
    readonly host: string;
    readonly user: string;
    readonly port: number;
    /** Secret. */
    readonly privateKey: pulumi.Output<string>;
}

export interface StepArgs {
    /** Script file under scripts/. */
    readonly script: string;
    /** Helper files under scripts/ loaded after lib.sh (e.g. pglib.sh). */
    readonly libraries?: readonly string[];
    /** Non-secret inputs, quoted into the command; an Output when they come from other steps (e.g. public keys). */
    readonly vars: ScriptVars | pulumi.Output<ScriptVars>;
    /** Secrets, one per line, on the script's standard input. */
    readonly secretLines?: pulumi.Input<string>[];
    /** Values whose change re-runs the step although its script and inputs are the same (e.g. a new VM). */
    readonly triggers?: pulumi.Input<unknown>[];
}

/**
 * One provisioning step: a script under scripts/ run over SSH. The step runs again when its command
 * (script or inputs), its stdin or its triggers change; every script is idempotent, so a re-run repairs
 * drift and changes nothing otherwise.
 */
export function remoteStep(name: string, connection: NodeConnection, args: StepArgs, opts: pulumi.CustomResourceOptions): command.remote.Command {
    const stdin = args.secretLines && args.secretLines.length > 0
        ? pulumi.secret(pulumi.all(args.secretLines).apply((lines) => lines.map((line) => `${line}\n`).join("")))
        : undefined;
    return new command.remote.Command(
        name,
        {
            connection: sshConnection(connection),
            create: pulumi.Output.isInstance(args.vars)
                ? args.vars.apply((vars) => scriptCommand(args.script, vars, connection.user, args.libraries))
                : scriptCommand(args.script, args.vars, connection.user, args.libraries),
            stdin,
            triggers: args.triggers,
            // The scripts do not read the previous run's output (the provider would pass it through AcceptEnv).
            addPreviousOutputInEnv: false,
        },
        opts,
    );
}

/**
 * A step that runs only when the stack is destroyed: its script is the command's delete and nothing runs on
 * create or update. Without triggers it is never replaced, so a replacement elsewhere cannot run it.
 */
export function remoteDestroyStep(name: string, connection: NodeConnection, args: { script: string; vars: ScriptVars }, opts: pulumi.CustomResourceOptions): command.remote.Command {
    return new command.remote.Command(name, {
        connection: sshConnection(connection),
        delete: scriptCommand(args.script, args.vars, connection.user),
        addPreviousOutputInEnv: false,
    }, opts);
}

function sshConnection(connection: NodeConnection): command.types.input.remote.ConnectionArgs {
    return { host: connection.host, user: connection.user, port: connection.port, privateKey: connection.privateKey };
}
