#!/usr/bin/env bash
# Builds the Debian package: a Release build of the tollgate binary alone (no tests, no
# benchmarks) in TOLLGATE_PACKAGE_DIR (default build-pkg; an existing tree named there is used as
# it is configured), then `cpack -G DEB` from the install()
# rules of cmake/package.cmake. Prints the path of tollgate_<version>_<arch>.deb on standard
# output (everything else goes to standard error).
#
#   scripts/package.sh                   build the .deb
#   scripts/package.sh --install-check   build it, then install it with dpkg and check the
#                                        installed files and binary (scripts/package_check.sh)
#
# The build takes /tmp/tollgate-build.lock, as every build on a shared machine does (a lone
# machine has no other holder, so it costs nothing there).
set -euo pipefail
cd "$(dirname "$0")/.."

install_check=0
case "${1:-}" in
  "") ;;
  --install-check) install_check=1 ;;
  *) echo "usage: $0 [--install-check]" >&2; exit 2 ;;
esac

./scripts/deps.sh
build_dir=${TOLLGATE_PACKAGE_DIR:-build-pkg}
lock=/tmp/tollgate-build.lock
if [[ -f "$build_dir/CMakeCache.txt" && "$build_dir" != build-pkg ]]; then
  # An existing tree (CI packages the binary scripts/test.sh just built and tested, in build/,
  # rather than compiling it a second time): kept as it is configured; cpack strips the binary.
  flock "$lock" cmake -S . -B "$build_dir" >/dev/null
else
  flock "$lock" cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DTOLLGATE_BUILD_TESTS=OFF -DTOLLGATE_BUILD_BENCH=OFF >/dev/null
fi
flock "$lock" cmake --build "$build_dir" -j 2 --target tollgate >&2

# cpack installs into its own staging folder under the build tree; the old package goes first,
# so that the path printed is the one just made.
rm -f "$build_dir"/tollgate_*.deb
(cd "$build_dir" && cpack -G DEB -C Release >&2)
shopt -s nullglob
debs=("$build_dir"/tollgate_*.deb)
if ((${#debs[@]} != 1)); then
  echo "package: expected one tollgate_*.deb in $build_dir, found ${#debs[@]}" >&2
  exit 1
fi
deb=$(realpath "${debs[0]}")

if ((install_check)); then
  ./scripts/package_check.sh "$deb" >&2
fi
echo "$deb"
