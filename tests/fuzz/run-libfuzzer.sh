#!/usr/bin/env bash
# Run each libFuzzer harness for a while on its committed seed corpus (make fuzz).
#
#   tests/fuzz/run-libfuzzer.sh BUILD SECONDS NAME...
#
# BUILD/fuzz_<name> fuzzes tests/fuzz/corpus/<name> (read only) and writes the
# new inputs it finds into BUILD/corpus/<name>, a scratch directory kept
# between runs; a crash or broken invariant goes to BUILD/artifacts/<name>/,
# the whole log to BUILD/logs/<name>.log. tests/fuzz/<name>.dict is used
# when it exists. Prints one line per harness with its exec count and exits
# non-zero when any harness found something. To keep a finding as a
# regression test: minimise it (BUILD/fuzz_<name> -minimize_crash=1 -runs=10000
# FILE) and copy it into tests/fuzz/corpus/<name>/ once it is fixed.
set -uo pipefail
if [ $# -lt 3 ]; then
	echo "usage: $0 BUILD SECONDS NAME..." >&2
	exit 2
fi
build=$1
seconds=$2
shift 2
cd "$(dirname "$0")/../.."

found=0
for name in "$@"; do
	bin=$build/fuzz_$name
	scratch=$build/corpus/$name
	artifacts=$build/artifacts/$name/
	log=$build/logs/$name.log
	mkdir -p "$scratch" "$artifacts" "$(dirname "$log")"
	dict=()
	[ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
	echo "== fuzz_$name: ${seconds}s"
	"$bin" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$artifacts" "${dict[@]}" "$scratch" "tests/fuzz/corpus/$name" \
		>"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
	new=$(find "$scratch" -type f | wc -l)
	if [ "$rc" -eq 0 ]; then
		echo "fuzz_$name: ${execs:-?} execs (${speed:-?}/s), $cov, $new inputs in $scratch"
	else
		found=1
		echo "fuzz_$name: FOUND SOMETHING after ${execs:-?} execs (exit $rc); log $log"
		grep -E 'ERROR: |invariant broken|SUMMARY|Test unit written' "$log" | head -10
	fi
done
exit "$found"
