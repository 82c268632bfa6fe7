#!/usr/bin/env bash
# The layers of common/ (DESIGN.md, "Layers inside common/", with db before app: the FastCGI
# skeleton holds each process's database connection and applies stored settings before a
# request), checked from the includes:
#  - every .c and .h under common/ is in a layer folder, common/<layer>/;
#  - an include of a project header names its folder ("delivery/outbox.h"), in common/, cgi/,
#    cron/ and tests/ alike, and the header exists;
#  - a file includes only its own layer and those before it in LAYERS;
#  - no include cycle between modules (x.c, x.h and a private x_internal.h are module x), direct
#    or through others.
# One test per file, one for the cycles. Prints "N passed, M failed" last; exit 0 only when M = 0.
# Usage: tests/ci/layers.sh [ROOT] (default: the checkout this script is in).
set -uo pipefail
ROOT=${1:-$(dirname "$0")/../..}
cd "$ROOT" || exit 2

LAYERS="core db app delivery monitor tenants webhook jobs"

declare -A rank
i=0
for l in $LAYERS; do
	rank[$l]=$i
	i=$((i + 1))
done

passed=0
failed=0
declare -A edges # module -> space-separated modules it includes

# The project headers an include may name, by path under common/ and by bare name.
declare -A header bare
for h in common/*/*.h; do
	header[${h#common/}]=1
	bare[${h##*/}]=${h#common/}
done

# check_file FILE LAYER: print what is wrong with FILE's includes; LAYER is empty outside common/.
check_file() {
	local f=$1 layer=$2 mod=$3 line inc top bad=0
	while IFS= read -r line; do
		inc=${line#*\"}
		inc=${inc%%\"*}
		case $inc in
		*/*)
			[ -n "${header[$inc]:-}" ] || continue # not a common/ header (../unit/configenv.h)
			top=${inc%%/*}
			if [ -n "$layer" ] && [ "${rank[$top]}" -gt "${rank[$layer]}" ]; then
				echo "FAIL $f: includes \"$inc\": $top/ comes after $layer/"
				bad=1
			fi
			if [ -n "$mod" ]; then
				local to=${inc##*/}
				to=${to%.h}
				to=${to%_internal}
				[ "$to" = "$mod" ] || edges[$mod]="${edges[$mod]:-} $to"
			fi
			;;
		*)
			if [ -n "${bare[$inc]:-}" ]; then
				echo "FAIL $f: includes \"$inc\", not \"${bare[$inc]}\""
				bad=1
			fi
			;;
		esac
	done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
	return $bad
}

for f in common/*.[ch] common/*/*/*.[ch]; do
	[ -e "$f" ] || continue
	echo "FAIL $f: not in a layer folder (common/<layer>/)"
	failed=$((failed + 1))
done

for f in common/*/*.[ch]; do
	layer=${f#common/}
	layer=${layer%%/*}
	if [ -z "${rank[$layer]:-}" ]; then
		echo "FAIL $f: $layer/ is not a layer ($LAYERS)"
		failed=$((failed + 1))
		continue
	fi
	mod=${f##*/}
	mod=${mod%.[ch]}
	mod=${mod%_internal}
	if check_file "$f" "$layer" "$mod"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done

for f in cgi/*.c cron/*.c tests/unit/*.[ch] tests/fuzz/*.[ch] tests/bench/*.c; do
	[ -e "$f" ] || continue
	if check_file "$f" "" ""; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done

# Cycles: a depth-first walk of the module graph; reaching a module still on the path closes one.
declare -A state # 1: on the path, 2: done
cycles=0
walk() {
	local m=$1 path=$2 n
	state[$m]=1
	for n in ${edges[$m]:-}; do
		if [ "${state[$n]:-0}" = 1 ]; then
			local full=" $path$m -> $n"
			echo "FAIL include cycle: $n -> ${full#* $n -> }"
			cycles=$((cycles + 1))
		elif [ "${state[$n]:-0}" = 0 ]; then
			walk "$n" "$path$m -> "
		fi
	done
	state[$m]=2
}
for m in $(printf '%s\n' "${!edges[@]}" | sort); do
	[ "${state[$m]:-0}" = 0 ] && walk "$m" ""
done
if [ "$cycles" -eq 0 ]; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
