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

# pg_regress: sql/NAME.sql against expected/NAME.out.
echo "== pg_regress"
make -s installcheck 2>&1 | tee test/results/pg_regress.log
if grep -qE '^# All [0-9]+ tests passed|All [0-9]+ tests passed' test/results/pg_regress.log; then
	n=$(grep -oE 'All [0-9]+ tests passed' test/results/pg_regress.log | grep -oE '[0-9]+')
	passed=$((passed + n))
else
	n=$(grep -oE '[0-9]+ of [0-9]+ tests failed' test/results/pg_regress.log | head -1)
	f=${n%% of*}; t=$(echo "$n" | awk '{print $3}')
	failed=$((failed + ${f:-1})); passed=$((passed + ${t:-1} - ${f:-1}))
	[ -f test/results/regression.diffs ] && cat test/results/regression.diffs
fi

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
