/**
 * What a change of pgha:postgresqlParameters does to the running cluster, in the words a reviewer reads in
 * `pulumi preview --diff`: the restart steps carry it, so the diff shows the old and the new plan. Which
 * parameters need a restart is PostgreSQL's own word: the postgresql step prints the parameters of context
 * `postmaster` of the installed server (`postgres --describe-config`), and preview reads that output from the
 * last up.
 */

import { RestartPolicy } from "./config";

/** The order of a restart on the cluster as it is at the time (never the order of pgha:nodes), by pgha:restartPolicy. */
const ROLL: Record<RestartPolicy, string> = {
    rolling: "the async standby, then the sync standby, each waited for until it streams again, then the primary by one switchover to a restarted standby (writes pause once, for the switchover, about 4 s; the primary moves)",
    "in-place": "the async standby, then the sync standby, each waited for until it streams again, then the primary restarted where it is (pgha:restartPolicy in-place: writes stop for its restart, a few seconds; no switchover)",
};

/** The `restart-parameters ...` line of the postgresql step's output: the parameters that need a restart. */
export function parseRestartParameters(stdout: string | undefined): ReadonlySet<string> | undefined {
    const line = /^restart-parameters (.*)$/m.exec(stdout ?? "");
    return line ? new Set(line[1].split(" ").filter((name) => name !== "")) : undefined;
}

/**
 * One line per parameter set through pgha:postgresqlParameters, sorted: reload, or a restart and how it rolls. One
 * line each, so that a preview's diff shows exactly the lines of the parameters that change. `restartParameters`
 * undefined: not known yet (a host not prepared before), said so.
 */
export function restartPlan(parameters: Readonly<Record<string, string>>, restartParameters: ReadonlySet<string> | undefined, policy: RestartPolicy): string {
    const names = Object.keys(parameters).sort();
    if (names.length === 0) {
        return "no pgha:postgresqlParameters";
    }
    return names.map((name) => {
        const setting = `${name}=${parameters[name]}`;
        if (!restartParameters) {
            return `${setting}: whether a change needs a restart is known once PostgreSQL is installed; a restart, if needed, rolls`;
        }
        return restartParameters.has(name) ? `${setting}: a change needs a restart, which rolls: ${ROLL[policy]}` : `${setting}: reload, no restart`;
    }).join("\n");
}
