#!/usr/bin/env bash
# Keeps the fence user's password (stdin) in a root-only file that the fence device reads through
# password_script, so the password is never part of the CIB.
# Inputs: PGHA_FENCE_PASSWORD_FILE.
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"

password=$(pgha_read_secret)
pgha_dir "${PGHA_FENCE_PASSWORD_FILE%/*}" 0755 root:root
pgha_put_file "$PGHA_FENCE_PASSWORD_FILE" 0600 root:root <<<"$password"
unset password
pgha_summary
