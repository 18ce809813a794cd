#!/usr/bin/env bash
# Reports functions that no binary can reach: golang.org/x/tools/cmd/deadcode
# (a `tool` in go.mod) over every main package (consumers/cmd/..., hack/...).
# Test support (consumers/internal/testenv) is reached from tests only and is
# not reported; functions kept on purpose are listed in hack/deadcode.allow
# with their reason. Run by `make lint`.
set -euo pipefail
cd "$(dirname "$0")/.."
allow="hack/deadcode.allow"
out="$(go tool deadcode ./consumers/cmd/... ./hack/...)"
bad="$(awk -v allow="$allow" '
  BEGIN { while ((getline l < allow) > 0) if (l !~ /^#/ && l != "") { split(l, a, " "); ok[a[1] " " a[2]] = 1 } }
  { split($1, p, ":"); f = $NF }
  p[1] ~ /^consumers\/internal\/testenv\// { next }
  !((p[1] " " f) in ok) { print }
' <<<"$out")"
if [[ -n "$bad" ]]; then
  echo "$bad"
  echo "deadcode: unreachable from every main: remove them, or list them in $allow with the reason they stay" >&2
  exit 1
fi
