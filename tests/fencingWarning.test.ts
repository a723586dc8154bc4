/** Fencing off is a switch that warns on every run (preview and up), and takes the fence device out. */
import type { ProgramRun } from "./mockProgram";

jest.mock("@pulumi/vsphere", () => jest.requireActual("./mockProgram").mockVsphereModule());

async function run(preview: boolean, overrides: Record<string, unknown>): Promise<ProgramRun> {
    let result: ProgramRun | undefined;
    await jest.isolateModulesAsync(async () => {
        const { runProgram } = await import("./mockProgram");
        result = await runProgram("dev", overrides, preview);
    });
    return result as ProgramRun;
}

test.each([["preview", true], ["up", false]])("with fencing off, %s warns about split brain", async (_what, preview) => {
    const off = await run(preview as boolean, { "pgha:fencingEnabled": "false" });
    expect(off.warnings.join("\n")).toMatch(/pgha:fencingEnabled is false.*split brain/);
    const push = off.byName("vips-cib-push").inputs.create as string;
    expect(push).toContain("'stonith-enabled=false'");
    expect(push).not.toContain("fence_vmware_rest");
    expect(off.resources.filter((r) => r.name.endsWith("-fence-secret"))).toEqual([]);
});

test("with fencing on (the default), there is no warning", async () => {
    expect((await run(true, {})).warnings).toEqual([]);
});
