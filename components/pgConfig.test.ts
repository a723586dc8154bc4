import { parseConfig } from "./config";
import { MANAGED_PARAMETERS } from "./managedParameters";
import { postgresqlSettings } from "./pgConfig";
import { rawConfig } from "../tests/fixtures";

/** The parameters a pgha.conf sets, in order. */
const names = (conf: string) => conf.split("\n").filter((l) => !l.startsWith("#")).map((l) => l.split(" = ")[0]);

describe("pgha.conf", () => {
    test.each([["with a backup host", {}], ["without", { backupHost: "", backupHostIp: "" }]])("every setting pgha makes %s is one pgha:postgresqlParameters refuses", (_, overrides) => {
        const conf = postgresqlSettings(parseConfig(rawConfig("lab", overrides)));
        expect(names(conf).filter((name) => MANAGED_PARAMETERS[name] === undefined)).toEqual([]);
        expect(names(conf)).toContain("restart_after_crash");
    });

    test("pgha:postgresqlParameters come after pgha's own settings, quoted as literals", () => {
        const conf = postgresqlSettings(parseConfig(rawConfig("lab", { postgresqlParameters: { work_mem: "64MB", max_connections: 200, application_name: "it's" } })));
        expect(conf).toMatch(/\npassword_encryption = 'scram-sha-256'\n# pgha:postgresqlParameters\nwork_mem = '64MB'\nmax_connections = '200'\napplication_name = 'it''s'$/);
        expect(postgresqlSettings(parseConfig(rawConfig("lab")))).not.toContain("pgha:postgresqlParameters");
    });
});
