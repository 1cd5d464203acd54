#!/bin/sh
# test/cfg/fuzz.sh -- bounded libFuzzer run of vmm-cfg-upgrade's rewriters.
#
# usage: sh test/cfg/fuzz.sh FUZZ_BINARY SECONDS WORKDIR
#
# Seeds the corpus with every golden-test input (prefixed with the byte
# that selects the matching rewriter), runs the fuzzer for SECONDS under
# ASan and UBSan, prints libFuzzer's final "Done N runs" line and fails
# on any finding (crash, leak, sanitizer report, broken invariant).
set -u
fuzz=$1
secs=$2
work=$3
here=$(dirname "$0")

rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
n=0
# selector byte: low two bits pick the rewriter (0 vmm.cfg, 1 Postfix,
# 2 Dovecot), 16 the way back; the other bits vary options (see src/cfg/fuzz.c)
for f in $(find "$here/cases" -type f -path '*/in/*' | sort); do
	case $f in
		*pgsql-*.cf) sels="1 65 17" ;;
		*dovecot*) sels="2 130 18 146" ;;
		*) sels="0 4 8 32 68 96 16" ;;
	esac
	for s in $sels; do
		n=$((n + 1))
		{ printf "\\$(printf %o "$s")"; cat "$f"; } > "$work/corpus/seed-$n"
	done
done
echo "cfg-fuzz: $n seed inputs, running for ${secs}s"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	"$fuzz" -max_total_time="$secs" -max_len=4096 -timeout=10 \
	-print_final_stats=1 -artifact_prefix="$work/artifacts/" \
	"$work/corpus" > "$work/fuzz.log" 2>&1
rc=$?
grep -E '^Done [0-9]+ runs' "$work/fuzz.log" || tail -30 "$work/fuzz.log"
if [ $rc -ne 0 ] || [ -n "$(ls "$work/artifacts")" ]; then
	tail -40 "$work/fuzz.log"
	echo "cfg-fuzz: FAILED (exit $rc), see $work"
	exit 1
fi
echo "cfg-fuzz: no findings"
