import { buildPlan, parseRestartParameters, restartPlan } from "./restartPlan";

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
        expect(plan[0]).toBe("shared_buffers=1GB: restart, rolled: async standby, sync standby, then primary by one switchover (writes pause ~5 s)");
        expect(plan[1]).toBe("work_mem=64MB: reload, no restart");
    });

    test("with pgha:restartPolicy in-place the primary restarts where it is, no switchover", () => {
        expect(restartPlan({ shared_buffers: "1GB" }, restart, "in-place")).toMatch(/then primary in place \(writes stop while it restarts\)$/);
        expect(restartPlan({ shared_buffers: "1GB" }, restart, "in-place")).not.toMatch(/by one switchover/);
    });

    test("before PostgreSQL is installed the plan says what it does not know yet", () => {
        expect(restartPlan({ shared_buffers: "1GB" }, undefined, "rolling")).toBe("shared_buffers=1GB: reload or restart, known once PostgreSQL is installed (a restart rolls)");
    });

    test("a line stays short enough for preview, whatever the value", () => {
        const plan = restartPlan({ shared_preload_libraries: "pg_stat_statements,auto_explain,pg_prewarm" }, new Set(["shared_preload_libraries"]), "in-place");
        expect(plan).toMatch(/^shared_preload_libraries=pg_stat_statement\.\.\.: restart, rolled/);
        expect(plan.length).toBeLessThanOrEqual(150);
        expect(restartPlan({}, restart, "rolling")).toBe("no pgha:postgresqlParameters");
    });

    test("the build line names the build, so a new version or tarball changes it, and says that it rolls", () => {
        const source = { install: "source" as const, version: "14.6", major: "14", sourceSha256: "508840fc1809d39ab72274d5f137dabb9fd7fb4f933da4168aeebb20069edf22" };
        expect(buildPlan(source, "rolling")).toBe("PostgreSQL 14.6 sha256 508840fc1809, a new build: restart, rolled: async standby, sync standby, then primary by one switchover (writes pause ~5 s)");
        expect(buildPlan({ ...source, version: "14.7" }, "rolling")).not.toBe(buildPlan(source, "rolling"));
        expect(buildPlan({ ...source, sourceSha256: undefined }, "in-place")).toMatch(/^PostgreSQL 14\.6 source, a new build: restart, rolled: .*then primary in place/);
        expect(buildPlan({ install: "package", version: "15", major: "15" }, "rolling")).toMatch(/^PostgreSQL 15 packages, a new build: restart/);
        expect(buildPlan(source, "in-place").length).toBeLessThanOrEqual(150);
    });
});
