/**
 * The configuration the program renders, run through Pacemaker's scheduler (crm_simulate): the runbook's
 * promises hold, and a broken constraint in the renderer turns the scenarios red.
 */
import * as fc from "fast-check";
import { cibCommandLines, cibCommands } from "../components/cib";
import { parsePcsCommands } from "./pcsModel";
import { ClusterSpec, parseConfig } from "../components/config";
import { rawConfig } from "./fixtures";
import { crmVerify } from "./pcsCib";
import { locate, ROLE_ATTRIBUTES, SimulatedCluster, Transition } from "./scheduler";

const unfenced = parseConfig(rawConfig("dev", { fencingEnabled: false }));
const fenced = parseConfig(rawConfig("dev"));
const [N1, N2, N3] = unfenced.nodes.map((n) => n.name);

const clusters: SimulatedCluster[] = [];
function cluster(spec: ClusterSpec = unfenced, lines?: string): SimulatedCluster {
    const c = new SimulatedCluster(spec, lines);
    clusters.push(c);
    return c;
}
afterAll(() => clusters.forEach((c) => c.cleanup()));

/** The healthy cluster of the runbook's section 2.5: N1 PRI, N2 HS:sync, N3 HS:async. */
function healthy(c: SimulatedCluster): Transition {
    return c.steady({ [N1]: "PRI", [N2]: "HS:sync", [N3]: "HS:async" });
}

// Scenario checks, shared by the scenarios on the real configuration and on deliberately broken ones.

/** Every rotation of the roles over the nodes: the placement follows the roles, not the node names. */
function checkSteady(c: SimulatedCluster): string[] {
    const problems: string[] = [];
    const nodes = [N1, N2, N3];
    for (let r = 0; r < nodes.length; r++) {
        const [primary, sync, async] = [0, 1, 2].map((i) => nodes[(i + r) % nodes.length]);
        const start = c.steady({ [primary]: "PRI", [sync]: "HS:sync", [async]: "HS:async" });
        if (start.after.promoted !== primary) problems.push(`promoted on ${start.after.promoted}, not the PRI node ${primary}`);
        if (start.after.vipMaster !== primary) problems.push(`vip-master on ${start.after.vipMaster}, not with the primary ${primary}`);
        if (start.after.vipSlave !== sync) problems.push(`vip-slave on ${start.after.vipSlave}, not on the HS:sync node ${sync}`);
        const again = c.simulate(start.stateFile);
        if (again.summary.length > 0) problems.push(`a healthy cluster still moves: ${again.summary.join("; ")}`);
    }
    return problems;
}

/** Counterexamples to: vip-slave runs only on a node whose pgsql-status is HS:sync or PRI, and on HS:sync when there is one. */
function checkVipSlaveOnlyOnHealthy(c: SimulatedCluster, runs: number): string[] {
    const nodes = [N1, N2, N3];
    const booted = c.boot();
    const problems: string[] = [];
    const statuses = fc.constantFrom(undefined, "PRI", "HS:sync", "HS:async", "HS:alone", "HS:connected", "STOP");
    fc.assert(fc.property(fc.tuple(statuses, statuses, statuses), (assigned) => {
        const attrs = Object.fromEntries(nodes.map((n, i) => [n, { status: assigned[i] }]));
        const host = c.simulate(c.withAttributes(booted, attrs)).after.vipSlave;
        const hostStatus = host === undefined ? undefined : assigned[nodes.indexOf(host)];
        if (host !== undefined && hostStatus !== "HS:sync" && hostStatus !== "PRI") {
            problems.push(`statuses ${JSON.stringify(assigned)}: vip-slave on ${host} (${hostStatus})`);
        }
        if (assigned.includes("HS:sync") && host !== nodes[assigned.indexOf("HS:sync")]) {
            problems.push(`statuses ${JSON.stringify(assigned)}: vip-slave on ${host}, not on the HS:sync node`);
        }
    }), { numRuns: runs, seed: 4242, examples: [[["STOP", "HS:alone", "HS:async"]], [[undefined, undefined, "HS:async"]]] });
    return problems;
}

function checkPrimaryLost(c: SimulatedCluster, failure: string[], startFailsOn?: string): string[] {
    const problems: string[] = [];
    let failed = c.simulate(healthy(c).stateFile, failure);
    if (startFailsOn) {
        failed = c.simulate(c.withFatalStartFailure(failed.stateFile, startFailsOn));
    }
    failed = c.settle(failed);
    if (failed.after.promoted !== N2) problems.push(`promoted on ${failed.after.promoted}, not the HS:sync node`);
    if (failed.after.vipMaster !== N2) problems.push(`vip-master on ${failed.after.vipMaster}, did not follow the new primary`);
    if (failed.after.vipSlave === N1) problems.push("vip-slave stayed on the failed node");
    // The agent then reports the new roles: the old async standby becomes the sync one and takes vip-slave.
    const settled = c.simulate(c.withAttributes(failed.stateFile, { [N2]: ROLE_ATTRIBUTES.PRI, [N3]: ROLE_ATTRIBUTES["HS:sync"] }));
    if (settled.after.vipSlave !== N3) problems.push(`vip-slave on ${settled.after.vipSlave} once ${N3} is HS:sync`);
    if (settled.after.promoted !== N2 || settled.after.vipMaster !== N2) problems.push("the new primary or vip-master moved again");
    return problems;
}

function checkSyncStandbyLost(c: SimulatedCluster): string[] {
    const problems: string[] = [];
    const failed = c.simulate(healthy(c).stateFile, ["-f", N2]);
    if (failed.after.vipSlave !== N1) problems.push(`vip-slave on ${failed.after.vipSlave}, not on the primary (score 100)`);
    if (failed.after.promoted !== N1 || failed.after.vipMaster !== N1) problems.push("the primary or vip-master moved");
    // Besides vip-slave, only the failed node's own instance may change.
    const others = failed.summary.filter((l) => !l.includes("vip-slave") && !l.includes(N2));
    if (others.length > 0) problems.push(`more than vip-slave moved: ${others.join("; ")}`);
    return problems;
}

describe("scheduler scenarios on the rendered configuration (pcs 0.10+ dialect)", () => {
    test("crm_verify is clean with and without fencing, nodes online", () => {
        for (const spec of [unfenced, fenced]) {
            expect(crmVerify(cluster(spec).boot())).toEqual({ status: 0, output: "" });
        }
    });

    test("PRI / HS:sync / HS:async: the promoted instance stays on PRI with vip-master, vip-slave on HS:sync", () => {
        expect(checkSteady(cluster())).toEqual([]);
    });

    test("the primary node fails: HS:sync is promoted, vip-master follows, vip-slave leaves the failed node", () => {
        expect(checkPrimaryLost(cluster(), ["-f", N1])).toEqual([]);
    });

    test("the primary's monitor fails and it cannot restart (PGSQL.lock): the same failover", () => {
        const monitor = `pgsql_monitor_${unfenced.pacemaker.promotedMonitorIntervalSeconds * 1000}@${N1}=7`;
        expect(checkPrimaryLost(cluster(), ["-i", monitor, "-F", `pgsql_start_0@${N1}=1`], N1)).toEqual([]);
    });

    test("a failed primary is not restarted in place (migration-threshold=1): the sync standby is promoted in the same transition", () => {
        const c = cluster();
        const monitor = `pgsql_monitor_${unfenced.pacemaker.promotedMonitorIntervalSeconds * 1000}@${N1}=7`;
        const failed = c.simulate(healthy(c).stateFile, ["-i", monitor]);
        expect(failed.after.promoted).toBe(N2);
        expect(failed.after.vipMaster).toBe(N2);
        expect(failed.after.pgsqlRunning).not.toContain(N1);
        expect(failed.summary.filter((l) => l.startsWith("Start") && l.includes(N1))).toEqual([]);
    });

    test("after the failure timeout the old primary's instance starts again (the rejoin), unpromoted, and nothing moves back", () => {
        const c = cluster();
        const monitor = `pgsql_monitor_${unfenced.pacemaker.promotedMonitorIntervalSeconds * 1000}@${N1}=7`;
        // crm_simulate records an injected failure at the real time; -t runs the scheduler at a later one.
        const at = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString().replace(/\.\d+Z$/, "Z");
        const failed = c.simulate(healthy(c).stateFile, ["-i", monitor]);
        const roles = c.withAttributes(failed.stateFile, { [N2]: ROLE_ATTRIBUTES.PRI, [N3]: ROLE_ATTRIBUTES["HS:sync"], [N1]: { status: "STOP" } });
        const early = c.simulate(roles, ["-t", at(unfenced.pacemaker.failureTimeoutSeconds / 2)]);
        expect(early.after.pgsqlRunning).not.toContain(N1);
        const back = c.simulate(early.stateFile, ["-t", at(unfenced.pacemaker.failureTimeoutSeconds + 30)]);
        expect(back.after.pgsqlRunning).toContain(N1);
        expect(back.after.promoted).toBe(N2);
        expect(back.after.vipMaster).toBe(N2);
    });

    test("the sync standby fails: vip-slave moves to the primary, nothing else moves", () => {
        expect(checkSyncStandbyLost(cluster())).toEqual([]);
    });

    test("a node without pgsql-status, or with another status, never gets vip-slave (property)", () => {
        expect(checkVipSlaveOnlyOnHealthy(cluster(), 12)).toEqual([]);
    });

    test("with fencing configured, a failed primary node is fenced before the standby is promoted", () => {
        const c = cluster(fenced);
        const failed = c.simulate(healthy(c).stateFile, ["-f", N1]);
        expect(failed.summary[0]).toMatch(new RegExp(`^Fence \\(reboot\\) ${N1}`));
        expect(failed.after.promoted).toBe(N2);
        expect(failed.orderedBefore({ operation: "stonith", node: N1 }, { operation: "promote", node: N2, resource: "pgsql" })).toBe(true);
        expect(failed.orderedBefore({ operation: "stonith", node: N1 }, { operation: "start", node: N2, resource: "vip-master" })).toBe(true);
    });

    test("two of three nodes lost: the survivor neither keeps a promoted instance nor the VIPs (no-quorum-policy=stop)", () => {
        const c = cluster();
        const lost = c.simulate(healthy(c).stateFile, ["-f", N2, "-f", N3, "-q", "false"]);
        expect(lost.after).toEqual({ promoted: undefined, vipMaster: undefined, vipSlave: undefined, pgsqlRunning: [] });
    });

    test("the repaired old primary rejoins as HS:async: nothing moves back", () => {
        const c = cluster();
        const failed = c.simulate(healthy(c).stateFile, ["-f", N1]);
        const settled = c.simulate(c.withAttributes(failed.stateFile, { [N2]: ROLE_ATTRIBUTES.PRI, [N3]: ROLE_ATTRIBUTES["HS:sync"] }));
        const back = c.settle(c.simulate(c.rebooted(settled.stateFile, N1), ["-u", N1]));
        const rejoined = c.simulate(c.withAttributes(back.stateFile, { [N1]: ROLE_ATTRIBUTES["HS:async"] }));
        expect(rejoined.after).toEqual({ promoted: N2, vipMaster: N2, vipSlave: N3, pgsqlRunning: [N1, N2, N3] });
        expect(rejoined.summary.filter((l) => /^(Move|Promote|Demote)\b/.test(l))).toEqual([]);
        expect(c.simulate(rejoined.stateFile).summary).toEqual([]);
    });
});

describe("fence_ipmilan: one device per node (the lab stack's fencing)", () => {
    const ipmi = parseConfig(rawConfig("lab"));
    const [L1, L2, L3] = ipmi.nodes.map((n) => n.name);
    const twoNodes = parseConfig(rawConfig("lab", { nodes: ipmi.nodes.slice(0, 2).map((n) => ({ name: n.name, ip: n.ip, bmcAddress: n.bmc?.address })) }));

    /** The fencing of the primary's node and of the standby's node in a two-node cluster whose halves lost each other. */
    function twoNodeSplit(c: SimulatedCluster): Record<string, number> {
        const steady = c.steady({ [L1]: "PRI", [L2]: "HS:sync" });
        const delays: Record<string, number> = {};
        for (const lost of [L1, L2]) {
            for (const f of c.simulate(steady.stateFile, ["-f", lost]).fencing) {
                delays[f.target] = f.priorityDelaySeconds;
            }
        }
        return delays;
    }

    test("crm_verify accepts the devices; each device stays off the node it fences", () => {
        const c = cluster(ipmi);
        expect(crmVerify(c.boot())).toEqual({ status: 0, output: "" });
        const steady = c.steady({ [L1]: "PRI", [L2]: "HS:sync", [L3]: "HS:async" });
        for (const node of [L1, L2, L3]) {
            const where = locate(steady.stateFile, `fence-${node}`).map((p) => p.node);
            expect(where).toHaveLength(1);
            expect(where).not.toContain(node);
        }
    });

    test("the primary's node fails: it is fenced through its BMC before the sync standby is promoted, without delay (the majority never waits)", () => {
        const c = cluster(ipmi);
        const failed = c.simulate(c.steady({ [L1]: "PRI", [L2]: "HS:sync", [L3]: "HS:async" }).stateFile, ["-f", L1]);
        expect(failed.fencing).toEqual([{ target: L1, priorityDelaySeconds: 0 }]);
        expect(failed.after.promoted).toBe(L2);
        expect(failed.orderedBefore({ operation: "stonith", node: L1 }, { operation: "promote", node: L2, resource: "pgsql" })).toBe(true);
    });

    test("two-node split: only the standby's side waits before shooting, so the primary's side shoots first", () => {
        expect(twoNodeSplit(cluster(twoNodes))).toEqual({ [L1]: 5, [L2]: 0 });
    });

    test("without the promoted instance's priority both sides would shoot at once", () => {
        const lines = cibCommandLines(twoNodes, "0.10+").split("\n").map((l) => l.replace(" 'priority=1'", "")).join("\n");
        expect(twoNodeSplit(cluster(twoNodes, lines))).toEqual({ [L1]: 0, [L2]: 0 });
    });
});

describe("a broken renderer turns the scenarios red", () => {
    const lines = cibCommandLines(unfenced, "0.10+").split("\n");
    const without = (pattern: RegExp) => lines.filter((l) => !pattern.test(l)).join("\n");
    const replaced = (from: string, to: string) => lines.map((l) => l.replace(from, to)).join("\n");

    test("without the colocation, vip-master does not follow the primary", () => {
        const c = cluster(unfenced, without(/'colocation'/));
        expect(checkSteady(c).filter((p) => p.startsWith("vip-master"))).not.toEqual([]);
    });

    test("with the HS:sync rule scored below the PRI rule, vip-slave lands on the primary", () => {
        const c = cluster(unfenced, replaced("'score=200'", "'score=50'"));
        expect(checkSteady(c)).toContain(`vip-slave on ${N1}, not on the HS:sync node ${N2}`);
    });

    test("with the runbook's failure handling (no migration-threshold), a failed primary is restarted in place", () => {
        const runbook = parseConfig(rawConfig("dev", { fencingEnabled: false, pgsqlFailureTimeoutSeconds: 0 }));
        const c = cluster(runbook);
        const monitor = `pgsql_monitor_${runbook.pacemaker.promotedMonitorIntervalSeconds * 1000}@${N1}=7`;
        expect(c.simulate(c.steady({ [N1]: "PRI", [N2]: "HS:sync", [N3]: "HS:async" }).stateFile, ["-i", monitor]).after.promoted).toBe(N1);
    });

    test("without the -INFINITY rules, vip-slave lands on nodes that are neither PRI nor HS:sync", () => {
        const c = cluster(unfenced, without(/'score=-INFINITY'/));
        expect(checkVipSlaveOnlyOnHealthy(c, 4)).not.toEqual([]);
    });
});

describe("the pcs 0.9 dialect (EL7), which cannot run here, describes the same cluster", () => {
    const ipmi = parseConfig(rawConfig("lab"));
    test.each([["with fence_vmware_rest", fenced], ["with fence_ipmilan", ipmi], ["without fencing", unfenced]])("as the 0.10+ commands (%s)", (_what, spec) => {
        const legacy = parsePcsCommands(cibCommands(spec, "0.9"));
        const current = parsePcsCommands(cibCommands(spec, "0.10+"));
        // Pacemaker 1.1 has no priority-fencing-delay; it matters only to two-node clusters, where 0.9 gets a random device delay.
        delete current.properties["priority-fencing-delay"];
        expect(legacy).toEqual(current);
        const devices = !spec.fencing.enabled ? [] : spec.fencing.agent === "fence_vmware_rest" ? ["vmfence"] : spec.nodes.map((n) => `fence-${n.name}`);
        expect(Object.keys(current.resources).sort()).toEqual([...devices, "pgsql", "vip-master", "vip-slave"].sort());
        expect(current.constraints).toHaveLength(7 + (spec.fencing.enabled && spec.fencing.agent === "fence_ipmilan" ? spec.nodes.length : 0));
        expect(current.promotable.pgsql).toEqual({ "promoted-max": "1", "promoted-node-max": "1", "clone-max": "3", "clone-node-max": "1", notify: "true", priority: "1" });
    });

    test("a two-node cluster on pcs 0.9 gets a random delay on each device instead", () => {
        const twoNodes = parseConfig(rawConfig("lab", { nodes: ipmi.nodes.slice(0, 2).map((n) => ({ name: n.name, ip: n.ip, bmcAddress: n.bmc?.address })) }));
        const legacy = parsePcsCommands(cibCommands(twoNodes, "0.9"));
        expect(Object.values(legacy.resources).filter((r) => r.agent === "stonith:fence_ipmilan").map((r) => r.params.pcmk_delay_max)).toEqual(["5s", "5s"]);
        expect(parsePcsCommands(cibCommands(ipmi, "0.9")).resources["fence-pglab1"].params.pcmk_delay_max).toBeUndefined();
    });

    test("a difference between the dialects would show", () => {
        const legacy = cibCommands(unfenced, "0.9").filter((args) => !args.includes("score=100"));
        expect(parsePcsCommands(legacy)).not.toEqual(parsePcsCommands(cibCommands(unfenced, "0.10+")));
    });
});
