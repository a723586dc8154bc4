import * as fc from "fast-check";
import * as ipaddr from "ipaddr.js";
import { ConfigError, parseConfig } from "./config";
import { rawConfig } from "../tests/fixtures";

/** The problems parseConfig reports for the dev stack with `overrides` applied. */
function problems(overrides: Record<string, unknown>, stack = "dev"): string[] {
    try {
        parseConfig(rawConfig(stack, overrides));
    } catch (e) {
        if (e instanceof ConfigError) {
            return [...e.problems];
        }
        throw e;
    }
    return [];
}

function expectProblem(overrides: Record<string, unknown>, key: string, fragment: RegExp) {
    const found = problems(overrides);
    expect(found.some((p) => p.startsWith(`pgha:${key}:`) && fragment.test(p))).toBe(true);
}

const nodes3 = [
    { name: "pgtest1", ip: "192.168.24.11" },
    { name: "pgtest2", ip: "192.168.24.12" },
    { name: "pgtest3", ip: "192.168.24.13" },
];

describe("parseConfig on the dev stack", () => {
    const spec = parseConfig(rawConfig("dev"));

    test("backs up to its backup host with the defaults: full weekly, differential daily, a drill weekly", () => {
        expect(spec.backup).toMatchObject({
            host: { name: "pgbackup", ip: "192.168.24.16", vmName: "pgbackup" }, stanza: "pgcluster", repoPath: "/var/lib/pgbackrest",
            fullSchedule: "Sun *-*-* 01:00:00", diffSchedule: "Mon..Sat *-*-* 01:00:00", restoreTestSchedule: "Sun *-*-* 05:00:00",
            retentionFull: 2, queueMaxMb: 4096, archiveTimeoutSeconds: 60,
            // A backup every day: overdue after 30 h; a drill every week: after 210 h.
            backupOverdueSeconds: 30 * 3600, restoreTestOverdueSeconds: 210 * 3600,
        });
    });

    test("no backups without a backup host, or with pgha:backups false", () => {
        expect(parseConfig(rawConfig("dev", { backupHost: "", backupHostIp: "" })).backup).toBeUndefined();
        expect(parseConfig(rawConfig("dev", { backups: false })).backup).toBeUndefined();
    });

    test("holds the runbook's topology", () => {
        expect(spec.hostMode).toBe("vsphere");
        expect(spec.nodes.map((n) => [n.name, n.ip])).toEqual(nodes3.map((n) => [n.name, n.ip]));
        expect([spec.vipMaster, spec.vipSlave]).toEqual(["192.168.24.14", "192.168.24.15"]);
        expect(spec.network).toMatchObject({ prefixLength: 24, netmask: "255.255.255.0", subnet: "192.168.24.0/24", nic: "ens33" });
        expect(spec.vm).toEqual({ cpus: 2, memoryMiB: 2048, diskGiB: 60 });
        expect(spec.clusterName).toBe("pgcluster");
        expect(spec.postgresql).toMatchObject({ version: "14.6", major: "14", prefix: "/postgresql/pg14", bindir: "/postgresql/pg14/bin", pgdata: "/postgresql/pgdata", port: 5432, uid: 666, gid: 666 });
        expect(spec.resourceAgents.version).toBe("4.12.0");
    });

    test("has safe defaults where the runbook was unsafe", () => {
        expect(spec.fencing).toMatchObject({ enabled: true, vcenterAddress: "vcenter.example.com", sslInsecure: false });
        expect(spec.os.firewall).toBe(true);
        expect(spec.pacemaker.repMode).toBe("sync");
        expect(spec.postgresql.replicationUser).toBe("replicator");
        expect(spec.postgresql.allowedClientCidrs).toEqual(["192.168.24.0/24"]);
        expect(spec.postgresql.parameters).toEqual({});
    });

    test("PostgreSQL parameters: names folded to lower case, numbers and flags as PostgreSQL reads them", () => {
        const spec = parseConfig(rawConfig("dev", { postgresqlParameters: { Work_Mem: "64MB", max_connections: 200, jit: false, "pg_stat_statements.track": "all" } }));
        expect(spec.postgresql.parameters).toEqual({ work_mem: "64MB", max_connections: "200", jit: "off", "pg_stat_statements.track": "all" });
    });
});

describe("parseConfig refuses malformed configuration, naming the key", () => {
    test("fewer than 2 nodes", () => expectProblem({ nodes: [nodes3[0]] }, "nodes", /at least 2/));
    test("no nodes at all", () => expectProblem({ nodes: undefined }, "nodes", /required/));
    test("a node that is not {name, ip}", () => expectProblem({ nodes: [...nodes3, { name: "x" }] }, "nodes", /nodes\[3\] must be \{name, ip\}/));
    test("an invalid node name", () => expectProblem({ nodes: [{ name: "PG_1", ip: "192.168.24.11" }, nodes3[1]] }, "nodes", /not a valid hostname/));
    test("duplicate node names", () => expectProblem({ nodes: [nodes3[0], { name: "pgtest1", ip: "192.168.24.12" }] }, "nodes", /duplicate node name pgtest1/));
    test("duplicate node IPs", () => expectProblem({ nodes: [nodes3[0], { name: "pgtest2", ip: "192.168.24.11" }] }, "nodes", /duplicate node ip 192\.168\.24\.11/));
    test("a node IP outside the subnet", () => expectProblem({ nodes: [...nodes3.slice(0, 2), { name: "pgtest3", ip: "192.168.25.13" }] }, "nodes", /outside the nodes' subnet 192\.168\.24\.0\/24/));
    test("a malformed IP", () => expectProblem({ nodes: [...nodes3.slice(0, 2), { name: "pgtest3", ip: "192.168.24.300" }] }, "nodes", /not an IPv4 address/));
    test("a VIP outside the subnet", () => expectProblem({ vipMaster: "10.0.0.14" }, "vipMaster", /outside the nodes' subnet/));
    test("a VIP on the broadcast address", () => expectProblem({ vipSlave: "192.168.24.255" }, "vipSlave", /broadcast/));
    test("a VIP equal to a node IP", () => expectProblem({ vipSlave: "192.168.24.12" }, "vipSlave", /is node pgtest2's address/));
    test("both VIPs equal", () => expectProblem({ vipSlave: "192.168.24.14" }, "vipSlave", /equals pgha:vipMaster/));
    test("a missing VIP", () => expectProblem({ vipMaster: "" }, "vipMaster", /required/));
    test("a relative PGDATA", () => expectProblem({ pgdata: "postgresql/pgdata" }, "pgdata", /not an absolute path/));
    test("a relative prefix", () => expectProblem({ postgresqlPrefix: "pg14" }, "postgresqlPrefix", /not an absolute path/));
    test("a backup host that is a cluster node (name)", () => expectProblem({ backupHost: "pgtest2" }, "backupHost", /is a cluster node; backups must live on a machine apart/));
    test("a backup host that is a cluster node (address)", () => expectProblem({ backupHostIp: "192.168.24.13" }, "backupHostIp", /node pgtest3's address/));
    test("a backup host on a VIP", () => expectProblem({ backupHostIp: "192.168.24.14" }, "backupHostIp", /is a VIP/));
    test("a backup host outside the nodes' network", () => expectProblem({ backupHostIp: "10.9.9.9" }, "backupHostIp", /backup host 10\.9\.9\.9 is outside the nodes' subnet 192\.168\.24\.0\/24/));
    test("a backup host without its address", () => expectProblem({ backupHostIp: "" }, "backupHostIp", /go together/));
    test("a backup host address without its name", () => expectProblem({ backupHost: "" }, "backupHost", /go together/));
    test("an unknown full-backup schedule", () => expectProblem({ backupFullSchedule: "every sunday" }, "backupFullSchedule", /"every sunday" is not a schedule pgha knows/));
    test("an unknown day in a schedule", () => expectProblem({ backupDiffSchedule: "Mon..Sox *-*-* 01:00" }, "backupDiffSchedule", /not a schedule/));
    test("a restore drill never", () => expectProblem({ restoreTestSchedule: "" }, "restoreTestSchedule", /not a schedule/));
    test("a missing PostgreSQL sha256", () => expectProblem({ postgresqlSourceSha256: "" }, "postgresqlSourceSha256", /missing.*allowUnverifiedDownloads/));
    test("a malformed PostgreSQL sha256", () => expectProblem({ postgresqlSourceSha256: "abc123" }, "postgresqlSourceSha256", /not a sha256/));
    test("a missing resource-agents sha256", () => expectProblem({ resourceAgentsSha256: "" }, "resourceAgentsSha256", /missing/));
    test("a malformed resource-agents sha256", () => expectProblem({ resourceAgentsSha256: "z".repeat(64) }, "resourceAgentsSha256", /not a sha256/));
    test("a PostgreSQL parameter pgha sets itself, with what controls it", () => expectProblem({ postgresqlParameters: { work_mem: "64MB", Port: 5433 } }, "postgresqlParameters", /postgresqlParameters\.Port is managed by pgha: set by pgha:postgresqlPort/));
    test("a replication parameter", () => expectProblem({ postgresqlParameters: { wal_level: "logical" } }, "postgresqlParameters", /wal_level is managed by pgha: streaming replication/));
    test("a recovery target", () => expectProblem({ postgresqlParameters: { recovery_target_time: "2026-12-01" } }, "postgresqlParameters", /recovery_target_time is managed by pgha: a restore sets it/));
    test("a parameter name that is no identifier", () => expectProblem({ postgresqlParameters: { "work mem": "64MB" } }, "postgresqlParameters", /"?work mem"? is not a PostgreSQL parameter name/));
    test("a parameter given twice in other case", () => expectProblem({ postgresqlParameters: { work_mem: "4MB", WORK_MEM: "8MB" } }, "postgresqlParameters", /WORK_MEM is given twice/));
    test("a parameter value that is a list", () => expectProblem({ postgresqlParameters: { work_mem: ["64MB"] } }, "postgresqlParameters", /expected text, a number or true\/false/));
    test("a parameter value on two lines", () => expectProblem({ postgresqlParameters: { application_name: "a\nb" } }, "postgresqlParameters", /one line/));
    test("parameters that are no map", () => expectProblem({ postgresqlParameters: "work_mem=64MB" }, "postgresqlParameters", /expected a map of parameter names to values/));
    test("an unknown host mode", () => expectProblem({ hostMode: "baremetal" }, "hostMode", /unknown value "baremetal"; use one of vsphere, existing/));
    test("an unknown SELinux mode", () => expectProblem({ selinux: "off" }, "selinux", /use one of enforcing, permissive, disabled/));
    test("an unknown install method", () => expectProblem({ postgresqlInstall: "rpm" }, "postgresqlInstall", /use one of source, package/));
    test("a package install with a full version", () => expectProblem({ postgresqlInstall: "package", postgresqlVersion: "15.4" }, "postgresqlVersion", /major version/));
    test("missing vSphere placement", () => expectProblem({ vsphereDatastore: "" }, "vsphereDatastore", /required in vsphere mode/));
    test("neither compute cluster nor resource pool", () => expectProblem({ vsphereComputeCluster: "" }, "vsphereComputeCluster", /or pgha:vsphereResourcePool/));
    test("no gateway for cloned VMs", () => expectProblem({ gateway: "" }, "gateway", /required in vsphere mode/));
    test("fencing without a user", () => expectProblem({ fenceUser: "" }, "fenceUser", /required when fencing is on/));
    test("fencing without a password", () => expectProblem({ fencePassword: undefined }, "fencePassword", /required when fencing is on/));
    test("fencing without a vCenter", () => expectProblem({ vsphereServer: undefined }, "fenceVcenterAddress", /required when fencing is on/));
    test("a password stored in plain text", () => expectProblem({ postgresPassword: "plain" }, "postgresPassword", /plain text; set it as a secret/));
    test("no SSH key", () => expectProblem({ sshPrivateKey: undefined }, "sshPrivateKey", /required/));
    test("a bad CIDR", () => expectProblem({ allowedClientCidrs: ["10.0.0.0"] }, "allowedClientCidrs", /not a CIDR/));
    test("replication as postgres", () => expectProblem({ replicationUser: "postgres" }, "replicationUser", /other than postgres/));
    test("equal monitor intervals", () => expectProblem({ pgsqlMonitorIntervalSeconds: 11, pgsqlPromotedMonitorIntervalSeconds: 11 }, "pgsqlPromotedMonitorIntervalSeconds", /must differ/));
    test("a port out of range", () => expectProblem({ postgresqlPort: 70000 }, "postgresqlPort", /integer from 1 to 65535/));

    test("every problem is reported at once", () => {
        const found = problems({ hostMode: "x", pgdata: "rel", vipSlave: "192.168.24.14" });
        expect(found.length).toBeGreaterThanOrEqual(3);
    });

    test("package installs need no tarball checksums", () => {
        expect(problems({ postgresqlInstall: "package", postgresqlVersion: "15", postgresqlSourceSha256: "", resourceAgentsInstall: "package", resourceAgentsSha256: "" })).toEqual([]);
    });

    test("the opt-out accepts missing checksums", () => {
        expect(problems({ postgresqlSourceSha256: "", resourceAgentsSha256: "", allowUnverifiedDownloads: true })).toEqual([]);
    });

    test("existing host mode needs no vSphere placement", () => {
        expect(problems({ hostMode: "existing", fenceAgent: "fence_vmware_rest", vsphereDatastore: "", vsphereTemplate: "", gateway: "" })).toEqual([]);
    });
});

describe("addresses (property)", () => {
    test("any host address of the subnet that is not a node or the other VIP is a valid vip-master", () => {
        fc.assert(fc.property(fc.integer({ min: 1, max: 254 }), (last) => {
            const vip = `192.168.24.${last}`;
            // The nodes, the other VIP and the backup host.
            const taken = ["192.168.24.11", "192.168.24.12", "192.168.24.13", "192.168.24.15", "192.168.24.16"].includes(vip);
            expect(problems({ vipMaster: vip }).length === 0).toBe(!taken);
        }));
    });

    test("any address outside the subnet is refused as a VIP", () => {
        fc.assert(fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), (third, last) => {
            fc.pre(third !== 24);
            expect(problems({ vipSlave: `192.168.${third}.${last}` }).some((p) => p.startsWith("pgha:vipSlave:"))).toBe(true);
        }));
    });
});

describe("address rules in any subnet (property)", () => {
    /** The address `n` (0 to 2^32-1) as a dotted quad. */
    const dotted = (n: number) => ipaddr.fromByteArray([24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256)).toString();

    /** A subnet with room for the cluster: 3 nodes and 2 VIPs need 5 host addresses (/29). */
    const subnets = fc.record({ prefixLength: fc.integer({ min: 8, max: 29 }), anyAddress: fc.integer({ min: 0, max: 2 ** 32 - 1 }) })
        .map(({ prefixLength, anyAddress }) => {
            const size = 2 ** (32 - prefixLength);
            return { prefixLength, size, network: Math.floor(anyAddress / size) * size };
        });
    type Subnet = { prefixLength: number; size: number; network: number };

    /** Problems of a cluster on existing hosts in `subnet`: nodes at its host addresses 1-3, vip-master 4, vip-slave 5. */
    function cluster(subnet: Subnet, overrides: Record<string, unknown> = {}): string[] {
        return problems({
            hostMode: "existing",
            fenceAgent: "fence_vmware_rest",
            gateway: "",
            dnsServers: [],
            prefixLength: subnet.prefixLength,
            nodes: [1, 2, 3].map((i) => ({ name: `pg${i}`, ip: dotted(subnet.network + i) })),
            vipMaster: dotted(subnet.network + 4),
            vipSlave: dotted(subnet.network + 5),
            // The backup host's rules have tests of their own.
            backupHost: "",
            backupHostIp: "",
            ...overrides,
        });
    }

    test("the cluster as laid out is valid in every subnet", () => {
        fc.assert(fc.property(subnets, (subnet) => expect(cluster(subnet)).toEqual([])));
    });

    test("a VIP is refused as outside the nodes' subnet exactly when ipaddr.js puts it outside", () => {
        const near = subnets.chain((subnet) => fc.tuple(fc.constant(subnet), fc.integer({ min: -subnet.size, max: 2 * subnet.size - 1 })));
        fc.assert(fc.property(near, ([subnet, offset]) => {
            fc.pre(subnet.network + offset >= 0 && subnet.network + offset < 2 ** 32);
            const vip = dotted(subnet.network + offset);
            const inSubnet = ipaddr.IPv4.parse(vip).match(ipaddr.IPv4.parseCIDR(`${dotted(subnet.network)}/${subnet.prefixLength}`));
            const refused = cluster(subnet, { vipSlave: vip }).some((p) => p.startsWith(`pgha:vipSlave: VIP ${vip} is outside the nodes' subnet`));
            expect(refused).toBe(!inSubnet);
        }));
    });

    test("the network and broadcast addresses are refused for a node or a VIP; any other free host address is taken", () => {
        const placements = subnets.chain((subnet) => fc.tuple(
            fc.constant(subnet),
            fc.integer({ min: 0, max: subnet.size - 1 }).filter((offset) => offset === 0 || offset > 5),
            fc.constantFrom("nodes", "vipMaster", "vipSlave"),
        ));
        fc.assert(fc.property(placements, ([subnet, offset, key]) => {
            const address = dotted(subnet.network + offset);
            const overrides = key === "nodes"
                ? { nodes: [1, 2].map((i) => ({ name: `pg${i}`, ip: dotted(subnet.network + i) })).concat({ name: "pg3", ip: address }) }
                : { [key]: address };
            const reserved = offset === 0 || offset === subnet.size - 1;
            expect(cluster(subnet, overrides)).toEqual(reserved ? [expect.stringMatching(new RegExp(`^pgha:${key}: .*${address.replace(/\./g, "\\.")} is the network or broadcast address`))] : []);
        }));
    });

    test("node addresses and VIPs must all differ: each clash is refused, and nothing else", () => {
        fc.assert(fc.property(subnets, fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 5, maxLength: 5 }), (subnet, hosts) => {
            const [ip1, ip2, ip3, vipMaster, vipSlave] = hosts.map((host) => dotted(subnet.network + host));
            const nodeIps = [ip1, ip2, ip3];
            const found = cluster(subnet, { nodes: nodeIps.map((ip, i) => ({ name: `pg${i + 1}`, ip })), vipMaster, vipSlave });
            expect(found.some((p) => p.startsWith("pgha:nodes: duplicate node ip"))).toBe(new Set(nodeIps).size < 3);
            expect(found.some((p) => p.startsWith("pgha:vipMaster: VIP") && p.includes("is node"))).toBe(nodeIps.includes(vipMaster));
            expect(found.some((p) => p.startsWith("pgha:vipSlave: VIP") && p.includes("is node"))).toBe(nodeIps.includes(vipSlave));
            expect(found.some((p) => p.startsWith("pgha:vipSlave: equals pgha:vipMaster"))).toBe(vipMaster === vipSlave);
            expect(found.length === 0).toBe(new Set(hosts).size === 5);
        }));
    });
});

describe("fence_ipmilan (the lab stack: existing hosts, one BMC per node)", () => {
    const labNodes = parseConfig(rawConfig("lab")).nodes;
    const withNodes = (edit: (nodes: Record<string, unknown>[]) => void) => {
        const nodes: Record<string, unknown>[] = labNodes.map((n) => ({ name: n.name, ip: n.ip, bmcAddress: n.bmc?.address }));
        edit(nodes);
        return problems({ nodes }, "lab");
    };

    test("is the default agent with existing hosts; every node has its BMC on port 623", () => {
        const spec = parseConfig(rawConfig("lab"));
        expect(spec.fencing).toMatchObject({ enabled: true, agent: "fence_ipmilan", user: "admin", powerWaitSeconds: 0 });
        expect(spec.nodes.map((n) => n.bmc)).toEqual([
            { address: "10.250.77.21", port: 623, user: undefined },
            { address: "10.250.77.22", port: 623, user: undefined },
            { address: "10.250.77.23", port: 623, user: undefined },
        ]);
    });

    test("a node without a BMC is refused", () => {
        expect(withNodes((n) => delete n[1].bmcAddress)).toEqual([expect.stringMatching(/^pgha:nodes: nodes\[1\] \(pglab2\) has no bmcAddress: fence_ipmilan needs every node's BMC/)]);
    });

    test("a BMC on a node's address or on a VIP is refused", () => {
        expect(withNodes((n) => { n[0].bmcAddress = "10.250.77.12"; })).toEqual([expect.stringMatching(/^pgha:nodes: nodes\[0\]\.bmcAddress 10\.250\.77\.12 is node pglab2's address/)]);
        expect(withNodes((n) => { n[2].bmcAddress = "10.250.77.14"; })).toEqual([expect.stringMatching(/^pgha:nodes: nodes\[2\]\.bmcAddress 10\.250\.77\.14 is a VIP/)]);
    });

    test("two nodes with the same BMC are refused; another port makes them distinct", () => {
        expect(withNodes((n) => { n[1].bmcAddress = "10.250.77.21"; })).toEqual(["pgha:nodes: two nodes have the same BMC 10.250.77.21:623; every node needs its own"]);
        expect(withNodes((n) => { n[1].bmcAddress = "10.250.77.21"; n[1].bmcPort = 6230; })).toEqual([]);
    });

    test("a BMC user is needed, from pgha:fenceUser or the node", () => {
        expect(problems({ fenceUser: "" }, "lab")).toEqual(labNodes.map((_n, i) => expect.stringMatching(new RegExp(`^pgha:fenceUser: required for fence_ipmilan: the BMC user \\(or nodes\\[${i}\\]\\.bmcUser`))));
        expect(withNodes((n) => n.forEach((node) => { node.bmcUser = "ipmi"; }))).toEqual([]);
    });

    test("malformed BMC fields and unknown node fields are refused", () => {
        expect(withNodes((n) => { n[0].bmcPort = 70000; })).toEqual([expect.stringMatching(/nodes\[0\]\.bmcPort 70000 is not a port/)]);
        expect(withNodes((n) => { n[0].bmcAddress = "not an address"; })).toEqual([expect.stringMatching(/nodes\[0\]\.bmcAddress "not an address" is not an IPv4 address or host name/)]);
        expect(withNodes((n) => { n[0].bmcaddress = "10.250.77.31"; })).toEqual([expect.stringMatching(/nodes\[0\] \(pglab1\) has unknown field\(s\) bmcaddress/)]);
    });

    test("fence_vmware_rest with existing hosts needs no BMC but a vCenter", () => {
        expect(problems({ fenceAgent: "fence_vmware_rest" }, "lab")).toEqual([expect.stringMatching(/^pgha:fenceVcenterAddress: required when fencing is on/)]);
    });
});
