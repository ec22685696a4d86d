#!/usr/bin/env bash
# Fails when a tracked file reads outside the repository: a user's clone has nothing beside it,
# so every fixture, schema and script the build, the tests and the product use lives in the tree.
# It looks for paths that climb out of the checkout (the shared notes folder beside it,
# ${…SOURCE_DIR}/.., ${…LIST_DIR}/..,
# "$0"/../.., ~/ and $HOME), absolute paths into a developer's machine, and documents named but
# not in the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
pattern='\.\./shared|(SOURCE|LIST)_DIR\}?/\.\.([/"]|$)|dirname "\$0"\)/\.\./\.\.|(^|[^[:alnum:]_.])/work/|/home/[a-z]|\$\{?HOME\b|(^|[[:space:]"'"'"'=])~/'
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
# Every document a tracked file names (*.md) is in the tree: a reference to a file a clone does
# not have (a design note kept elsewhere) is a reference outside the tree too.
missing=$(python3 - <<'PY'
import os, re, subprocess
files = [f for f in subprocess.check_output(["git", "ls-files"], text=True).split("\n") if f]
tracked = set(files)
names = {os.path.basename(f) for f in files}
ref = re.compile(r"(?<![A-Za-z0-9_./-])((?:\.\./|\./)?[A-Za-z0-9_][A-Za-z0-9_./-]*\.md)\b")
for f in files:
    if f.startswith("tests/fixtures/") or f == "docs/slack-protocol.md":
        continue  # Slack's own files, and notes that cite files of Slack's repositories
    try:
        text = open(f, encoding="utf-8").read()
    except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
        continue
    for m in ref.finditer(text):
        r = m.group(1)
        if "/" in r:
            found = any(os.path.normpath(c) in tracked for c in (r, os.path.join(os.path.dirname(f), r)))
        else:
            found = r in names
        if not found:
            print(f"{f}: {r}")
PY
)
if [[ -n "$missing" ]]; then
  echo "check_tree: these files name documents that are not in the tree:" >&2
  echo "$missing" >&2
  exit 1
fi
echo "check_tree: the tree reads nothing outside itself"
