import { parseRestartParameters, restartPlan } from "./restartPlan";

describe("the restart plan a preview shows", () => {
    const restart = new Set(["shared_buffers", "max_connections"]);

    test("reads the postgresql step's line of parameters that need a restart", () => {
        expect(parseRestartParameters("pgha[postgresql]: done\nrestart-parameters max_connections shared_buffers\n")).toEqual(restart);
        expect(parseRestartParameters("pgha[postgresql]: done\n")).toBeUndefined();
        expect(parseRestartParameters(undefined)).toBeUndefined();
    });

    test("a reloadable parameter reloads; one PostgreSQL restarts for rolls, with its switchover; one line each", () => {
        expect(restartPlan({ work_mem: "64MB" }, restart, "rolling")).toBe("work_mem=64MB: reload, no restart");
        const plan = restartPlan({ work_mem: "64MB", shared_buffers: "1GB" }, restart, "rolling").split("\n");
        expect(plan).toHaveLength(2);
        expect(plan[0]).toMatch(/^shared_buffers=1GB: a change needs a restart, which rolls: the async standby, then the sync standby, .* then the primary by one switchover .*writes pause once/);
        expect(plan[1]).toBe("work_mem=64MB: reload, no restart");
    });

    test("with pgha:restartPolicy in-place the primary restarts where it is, no switchover", () => {
        expect(restartPlan({ shared_buffers: "1GB" }, restart, "in-place")).toMatch(/the primary restarted where it is .*no switchover/);
        expect(restartPlan({ shared_buffers: "1GB" }, restart, "in-place")).not.toMatch(/by one switchover/);
    });

    test("before PostgreSQL is installed the plan says what it does not know yet", () => {
        expect(restartPlan({ shared_buffers: "1GB" }, undefined, "rolling")).toMatch(/^shared_buffers=1GB: whether a change needs a restart is known once PostgreSQL is installed/);
        expect(restartPlan({}, restart, "rolling")).toBe("no pgha:postgresqlParameters");
    });
});
