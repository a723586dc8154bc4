#!/usr/bin/env bash
# Stands up a cluster. Without arguments: the local lab (three machines on this machine, lab stack); a lab
# stack by name with --stack lab-NAME. With --stack NAME (e.g. dev): `pulumi up` of that stack, e.g. the
# runbook's three VMs on vSphere.
set -euo pipefail
cd "$(dirname "$0")/.."

stack=lab
if [[ ${1:-} == --stack ]]; then
    stack=${2:?usage: npm run up [-- --stack NAME]}
fi
if [[ $stack == lab || $stack == lab-* ]]; then
    exec bash lab/run-lab.sh --stack "$stack"
fi
bash tools/setup.sh
PATH="$(bash toolchain/pulumi-toolchain.sh | tail -n1):$PATH"
export PATH
pulumi up --stack "$stack"
pulumi stack output --stack "$stack"
