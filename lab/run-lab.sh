#!/usr/bin/env bash
# The embedded default of `npm run up`: a running pgha cluster on this machine.
#   run-lab.sh [--stack NAME]          the lab's machines up, the lab stack (Pulumi.NAME.yaml, default lab)
#                                      created if missing, `pulumi up`, then the stack outputs
#   run-lab.sh destroy [--stack NAME]  `pulumi destroy` of the stack, then the lab removed
#   run-lab.sh init NAME               only create the stack
# A stack gets its secrets here: the SSH key the lab generated and the BMCs' password (as the fence
# password); the database passwords are left to the program, which generates them (random.RandomPassword).
# The engine runs with its state in the lab's state dir; lab/pulumi runs any other pulumi command on it.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR source=lab.env
. lab/lab.env
lab_dir=${PGHA_LAB_DIR:-$PGHA_LAB_DIR_DEFAULT}
engine=$lab_dir/pulumi

if ((EUID != 0)); then
    echo "run-lab: needs root (containers, a bridge, mounts): sudo npm run up" >&2
    exit 1
fi

# Creates stack $1 from the committed Pulumi.$1.yaml unless it exists.
init_stack() {
    local stack=$1 stacks
    [[ -f Pulumi.$stack.yaml ]] || { echo "run-lab: no Pulumi.$stack.yaml" >&2; exit 1; }
    if [[ ! -s $engine/passphrase ]]; then
        mkdir -p "$engine"
        (umask 077 && head -c 24 /dev/urandom | base64 >"$engine/passphrase")
    fi
    stacks=$(lab/pulumi stack ls --json)
    [[ $stacks != *"\"name\": \"$stack\""* ]] || return 0
    lab/pulumi stack init "$stack" --secrets-provider passphrase >/dev/null
    # stack init wrote the passphrase salt; the committed stack configuration goes beside it.
    cat "Pulumi.$stack.yaml" >>"$engine/project/Pulumi.$stack.yaml"
    lab/pulumi config set --stack "$stack" --secret pgha:sshPrivateKey <"$lab_dir/id_ed25519"
    lab/pulumi config set --stack "$stack" --secret pgha:fencePassword <"$lab_dir/bmc/password"
}

action=up
case ${1:-} in
    destroy | init) action=$1; shift ;;
esac
stack=lab
if [[ $action == init ]]; then
    stack=${1:?usage: run-lab.sh init NAME}
elif [[ ${1:-} == --stack ]]; then
    stack=${2:?usage: run-lab.sh [destroy] [--stack NAME]}
fi

case $action in
    init)
        init_stack "$stack"
        ;;
    destroy)
        if [[ -s $engine/passphrase ]]; then
            lab/pulumi destroy --yes --skip-preview --stack "$stack" || echo "run-lab: pulumi destroy failed; removing the lab anyway" >&2
        fi
        bash lab/lab.sh down
        ;;
    up)
        bash tools/setup.sh
        bash lab/lab.sh up
        init_stack "$stack"
        lab/pulumi up --yes --skip-preview --stack "$stack"
        lab/pulumi stack output --stack "$stack"
        cat <<EOF

The cluster runs on the lab (ssh -F $lab_dir/ssh_config pglab1). Read a connection string or a password:
  sudo lab/pulumi stack output --stack $stack --show-secrets masterConnectionString
  sudo lab/pulumi stack output --stack $stack --show-secrets postgresPassword
EOF
        ;;
esac
