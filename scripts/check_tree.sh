#!/usr/bin/env bash
# Fails when a tracked file reads outside the repository: a user's clone has nothing beside it,
# so every fixture, schema and script the build, the tests and the product use lives in the tree.
# It looks for paths that climb out of the checkout (../shared, ${…SOURCE_DIR}/.., "$0"/../..)
# and for absolute paths into a developer's machine.
set -euo pipefail
cd "$(dirname "$0")/.."
pattern='\.\./shared|SOURCE_DIR\}?/\.\.([/"]|$)|dirname "\$0"\)/\.\./\.\.|(^|[^[:alnum:]_.])/work/|/home/[a-z]'
hits=$(git grep -n -I -E "$pattern" -- . ':!scripts/check_tree.sh' || true)
if [[ -n "$hits" ]]; then
  echo "check_tree: these lines reach outside the repository:" >&2
  echo "$hits" >&2
  exit 1
fi
# Build output is never committed.
committed=$(git ls-files -- 'CMakeFiles/*' '*/CMakeFiles/*' 'CMakeCache.txt' 'build*/*' '*.o' '*.a' | head -5)
if [[ -n "$committed" ]]; then
  echo "check_tree: build output is committed:" >&2
  echo "$committed" >&2
  exit 1
fi
echo "check_tree: the tree reads nothing outside itself"
