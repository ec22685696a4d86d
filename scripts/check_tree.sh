#!/usr/bin/env bash
# Fails when a file of the tree reads outside the repository: a user's clone has nothing beside it,
# so every fixture, schema and script the build, the tests and the product use lives in the tree.
# It looks for paths that climb out of the checkout (the shared notes folder beside it,
# ${…SOURCE_DIR}/.., ${…LIST_DIR}/..,
# "$0"/../.., ~/ and $HOME), absolute paths into a developer's machine, documents named but
# not in the tree, and paths of the repository that README.md or docs/*.md name but that are not
# in it (so the docs cannot point at a file that was moved, split or removed).
# "The tree" is every file git lists, committed or new but not ignored, that is on disk: a file
# added but not yet committed is in it, one deleted but not yet committed is not.
set -euo pipefail
cd "$(dirname "$0")/.."

# refuse WHAT LINES: fails with WHAT and the offending LINES, unless LINES is empty.
refuse() {
  [[ -z "$2" ]] && return 0
  echo "check_tree: $1:" >&2
  echo "$2" >&2
  exit 1
}
pattern='\.\./shared|(SOURCE|LIST)_DIR\}?/\.\.([/"]|$)|dirname "\$0"\)/\.\./\.\.|(^|[^[:alnum:]_.])/work/|/home/[a-z]|\$\{?HOME\b|(^|[[:space:]"'"'"'=])~/'
hits=$(git grep --untracked -n -I -E "$pattern" -- . ':!scripts/check_tree.sh' || true)
refuse "these lines reach outside the repository" "$hits"
# Build output is never committed.
committed=$(git ls-files -- 'CMakeFiles/*' '*/CMakeFiles/*' 'CMakeCache.txt' 'build*/*' '*.o' '*.a' | head -5)
refuse "build output is committed" "$committed"
# Every document a tracked file names (*.md) is in the tree: a reference to a file a clone does
# not have (a design note kept elsewhere) is a reference outside the tree too.
missing=$(python3 - <<'PY'
import os, re, subprocess
listed = ["git", "ls-files", "--cached", "--others", "--exclude-standard"]
files = [f for f in subprocess.check_output(listed, text=True).split("\n") if f and os.path.lexists(f)]
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
refuse "these files name documents that are not in the tree" "$missing"
# Every repository path README.md and docs/*.md name is in the tree. A path is a token in
# backticks (inline or a fenced block) or a markdown link target; in backticks only tokens that
# start with a top-level folder of the repository count (so URLs, build outputs such as
# build/tollgate, installed paths such as /etc/tollgate/env and variables are not paths here),
# or that are a top-level file; a link target counts whatever it is, unless it is a URL or an
# anchor, resolved against the document's folder as GitHub does. Globs (*) and braces
# (process.{h,cc}) are expanded.
unnamed=$(python3 - <<'PY'
import fnmatch, glob, os, re, subprocess
listed = ["git", "ls-files", "--cached", "--others", "--exclude-standard"]
files = {f for f in subprocess.check_output(listed, text=True).split("\n") if f and os.path.lexists(f)}
dirs = set()
for f in files:
    d = os.path.dirname(f)
    while d:
        dirs.add(d)
        d = os.path.dirname(d)
paths = files | dirs
# The top-level folders: those in the tree, those of the last commit (a folder moved away is
# still one a document must not name), those of the layout whether or not they exist yet
# (naming packaging/ before it is added is wrong), and bot/, which became app/, edge/ and cmd/.
layout = {"base", "workflow", "storage", "http", "slack", "mail", "sandbox", "app", "edge", "cmd",
          "tests", "bench", "scripts", "docs", "packaging", "examples", "cmake", ".ci", "bot"}
head = subprocess.run(["git", "ls-tree", "HEAD"], text=True, capture_output=True).stdout
head = [line.split("\t", 1) for line in head.split("\n") if line]  # "mode type hash", name
head = [(meta.split()[1], name) for meta, name in head]
tops = ({f.split("/")[0] for f in files if "/" in f} | layout |
        {name for kind, name in head if kind == "tree"})
top_files = {f for f in files if "/" not in f} | {name for kind, name in head if kind == "blob"}
alternatives = "|".join(re.escape(t) for t in sorted(tops, key=len, reverse=True))
in_code = re.compile(r"(?<![A-Za-z0-9_./~:@$<>-])(?:\./)?((?:" + alternatives +
                     r")/[A-Za-z0-9_./*{},+-]*)")
bare = re.compile(r"(?<![A-Za-z0-9_./~:@$-])([A-Za-z0-9_.-]+)(?![A-Za-z0-9_./-])")
fence = re.compile(r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```", re.S | re.M)
inline = re.compile(r"`((?:[^`\n]|\n(?![ \t]*\n))+)`")  # a span may wrap, not cross a blank line
link = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")

def expand(p):
    m = re.search(r"\{([^{}]*)\}", p)
    if not m:
        return [p]
    return [q for alt in m.group(1).split(",") for q in expand(p[:m.start()] + alt + p[m.end():])]

def exists(p):
    p = p.rstrip(".,;:")
    if p.endswith("/..."):
        p = p[:-4]
    p = os.path.normpath(p.rstrip("/")) if p.rstrip("/") else ""
    if not p or p == ".":
        return True
    if any(c in p for c in "*?["):
        return any(fnmatch.fnmatchcase(q, p) for q in paths)
    return p in paths

def code_paths(text, start):
    for m in in_code.finditer(text):
        yield start + m.start(1), m.group(1)
    for m in bare.finditer(text):
        if m.group(1) in top_files:
            yield start + m.start(1), m.group(1)

docs = ["README.md"] + sorted(glob.glob("docs/*.md"))
for doc in docs:
    text = open(doc, encoding="utf-8").read()
    found = []
    for m in fence.finditer(text):
        found += code_paths(m.group(1), m.start(1))
    prose = fence.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)  # offsets kept
    for m in inline.finditer(prose):
        found += code_paths(m.group(1), m.start(1))
    for m in link.finditer(prose):
        target = m.group(1).split("#", 1)[0]
        if not target or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", target):
            continue
        target = target.lstrip("/") if target.startswith("/") else os.path.join(os.path.dirname(doc), target)
        found.append((m.start(1), os.path.normpath(target)))
    for offset, p in sorted(set(found)):
        if not all(exists(q) for q in expand(p)):
            print(f"{doc}:{text.count(chr(10), 0, offset) + 1}: {p}")
PY
)
refuse "these documents name paths that are not in the tree" "$unnamed"
echo "check_tree: the tree reads nothing outside itself"
