# shellcheck shell=bash
# Set up an isolated environment for the real Pulumi engine. Source it:
#
#   source toolchain/engine-env.sh <scratch-dir>
#
# - puts the toolchain bin dir on PATH (runs toolchain/pulumi-toolchain.sh,
#   quietly; its log goes to <scratch-dir>/toolchain.log) and exports it as
#   PGHA_PULUMI_BIN
# - PULUMI_HOME=<scratch-dir>/home, PULUMI_BACKEND_URL=file://<scratch-dir>/state
# - PULUMI_CONFIG_PASSPHRASE=pgha-test unless it (or PULUMI_CONFIG_PASSPHRASE_FILE)
#   is already set
# - PULUMI_SKIP_UPDATE_CHECK=true
# - <scratch-dir>/project: the project (links to this checkout's program files),
#   exported as PGHA_PULUMI_PROJECT; run pulumi there
# - with the cached build only (not a pulumi found on PATH, whose engine fetches
#   its own plugins): PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true, and
#   <scratch-dir>/home/plugins a link to the toolchain's plugins (the providers
#   it built, registered once with `pulumi plugin install --file`).
# Returns non-zero (without exiting the calling shell) on failure.

if ! (return 0 2>/dev/null); then
  echo "engine-env.sh: source this file: source toolchain/engine-env.sh <scratch-dir>" >&2
  exit 2
fi

_pgha_engine_env() {
  local scratch="${1:-}" here out bindir log
  if [[ -z "$scratch" ]]; then
    echo "usage: source toolchain/engine-env.sh <scratch-dir>" >&2
    return 2
  fi
  mkdir -p "$scratch/home" "$scratch/state" || return 1
  scratch="$(cd "$scratch" && pwd -P)" || return 1
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)" || return 1

  log="$scratch/toolchain.log"
  if ! out="$(bash "$here/pulumi-toolchain.sh" 2>"$log")"; then
    echo "engine-env.sh: toolchain/pulumi-toolchain.sh failed; its log ($log):" >&2
    tail -n 20 "$log" >&2
    return 1
  fi
  bindir="${out##*$'\n'}"
  if [[ ! -x "$bindir/pulumi" ]]; then
    echo "engine-env.sh: no pulumi in '$bindir' (see $log)" >&2
    return 1
  fi
  case ":$PATH:" in
    *":$bindir:"*) ;;
    *) PATH="$bindir:$PATH" ;;
  esac
  export PATH
  export PGHA_PULUMI_BIN="$bindir"
  export PULUMI_HOME="$scratch/home"
  export PULUMI_BACKEND_URL="file://$scratch/state"
  if [[ -z "${PULUMI_CONFIG_PASSPHRASE+set}" && -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then
    export PULUMI_CONFIG_PASSPHRASE=pgha-test
  fi
  export PULUMI_SKIP_UPDATE_CHECK=true

  # The project as the engine sees it: links to this checkout's program files, so that stack files
  # (Pulumi.<stack>.yaml with the passphrase salt and encrypted secrets) stay out of the checkout.
  local project="$scratch/project" repo f
  repo="$(cd "$here/.." && pwd)" || return 1
  mkdir -p "$project" || return 1
  for f in Pulumi.yaml index.ts components scripts package.json tsconfig.json node_modules; do
    ln -sfn "$repo/$f" "$project/$f" || return 1
  done
  export PGHA_PULUMI_PROJECT="$project"

  # A pulumi found on PATH fetches its own plugins (so plugin acquisition stays
  # as the caller had it); only the cached build (recognised by its stamp) runs
  # without downloads, with the providers built beside it as its plugins.
  if [[ ! -f "$bindir/../toolchain.stamp" ]]; then
    return 0
  fi
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  local plugins
  plugins="$(cd "$bindir/../home/plugins" && pwd -P)" || return 1
  if [[ "$(readlink "$PULUMI_HOME/plugins" 2>/dev/null)" != "$plugins" ]]; then
    rm -rf "$PULUMI_HOME/plugins"
    ln -s "$plugins" "$PULUMI_HOME/plugins" || return 1
  fi
  return 0
}

_pgha_engine_env "$@"
_pgha_engine_env_rc=$?
unset -f _pgha_engine_env
return "$_pgha_engine_env_rc"
