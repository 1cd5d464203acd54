#!/usr/bin/env bash
# bench/validator.sh - is the layout validator's cost independent of the rows?
#
# In one throwaway cluster (pg_virtualenv), builds the vmm 0.5.2 layout twice:
# empty, and filled with a generated mail system of BENCH_USERS accounts
# (default 1,000,000). Then times check_layout('0.5.2') and detect_layout()
# on both, alternating, BENCH_RUNS times each (default 41), and prints the
# medians and the ratio filled/empty. Target: at most 2x.
#
# Usage: bench/validator.sh   (as root or a user with the packages of test/deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PGHOST:-}${PGPORT:-}" ] || [ "${1:-}" != "--in-cluster" ]; then
	. test/deps.sh
	vmm_install_deps
	make -s >/dev/null && make -s install >/dev/null
	exec pg_virtualenv -t -v 15 bash "$0" --in-cluster
fi

users=${BENCH_USERS:-1000000}
runs=${BENCH_RUNS:-41}

for db in bench_empty bench_full; do
	createdb "$db"
	psql -qX -d "$db" -v ON_ERROR_STOP=1 <<'SQL'
\set ECHO none
\set schema public
\set dovecot 1.2
\set lookups true
\i test/fixtures/vmm-0.5.2.sql
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
SQL
done
start=$(date +%s)
psql -qX -d bench_full -v ON_ERROR_STOP=1 -v users="$users" <<'SQL'
\set ECHO none
\i test/fixtures/generate-0.5.2.sql
VACUUM ANALYZE;
SQL
echo "generated $users accounts in $(( $(date +%s) - start )) s"

# One timing helper per database: the duration of one call, in microseconds,
# measured inside the server so that connection and client costs stay out.
for db in bench_empty bench_full; do
	psql -qX -d "$db" -v ON_ERROR_STOP=1 <<'SQL'
CREATE SCHEMA bench;
CREATE FUNCTION bench.time_call(what text) RETURNS double precision
LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; n bigint;
BEGIN
	t0 := clock_timestamp();
	IF what = 'check' THEN
		SELECT count(*) INTO n FROM vmm_upgrade.check_layout('0.5.2');
	ELSE
		SELECT count(*) INTO n FROM vmm_upgrade.detect_layout();
	END IF;
	RETURN extract(epoch FROM clock_timestamp() - t0) * 1e6;
END $$;
SQL
done

for what in check detect; do
	: > "/tmp/bench_${what}_empty.txt"; : > "/tmp/bench_${what}_full.txt"
	for i in $(seq "$runs"); do
		for db in bench_empty bench_full; do
			psql -qXtA -d "$db" -c "SELECT bench.time_call('$what')" >> "/tmp/bench_${what}_${db#bench_}.txt"
		done
	done
done

median() { sort -g "$1" | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo
printf '%-22s %14s %14s %8s\n' "call ($runs runs each)" "empty (us)" "$users users (us)" "ratio"
for what in check detect; do
	e=$(median "/tmp/bench_${what}_empty.txt"); f=$(median "/tmp/bench_${what}_full.txt")
	label="check_layout('0.5.2')"; [ "$what" = detect ] && label="detect_layout()"
	printf '%-22s %14.0f %14.0f %8.2f\n' "$label" "$e" "$f" "$(awk -v f="$f" -v e="$e" 'BEGIN {print f / e}')"
done
psql -qXtA -d bench_full -c "SELECT 'rows: users ' || (SELECT count(*) FROM users) || ', domains ' || (SELECT count(*) FROM domain_data) || ', aliases ' || (SELECT count(*) FROM alias)"
