/** Pulumi.yaml, the README and the program's key table describe the same configuration. */
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { CONFIG_KEYS } from "../components/configKeys";
import { parseConfig } from "../components/config";
import { debianPackages, debianPostgresqlPackages } from "../components/hostPrep";
import { rawConfig, ROOT, stackFileConfig } from "./fixtures";
import { labEnv } from "./lab";
import { GENERATED } from "../tools/docs-config";

const project = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
    name: string;
    runtime: { name: string; options?: Record<string, unknown> };
    description: string;
    config: Record<string, { type: string; description: string; default?: unknown; secret?: boolean; items?: { type: string } }>;
};

test("the project is pgha on the nodejs runtime with TypeScript", () => {
    expect(project.name).toBe("pgha");
    expect(project.runtime).toEqual({ name: "nodejs", options: { typescript: true } });
    expect(project.description.length).toBeGreaterThan(40);
});

test.each(GENERATED.map((g) => [path.relative(ROOT, g.file), g]))("%s holds exactly what npm run docs:config generates from the key declarations", (_name, g) => {
    const current = fs.readFileSync(g.file, "utf8");
    expect(g.generate(current)).toBe(current);
});

test("Pulumi.yaml declares every key with its type and default; only required secrets are marked secret", () => {
    expect(Object.keys(project.config)).toEqual(CONFIG_KEYS.map((k) => k.name));
    for (const key of CONFIG_KEYS) {
        const declared = project.config[key.name];
        expect({ type: declared.type, default: declared.default, secret: declared.secret ?? false })
            .toEqual({ type: key.type, default: key.default, secret: (key.secret ?? false) && key.default === undefined });
    }
});

test.each(["dev", "lab"])("Pulumi.%s.yaml sets only declared pgha keys", (stack) => {
    const names = CONFIG_KEYS.map((k) => `pgha:${k.name}`);
    for (const key of Object.keys(stackFileConfig(stack)).filter((k) => k.startsWith("pgha:"))) {
        expect(names).toContain(key);
    }
});

test("the lab's node image is a fresh server: none of the packages os-prep and the postgresql step install are in it", () => {
    const spec = parseConfig(rawConfig("lab"));
    const imagePackages = labEnv().PGHA_LAB_IMAGE_PACKAGES.split(" ");
    expect(imagePackages).toContain("openssh-server");
    for (const p of [...debianPackages(spec), ...debianPostgresqlPackages(spec)]) {
        expect(imagePackages).not.toContain(p);
    }
});

test("package.json pins the provider SDKs at the versions the toolchain builds (toolchain/versions.env)", () => {
    const versions = Object.fromEntries(fs.readFileSync(path.join(ROOT, "toolchain", "versions.env"), "utf8")
        .split("\n").map((l) => /^([A-Z0-9_]+)=(\S+)$/.exec(l)).filter((m): m is RegExpExecArray => m !== null).map((m) => [m[1], m[2]]));
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(pkg.dependencies["@pulumi/command"]).toBe(versions.PGHA_PULUMI_COMMAND_VERSION);
    expect(pkg.dependencies["@pulumi/random"]).toBe(versions.PGHA_PULUMI_RANDOM_VERSION);
    expect(pkg.optionalDependencies["@pulumi/vsphere"]).toBe(versions.PGHA_PULUMI_VSPHERE_VERSION);
    // The package the tests load is that version too, from npm or from the toolchain's build (tools/setup.sh).
    expect(JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", "@pulumi", "vsphere", "package.json"), "utf8")).version).toBe(versions.PGHA_PULUMI_VSPHERE_VERSION);
});
