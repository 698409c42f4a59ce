#!/usr/bin/env bash
# Finds Azurite's Blob emulator (npm package `azurite`), on PATH or in a cache, and
# installs it into the cache when neither has it.
#
# Why: lfrun's Blob primitives are tested against the rehearsal's Blob endpoint and,
# to keep that honest, against Microsoft's own emulator too. The CI machine reaches the
# npm registry, so Azurite is installed from there like the helm/kubectl binaries
# (scripts/tools.sh) and kept in a cache that survives between runs.
#
# Usage:
#   scripts/azurite.sh path     print the absolute path of the `azurite-blob` launcher
#
# A missing Node.js/npm or a failed install is an error (exit 1) with what to do: the
# test that needs Azurite fails, it never skips.
set -euo pipefail

cache="${LFRUN_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lfrun/tools}/azurite"
version="${LFRUN_AZURITE_VERSION:-3.35.0}"

die() { echo "scripts/azurite.sh: $*" >&2; exit 1; }

find_azurite() {
  local p
  if p=$(command -v azurite-blob 2>/dev/null); then
    echo "$p"; return
  fi
  p="$cache/node_modules/.bin/azurite-blob"
  if [ ! -x "$p" ]; then
    command -v node >/dev/null || die "Node.js is not installed (Azurite needs it): install nodejs and npm, or put azurite-blob on PATH"
    command -v npm >/dev/null || die "npm is not installed: install npm, or put azurite-blob on PATH"
    mkdir -p "$cache"
    # several test binaries may ask at once: install under a lock, re-check inside it
    exec 9>"$cache/.lock"
    flock 9
    if [ ! -x "$p" ]; then
      (cd "$cache" && npm install --silent --no-audit --no-fund --no-save "azurite@$version" >"$cache/npm.log" 2>&1) ||
        die "could not install azurite@$version from the npm registry: $(tail -n 5 "$cache/npm.log")"
    fi
    flock -u 9
  fi
  [ -x "$p" ] || die "azurite-blob is missing at $p after installing"
  echo "$p"
}

case "${1:-}" in
  path) find_azurite ;;
  *) die "usage: scripts/azurite.sh path" ;;
esac
