#!/usr/bin/env bash
# Fails when the repository tracks something a build or a tool makes:
# executables (ELF, Mach-O, PE), archives of build output, or a tool's cache
# folder. Run by `make lint`.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0
while IFS= read -r -d '' f; do
  [[ -f "$f" ]] || continue
  case "$f" in
    */.schemathesis/*|.schemathesis/*|*/.hypothesis/*|*/__pycache__/*|*/.terraform/*|*/node_modules/*|*.test|*.exe|*.o|*.a|*.so)
      echo "tracked tool cache or build output: $f"; bad=1; continue ;;
  esac
  magic="$(head -c 4 "$f" | od -An -tx1 | tr -d ' \n')"
  case "$magic" in
    7f454c46|cffaedfe|cefaedfe|feedfacf|feedface|4d5a*)
      echo "tracked executable binary: $f"; bad=1 ;;
  esac
done < <(git ls-files -z)
if [[ $bad -ne 0 ]]; then
  echo "remove them (git rm --cached PATH) and add them to .gitignore" >&2
  exit 1
fi
