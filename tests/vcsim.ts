/**
 * VMware's vCenter simulator (vcsim, built by toolchain/) for the vSphere tests, on a free loopback port, with
 * everything it writes (its datastores' directories, the saved inventory) in one temporary directory that
 * stop() removes.
 *
 * vcsim answers the environment browser's QueryConfigOption with hardware options whose hwVersion is 0, while
 * its VMs are vmx-13 (a real ESXi 6.5 answers 13). The vsphere provider compares the two before every update
 * and asks for an upgrade to vmx-13, which vcsim refuses (AlreadyUpgradedFault), so no update could be tested.
 * start() therefore builds the inventory, saves it with `govc object.save`, sets each browser's hwVersion to
 * the version that same answer names as its default, and serves the saved inventory (`vcsim -load`).
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export class Vcsim {
    private constructor(
        private readonly bin: string,
        private readonly dir: string,
        private readonly child: ChildProcess,
        /** https://user:pass@127.0.0.1:PORT/sdk */
        readonly url: string,
    ) {}

    /** Starts vcsim with `inventoryArgs` (e.g. ["-dc", "1", ...]) from the toolchain's `bin`. */
    static async start(bin: string, inventoryArgs: string[]): Promise<Vcsim> {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgha-vcsim-"));
        let generated: Vcsim | undefined;
        try {
            generated = await Vcsim.serve(bin, dir, inventoryArgs);
            const inventory = path.join(dir, "inventory");
            generated.govc("object.save", "-d", inventory);
            // SIGKILL keeps the datastores' directories (under dir), which the saved inventory points at.
            await generated.kill("SIGKILL");
            setBrowserHardwareVersions(inventory);
            return await Vcsim.serve(bin, dir, ["-load", inventory]);
        } catch (error) {
            await generated?.kill("SIGKILL");
            fs.rmSync(dir, { recursive: true, force: true });
            throw error;
        }
    }

    /** Runs vcsim on a free loopback port with its temporary files under `dir`; resolves once it prints its URL. */
    private static serve(bin: string, dir: string, args: string[]): Promise<Vcsim> {
        const proc = spawn(path.join(bin, "vcsim"), ["-l", "127.0.0.1:0", ...args], {
            stdio: ["ignore", "pipe", "pipe"],
            env: { ...process.env, TMPDIR: dir },
        });
        return new Promise((resolve, reject) => {
            let out = "";
            const timer = setTimeout(() => {
                proc.kill("SIGKILL");
                reject(new Error(`vcsim printed no URL within 30 s: ${out}`));
            }, 30_000);
            const read = (chunk: Buffer) => {
                out += chunk.toString();
                const url = /GOVC_URL=(https:\/\/\S+)/.exec(out);
                if (url) {
                    clearTimeout(timer);
                    resolve(new Vcsim(bin, dir, proc, url[1]));
                }
            };
            proc.stdout?.on("data", read);
            proc.stderr?.on("data", read);
            proc.on("exit", (code) => {
                clearTimeout(timer);
                reject(new Error(`vcsim exited (${code}): ${out}`));
            });
        });
    }

    /** Runs govc against this simulator; throws with govc's error when it fails. */
    govc(...args: string[]): string {
        const result = spawnSync(path.join(this.bin, "govc"), args, {
            encoding: "utf8",
            env: { ...process.env, GOVC_URL: this.url, GOVC_INSECURE: "1" },
        });
        if (result.status !== 0) {
            throw new Error(`govc ${args.join(" ")} failed (${result.status}): ${result.stderr}`);
        }
        return result.stdout;
    }

    /** Stops vcsim and removes everything it wrote. */
    async stop(): Promise<void> {
        await this.kill("SIGTERM");
        fs.rmSync(this.dir, { recursive: true, force: true });
    }

    private kill(signal: NodeJS.Signals): Promise<void> {
        const proc = this.child;
        if (proc.exitCode !== null || proc.signalCode !== null) {
            return Promise.resolve();
        }
        return new Promise((resolve) => {
            proc.once("exit", () => resolve());
            proc.kill(signal);
        });
    }
}

/** Sets hwVersion in each saved QueryConfigOption answer to the number of the version it names (vmx-NN). */
function setBrowserHardwareVersions(inventory: string): void {
    const browsers = fs.readdirSync(inventory).filter((name) => name.startsWith("EnvironmentBrowser-") && !name.endsWith(".xml"));
    if (browsers.length === 0) {
        throw new Error(`no EnvironmentBrowser in the saved inventory ${inventory}`);
    }
    for (const browser of browsers) {
        const file = path.join(inventory, browser, "QueryConfigOption.xml");
        const answer = fs.readFileSync(file, "utf8");
        const version = /<version>vmx-(\d+)<\/version>/.exec(answer);
        if (!version || !answer.includes("<hwVersion>0</hwVersion>")) {
            throw new Error(`${file}: no <version>vmx-NN</version> or no <hwVersion>0</hwVersion> (vcsim changed?)`);
        }
        fs.writeFileSync(file, answer.replace("<hwVersion>0</hwVersion>", `<hwVersion>${Number(version[1])}</hwVersion>`));
    }
}
