#!/usr/bin/env bash
# Builds the command-line tools the project's checks need from the Go module proxy
# into a cache folder (default $HOME/.cache/eventplane/bin) and prints that folder.
# A tool already built at the pinned version is not rebuilt.
#
#   hack/tools.sh [tool ...]     tools: staticcheck (default: all known)
set -euo pipefail

BIN="${EVENTPLANE_TOOLS:-$HOME/.cache/eventplane/bin}"
mkdir -p "$BIN"

declare -A PKG=(
  [staticcheck]="honnef.co/go/tools/cmd/staticcheck@v0.8.0"
)

install_tool() {
  local name="$1" spec="${PKG[$1]:-}"
  if [[ -z "$spec" ]]; then
    echo "hack/tools.sh: unknown tool '$name' (known: ${!PKG[*]})" >&2
    return 2
  fi
  local stamp="$BIN/.$name.version"
  if [[ -x "$BIN/$name" && -f "$stamp" && "$(cat "$stamp")" == "$spec" ]]; then
    return 0
  fi
  echo "hack/tools.sh: building $spec" >&2
  GOBIN="$BIN" GOFLAGS=-buildvcs=false go install "$spec"
  echo "$spec" >"$stamp"
}

tools=("$@")
[[ ${#tools[@]} -eq 0 ]] && tools=("${!PKG[@]}")
for t in "${tools[@]}"; do install_tool "$t"; done
echo "$BIN"
