#!/usr/bin/env bash
# tests/ci/deps-order.sh: fails if the Makefile works out its compiler flags before `make deps`
# has installed the -dev packages, which is what a fresh machine sees on its first `make run`.
#
# It plays the fresh machine: a pkg-config shim first on PATH knows no package until a fake
# installer (INSTALL_DEPS) has "installed" them by touching a marker. Then `make deps <object>`
# must compile an object that includes <libpq-fe.h> (found only through pkg-config's
# -I/usr/include/postgresql). A Makefile that runs pkg-config when it is read gets an empty
# answer and the compile fails; one that asks when the recipe runs gets the real flags.
# Also: `make run`, `make test`, `make faults` and `make bench` run the installer first.
# Needs the packages really installed (run after `make deps`). Prints `N passed, N failed`.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

real=$(command -v pkg-config) || {
	echo "pkg-config is not installed: run make deps first" >&2
	exit 1
}
mkdir -p "$tmp/bin"
cat >"$tmp/bin/pkg-config" <<SHIM
#!/bin/sh
# Knows nothing until the fake installer has run, as on a machine without the -dev packages.
[ -e "$tmp/installed" ] || exit 1
exec "$real" "\$@"
SHIM
cat >"$tmp/install-deps" <<FAKE
#!/bin/sh
touch "$tmp/installed"
echo "deps: (fake) installed \$#"
FAKE
chmod +x "$tmp/bin/pkg-config" "$tmp/install-deps"

passed=0
failed=0

# The README's commands (and faults, bench) install before anything else: their first step,
# as make plans it (-n), is the installer.
for goal in run test faults bench; do
	first=$(make --no-print-directory -n -C "$repo" INSTALL_DEPS=__install_deps__ "$goal" \
		2>/dev/null | head -n 1) || true
	if [[ $first == __install_deps__* ]]; then
		echo "PASS make $goal installs the packages first"
		passed=$((passed + 1))
	else
		echo "FAIL make $goal installs the packages first: its first step is '$first'"
		failed=$((failed + 1))
	fi
done

obj=$tmp/build/obj/cgi/alerts.o
rc=0
PATH=$tmp/bin:$PATH make --no-print-directory -C "$repo" BUILD="$tmp/build" \
	INSTALL_DEPS="$tmp/install-deps" deps "$obj" >"$tmp/make.log" 2>&1 || rc=$?
if [[ $rc -eq 0 && -f $obj ]]; then
	echo "PASS make deps then a compile: flags computed after deps ran"
	passed=$((passed + 1))
else
	echo "FAIL make deps then a compile (status $rc): the flags were computed before deps ran"
	tail -n 15 "$tmp/make.log"
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
((failed == 0))
