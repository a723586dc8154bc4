/**
 * A malformed configuration stops the program before any resource is registered, with a message that
 * names the key (the program itself under mocks, not only parseConfig).
 */
import type { Registered } from "./mockProgram";

jest.mock("@pulumi/vsphere", () => jest.requireActual("./mockProgram").mockVsphereModule());

const cases: [string, Record<string, unknown>, RegExp][] = [
    ["fewer than 2 nodes", { "pgha:nodes": [{ name: "pgtest1", ip: "192.168.24.11" }] }, /pgha:nodes: has 1 node\(s\)/],
    ["duplicate names", { "pgha:nodes": [{ name: "a", ip: "192.168.24.11" }, { name: "a", ip: "192.168.24.12" }] }, /pgha:nodes: duplicate node name a/],
    ["duplicate IPs", { "pgha:nodes": [{ name: "a", ip: "192.168.24.11" }, { name: "b", ip: "192.168.24.11" }] }, /pgha:nodes: duplicate node ip/],
    ["a VIP outside the subnet", { "pgha:vipMaster": "192.168.99.14" }, /pgha:vipMaster: VIP 192\.168\.99\.14 is outside/],
    ["a VIP on a node", { "pgha:vipSlave": "192.168.24.13" }, /pgha:vipSlave: VIP 192\.168\.24\.13 is node pgtest3's address/],
    ["equal VIPs", { "pgha:vipSlave": "192.168.24.14" }, /pgha:vipSlave: equals pgha:vipMaster/],
    ["a relative path", { "pgha:pgdata": "data" }, /pgha:pgdata: "data" is not an absolute path/],
    ["a malformed sha256", { "pgha:postgresqlSourceSha256": "1234" }, /pgha:postgresqlSourceSha256: "1234" is not a sha256/],
    ["a missing sha256", { "pgha:resourceAgentsSha256": "" }, /pgha:resourceAgentsSha256: missing/],
    ["an unknown host mode", { "pgha:hostMode": "kvm" }, /pgha:hostMode: unknown value "kvm"/],
];

describe.each(cases)("the program refuses %s", (_what, overrides, message) => {
    test("before registering any resource", async () => {
        const registered: Registered[] = [];
        let error: unknown;
        await jest.isolateModulesAsync(async () => {
            const { runProgram } = await import("./mockProgram");
            try {
                await runProgram("dev", overrides, true, registered);
            } catch (e) {
                error = e;
            }
        });
        expect(String(error)).toMatch(message);
        expect(registered.filter((r) => r.type !== "pulumi:pulumi:Stack")).toEqual([]);
    });
});
