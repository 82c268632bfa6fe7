#!/usr/bin/env bash
# Run every test: the layer check of common/ (tests/ci/layers.sh: no upward
# include, no include cycle), the unit test binaries built under BUILD (default build/asan),
# the mock provider's self-test, the fuzz corpora replayed through their
# harnesses (BUILD/fuzz/replay_<name>, one test per input), then the
# integration suite against real PostgreSQL + nginx. Prints a grand total as
# the last line: "N passed, M failed". Exit status 0 only when M = 0.
set -uo pipefail
BUILD=${1:-build/asan}
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0
failed=0
echo "== layers of common/ (tests/ci/layers.sh)"
lout=$(tests/ci/layers.sh 2>&1)
llast=$(printf '%s\n' "$lout" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)
if [ -n "$llast" ]; then
	printf '%s\n' "$lout" | grep '^FAIL' || true
	echo "layers: $llast"
	lp=${llast%% passed*}
	lf=${llast#*, }
	lf=${lf%% failed*}
	passed=$((passed + lp))
	failed=$((failed + lf))
else
	printf '%s\n' "$lout" | tail -20
	echo "the layer check did not report a result"
	failed=$((failed + 1))
fi

echo "== unit tests ($BUILD/tests)"
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	out=$("$t" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -E '^\[  (PASSED|FAILED)  \]|^\[  ERROR   \]|^\[  FAILED  \] ' || true
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:/\1/p' | tail -1)
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		# crashed (sanitizer abort) or failed before cmocka could count
		printf '%s\n' "$out" | tail -30
		f=1
	fi
	echo "$(basename "$t"): $p passed, $f failed"
	passed=$((passed + p))
	failed=$((failed + f))
done

echo "== mock provider self-test"
mlog=$(mktemp)
tests/mock/test_provider_mock.sh >"$mlog" 2>&1 || true
mlast=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$mlog" | tail -1)
if [ -n "$mlast" ]; then
	echo "test_provider_mock: $mlast"
	mp=${mlast%% passed*}
	mf=${mlast#*, }
	mf=${mf%% failed*}
	passed=$((passed + mp))
	failed=$((failed + mf))
	[ "$mf" -eq 0 ] || grep -E '^FAIL' -A1 "$mlog"
else
	tail -20 "$mlog"
	echo "the mock self-test did not report a result"
	failed=$((failed + 1))
fi
rm -f "$mlog"

echo "== fuzz corpus replay ($BUILD/fuzz)"
# Each tests/fuzz/corpus/<name>/ through its harness (built by make fuzz-replay-bins).
for dir in tests/fuzz/corpus/*/; do
	name=$(basename "$dir")
	r="$BUILD/fuzz/replay_$name"
	if [ ! -x "$r" ]; then
		echo "replay_$name: not built (make SAN=1 fuzz-replay-bins)"
		failed=$((failed + 1))
		continue
	fi
	rout=$("$r" "$dir" 2>&1)
	rc=$?
	rlast=$(printf '%s\n' "$rout" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)
	if [ "$rc" -eq 0 ] && [ -n "$rlast" ]; then
		echo "replay_$name: $rlast"
		rp=${rlast%% passed*}
		rf=${rlast#*, }
		rf=${rf%% failed*}
		passed=$((passed + rp))
		failed=$((failed + rf))
	else
		# a broken invariant or a sanitizer report: the harness aborted
		printf '%s\n' "$rout" | tail -30
		echo "replay_$name: aborted (exit $rc)"
		failed=$((failed + 1))
	fi
done

echo "== integration tests"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The integration suites and the fault suite (tests/faults), each on its own throwaway stack.
BIN_DIR="$BUILD/bin" tests/integration/run.sh tests/integration/test_*.sh tests/faults/test_*.sh \
	2>&1 | tee "$log" || true
last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
if [ -n "$last" ]; then
	ip=${last%% passed*}
	if_=${last#*, }
	if_=${if_%% failed*}
	passed=$((passed + ip))
	failed=$((failed + if_))
else
	echo "integration suite did not report a result"
	failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
