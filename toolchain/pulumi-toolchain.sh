#!/usr/bin/env bash
# Provide a real Pulumi engine, and the providers the program uses, for the lab,
# tests and CI (npm run pulumi:toolchain).
#
# Uses a compatible `pulumi` already on PATH (a normal installation: its engine
# fetches its own plugins), or builds into a cache outside the repo:
#   ${PGHA_TOOLCHAIN_CACHE:-$HOME/.cache/pgha/toolchain}/
#     parts/<binary>-<version>-<inputs hash>/<binary>   one build per binary
#     <toolchain key>/bin/     the CLI and its language host (hard links into parts/)
#     <toolchain key>/home/plugins/   the providers installed as engine plugins
#     <toolchain key>/nodejs/vsphere  the @pulumi/vsphere package built from the vendored SDK
#                                     (tools/setup.sh copies it into node_modules when npm lacks it)
#     logs/<binary>.log        the build logs (go's download lines)
# Binaries: pulumi and pulumi-language-nodejs from Go modules (wrapper modules in
# toolchain/engine/), pulumi-resource-command, pulumi-resource-random and
# pulumi-resource-vsphere (with its Node.js SDK, compiled with the checkout's
# node_modules: run npm install first) from the vendored upstream sources
# (sha256-checked), vcsim and govc (vSphere simulator and CLI for the tests) from
# Go modules. Versions: toolchain/versions.env.
# Progress goes to stderr, one line per binary; the last line on stdout is the
# directory to put on PATH.
#
# PGHA_TOOLCHAIN_BUILD: unset/auto = prefer a compatible pulumi on PATH;
#   1 = use (and build if needed) the cached build even if one is on PATH;
#   force = rebuild every binary.
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
  vendor="${PGHA_VENDOR_DIR:-$here/../../shared/vendor}"
  if [[ -d "$vendor" ]]; then vendor="$(cd "$vendor" && pwd)"; fi

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
        say "using pulumi $sys_ver already on PATH ($sys_pulumi); its engine fetches the providers"
        printf '%s\n' "$sys_dir"
        exit 0
      fi
      say "ignoring pulumi on PATH ($sys_pulumi, version '${sys_ver:-unknown}'): need v3 >= $PGHA_PULUMI_SDK_VERSION"
    fi
  fi

  # 2. Every binary is a part keyed by its version and the hash of its inputs.
  hash_of() { sha256sum "$@" | sha256sum | cut -c1-16; }
  text_hash() { sha256sum | cut -c1-16; }
  local -A part_key
  part_key[pulumi-language-nodejs]="$PGHA_PULUMI_NODEJS_VERSION-$(cd "$here/engine" && hash_of nodejs/go.mod nodejs/go.sum)"
  part_key[pulumi]="$PGHA_PULUMI_CLI_VERSION-$(cd "$here/engine" && hash_of cli/go.mod cli/go.sum)"
  part_key[pulumi-resource-command]="v$PGHA_PULUMI_COMMAND_VERSION-$(text_hash <<<"$PGHA_COMMAND_SRC_SHA256")"
  part_key[pulumi-resource-random]="v$PGHA_PULUMI_RANDOM_VERSION-$(text_hash <<<"$PGHA_RANDOM_SRC_SHA256 $PGHA_PULUMI_YAML_SRC_SHA256 $PGHA_PULUMI_DOTNET_SRC_SHA256")"
  part_key[pulumi-resource-vsphere]="v$PGHA_PULUMI_VSPHERE_VERSION-$(text_hash <<<"$PGHA_VSPHERE_SRC_SHA256 $PGHA_VSPHERE_UPSTREAM_SRC_SHA256")"
  part_key[pulumi-vsphere-nodejs]="v$PGHA_PULUMI_VSPHERE_VERSION-$(text_hash <<<"$PGHA_VSPHERE_SRC_SHA256")"
  part_key[vcsim]="$PGHA_GOVMOMI_VERSION"
  part_key[govc]="$PGHA_GOVMOMI_VERSION"
  local parts=(pulumi-language-nodejs pulumi pulumi-resource-command pulumi-resource-random pulumi-resource-vsphere pulumi-vsphere-nodejs vcsim govc)
  local name all_keys
  # The first line names the layout of the toolchain directory: change it when step 4 changes.
  all_keys="$(echo "layout-3"; for name in "${parts[@]}"; do echo "$name-${part_key[$name]}"; done)"
  key="pgha-$(text_hash <<<"$all_keys")"
  dest="$cache_root/$key"
  bin="$dest/bin"
  stamp_file="$dest/toolchain.stamp"

  if [[ "$mode" != force && -f "$stamp_file" && "$(cat "$stamp_file")" == "$all_keys" ]]; then
    touch "$dest" # in use: see the clean-up of step 4
    say "reusing $bin"
    printf '%s\n' "$bin"
    exit 0
  fi

  # 3. Build what is missing.
  command -v go >/dev/null 2>&1 || die "go is not on PATH (needed to build the Pulumi toolchain)"
  mkdir -p "$cache_root/parts" "$cache_root/logs"
  work="$(mktemp -d "$cache_root/.work.XXXXXX")"
  trap 'rm -rf "$work"' EXIT

  # The wrapper modules must pin the versions named in versions.env.
  check_pin() { # dir module version
    local got
    got="$(cd "$here/engine/$1" && go list -m -f '{{.Version}}' "$2")" || die "go list -m $2 failed in toolchain/engine/$1"
    [[ "$got" == "$3" ]] || die "toolchain/engine/$1/go.mod pins $2 $got but versions.env says $3"
  }

  # Unpacks vendored tarball FILE (checked against SHA) into DIR.
  unpack_vendored() { # file sha dir
    local tarball="$vendor/$1"
    [[ -f "$tarball" ]] || die "$tarball is missing: set PGHA_VENDOR_DIR to the directory holding the vendored sources"
    echo "$2  $tarball" | sha256sum -c --status || die "$tarball does not match its sha256 $2 (toolchain/versions.env)"
    mkdir -p "$3"
    tar -xzf "$tarball" -C "$3"
  }

  # build_part NAME DESCRIPTION COLD-ESTIMATE FUNCTION: FUNCTION writes $out/NAME.
  build_part() {
    local name=$1 what=$2 estimate=$3 fn=$4
    local part="$cache_root/parts/$name-${part_key[$name]}"
    if [[ "$mode" != force && -x "$part/$name" ]]; then
      return 0
    fi
    local log="$cache_root/logs/$name.log" started=$SECONDS
    out="$work/$name.out"
    rm -rf "$out"
    mkdir -p "$out"
    say "building $name $what (about $estimate on a cold 2-core machine; log: $log)"
    if ! ("$fn" >"$log" 2>&1); then
      tail -n 20 "$log" >&2
      die "building $name failed (log: $log)"
    fi
    [[ -x "$out/$name" ]] || die "building $name produced no binary (log: $log)"
    rm -rf "$part"
    mv "$out" "$part"
    say "built $name in $((SECONDS - started)) s"
  }

  local vpkg=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version
  build_nodejs() {
    check_pin nodejs github.com/pulumi/pulumi/sdk/v3 "$PGHA_PULUMI_NODEJS_VERSION"
    cd "$here/engine/nodejs"
    GOFLAGS=-mod=readonly go build -trimpath -buildvcs=false -ldflags "-s -w -X $vpkg=$PGHA_PULUMI_NODEJS_VERSION" \
      -o "$out/pulumi-language-nodejs" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
  }
  build_cli() {
    check_pin cli github.com/pulumi/pulumi/pkg/v3 "$PGHA_PULUMI_CLI_VERSION"
    check_pin cli github.com/pulumi/pulumi/sdk/v3 "$PGHA_PULUMI_CLI_VERSION"
    cd "$here/engine/cli"
    GOFLAGS=-mod=readonly go build -trimpath -buildvcs=false -ldflags "-s -w -X $vpkg=$PGHA_PULUMI_CLI_VERSION" \
      -o "$out/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
    local got
    got="$(PULUMI_SKIP_UPDATE_CHECK=true "$out/pulumi" version | tail -n 1)"
    [[ "$got" == "$PGHA_PULUMI_CLI_VERSION" ]] || die "built pulumi reports '$got', expected $PGHA_PULUMI_CLI_VERSION"
  }
  build_command() {
    local src="$work/command"
    unpack_vendored "$PGHA_COMMAND_SRC" "$PGHA_COMMAND_SRC_SHA256" "$src"
    cd "$src"/pulumi-command-*/provider
    GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi-command/provider/pkg/version.Version=$PGHA_PULUMI_COMMAND_VERSION" \
      -o "$out/pulumi-resource-command" ./cmd/pulumi-resource-command
  }
  build_random() {
    local src="$work/random"
    unpack_vendored "$PGHA_RANDOM_SRC" "$PGHA_RANDOM_SRC_SHA256" "$src"
    unpack_vendored "$PGHA_PULUMI_YAML_SRC" "$PGHA_PULUMI_YAML_SRC_SHA256" "$src"
    unpack_vendored "$PGHA_PULUMI_DOTNET_SRC" "$PGHA_PULUMI_DOTNET_SRC_SHA256" "$src"
    local yaml dotnet
    yaml="$(echo "$src"/pulumi-yaml-*)"
    dotnet="$(echo "$src"/pulumi-dotnet-*)/pulumi-language-dotnet"
    cd "$src"/pulumi-random-*/provider
    go mod edit -replace "github.com/pulumi/pulumi-yaml=$yaml" \
      -replace "github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3=$dotnet"
    # The provider embeds its schema, generated from the bridged Terraform provider.
    (cd cmd/pulumi-resource-random && VERSION="$PGHA_PULUMI_RANDOM_VERSION" GOFLAGS="-mod=readonly -buildvcs=false" go run generate.go)
    CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi-random/provider/v4/pkg/version.Version=$PGHA_PULUMI_RANDOM_VERSION" \
      -o "$out/pulumi-resource-random" ./cmd/pulumi-resource-random
  }

  build_vsphere() {
    local src="$work/vsphere"
    unpack_vendored "$PGHA_VSPHERE_SRC" "$PGHA_VSPHERE_SRC_SHA256" "$src"
    local tree
    tree="$(echo "$src"/pulumi-vsphere-*)"
    # The terraform provider is the tag's git submodule, which provider/go.mod replaces with ../upstream.
    unpack_vendored "$PGHA_VSPHERE_UPSTREAM_SRC" "$PGHA_VSPHERE_UPSTREAM_SRC_SHA256" "$src/upstream-src"
    rm -rf "$tree/upstream"
    mv "$src"/upstream-src/terraform-provider-vsphere-* "$tree/upstream"
    cd "$tree/provider"
    # The provider embeds its schema: the committed one with the release's version (as the upstream Makefile does).
    local schema=cmd/pulumi-resource-vsphere/schema.json
    VERSION="$PGHA_PULUMI_VSPHERE_VERSION" node -e '
      const fs = require("fs");
      const schema = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
      schema.version = process.env.VERSION;
      fs.writeFileSync(process.argv[2], JSON.stringify(schema));' "$schema" "${schema%schema.json}schema-embed.json"
    CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi-vsphere/provider/v4/pkg/version.Version=$PGHA_PULUMI_VSPHERE_VERSION" \
      -o "$out/pulumi-resource-vsphere" ./cmd/pulumi-resource-vsphere
  }
  # The generated Node.js SDK of the same tag (`pulumi package gen-sdk` is not implemented by the Node host
  # built here), compiled with the checkout's TypeScript, @types/node and @pulumi/pulumi.
  build_vsphere_nodejs() {
    local modules="$here/../node_modules"
    [[ -x "$modules/.bin/tsc" && -d "$modules/@pulumi/pulumi" ]] || die "no TypeScript or @pulumi/pulumi in $modules: run npm install first"
    local src="$work/vsphere-sdk"
    unpack_vendored "$PGHA_VSPHERE_SRC" "$PGHA_VSPHERE_SRC_SHA256" "$src"
    cd "$src"/pulumi-vsphere-*/sdk/nodejs
    ln -s "$(cd "$modules" && pwd)" node_modules
    "$modules/.bin/tsc" -p .
    # The package's version and the plugin version it asks the engine for (the upstream Makefile's sed).
    VERSION="$PGHA_PULUMI_VSPHERE_VERSION" node -e '
      const fs = require("fs");
      const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
      pkg.version = pkg.pulumi.version = process.env.VERSION;
      delete pkg.devDependencies;
      delete pkg.scripts;
      fs.writeFileSync("bin/package.json", JSON.stringify(pkg, null, 4) + "\n");'
    cp README.md ../../LICENSE bin/
    mv bin "$out/pulumi-vsphere-nodejs"
  }
  build_govmomi() { # tool
    GOBIN="$out" GOFLAGS="-buildvcs=false" go install -trimpath -ldflags "-s -w" "github.com/vmware/govmomi/$1@$PGHA_GOVMOMI_VERSION"
  }
  build_vcsim() { build_govmomi vcsim; }
  build_govc() { build_govmomi govc; }

  build_part pulumi-language-nodejs "$PGHA_PULUMI_NODEJS_VERSION from Go modules" "1 min" build_nodejs
  build_part pulumi "$PGHA_PULUMI_CLI_VERSION from Go modules" "6 min" build_cli
  build_part pulumi-resource-command "$PGHA_PULUMI_COMMAND_VERSION from $vendor/$PGHA_COMMAND_SRC" "4 min" build_command
  build_part pulumi-resource-random "$PGHA_PULUMI_RANDOM_VERSION from $vendor/$PGHA_RANDOM_SRC" "9 min" build_random
  build_part pulumi-resource-vsphere "$PGHA_PULUMI_VSPHERE_VERSION from $vendor/$PGHA_VSPHERE_SRC" "3 min" build_vsphere
  build_part pulumi-vsphere-nodejs "(@pulumi/vsphere $PGHA_PULUMI_VSPHERE_VERSION) from $vendor/$PGHA_VSPHERE_SRC" "1 min" build_vsphere_nodejs
  build_part vcsim "$PGHA_GOVMOMI_VERSION from Go modules" "1.5 min" build_vcsim
  build_part govc "$PGHA_GOVMOMI_VERSION from Go modules" "1 min" build_govc

  # 4. The toolchain directory: the binaries, and the providers registered as plugins in a
  #    PULUMI_HOME whose plugins/ engine-env.sh links into every engine environment.
  #    The CLI and its language host sit side by side (hard links), so the CLI finds the host as its bundled
  #    one; the providers are found as plugins only (on PATH the engine would warn about ambient plugins).
  local tmp="$work/toolchain"
  part() { printf '%s/parts/%s-%s/%s' "$cache_root" "$1" "${part_key[$1]}" "$1"; }
  mkdir -p "$tmp/bin" "$tmp/home"
  for name in pulumi pulumi-language-nodejs vcsim govc; do
    ln "$(part "$name")" "$tmp/bin/$name" 2>/dev/null || cp "$(part "$name")" "$tmp/bin/$name"
  done
  install_plugin() { # name version
    PULUMI_HOME="$tmp/home" PULUMI_SKIP_UPDATE_CHECK=true "$tmp/bin/pulumi" plugin install resource "$1" "$2" \
      --file "$(part "pulumi-resource-$1")" >>"$cache_root/logs/plugins.log" 2>&1 ||
      die "registering pulumi-resource-$1 as a plugin failed (log: $cache_root/logs/plugins.log)"
  }
  install_plugin command "$PGHA_PULUMI_COMMAND_VERSION"
  install_plugin random "$PGHA_PULUMI_RANDOM_VERSION"
  install_plugin vsphere "$PGHA_PULUMI_VSPHERE_VERSION"
  mkdir -p "$tmp/nodejs"
  cp -a "$(part pulumi-vsphere-nodejs)" "$tmp/nodejs/vsphere"
  printf '%s' "$all_keys" >"$tmp/toolchain.stamp"
  rm -rf "$dest"
  mv "$tmp" "$dest"
  # Another checkout (other versions) may still use its toolchain, whose plugins its engines link to: only
  # one unused for a week goes.
  find "$cache_root" -mindepth 1 -maxdepth 1 -name 'pgha-*' ! -path "$dest" -mtime +7 -exec rm -rf {} +
  say "installed into $bin"
  printf '%s\n' "$bin"
}

main "$@"
