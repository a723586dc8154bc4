/**
 * What a change of pgha:postgresqlParameters does to the running cluster, in the words a reviewer reads in
 * `pulumi preview --diff`: the restart steps carry it, so the diff shows the old and the new plan. Which
 * parameters need a restart is PostgreSQL's own word: the postgresql step prints the parameters of context
 * `postmaster` of the installed server (`postgres --describe-config`), and preview reads that output from the
 * last up.
 */

import { PostgresqlSpec, RestartPolicy } from "./config";

/**
 * How a restart rolls, on the cluster as it is at the time (never the order of pgha:nodes), by pgha:restartPolicy.
 * Short: preview cuts a line of a diff after about 150 characters.
 */
const ROLL: Record<RestartPolicy, string> = {
    rolling: "restart, rolled: async standby, sync standby, then primary by one switchover (writes pause ~5 s)",
    "in-place": "restart, rolled: async standby, sync standby, then primary in place (writes stop while it restarts)",
};

/** A value as the plan shows it: long ones cut, so the plan's words stay in view. */
function shown(value: string): string {
    return value.length > 20 ? `${value.slice(0, 17)}...` : value;
}

/**
 * The build line of the plan: the PostgreSQL the nodes install, whose change (a new version or tarball) restarts
 * every node, rolled, since a running server keeps its old binaries.
 */
export function buildPlan(pg: Pick<PostgresqlSpec, "install" | "version" | "major" | "sourceSha256">, policy: RestartPolicy): string {
    const build = pg.install === "source" ? `PostgreSQL ${pg.version}${pg.sourceSha256 ? ` sha256 ${pg.sourceSha256.slice(0, 12)}` : " source"}` : `PostgreSQL ${pg.major} packages`;
    return `${build}, a new build: ${ROLL[policy]}`;
}

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
        const setting = `${name}=${shown(parameters[name])}`;
        if (!restartParameters) {
            return `${setting}: reload or restart, known once PostgreSQL is installed (a restart rolls)`;
        }
        return `${setting}: ${restartParameters.has(name) ? ROLL[policy] : "reload, no restart"}`;
    }).join("\n");
}
