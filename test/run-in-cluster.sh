#!/usr/bin/env bash
# test/run-in-cluster.sh - run every suite against the cluster the PG*
# environment variables point to (set by pg_virtualenv in run-tests.sh).
#
# Every suite runs even if an earlier one failed; the last line counts the
# tests of all suites together.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0

# pg_regress: sql/NAME.sql against expected/NAME.out, then the
# isolation tests specs/NAME.spec; each run ends with its own summary line.
echo "== pg_regress"
make -s installcheck 2>&1 | tee test/results/pg_regress.log
runs=0
while read -r line; do
	runs=$((runs + 1))
	case "$line" in
	*"tests passed"*)
		passed=$((passed + $(echo "$line" | grep -oE '[0-9]+' | head -1))) ;;
	*"tests failed"*)
		f=$(echo "$line" | grep -oE '[0-9]+' | sed -n 1p)
		t=$(echo "$line" | grep -oE '[0-9]+' | sed -n 2p)
		failed=$((failed + f)); passed=$((passed + t - f)) ;;
	esac
done < <(grep -oE 'All [0-9]+ tests passed|[0-9]+ of [0-9]+ tests failed' test/results/pg_regress.log)
# two runs expected (pg_regress, isolation); a run that printed no summary failed
[ "$runs" -ge 2 ] || failed=$((failed + 2 - runs))
for d in test/results/regression.diffs test/results/isolation/regression.diffs; do
	[ -s "$d" ] && cat "$d"
done

# pgTAP: each file in a fresh database made from a template with pgTAP.
echo "== pgTAP"
if ls test/pgtap/*.sql >/dev/null 2>&1; then
	createdb vmm_tap_template
	psql -qX -d vmm_tap_template -c 'CREATE EXTENSION pgtap' >/dev/null
	tap_ok=0; tap_bad=0
	for f in test/pgtap/*.sql; do
		db="vmm_tap_$(basename "$f" .sql | tr -c 'a-z0-9_\n' '_')"
		createdb -T vmm_tap_template "$db"
		if pg_prove -d "$db" "$f" 2>&1 | tee "test/results/$(basename "$f" .sql).tap"; then
			tap_ok=$((tap_ok + 1))
		else
			tap_bad=$((tap_bad + 1))
		fi
		dropdb "$db"
	done
	dropdb vmm_tap_template
	passed=$((passed + tap_ok)); failed=$((failed + tap_bad))
fi

# doc/layouts.md is generated from src/layouts.tsv: it must be current.
echo "== doc/layouts.md"
if awk -f src/tsv2md.awk src/layouts.tsv | cmp -s - doc/layouts.md; then
	echo "ok - doc/layouts.md matches src/layouts.tsv"; passed=$((passed + 1))
else
	echo "not ok - doc/layouts.md is stale: run make doc/layouts.md"; failed=$((failed + 1))
fi

# The ereports of src/*.c keep the message convention (the SQL messages:
# sql/messages.sql).
echo "== C messages"
bash test/c-messages.sh 2>&1 | tee test/results/c-messages.log
line=$(grep -E '^c-messages: [0-9]+ passed, [0-9]+ failed' test/results/c-messages.log | tail -1)
if [ -n "$line" ]; then
	passed=$((passed + $(echo "$line" | awk '{print $2}'))); failed=$((failed + $(echo "$line" | awk '{print $4}')))
else
	failed=$((failed + 1))
fi

# An earlier release's database, updated with this tree (own cluster).
echo "== release update"
bash test/release-update.sh 2>&1 | tee test/results/release-update.log
line=$(grep -E '^release-update: [0-9]+ passed, [0-9]+ failed' test/results/release-update.log | tail -1)
if [ -n "$line" ]; then
	passed=$((passed + $(echo "$line" | awk '{print $2}'))); failed=$((failed + $(echo "$line" | awk '{print $4}')))
else
	failed=$((failed + 1))
fi

# --- Sqitch (examples/sqitch; test/sqitch.sh) ---
echo "== sqitch"
bash test/sqitch.sh 2>&1 | tee test/results/sqitch.log
line=$(grep -E '^sqitch: [0-9]+ passed, [0-9]+ failed' test/results/sqitch.log | tail -1)
if [ -n "$line" ]; then
	passed=$((passed + $(echo "$line" | awk '{print $2}'))); failed=$((failed + $(echo "$line" | awk '{print $4}')))
else
	failed=$((failed + 1))
fi
# --- end Sqitch ---

# vmm-cfg-upgrade: golden files, configparser check, bounded fuzzing.
if [ -f src/cfg/cfg.mk ]; then
	echo "== vmm-cfg-upgrade"
	make -s cfg-test 2>&1 | tee test/results/cfg.log
	line=$(grep -E '^cfg: [0-9]+ passed, [0-9]+ failed' test/results/cfg.log | tail -1)
	if [ -n "$line" ]; then
		p=$(echo "$line" | awk '{print $2}'); q=$(echo "$line" | awk '{print $4}')
		passed=$((passed + p)); failed=$((failed + q))
	else
		failed=$((failed + 1))
	fi
fi

# end to end: the real Postfix and Dovecot before and after the upgrade, on
# both Dovecot variants and on a hot standby (test/e2e/run.sh).
if [ -f test/e2e/run.sh ]; then
	echo "== end to end (Postfix, Dovecot, hot standby)"
	bash test/e2e/run.sh 2>&1 | tee test/results/e2e.log
	line=$(grep -E '^e2e: [0-9]+ passed, [0-9]+ failed' test/results/e2e.log | tail -1)
	if [ -n "$line" ]; then
		p=$(echo "$line" | awk '{print $2}'); q=$(echo "$line" | awk '{print $4}')
		passed=$((passed + p)); failed=$((failed + q))
	else
		failed=$((failed + 1))
	fi
fi

echo
echo "vmm_upgrade: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
