/**
 * What a change of pgha:postgresqlParameters does to the running cluster, in the words a reviewer reads in
 * `pulumi preview --diff`: the restart steps carry it, so the diff shows the old and the new plan. Which
 * parameters need a restart is PostgreSQL's own word: the postgresql step prints the parameters of context
 * `postmaster` of the installed server (`postgres --describe-config`), and preview reads that output from the
 * last up.
 */

/** The `restart-parameters ...` line of the postgresql step's output: the parameters that need a restart. */
export function parseRestartParameters(stdout: string | undefined): ReadonlySet<string> | undefined {
    const line = /^restart-parameters (.*)$/m.exec(stdout ?? "");
    return line ? new Set(line[1].split(" ").filter((name) => name !== "")) : undefined;
}

/**
 * One line per parameter set through pgha:postgresqlParameters: reload or rolling restart. `restartParameters`
 * undefined: not known yet (a host not prepared before), said so.
 */
export function restartPlan(parameters: Readonly<Record<string, string>>, restartParameters: ReadonlySet<string> | undefined): string {
    const names = Object.keys(parameters).sort();
    if (names.length === 0) {
        return "no pgha:postgresqlParameters";
    }
    if (!restartParameters) {
        return `${names.join(", ")}: whether a restart is needed is known once PostgreSQL is installed; a restart, if needed, rolls`;
    }
    const restart = names.filter((name) => restartParameters.has(name));
    const reload = names.filter((name) => !restartParameters.has(name));
    return [
        ...(reload.length > 0 ? [`${reload.map((n) => `${n}=${parameters[n]}`).join(", ")}: reload, no restart`] : []),
        ...(restart.length > 0
            ? [`${restart.map((n) => `${n}=${parameters[n]}`).join(", ")}: need a restart; a change of these rolls through the cluster: the async standby, then the sync standby, then the primary by one switchover (writes pause once, about 4 s)`]
            : []),
    ].join("; ");
}
