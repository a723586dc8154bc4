import { execFileSync } from "child_process";
import * as fs from "fs";
import { cibCommandLines, cibCommands, PCS_DIALECTS } from "./cib";
import { parseConfig } from "./config";
import { rawConfig, TEST_SECRETS } from "../tests/fixtures";
import { buildCib, crmVerify } from "../tests/pcsCib";

const dev = parseConfig(rawConfig("dev"));
const devWithoutFencing = parseConfig(rawConfig("dev", { fencingEnabled: false }));

describe.each(PCS_DIALECTS)("pcs %s commands", (dialect) => {
    test("match the reviewed snapshot (fencing on)", () => {
        expect(cibCommandLines(dev, dialect)).toMatchSnapshot();
    });

    test("match the reviewed snapshot (fencing off)", () => {
        expect(cibCommandLines(devWithoutFencing, dialect)).toMatchSnapshot();
    });

    test("contain no password and never disable quorum", () => {
        const text = cibCommandLines(dev, dialect);
        expect(text).not.toMatch(/password=|passwd=/);
        expect(text).not.toContain(TEST_SECRETS.fencePassword);
        expect(text).not.toContain("no-quorum-policy=ignore");
        expect(text).toContain("'no-quorum-policy=stop'");
    });

    test("survive the shell: each line evaluates to exactly the rendered arguments", () => {
        const lines = cibCommandLines(dev, dialect).split("\n");
        const parsed = lines.map((line) => JSON.parse(execFileSync("bash", ["-c", `eval "set -- $1"; printf '%s\\0' "$@"`, "_", line], { encoding: "utf8" })
            .split("\0").slice(0, -1).reduce((json, arg, i) => json + (i ? "," : "") + JSON.stringify(arg), "[") + "]"));
        expect(parsed).toEqual(cibCommands(dev, dialect));
    });
});

test("the dialects differ where pcs does", () => {
    const legacy = cibCommandLines(dev, "0.9");
    const current = cibCommandLines(dev, "0.10+");
    expect(legacy).toMatch(/'master' 'master-max=1'/);
    expect(legacy).toMatch(/'with' 'master' 'pgsql-master' 'INFINITY'/);
    expect(legacy).toMatch(/'score=INFINITY'/);
    expect(legacy).toMatch(/'passwd_script=cat /);
    expect(current).toMatch(/'promotable' 'promoted-max=1'/);
    expect(current).toMatch(/'with' 'Promoted' 'pgsql-clone' 'INFINITY'/);
    expect(current).toMatch(/'kind=Mandatory'/);
    expect(current).toMatch(/'kind=Optional'/);
    expect(current).not.toMatch(/'score=(INFINITY|0)'/);
    expect(current).not.toMatch(/Master|Slave/);
});

describe.each([["with fencing", dev], ["without fencing", devWithoutFencing]])("the 0.10+ commands applied by the real pcs (%s)", (_what, spec) => {
    test("give a CIB that crm_verify -V accepts without warnings and that holds no secret", () => {
        const cib = buildCib(spec);
        try {
            const verdict = crmVerify(cib.file);
            expect(verdict).toEqual({ status: 0, output: "" });
            const xml = fs.readFileSync(cib.file, "utf8");
            expect(xml).toContain('id="pgsql-clone"');
            expect(xml).toContain('value="HS:sync"');
            expect(xml).not.toContain(TEST_SECRETS.fencePassword);
            expect(xml).not.toMatch(/name="(password|passwd)"/);
        } finally {
            cib.cleanup();
        }
    });
});

describe("fence_ipmilan (the lab stack)", () => {
    const lab = parseConfig(rawConfig("lab"));

    test.each(PCS_DIALECTS)("pcs %s: one device per node with its BMC, lanplus, the password only through the root-only file, never run on its own node", (dialect) => {
        const commands = cibCommands(lab, dialect);
        const devices = commands.filter((c) => c[0] === "stonith");
        expect(devices.map((d) => d[2])).toEqual(["fence-pglab1", "fence-pglab2", "fence-pglab3"]);
        const [ip, user, script] = dialect === "0.9" ? ["ipaddr", "login", "passwd_script"] : ["ip", "username", "password_script"];
        lab.nodes.forEach((node, i) => {
            expect(devices[i]).toEqual(expect.arrayContaining(["fence_ipmilan", `${ip}=${node.bmc?.address}`, "ipport=623", `${user}=admin`,
                `${script}=cat /etc/pgha/fence.password`, "lanplus=1", "method=onoff", "power_wait=0", `pcmk_host_list=${node.name}`]));
            expect(commands).toContainEqual(["constraint", "location", `fence-${node.name}`, "avoids", node.name]);
        });
        const text = cibCommandLines(lab, dialect);
        expect(text).not.toContain(TEST_SECRETS.fencePassword);
        expect(text).not.toMatch(/'(password|passwd)=/);
    });
});
