/**
 * Reads rendered pcs command lines (either dialect) into one dialect-free description of the cluster:
 * resources with parameters, operations and meta attributes, the promotable set and the constraints. Lets
 * the tests show that the pcs 0.9 commands, which cannot run here, describe the cluster that the 0.10+
 * commands build.
 */

export interface Operation { name: string; options: Record<string, string>; }
export interface Resource { agent: string; params: Record<string, string>; ops: Operation[]; meta: Record<string, string>; }
export interface ClusterModel {
    properties: Record<string, string>;
    resources: Record<string, Resource>;
    /** Primitive id -> clone options of its promotable set. */
    promotable: Record<string, Record<string, string>>;
    constraints: string[];
}

const ROLE: Record<string, string> = { master: "Promoted", Master: "Promoted", Promoted: "Promoted", slave: "Unpromoted", Slave: "Unpromoted", Unpromoted: "Unpromoted" };
const CLONE_OPTION: Record<string, string> = { "master-max": "promoted-max", "master-node-max": "promoted-node-max" };
const FENCE_PARAM: Record<string, string> = { ipaddr: "ip", login: "username", passwd_script: "password_script", passwd: "password" };
const ORDER_KIND: Record<string, string> = { "score=INFINITY": "kind=Mandatory", "score=0": "kind=Optional" };

function keyValues(words: string[]): Record<string, string> {
    return Object.fromEntries(words.map((w) => {
        const i = w.indexOf("=");
        return [w.slice(0, i), w.slice(i + 1)];
    }));
}

/** Splits `op a x=1 op b y=2 meta m=1 promotable p=1` style tails at their keywords. */
function sections(words: string[], keywords: string[]): { head: string[]; parts: { keyword: string; words: string[] }[] } {
    const parts: { keyword: string; words: string[] }[] = [];
    const head: string[] = [];
    for (const w of words) {
        if (keywords.includes(w)) {
            parts.push({ keyword: w, words: [] });
        } else if (parts.length > 0) {
            parts[parts.length - 1].words.push(w);
        } else {
            head.push(w);
        }
    }
    return { head, parts };
}

export function parsePcsCommands(commands: string[][]): ClusterModel {
    const model: ClusterModel = { properties: {}, resources: {}, promotable: {}, constraints: [] };
    const setIds = new Map<string, string>(); // promotable set id -> primitive id
    const primitiveOf = (id: string) => setIds.get(id) ?? id;

    for (const args of commands) {
        const [group, verb, ...rest] = args;
        if (group === "property" && verb === "set") {
            Object.assign(model.properties, keyValues(rest));
        } else if ((group === "resource" || group === "stonith") && verb === "create") {
            const [id, agent, ...tail] = rest;
            const { head, parts } = sections(tail, ["op", "meta", "master", "promotable"]);
            const params = keyValues(head);
            const normalizedParams = group === "stonith"
                ? Object.fromEntries(Object.entries(params).map(([k, v]) => [FENCE_PARAM[k] ?? k, v]))
                : params;
            const resource: Resource = { agent: group === "stonith" ? `stonith:${agent}` : agent, params: normalizedParams, ops: [], meta: {} };
            for (const part of parts) {
                if (part.keyword === "op") {
                    const [name, ...options] = part.words;
                    const opts = keyValues(options);
                    if (opts.role) {
                        opts.role = ROLE[opts.role] ?? opts.role;
                    }
                    resource.ops.push({ name, options: opts });
                } else if (part.keyword === "meta") {
                    Object.assign(resource.meta, keyValues(part.words));
                } else {
                    const options = keyValues(part.words);
                    model.promotable[id] = Object.fromEntries(Object.entries(options).map(([k, v]) => [CLONE_OPTION[k] ?? k, v]));
                    setIds.set(part.keyword === "master" ? `${id}-master` : `${id}-clone`, id);
                }
            }
            model.resources[id] = resource;
        } else if (group === "constraint" && verb === "colocation") {
            // add <rsc> with [role] <set> <score>
            const [, rsc, , role, set, score] = rest;
            model.constraints.push(`colocation ${rsc} with ${ROLE[role] ?? role} ${primitiveOf(set)} ${score}`);
        } else if (group === "constraint" && verb === "order") {
            // <action> <set> then <action> <rsc> options...
            const [firstAction, first, , thenAction, then, ...options] = rest;
            const normalized = options.map((o) => ORDER_KIND[o] ?? o).sort();
            model.constraints.push(`order ${firstAction} ${primitiveOf(first)} then ${thenAction} ${then} ${normalized.join(" ")}`);
        } else if (group === "constraint" && verb === "location") {
            const [rsc, ...rule] = rest;
            model.constraints.push(`location ${rsc} ${rule.join(" ")}`);
        } else {
            throw new Error(`unknown pcs command: ${args.join(" ")}`);
        }
    }
    model.constraints.sort();
    return model;
}
