#!/usr/bin/env bash
# Make a release of relc from the committed HEAD: no arguments, nothing pushed or uploaded.
#
#   1. the version is __version__ in compiler/__init__.py (the one place it is written);
#   2. CHANGELOG.md has a dated entry for it: "## [X.Y.Z] - YYYY-MM-DD";
#   3. `python -m build` makes the sdist and, from the sdist, the wheel, out of `git archive HEAD` (so what is
#      built is what the tag names, whatever the working tree holds), and `twine check --strict` accepts both;
#      they are copied to dist/;
#   4. the annotated tag vX.Y.Z is created on HEAD, with the changelog entry as its message.
#
# Run again on the same commit it does nothing; if vX.Y.Z already tags another commit it stops: bump the version
# and add its changelog entry first. Publishing stays a separate, deliberate step, e.g.
#   git push origin vX.Y.Z && python3 -m twine upload dist/relc-X.Y.Z*
# Needs git and the `build` and `twine` packages (the `test` extra); PYTHON picks the interpreter (python3).
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"

if [ "$#" -ne 0 ]; then
  echo "usage: bash scripts/release.sh   (no arguments; the version comes from compiler/__init__.py)" >&2
  exit 2
fi
say() { echo "release: $*"; }
die() { echo "release: $*" >&2; exit 1; }

head="$(git rev-parse --verify HEAD)"

# 1. The version, read without importing anything: the module's `__version__ = "..."` assignment.
init_py="$(git show HEAD:compiler/__init__.py)"
version="$("$python" -c '
import ast, sys
from packaging.version import Version
for node in ast.parse(sys.argv[1]).body:
    if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__version__"]:
        text = node.value.value
        if str(Version(text)) != text:
            sys.exit(f"__version__ {text!r} is not a normalised PEP 440 version ({Version(text)})")
        print(text)
        break
else:
    sys.exit("no __version__ = \"...\" in compiler/__init__.py")
' "$init_py")"
tag="v$version"
say "version $version (compiler/__init__.py at ${head:0:12})"

# 2. Its changelog entry.
changelog="$(git show HEAD:CHANGELOG.md 2>/dev/null)" || die "CHANGELOG.md is not committed"
pattern="^## \[$(printf '%s' "$version" | sed 's/[.+]/\\&/g')\] - [0-9]{4}-[0-9]{2}-[0-9]{2}\$"
grep -Eq "$pattern" <<<"$changelog" \
  || die "CHANGELOG.md has no entry '## [$version] - YYYY-MM-DD'; move the Unreleased items under one first"

# The tag, before any building: already made on this commit, or taken by another one.
if git rev-parse -q --verify "refs/tags/$tag" >/dev/null; then
  tagged="$(git rev-parse "$tag^{commit}")"
  [ "$tagged" = "$head" ] || die "$tag already tags ${tagged:0:12}, not HEAD ${head:0:12}; bump __version__ in compiler/__init__.py and add its CHANGELOG.md entry"
  say "$tag already tags HEAD; nothing to do"
  exit 0
fi

# 3. Build from the committed tree, check, keep the artefacts in dist/.
work="$(mktemp -d "${TMPDIR:-/tmp}/relc-release.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir "$work/src"
git archive --format=tar HEAD | tar -x -C "$work/src"
say "building the sdist and, from it, the wheel"
"$python" -m build --outdir "$work/dist" "$work/src" >"$work/build.log" 2>&1 \
  || { cat "$work/build.log" >&2; die "python -m build failed"; }
sdist="$work/dist/relc-$version.tar.gz"
wheel="$work/dist/relc-$version-py3-none-any.whl"
[ -f "$sdist" ] && [ -f "$wheel" ] \
  || die "the build made $(cd "$work/dist" && echo *), not relc-$version.tar.gz and relc-$version-py3-none-any.whl"
"$python" -m twine check --strict "$sdist" "$wheel"
mkdir -p dist
cp "$sdist" "$wheel" dist/
say "dist/relc-$version.tar.gz and dist/relc-$version-py3-none-any.whl"

# 4. The annotated tag, its message the changelog entry.
notes="$(awk -v heading="## [$version]" '
  index($0, heading) == 1 { on = 1; next }
  on && (/^## \[/ || /^\[[^]]+\]: /) { exit }
  on { print }' <<<"$changelog")"
git tag --annotate --cleanup=whitespace --file=- "$tag" "$head" <<EOF
relc $version
$notes
EOF
say "tagged ${head:0:12} as $tag (not pushed: git push origin $tag)"
