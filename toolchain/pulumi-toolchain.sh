#!/usr/bin/env bash
# Provide a real Pulumi engine for tests and CI (npm run pulumi:toolchain).
#
# Uses a compatible `pulumi` already on PATH, or builds from the Go module proxy
# into a cache outside the repo (reused while its stamp matches):
#   ${PGHA_TOOLCHAIN_CACHE:-$HOME/.cache/pgha/toolchain}/<versions-key>/bin
#     pulumi                   github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
#     pulumi-language-nodejs   github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
# Versions: toolchain/versions.env. Progress goes to stderr; the last line on
# stdout is the directory to put on PATH.
#
# PGHA_TOOLCHAIN_BUILD: unset/auto = prefer a compatible pulumi on PATH;
#   1 = use (and build if needed) the cached build even if one is on PATH;
#   force = rebuild the cache entry.
set -euo pipefail

# All in one function: bash parses it whole before running, so editing this file
# (e.g. a git checkout) while a long build runs cannot derail the run.
main() {
  local here
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  # shellcheck source=toolchain/versions.env
  . "$here/versions.env"

  mode="${PGHA_TOOLCHAIN_BUILD:-auto}"
  cache_root="${PGHA_TOOLCHAIN_CACHE:-${HOME:?HOME is not set}/.cache/pgha/toolchain}"
  key="pulumi-${PGHA_PULUMI_CLI_VERSION}_nodejs-${PGHA_PULUMI_NODEJS_VERSION}"
  dest="$cache_root/$key"
  bin="$dest/bin"
  stamp_file="$dest/toolchain.stamp"

  say() { printf 'pulumi-toolchain: %s\n' "$*" >&2; }
  die() { say "error: $*"; exit 1; }

  case "$mode" in
    auto | 1 | force) ;;
    *) die "PGHA_TOOLCHAIN_BUILD must be auto, 1 or force (got '$mode')" ;;
  esac

  # semver_ge A B: true when version A >= version B (leading v and -pre ignored).
  semver_ge() {
    local a="${1#v}" b="${2#v}" i
    a="${a%%[-+]*}"
    b="${b%%[-+]*}"
    local -a x y
    IFS=. read -r -a x <<<"$a"
    IFS=. read -r -a y <<<"$b"
    for i in 0 1 2; do
      local p="${x[i]:-0}" q="${y[i]:-0}"
      [[ "$p" =~ ^[0-9]+$ && "$q" =~ ^[0-9]+$ ]] || return 1
      if ((10#$p > 10#$q)); then return 0; fi
      if ((10#$p < 10#$q)); then return 1; fi
    done
    return 0
  }

  # 1. A pulumi already on PATH (not one of our own cache builds) that is v3 and
  #    at least the SDK version: use it, build nothing.
  if [[ "$mode" == auto ]] && sys_pulumi="$(command -v pulumi 2>/dev/null)"; then
    sys_dir="$(cd "$(dirname "$sys_pulumi")" && pwd -P)"
    cache_real="$(mkdir -p "$cache_root" && cd "$cache_root" && pwd -P)"
    if [[ "$sys_dir" != "$cache_real"/* ]]; then
      sys_ver="$(PULUMI_SKIP_UPDATE_CHECK=true "$sys_pulumi" version 2>/dev/null | tail -n 1 || true)"
      if [[ "$sys_ver" == v3.* ]] && semver_ge "$sys_ver" "$PGHA_PULUMI_SDK_VERSION"; then
        say "using pulumi $sys_ver already on PATH ($sys_pulumi)"
        printf '%s\n' "$sys_dir"
        exit 0
      fi
      say "ignoring pulumi on PATH ($sys_pulumi, version '${sys_ver:-unknown}'): need v3 >= $PGHA_PULUMI_SDK_VERSION"
    fi
  fi

  # 2. The cached build, when its stamp matches the versions and wrapper modules.
  hash_of() { sha256sum "$@" | sha256sum | cut -c1-16; }
  stamp="$(
    printf 'cli=%s\nnodejs=%s\ninputs=%s\n' \
      "$PGHA_PULUMI_CLI_VERSION" "$PGHA_PULUMI_NODEJS_VERSION" \
      "$(cd "$here/engine" && hash_of cli/go.mod cli/go.sum nodejs/go.mod nodejs/go.sum)"
  )"
  if [[ "$mode" != force && -f "$stamp_file" && -x "$bin/pulumi" && -x "$bin/pulumi-language-nodejs" ]] &&
    [[ "$(cat "$stamp_file")" == "$stamp" ]]; then
    say "reusing $bin"
    printf '%s\n' "$bin"
    exit 0
  fi

  # 3. Build.
  command -v go >/dev/null 2>&1 || die "go is not on PATH (needed to build the Pulumi CLI ${PGHA_PULUMI_CLI_VERSION})"

  # The wrapper modules must pin the versions named in versions.env.
  check_pin() { # dir module version
    local got
    got="$(cd "$here/engine/$1" && go list -m -f '{{.Version}}' "$2")" || die "go list -m $2 failed in toolchain/engine/$1"
    [[ "$got" == "$3" ]] || die "toolchain/engine/$1/go.mod pins $2 $got but versions.env says $3"
  }
  check_pin cli github.com/pulumi/pulumi/pkg/v3 "$PGHA_PULUMI_CLI_VERSION"
  check_pin cli github.com/pulumi/pulumi/sdk/v3 "$PGHA_PULUMI_CLI_VERSION"
  check_pin nodejs github.com/pulumi/pulumi/sdk/v3 "$PGHA_PULUMI_NODEJS_VERSION"

  mkdir -p "$cache_root"
  tmp="$(mktemp -d "$cache_root/.build-$key.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/bin"
  chmod 755 "$tmp"

  vpkg=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version
  build() { # dir version output package
    local started=$SECONDS
    say "building $3 $2 (go build $4) ..."
    (cd "$here/engine/$1" && GOFLAGS=-mod=readonly go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X $vpkg=$2" -o "$tmp/bin/$3" "$4") || die "building $3 failed"
    say "built $3 in $((SECONDS - started))s"
  }
  build nodejs "$PGHA_PULUMI_NODEJS_VERSION" pulumi-language-nodejs \
    github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
  build cli "$PGHA_PULUMI_CLI_VERSION" pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi

  got="$(PULUMI_SKIP_UPDATE_CHECK=true "$tmp/bin/pulumi" version | tail -n 1)"
  [[ "$got" == "$PGHA_PULUMI_CLI_VERSION" ]] || die "built pulumi reports '$got', expected $PGHA_PULUMI_CLI_VERSION"

  say "pulumi-resource-command ${PGHA_PULUMI_COMMAND_VERSION} is not built: the Go module proxy does not serve github.com/pulumi/pulumi-command/provider"

  printf '%s\n' "$stamp" >"$tmp/toolchain.stamp"
  rm -rf "$dest"
  mv "$tmp" "$dest"
  trap - EXIT
  say "installed into $bin"
  printf '%s\n' "$bin"
}

main "$@"
