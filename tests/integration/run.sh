#!/usr/bin/env bash
# tests/integration/run.sh [TEST...]: run the integration tests (every
# tests/integration/test_*.sh, or the named ones: `smoke`, `test_smoke.sh`
# or a path), each in its own bash with its own throwaway stack, and print
# one final line `N passed, M failed` summing their closing lines. A script
# that ends without its closing line, or with a non-zero status and no
# failure counted, counts one failure. Exits non-zero if anything failed.
#
# Environment: BIN_DIR (default build/bin), TEST_TIMEOUT seconds per script
# (default 600), and what harness.sh reads (HARNESS_KEEP=1, SCENARIOS=name to
# run one scenario, SCENARIO_ORDER=reverse or shuffle, ...).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
BIN_DIR=${BIN_DIR:-$repo/build/bin}
[[ $BIN_DIR == /* ]] || BIN_DIR=$PWD/$BIN_DIR
export BIN_DIR
timeout_s=${TEST_TIMEOUT:-600}

tests=()
if (($#)); then
	for t in "$@"; do
		if [[ -f $t ]]; then
			tests+=("$t")
		elif [[ -f $here/$t ]]; then
			tests+=("$here/$t")
		elif [[ -f $here/test_$t.sh ]]; then
			tests+=("$here/test_$t.sh")
		else
			printf 'run.sh: no such test: %s\n' "$t" >&2
			exit 2
		fi
	done
else
	for t in "$here"/test_*.sh; do
		[[ -f $t ]] && tests+=("$t")
	done
fi
if ((${#tests[@]} == 0)); then
	printf 'run.sh: no tests found in %s\n' "$here" >&2
	exit 2
fi

total_passed=0
total_failed=0
summary=()
out=$(mktemp)
trap 'rm -f "$out"' EXIT

for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	printf '=== %s\n' "$name"
	start=$SECONDS
	set +e
	timeout -k 30 "$timeout_s" bash "$t" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	set -e
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1) || true
	if [[ -z $line ]]; then
		p=0
		f=1
		printf 'FAIL - %s ended (status %s) without its closing line\n' "$name" "$rc"
	else
		read -r p _ f _ <<<"$line"
		if ((rc != 0 && f == 0)); then
			f=1
			printf 'FAIL - %s exited with status %s\n' "$name" "$rc"
		fi
	fi
	total_passed=$((total_passed + p))
	total_failed=$((total_failed + f))
	summary+=("$(printf '%-32s %4d passed, %4d failed  %4ds' "$name" "$p" "$f" $((SECONDS - start)))")
done

printf '\n=== summary\n'
printf '%s\n' "${summary[@]}"
printf '%d passed, %d failed\n' "$total_passed" "$total_failed"
((total_failed == 0))
