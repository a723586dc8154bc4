#!/usr/bin/env bash
# The embedded default: a running pgha cluster on this machine.
#   run-lab.sh           lab hosts up, the lab stack applied to them, endpoints and `pcs status` printed
#   run-lab.sh destroy   the stack destroyed (when the engine ran it) and the lab removed
# The lab stack (Pulumi.lab.yaml) gets its secrets here: the SSH key the lab generated and passwords made
# once per lab (kept in the lab's state dir, mode 0600, removed by lab down).
# With a Pulumi engine that has the command provider (any normal installation) the stack is applied with
# `pulumi up`; where the provider cannot be built (toolchain/README.md) the program's steps are run by
# lab/stepRunner.ts instead, and this says so.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR source=lab.env
. lab/lab.env
lab_dir=${PGHA_LAB_DIR:-$PGHA_LAB_DIR_DEFAULT}
secrets=$lab_dir/secrets.json
engine_dir=$lab_dir/engine

# Sets PATH and PULUMI_* for the lab's engine, with a project view of this repository and the lab stack.
engine_env() {
    # shellcheck source=/dev/null # sourced for its exports; its own checks run on it directly
    source toolchain/engine-env.sh "$engine_dir" >/dev/null
    mkdir -p "$engine_dir/project"
    local f
    for f in Pulumi.yaml index.ts components scripts package.json tsconfig.json types node_modules; do
        ln -sfn "$PWD/$f" "$engine_dir/project/$f"
    done
}
# An installed pulumi (no toolchain stamp) fetches plugins itself; the toolchain's build has only what was built.
engine_has_command_provider() { [[ ! -f $PGHA_PULUMI_BIN/../toolchain.stamp ]] || grep -qw command <<<"$(pulumi plugin ls 2>/dev/null)"; }

if ((EUID != 0)); then
    echo "run-lab: needs root (network namespaces, bridge, mounts): sudo npm run lab" >&2
    exit 1
fi

if [[ ${1:-} == destroy ]]; then
    if [[ -f $engine_dir/project/Pulumi.lab.yaml ]]; then
        engine_env
        (cd "$engine_dir/project" && pulumi destroy --yes --non-interactive --stack lab) || echo "run-lab: pulumi destroy failed; removing the lab anyway" >&2
    fi
    exec bash lab/lab.sh down
fi

bash tools/setup.sh
bash lab/lab.sh up

if [[ ! -s $secrets ]]; then
    password() { head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24; }
    umask 077
    node -e 'const fs = require("fs"); const [file, key, ...pw] = process.argv.slice(1);
        fs.writeFileSync(file, JSON.stringify({ "pgha:sshPrivateKey": fs.readFileSync(key, "utf8"),
            "pgha:haclusterPassword": pw[0], "pgha:postgresPassword": pw[1], "pgha:replicationPassword": pw[2] }), { mode: 0o600 });' \
        "$secrets" "$lab_dir/id_ed25519" "$(password)" "$(password)" "$(password)"
fi

engine_env
if engine_has_command_provider; then
    cd "$engine_dir/project"
    if ! pulumi stack select lab 2>/dev/null; then
        pulumi stack init lab --secrets-provider passphrase
        # stack init wrote the passphrase salt; the committed stack config goes beside it.
        cat "$OLDPWD/Pulumi.lab.yaml" >>Pulumi.lab.yaml
        node -e 'const s = require(process.argv[1]); for (const [k, v] of Object.entries(s)) console.log(k + "\t" + Buffer.from(v).toString("base64"));' "$secrets" |
            while IFS=$'\t' read -r key value; do base64 -d <<<"$value" | pulumi config set --secret "$key"; done
    fi
    pulumi up --yes --non-interactive --stack lab
    pulumi stack output --stack lab
    cd "$OLDPWD"
else
    echo "run-lab: this machine's Pulumi engine has no command provider (its Go module is not served here);"
    echo "run-lab: applying the lab stack's steps with lab/stepRunner.ts instead (same commands, no Pulumi state)."
    npx ts-node lab/run-steps.ts lab "$secrets" >/dev/null
    echo "masterEndpoint: $PGHA_LAB_VIP_MASTER:5432 (read-write)    slaveEndpoint: $PGHA_LAB_VIP_SLAVE:5432 (read-only)"
    echo "postgres password: $secrets"
fi
bash lab/lab.sh ssh "${PGHA_LAB_NODES%% *}" pcs status
