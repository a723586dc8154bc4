/**
 * Pacemaker's own scheduler on the configuration the program renders: a CIB built with the real pcs,
 * node attributes as the pgsql agent sets them, and crm_simulate transitions.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ClusterSpec } from "../components/config";
import { buildCib, cibEnv, CibFile } from "./pcsCib";

/** What the pgsql agent records on a node: status, promotion score, data status. */
export interface PgsqlAttributes {
    readonly status?: string;
    readonly score?: string;
    readonly dataStatus?: string;
}

/** A node's attributes as the agent leaves them in each role. */
export const ROLE_ATTRIBUTES: Record<string, PgsqlAttributes> = {
    PRI: { status: "PRI", score: "1000", dataStatus: "LATEST" },
    "HS:sync": { status: "HS:sync", score: "100", dataStatus: "STREAMING|SYNC" },
    "HS:async": { status: "HS:async", score: "-INFINITY", dataStatus: "STREAMING|ASYNC" },
};

export interface Placement {
    /** Node of the promoted pgsql instance, if any. */
    readonly promoted?: string;
    readonly vipMaster?: string;
    readonly vipSlave?: string;
    /** Nodes where any pgsql instance runs. */
    readonly pgsqlRunning: string[];
}

export interface Transition {
    /** The "Transition Summary" lines of crm_simulate. */
    readonly summary: string[];
    readonly after: Placement;
    /** The resulting cluster state, for the next step of a scenario. */
    readonly stateFile: string;
    /** Whether graph action `before` must complete before `after` (transitively). */
    orderedBefore(before: GraphAction, after: GraphAction): boolean;
    /** The fencing actions of the transition: whom they target and how long the fencer waits first when its partition lacks a majority. */
    readonly fencing: { target: string; priorityDelaySeconds: number }[];
}

export interface GraphAction {
    readonly operation: string;
    readonly node?: string;
    readonly resource?: string;
}

/** A simulated cluster: a working directory with the rendered configuration and successive states. */
export class SimulatedCluster {
    private step = 0;
    private readonly cib: CibFile;

    /** Builds the configuration with nodes (one per spec node) from `lines` (default: the rendered 0.10+ commands). */
    constructor(readonly spec: ClusterSpec, lines?: string) {
        this.cib = buildCib(spec, true, lines);
    }

    get configFile(): string {
        return this.cib.file;
    }

    cleanup(): void {
        this.cib.cleanup();
    }

    private next(name: string): string {
        this.step += 1;
        return path.join(this.cib.dir, `${String(this.step).padStart(2, "0")}-${name}.xml`);
    }

    /** All nodes online with quorum and no resource state yet. */
    boot(): string {
        const out = this.next("boot");
        crmSimulate(["-x", this.cib.file, ...this.spec.nodes.flatMap((n) => ["-u", n.name]), "-q", "true", "-O", out]);
        return out;
    }

    /** A copy of `state` with the given agent attributes set (undefined values deleted). */
    withAttributes(state: string, attributes: Record<string, PgsqlAttributes>): string {
        const out = this.next("attrs");
        fs.copyFileSync(state, out);
        for (const [node, attrs] of Object.entries(attributes)) {
            setAttribute(out, node, "pgsql-status", attrs.status);
            setAttribute(out, node, "master-pgsql", attrs.score);
            setAttribute(out, node, "pgsql-data-status", attrs.dataStatus);
        }
        return out;
    }

    /**
     * A copy of `state` in which `node` has rebooted: its resource history is gone, as when a node rejoins
     * (the cluster re-probes it) or after `pcs resource cleanup` on it.
     */
    rebooted(state: string, node: string): string {
        const out = this.next("reboot");
        fs.copyFileSync(state, out);
        execFileSync("cibadmin", ["--delete-all", "--force", "--xpath", `//node_state[@uname='${node}']/lrm/lrm_resources/lrm_resource`],
            { env: cibEnv(out), stdio: ["ignore", "pipe", "pipe"] });
        return out;
    }

    /** Runs the scheduler on `state` with crm_simulate options (-f node, -i op@node=rc, -u node, -q false ...) and executes the transition. */
    simulate(state: string, options: string[] = []): Transition {
        const out = this.next("sim");
        const graph = `${out}.graph`;
        const text = crmSimulate(["-x", state, ...options, "-S", "-O", out, "-G", graph]);
        const summary = section(text, "Transition Summary:");
        const xml = fs.readFileSync(graph, "utf8");
        const synapses = parseGraph(xml);
        return {
            summary,
            after: placement(out),
            stateFile: out,
            orderedBefore: (before, after) => orderedBefore(synapses, before, after),
            fencing: fencingActions(xml),
        };
    }

    /**
     * A copy of `state` in which the controller has recorded a failed start of pgsql on `node` as fatal
     * (start-failure-is-fatal: fail-count INFINITY), which crm_simulate's op-fail counts only as 1.
     */
    withFatalStartFailure(state: string, node: string): string {
        const out = this.next("fatal-start");
        fs.copyFileSync(state, out);
        setAttribute(out, node, "fail-count-pgsql#start_0", "INFINITY");
        return out;
    }

    /** Runs further transitions until the scheduler has nothing left to do (at most `rounds`). */
    settle(transition: Transition, rounds = 3): Transition {
        let current = transition;
        for (let i = 0; i < rounds && current.summary.length > 0; i++) {
            current = this.simulate(current.stateFile);
        }
        return current;
    }

    /** The steady state of a healthy cluster: boot, the agent's attributes per role, then the first transition. */
    steady(roles: Record<string, keyof typeof ROLE_ATTRIBUTES>): Transition {
        const attributes = Object.fromEntries(Object.entries(roles).map(([node, role]) => [node, ROLE_ATTRIBUTES[role]]));
        return this.simulate(this.withAttributes(this.boot(), attributes));
    }
}

function crmSimulate(args: string[]): string {
    return execFileSync("crm_simulate", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function setAttribute(file: string, node: string, name: string, value: string | undefined): void {
    const args = value === undefined ? ["-N", node, "-n", name, "-l", "reboot", "-D"] : ["-N", node, "-n", name, "-l", "reboot", "-v", value];
    execFileSync("crm_attribute", args, { env: cibEnv(file), stdio: ["ignore", "pipe", "pipe"] });
}

function section(text: string, heading: string): string[] {
    const lines = text.split("\n");
    const start = lines.findIndex((l) => l.trim() === heading);
    if (start < 0) {
        return [];
    }
    const out: string[] = [];
    for (const line of lines.slice(start + 1)) {
        if (!line.startsWith("  *")) {
            break;
        }
        out.push(line.trim().replace(/^\* /, "").replace(/\s+/g, " "));
    }
    return out;
}

/** Where a resource runs in a state file (crm_resource --locate), with whether each instance is promoted. */
export function locate(state: string, resource: string): { node: string; promoted: boolean }[] {
    let text = "";
    try {
        text = execFileSync("crm_resource", ["--locate", "-r", resource], { env: cibEnv(state), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch {
        return [];
    }
    return [...text.matchAll(/is running on: (\S+)( Promoted)?/g)].map((m) => ({ node: m[1], promoted: m[2] !== undefined }));
}

/** Where things run in a state file. */
export function placement(state: string): Placement {
    const pgsql = locate(state, "pgsql-clone");
    return {
        promoted: pgsql.find((p) => p.promoted)?.node,
        vipMaster: locate(state, "vip-master")[0]?.node,
        vipSlave: locate(state, "vip-slave")[0]?.node,
        pgsqlRunning: pgsql.map((p) => p.node).sort(),
    };
}

/** Each distinct fencing action of a graph with its priority-fencing-delay (CRM_meta_priority_fencing_delay). */
function fencingActions(xml: string): { target: string; priorityDelaySeconds: number }[] {
    const found = new Map<string, number>();
    for (const m of xml.matchAll(/<crm_event\b[^>]*operation="stonith"[^>]*on_node="([^"]+)"[^>]*>\s*<attributes\b([^>]*)>/g)) {
        found.set(m[1], Number(/CRM_meta_priority_fencing_delay="(\d+)"/.exec(m[2])?.[1] ?? "0"));
    }
    return [...found].map(([target, priorityDelaySeconds]) => ({ target, priorityDelaySeconds }));
}

interface Synapse {
    readonly actions: { id: string; operation: string; node?: string; resource?: string }[];
    readonly inputs: string[];
}

/** The transition graph's synapses: each action with the ids of the actions it waits for. */
function parseGraph(xml: string): Synapse[] {
    return xml.split("<synapse").slice(1).map((chunk) => {
        const [actionSet, rest = ""] = chunk.split("<inputs>");
        const attr = (tag: string, name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1];
        const actions = [...actionSet.matchAll(/<(rsc_op|pseudo_event|crm_event)\b([^>]*)>/g)].map((m) => {
            const tag = m[2];
            const rscTag = /<primitive\b([^>]*)>/.exec(actionSet.slice(m.index ?? 0))?.[1] ?? "";
            return {
                id: attr(tag, "id") as string,
                operation: attr(tag, "operation") as string,
                node: attr(tag, "on_node"),
                resource: attr(rscTag, "id"),
            };
        });
        const inputs = [...rest.matchAll(/<(?:rsc_op|pseudo_event|crm_event)\b[^>]*\bid="([^"]*)"/g)].map((m) => m[1]);
        return { actions, inputs };
    });
}

function orderedBefore(synapses: Synapse[], before: GraphAction, after: GraphAction): boolean {
    const matches = (a: Synapse["actions"][number], want: GraphAction) =>
        a.operation === want.operation && (want.node === undefined || a.node === want.node) && (want.resource === undefined || a.resource === want.resource);
    const target = synapses.find((s) => s.actions.some((a) => matches(a, after)));
    const beforeIds = new Set(synapses.flatMap((s) => s.actions.filter((a) => matches(a, before)).map((a) => a.id)));
    if (!target || beforeIds.size === 0) {
        return false;
    }
    const byAction = new Map(synapses.flatMap((s) => s.actions.map((a) => [a.id, s] as const)));
    const seen = new Set<string>();
    const stack = [...target.inputs];
    while (stack.length > 0) {
        const id = stack.pop() as string;
        if (beforeIds.has(id)) {
            return true;
        }
        if (!seen.has(id)) {
            seen.add(id);
            stack.push(...(byAction.get(id)?.inputs ?? []));
        }
    }
    return false;
}
