/**
 * What `pulumi destroy` may do to a database cluster: on existing hosts only a teardown step runs (cluster
 * stopped, its configuration removed), never anything that touches the data. That VMs are protected unless
 * pgha:protect is false is shown with the real engine against the vCenter simulator (tests/vsphere.test.ts).
 */
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "./fixtures";
import type { ProgramRun } from "./mockProgram";

jest.mock("@pulumi/vsphere", () => jest.requireActual("./mockProgram").mockVsphereModule());

async function run(stack: string, overrides: Record<string, unknown> = {}): Promise<ProgramRun> {
    let result: ProgramRun | undefined;
    await jest.isolateModulesAsync(async () => {
        const { runProgram } = await import("./mockProgram");
        result = await runProgram(stack, overrides);
    });
    return result as ProgramRun;
}

const COMMAND = "command:remote:Command";

test("on existing hosts teardown steps run on delete only (the cluster's, the backup host's timers), and no other step has a delete command", async () => {
    const lab = await run("lab");
    const teardown = lab.byName("pgcluster-teardown");
    expect(teardown.inputs.create).toBeUndefined();
    expect(teardown.inputs.update).toBeUndefined();
    expect(teardown.inputs.triggers).toBeUndefined();
    expect(teardown.inputs.delete).toContain("pcs cluster destroy --all");
    expect(lab.ofType(COMMAND).filter((r) => r.inputs.delete !== undefined).map((r) => r.name).sort()).toEqual(["pgbackup-teardown", "pgcluster-teardown"]);
    const backupTeardown = lab.byName("pgbackup-teardown");
    expect(backupTeardown.inputs.create).toBeUndefined();
    expect(backupTeardown.inputs.delete).toContain("systemctl disable --now");
    expect((await run("dev")).ofType(COMMAND).filter((r) => r.inputs.delete !== undefined)).toEqual([]);
});

test("the teardown script stops the cluster before destroying it and removes no data directory", () => {
    const script = fs.readFileSync(path.join(ROOT, "scripts", "cluster-teardown.sh"), "utf8");
    expect(script.indexOf("pcs cluster stop --all")).toBeLessThan(script.indexOf("pcs cluster destroy --all"));
    expect(script).not.toMatch(/\brm\b|PGDATA=|pgdata/);
});

test("the backup host's teardown removes only pgha's timer units, never the repository", () => {
    const script = fs.readFileSync(path.join(ROOT, "scripts", "backup-timers.sh"), "utf8");
    expect(script.match(/\brm\b.*/g)).toEqual(['rm -f "$file"']);
    expect(script).toMatch(/for file in \/etc\/systemd\/system\/pgha-backup-\*\.\* \/etc\/systemd\/system\/pgha-restore-test\.\*; do/);
});
