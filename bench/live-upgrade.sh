#!/usr/bin/env bash
# bench/live-upgrade.sh - how long Postfix's and Dovecot's lookups wait while
# ALTER EXTENSION vmm_upgrade UPDATE (0.5.2 -> 0.6) runs next to them.
#
#   bash bench/live-upgrade.sh [USERS [SECONDS [CLIENTS]]]   (defaults 1000000 10 2)
#
# Runs against the cluster the PG* environment variables name; without
# PGPORT it starts a throwaway one with pg_virtualenv (never the machine's own
# clusters).  The extension must be installed (make install).
#
# A vmm 0.5.2 mail system of USERS accounts (Dovecot 1.2 variant, with the
# optional lookups) is generated with the project's fixtures and copied
# (CREATE DATABASE ... TEMPLATE, vacuumed, checkpointed).  On two copies the
# floor is timed: "UPDATE users SET name = name", one full rewrite of users
# (as in bench/upgrade.sh), alone and with the 0.5.2 lookups below running
# next to it (the update shares the machine with them just so).  On the last
# copy, CLIENTS pgbench clients (simple protocol, one connection each) run
# the 0.5.2 queries without a pause: Postfix's virtual_mailbox_maps query on
# postfix_maildir and Dovecot's password_query on dovecot_password, for a
# random address of an account (a side table, never locked by the update,
# holds the addresses).  SECONDS after they start, the update runs with
# vmm_upgrade.compatibility_views = on (so the 0.5.2 queries go on answering
# through the compatibility views); right after it, CLIENTS more clients run
# the 0.6 queries (postfix_virtual_mailbox_map(), dovecotpassword()) for
# SECONDS, then all stop.  pgbench's per-transaction log (-l) gives each
# lookup's start and latency.  A sampler (one session, every 20 ms) records
# the lookups waiting for a lock (pg_stat_activity.wait_event_type = 'Lock'):
# a lookup's wait is the span of its samples plus one interval.  Reported per
# phase (before, during, after the update, after split into the 0.5.2 and
# the 0.6 queries): the lookups, median, p99 and max latency, the lookups
# that waited for a lock and the p99 and max of that wait (over all lookups
# of the phase, 0 for those that never waited), the failed lookups, the
# ratios to before.  Last, the update's time against both floors (target:
# at most 1.5).
set -euo pipefail
cd "$(dirname "$0")/.."

users=${1:-1000000}
seconds=${2:-10}
clients=${3:-2}

if [ -z "${PGPORT:-}" ]; then
	exec pg_virtualenv -t -v 15 -o "shared_buffers=${BENCH_SHARED_BUFFERS:-1GB}" \
		bash "$0" "$users" "$seconds" "$clients"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vmm-live.XXXXXX")
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
src=vmm_live_src
psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

echo "# vmm_upgrade live benchmark: $users users, phases of ${seconds}s, $clients lookup clients"
echo "# $(psql -XAtc 'SELECT version()')"
echo "# $(nproc) CPUs; $(date -u '+%Y-%m-%d %H:%M UTC')"

psql_q -d postgres -c "DROP DATABASE IF EXISTS $src" -c "CREATE DATABASE $src"
psql_q -d "$src" -v schema=public -v dovecot=1.2 -v lookups=true -v users="$users" \
	-c 'SET client_min_messages = warning' \
	-f test/fixtures/vmm-0.5.2.sql -f test/fixtures/generate-0.5.2.sql >/dev/null
psql_q -d "$src" <<'SQL'
CREATE SCHEMA bench;
CREATE TABLE bench.addr (id integer PRIMARY KEY, address text);
INSERT INTO bench.addr
SELECT row_number() OVER (ORDER BY u.uid, n.domainname), u.local_part || '@' || n.domainname
  FROM users u JOIN domain_name n USING (gid);
VACUUM ANALYZE;
SQL
n_addr=$(psql -XAt -d "$src" -c 'SELECT count(*) FROM bench.addr')

timed() {  # database, SQL: prints the milliseconds the SQL took
	psql -X -v ON_ERROR_STOP=1 -d "$1" -c 'SET client_min_messages = error' \
		-c 'SET vmm_upgrade.compatibility_views = on' -c '\timing on' -c "$2" \
		| sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
}
prepare_copy() {
	psql_q -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 TEMPLATE $src"
	psql_q -d "$1" -c 'VACUUM ANALYZE' -c 'CHECKPOINT'
}


db=vmm_live_upgrade
prepare_copy "$db"
psql_q -d "$db" -c 'SET client_min_messages = error' -c "CREATE EXTENSION vmm_upgrade VERSION '0.5.2'" -c 'CHECKPOINT'

# one lookup per transaction: Postfix's or Dovecot's, at random
cat > "$work/postfix.sql" <<SQL
\\set i random(1, $n_addr)
SELECT maildir FROM postfix_maildir WHERE address = (SELECT address FROM bench.addr WHERE id = :i);
SQL
cat > "$work/dovecot.sql" <<SQL
\\set i random(1, $n_addr)
SELECT "user", password FROM dovecot_password WHERE "user" = (SELECT address FROM bench.addr WHERE id = :i) AND imap;
SQL
# the same lookups with the 0.6 queries, once the update is done
cat > "$work/postfix06.sql" <<SQL
\\set i random(1, $n_addr)
SELECT maildir FROM postfix_virtual_mailbox_map((SELECT split_part(address, '@', 1) FROM bench.addr WHERE id = :i), (SELECT split_part(address, '@', 2) FROM bench.addr WHERE id = :i));
SQL
cat > "$work/dovecot06.sql" <<SQL
\\set i random(1, $n_addr)
SELECT userid AS "user", password FROM dovecotpassword((SELECT split_part(address, '@', 1) FROM bench.addr WHERE id = :i), (SELECT split_part(address, '@', 2) FROM bench.addr WHERE id = :i)) WHERE imap;
SQL
# The floor, twice on a fresh copy each: alone, and with the 0.5.2 lookups
# running next to it as they run next to the update (an UPDATE lets them
# through), so that the update under load has a floor under the same load.
prepare_copy vmm_live_floor
floor_ms=$(timed vmm_live_floor 'UPDATE users SET name = name')
prepare_copy vmm_live_floor
(cd "$work" && pgbench -n -M simple -c "$clients" -j "$clients" -T 600 \
	-f postfix.sql -f dovecot.sql -d vmm_live_floor > floor-pgbench.out 2>&1) &
floor_bench=$!
sleep 3
floor_load_ms=$(timed vmm_live_floor 'UPDATE users SET name = name')
psql_q -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'vmm_live_floor' AND application_name = 'pgbench'" >/dev/null
wait "$floor_bench" || true
psql_q -d postgres -c 'DROP DATABASE vmm_live_floor'
psql_q -d "$db" -c 'CHECKPOINT'

# long enough for before + update (a generous guess: 4 floors) + after
total=$(awk -v s="$seconds" -v f="$floor_ms" 'BEGIN {printf "%d", 2 * s + 4 * f / 1000 + 5}')

# The lock sampler: every 20 ms, the lookups of $db waiting for a lock,
# until a row appears in vmm_live_stop (or total + 10 s have passed).
psql_q -d postgres -c 'DROP TABLE IF EXISTS vmm_live_lockwait, vmm_live_stop' \
	-c 'CREATE UNLOGGED TABLE vmm_live_lockwait (ts float8, pid int, query_start float8)' \
	-c 'CREATE UNLOGGED TABLE vmm_live_stop ()'
cat > "$work/sampler.sql" <<SQL
DO \$\$
DECLARE stop timestamptz := clock_timestamp() + interval '$((total + 10)) s';
BEGIN
    WHILE clock_timestamp() < stop AND NOT EXISTS (SELECT FROM vmm_live_stop) LOOP
        PERFORM pg_stat_clear_snapshot();
        INSERT INTO vmm_live_lockwait
        SELECT extract(epoch FROM clock_timestamp()), a.pid, extract(epoch FROM a.query_start)
          FROM pg_stat_activity a
         WHERE a.datname = '$db' AND a.application_name = 'pgbench' AND a.wait_event_type = 'Lock';
        PERFORM pg_sleep(0.02);
    END LOOP;
END
\$\$;
SQL
psql_q -d postgres -f "$work/sampler.sql" &
sampler_pid=$!
(cd "$work" && pgbench -n -M simple -c "$clients" -j "$clients" -T "$total" -l --log-prefix=lk \
	-f postfix.sql -f dovecot.sql -d "$db" > pgbench.out 2> pgbench.err) &
bench_pid=$!
sleep "$seconds"
t_start=$(date +%s.%N)
upgrade_ms=$(timed "$db" 'ALTER EXTENSION vmm_upgrade UPDATE')
t_end=$(date +%s.%N)
# right after the update: the 0.6 queries too, for SECONDS; then all stop
(cd "$work" && pgbench -n -M simple -c "$clients" -j "$clients" -T "$seconds" -l --log-prefix=lk06 \
	-f postfix06.sql -f dovecot06.sql -d "$db" > pgbench06.out 2> pgbench06.err) || true
psql_q -d postgres -c 'INSERT INTO vmm_live_stop DEFAULT VALUES'
wait "$sampler_pid" || true
psql_q -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$db' AND application_name = 'pgbench'" >/dev/null
wait "$bench_pid" || true
layout=$(psql -XAt -d "$db" -c 'SELECT version FROM vmm_upgrade.detect_layout()')

# pgbench -l lines: client transaction latency_us script epoch_s epoch_us
# (at the end of the transaction); its start is the end - latency, which
# is the sampler's query_start within a few ms.  A lookup's lock wait: the
# span of its samples + 20 ms, never more than its latency.
psql -XAt -F ' ' -d postgres \
	-c 'SELECT query_start, (max(ts) - min(ts) + 0.02) * 1000 FROM vmm_live_lockwait GROUP BY pid, query_start' > "$work/waits"
cat "$work"/lk.* 2>/dev/null | awk '{print "old", $0}' > "$work/all"
cat "$work"/lk06.* 2>/dev/null | awk '{print "new", $0}' >> "$work/all"
awk -v a="$t_start" -v b="$t_end" '
	FNR == NR { k = int($1 * 100); ws[k] = ws[k] " " $1 ":" $2; next }
	{ lat = $4 / 1000; start = $6 + $7 / 1e6 - $4 / 1e6
	  phase = start < a ? "before" : (start < b ? "during" : ($1 == "old" ? "after_old" : "after_new"))
	  wait = 0; k = int(start * 100)
	  for (j = k - 1; j <= k + 1; j++) {
	      n = split(ws[j], e, " ")
	      for (i = 1; i <= n; i++) { split(e[i], f, ":"); d = f[1] - start
	          if (d > -0.005 && d < 0.005) { wait = f[2] + 0; if (wait > lat) wait = lat } } }
	  if ($2 == "stopped") next
	  print phase, lat, wait }' "$work/waits" "$work/all" > "$work/lat"
# (the 0.5.2 clients are stopped by pg_terminate_backend at the end: those
# aborts are not failures)
cat "$work/pgbench.err" "$work/pgbench06.err" | grep -v 'administrator command\|Run was aborted\|server closed\|connection to server\|terminated abnormally\|perhaps the backend died' \
	| grep 'aborted\|ERROR' > "$work/failures" || true
failed=$(wc -l < "$work/failures")
[ "$failed" -eq 0 ] || { echo "failed lookups:"; cat "$work/failures"; }
pct() {  # file of numbers, sorted: prints median p99 max
	awk '{a[NR] = $1} END {if (NR == 0) {print "- - -"; exit}
		m = int((NR + 1) / 2); i = int(NR * 0.99); if (i < 1) i = 1
		printf "%.1f %.1f %.1f\n", a[m], a[i], a[NR]}' "$1"
}
echo
echo "per lookup (ms): latency, and the part of it spent waiting for a lock (sampled every 20 ms;"
echo "p99 and max of the wait over all lookups of the phase, 0 for those that never waited)"
echo "phase      lookups median_ms   p99_ms   max_ms  waited wait_p99 wait_max"
for p in before during after_old after_new; do
	awk -v p="$p" '$1 == p {print $2}' "$work/lat" | sort -g > "$work/l"
	awk -v p="$p" '$1 == p {print $3}' "$work/lat" | sort -g > "$work/w"
	read -r lmed lp99 lmax < <(pct "$work/l")
	read -r _ wp99 wmax < <(pct "$work/w")
	printf "%-9s %8d %9s %8s %8s %7d %8s %8s\n" "$p" "$(wc -l < "$work/l")" "$lmed" "$lp99" "$lmax" \
		"$(awk '$1 > 0' "$work/w" | wc -l)" "$wp99" "$wmax"
done | tee "$work/phases"
awk '{med[$1] = $3; p[$1] = $4; m[$1] = $5}
	END {printf "ratio during/before: median %.2f, p99 %.2f, max %.2f\n", med["during"] / med["before"], p["during"] / p["before"], m["during"] / m["before"]
	     printf "ratio after (0.5.2 queries)/before: median %.2f, p99 %.2f, max %.2f\n", med["after_old"] / med["before"], p["after_old"] / p["before"], m["after_old"] / m["before"]}' "$work/phases"
echo "failed lookups: $failed (pgbench, 0.6 queries: $(grep -o 'number of failed transactions: [0-9]*' "$work/pgbench06.out" | head -1 || true))"
awk -v u="$upgrade_ms" -v f="$floor_ms" -v fl="$floor_load_ms" -v l="$layout" \
	'BEGIN {printf "update (lookups running) %.0f ms; floor (one rewrite of users) alone %.0f ms, ratio %.2f (target <= 1.5); floor with the same lookups running %.0f ms, ratio %.2f; layout afterwards %s\n", u, f, u / f, fl, u / fl, l}'
psql_q -d postgres -c 'DROP TABLE vmm_live_lockwait, vmm_live_stop'
