import { parseRestartParameters, restartPlan } from "./restartPlan";

describe("the restart plan a preview shows", () => {
    const restart = new Set(["shared_buffers", "max_connections"]);

    test("reads the postgresql step's line of parameters that need a restart", () => {
        expect(parseRestartParameters("pgha[postgresql]: done\nrestart-parameters max_connections shared_buffers\n")).toEqual(restart);
        expect(parseRestartParameters("pgha[postgresql]: done\n")).toBeUndefined();
        expect(parseRestartParameters(undefined)).toBeUndefined();
    });

    test("a reloadable parameter reloads; one PostgreSQL restarts for rolls, with its switchover", () => {
        expect(restartPlan({ work_mem: "64MB" }, restart)).toBe("work_mem=64MB: reload, no restart");
        expect(restartPlan({ work_mem: "64MB", shared_buffers: "1GB" }, restart))
            .toBe("work_mem=64MB: reload, no restart; shared_buffers=1GB: need a restart; a change of these rolls through the cluster: the async standby, then the sync standby, then the primary by one switchover (writes pause once, about 4 s)");
    });

    test("before PostgreSQL is installed the plan says what it does not know yet", () => {
        expect(restartPlan({ shared_buffers: "1GB" }, undefined)).toMatch(/^shared_buffers: whether a restart is needed is known once PostgreSQL is installed/);
        expect(restartPlan({}, restart)).toBe("no pgha:postgresqlParameters");
    });
});
