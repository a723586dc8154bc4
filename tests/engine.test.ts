/**
 * The program under the real Pulumi engine (CLI and Node.js language host built by toolchain/): the engine
 * accepts Pulumi.yaml's declarations, runs the TypeScript program, applies the validation, and registers
 * the components. Passwords are set in config, so no random provider is needed.
 */
import { EngineWorkspace } from "./engine";
import { TEST_SECRETS } from "./fixtures";

const PASSWORDS = {
    "pgha:haclusterPassword": "EngineTestHacluster1",
    "pgha:postgresPassword": "EngineTestPostgres1",
    "pgha:replicationPassword": "EngineTestReplication1",
};

let engine: EngineWorkspace;
// The first use may build the toolchain (minutes on a new machine) when `npm test`'s setup has not.
beforeAll(() => {
    engine = new EngineWorkspace();
    const secrets = { "pgha:sshPrivateKey": TEST_SECRETS.sshPrivateKey, "pgha:fencePassword": TEST_SECRETS.fencePassword, ...PASSWORDS };
    engine.createStack("enginetest", "lab", secrets);
    engine.createStack("badconfig", "lab", secrets, { "pgha:vipSlave": "10.250.77.14" });
    engine.createStack("unfenced", "lab", secrets, { "pgha:fencingEnabled": "false" });
}, 1_200_000);
afterAll(() => engine?.cleanup());

test("the engine is the toolchain's", () => {
    const version = engine.run(["pulumi", "version"]);
    expect(version.status).toBe(0);
    expect(version.output.trim()).toMatch(/^v3\.\d+\.\d+/);
});

test("a bad configuration makes preview fail with the validation message and a non-zero exit", () => {
    const preview = engine.run(["pulumi", "preview", "--non-interactive", "--stack", "badconfig"]);
    expect(preview.status).not.toBe(0);
    expect(preview.output).toContain("pgha:vipSlave: equals pgha:vipMaster (10.250.77.14)");
    expect(preview.output).not.toMatch(/PgNode|remote:Command/);
});

test("preview of the lab stack lists every component and step, the IPMI fence devices and the outputs' secrecy", () => {
    const preview = engine.run(["pulumi", "preview", "--non-interactive", "--diff", "--stack", "enginetest"]);
    expect(preview.output).not.toContain("invalid pgha configuration");
    expect(preview.output).not.toContain("random:index/randomPassword");
    for (const secret of [...Object.values(PASSWORDS), "TESTKEYs3cr3t", TEST_SECRETS.fencePassword]) {
        expect(preview.output).not.toContain(secret);
    }
    expect(preview.output).toContain("pgha:index:PgNode::pglab1");
    expect(preview.status).toBe(0);
    for (const component of ["PgNode::pglab2", "PgNode::pglab3", "PacemakerCluster::pgcluster", "PgsqlMasterSlave::pgsql", "VipPair::vips"]) {
        expect(preview.output).toContain(`pgha:index:${component}`);
    }
    for (const node of ["pglab1", "pglab2", "pglab3"]) {
        for (const step of ["os-prep", "resource-agents", "postgresql", "pcsd"]) {
            expect(preview.output).toContain(`command:remote:Command::${node}-${step}`);
        }
    }
    expect(preview.output).toContain("command:remote:Command::vips-cib-push");
    // Stack outputs as the engine shows them: endpoints in clear, connection strings and passwords secret.
    expect(preview.output).toMatch(/masterConnectionString\s*: \[secret\]/);
    expect(preview.output).toMatch(/slaveConnectionString\s*: \[secret\]/);
    expect(preview.output).toMatch(/postgresPassword\s*: \[secret\]/);
    expect(preview.output).toMatch(/host: "10\.250\.77\.14"/);
    expect(preview.output).not.toContain("pgha:fencingEnabled is false");
    // The plan holds the fence devices in the CIB step's command (the text view shortens long commands).
    const plan = JSON.parse(engine.run(["pulumi", "preview", "--non-interactive", "--json", "--stack", "enginetest"]).output);
    const step = (name: string) => plan.steps.find((s: { urn: string }) => s.urn.endsWith(`::${name}`));
    for (const node of ["pglab1", "pglab2", "pglab3"]) {
        expect(step(`${node}-fence-secret`)).toBeDefined();
        expect(step("vips-cib-push").newState.inputs.create).toContain(`'stonith' 'create' 'fence-${node}' 'fence_ipmilan'`);
    }
});

test("preview of a stack with fencing off warns about split brain and has no fence device", () => {
    const preview = engine.run(["pulumi", "preview", "--non-interactive", "--diff", "--stack", "unfenced"]);
    expect(preview.status).toBe(0);
    expect(preview.output).toMatch(/warning: pgha:fencingEnabled is false: .*split brain/);
    expect(preview.output).not.toContain("fence_ipmilan");
});
