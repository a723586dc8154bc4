import { parseConfig } from "./config";
import { debianPackages, elPackages, resourceAgentsVars } from "./hostPrep";
import { rawConfig } from "../tests/fixtures";

const spec = (overrides: Record<string, unknown>) => parseConfig(rawConfig("dev", overrides));

describe("build dependencies, listed once per distribution", () => {
    test("source builds of both: the compilers and libraries each build needs, docs tools only with the docs", () => {
        const withDocs = spec({ postgresqlInstall: "source", resourceAgentsInstall: "source", postgresqlBuildDocs: true });
        expect(debianPackages(withDocs)).toEqual(expect.arrayContaining(["build-essential", "libssl-dev", "libreadline-dev", "bison", "flex", "autoconf", "libglib2.0-dev", "docbook-xml", "xsltproc"]));
        expect(elPackages(withDocs)).toEqual(expect.arrayContaining(["gcc", "openssl-devel", "readline-devel", "bison", "flex", "autoconf", "glib2-devel", "docbook-dtds"]));
        const noDocs = spec({ postgresqlInstall: "source", resourceAgentsInstall: "source", postgresqlBuildDocs: false });
        expect(elPackages(noDocs)).not.toContain("docbook-dtds");
        expect(debianPackages(noDocs)).not.toContain("docbook-xml");
    });

    test("package installs: no build dependency, the distribution's PostgreSQL and agents", () => {
        const packaged = spec({ postgresqlInstall: "package", postgresqlVersion: "15", resourceAgentsInstall: "package" });
        expect(debianPackages(packaged)).toEqual(expect.arrayContaining(["postgresql-15", "resource-agents"]));
        for (const build of ["build-essential", "autoconf", "libglib2.0-dev", "bison"]) {
            expect(debianPackages(packaged)).not.toContain(build);
        }
        for (const build of ["gcc", "autoconf", "glib2-devel"]) {
            expect(elPackages(packaged)).not.toContain(build);
        }
    });

    test("the resource-agents script learns the install method, the tarball and its checksum", () => {
        const vars = resourceAgentsVars(spec({ resourceAgentsInstall: "source", resourceAgentsSha256: "a".repeat(64) }));
        expect(vars).toEqual({ RA_INSTALL: "source", RA_VERSION: "4.12.0", RA_URL: expect.stringMatching(/4\.12\.0\.orig\.tar\.gz$/), RA_SHA256: "a".repeat(64) });
    });
});
