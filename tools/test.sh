#!/usr/bin/env bash
# The test command (README, CI): installs what the tests need, runs the jest suites (unit, mocks, real
# pcs/crm_verify/crm_simulate, the real Pulumi engine), then, as root, the end-to-end test on the lab
# (systemd-nspawn machines, the real engine) with the failover drills.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
npx jest --ci
if ((EUID == 0)); then
    npx jest --ci --runInBand --config jest.e2e.config.js
else
    echo "test: not root: skipping the lab end-to-end test (sudo npm run lab:e2e)" >&2
fi
