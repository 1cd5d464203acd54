#!/usr/bin/env bash
# test/sqitch.sh - the Sqitch project examples/sqitch against throwaway
# databases made from the fixtures, in the cluster the PG* environment
# variables point to (vmm_upgrade installed there).
#
#   1. sqitch deploy --verify on a generated vmm 0.5.2 database: 0.6;
#   2. sqitch revert -y --to adopt_0_5_2: exactly the 0.5.2 structure, rows
#      and sequences of before (test/include/snapshot.sql's t.state);
#   3. sqitch deploy, then sqitch verify: passes; a deviation of the layout
#      makes sqitch verify fail;
#   4. sqitch deploy on a database that is not 0.5.2 (a vmm 0.6 layout)
#      fails, changes nothing, and Sqitch's registry records no change.
# Last line: "sqitch: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
passed=0
failed=0
check() {	# check NAME COMMAND...: one test
	if "${@:2}"; then
		passed=$((passed + 1)); echo "ok - $1"
	else
		failed=$((failed + 1)); echo "not ok - $1"
	fi
}
if ! command -v sqitch >/dev/null; then
	echo "sqitch: 0 passed, 1 failed (sqitch is not installed: apt-get install sqitch libdbd-pg-perl)"
	exit 1
fi
export SQITCH_FULLNAME='vmm_upgrade tests' SQITCH_EMAIL='tests@example.org'
export SQITCH_USER_CONFIG=/dev/null SQITCH_SYSTEM_CONFIG=/dev/null
export PGOPTIONS='-c client_min_messages=error'
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
sq() { (cd "$root/examples/sqitch" && sqitch "$@" "db:pg:$db"); }
state() { q -c "SELECT md5(t.state('public'))"; }
fails() { ! "$@"; }
says() { { "${@:2}" 2>&1 || true; } | grep -q "$1"; }	# says TEXT COMMAND...

db=vmm_t_sqitch
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
q -c '\set ECHO none' -c '\set dovecot 1.1' -c '\set lookups true' -c '\set users 200' \
  -f test/fixtures/vmm-0.5.2.sql -f test/fixtures/generate-0.5.2.sql -f test/include/snapshot.sql >/dev/null
before=$(state)
layout() { q -c "SELECT version || ' ' || dovecot FROM vmm_upgrade.detect_layout()"; }

check "deploy --verify takes 0.5.2 to 0.6" sq deploy --verify
check "the layout is 0.6" test "$(layout)" = "0.6 1.1"
check "revert -y --to adopt_0_5_2" sq revert -y --to adopt_0_5_2
check "the layout is 0.5.2 again" test "$(layout)" = "0.5.2 1.1"
check "every object and row as before the deploy" test "$(state)" = "$before"
check "deploy again" sq deploy
check "verify passes" sq verify
q -c 'ALTER TABLE users ADD COLUMN mobile text'
check "verify fails on a layout deviation" fails sq verify
q -c 'ALTER TABLE users DROP COLUMN mobile'
check "verify passes again" sq verify
check "revert -y: nothing deployed" sq revert -y
check "the mail schema as before, no extension" test "$(state) $(q -c "SELECT count(*) FROM pg_extension WHERE extname = 'vmm_upgrade'")" = "$before 0"
dropdb "$db"

# A database that is not 0.5.2: the deploy fails, nothing changes.
db=vmm_t_sqitch_06
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
q -c '\set ECHO none' -c '\set users 50' \
  -f test/fixtures/vmm-0.6.sql -f test/fixtures/generate-0.6.sql -f test/include/snapshot.sql >/dev/null
before=$(state)
check "deploy fails on a vmm 0.6 database" fails sq deploy --verify
check "the mail schema unchanged, no extension" test "$(state) $(q -c "SELECT count(*) FROM pg_extension WHERE extname = 'vmm_upgrade'")" = "$before 0"
check "the registry records no change, and the failure" test "$(q -c "SELECT (SELECT count(*) FROM sqitch.changes) || ' ' || (SELECT string_agg(event || ':' || change, ',') FROM sqitch.events)")" = "0 fail:adopt_0_5_2"
check "sqitch status: nothing deployed" says "No changes deployed" sq status
dropdb "$db"

echo "sqitch: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
