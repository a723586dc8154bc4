/**
 * Turns a script under scripts/ plus its inputs into the one command string a remote.Command runs.
 * Values are written into the script itself (sshd drops environment variables without AcceptEnv);
 * secrets never pass through here: they go on the command's stdin.
 */
import * as fs from "fs";
import * as path from "path";

export const SCRIPTS_DIR = path.join(__dirname, "..", "scripts");

/** Quotes a value for POSIX shells: the result is one word whose value is exactly `value`. */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

export type ScriptValue = string | number | boolean | readonly string[];

function render(value: ScriptValue): string {
    return Array.isArray(value) ? value.join(" ") : String(value);
}

const scriptCache = new Map<string, string>();

function readScript(name: string): string {
    let text = scriptCache.get(name);
    if (text === undefined) {
        text = fs.readFileSync(path.join(SCRIPTS_DIR, name), "utf8");
        scriptCache.set(name, text);
    }
    return text;
}

/** The text of script `name` under scripts/. */
export function scriptText(name: string): string {
    return readScript(name);
}

/** A here-document delimiter starting with `base` that is not a line of `text`. */
function delimiter(base: string, text: string): string {
    const lines = new Set(text.split("\n"));
    let candidate = base;
    for (let i = 1; lines.has(candidate); i++) {
        candidate = `${base}_${i}`;
    }
    return candidate;
}

/**
 * `NAME='value'`, or for a value with quotes or line breaks `NAME=$(cat <<'END' ... END)`, so that values such
 * as pcs command lines or settings files appear in the command (and in a preview's diff) as written.
 */
function assignment(name: string, value: string): string {
    if (!/['\n]/.test(value)) {
        return `${name}='${value}'`;
    }
    const end = delimiter(`PGHA_END_${name}`, value);
    return `${name}=$(cat <<'${end}'\n${value}\n${end}\n)`;
}

/**
 * The command for script `name` with `vars` (names without the PGHA_ prefix): the script, with lib.sh and
 * the named `libraries` in front of it and its inputs as assignments at the top, passed verbatim to bash
 * through a here-document (the SSH user's login shell must be a POSIX shell). When the SSH user is not
 * root it runs through `sudo -n`.
 */
export function scriptCommand(name: string, vars: Readonly<Record<string, ScriptValue>>, sshUser = "root", libraries: readonly string[] = []): string {
    const assignments = Object.keys(vars)
        .sort()
        .map((key) => {
            if (!/^[A-Z][A-Z0-9_]*$/.test(key)) {
                throw new Error(`bad script variable name ${key}`);
            }
            return assignment(`PGHA_${key}`, render(vars[key]));
        });
    const body = [...assignments, ...["lib.sh", ...libraries].map(readScript), readScript(name)].join("\n");
    const step = `pgha-${name.replace(/\.sh$/, "")}`;
    const sudo = sshUser === "root" ? "" : "sudo -n ";
    const end = delimiter("PGHA_SCRIPT", body);
    return `${sudo}bash -c "$(cat <<'${end}'\n${body}\n${end}\n)" ${step}`;
}
