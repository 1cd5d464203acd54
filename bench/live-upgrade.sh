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
# twice (CREATE DATABASE ... TEMPLATE, vacuumed, checkpointed).  On the first
# copy the floor is timed: "UPDATE users SET name = name", one full rewrite
# of users (as in bench/upgrade.sh).  On the second, CLIENTS pgbench clients
# (simple protocol, one connection each) run the 0.5.2 queries without a
# pause: Postfix's virtual_mailbox_maps query on postfix_maildir and
# Dovecot's password_query on dovecot_password, for a random address of an
# account (a side table, never locked by the update, holds the addresses).
# SECONDS after they start, the update runs with
# vmm_upgrade.compatibility_views = on (so the 0.5.2 queries go on
# answering through the compatibility views); SECONDS after it ends the
# clients stop.  pgbench's per-transaction log (-l) gives each lookup's start
# and latency; reported per phase (before, during, after the update): the
# lookups, the failed ones (a pgbench client stops at its first error), the
# p99 and max latency, and the ratios during/before.  Last, the update's
# time against the floor (target: at most 1.5).
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

prepare_copy vmm_live_floor
floor_ms=$(timed vmm_live_floor 'UPDATE users SET name = name')
psql_q -d postgres -c 'DROP DATABASE vmm_live_floor'

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
# long enough for before + update (a generous guess: 4 floors) + after
total=$(awk -v s="$seconds" -v f="$floor_ms" 'BEGIN {printf "%d", 2 * s + 4 * f / 1000 + 5}')
(cd "$work" && pgbench -n -M simple -c "$clients" -j "$clients" -T "$total" -l --log-prefix=lk \
	-f postfix.sql -f dovecot.sql -d "$db" > pgbench.out 2> pgbench.err) &
bench_pid=$!
sleep "$seconds"
t_start=$(date +%s.%N)
upgrade_ms=$(timed "$db" 'ALTER EXTENSION vmm_upgrade UPDATE')
t_end=$(date +%s.%N)
wait "$bench_pid" || true
layout=$(psql -XAt -d "$db" -c 'SELECT version FROM vmm_upgrade.detect_layout()')

# pgbench -l lines: client transaction latency_us script epoch_s epoch_us
# (the end of the transaction); the start is end - latency.
cat "$work"/lk.* | awk -v a="$t_start" -v b="$t_end" '
	{ start = $5 + $6 / 1e6 - $3 / 1e6
	  phase = start < a ? "before" : (start < b ? "during" : "after")
	  print phase, $3 / 1000 }' > "$work/lat"
failed=$(grep -c 'aborted\|ERROR' "$work/pgbench.err" || true)
echo
echo "phase    lookups  p99_ms   max_ms"
for p in before during after; do
	awk -v p="$p" '$1 == p {print $2}' "$work/lat" | sort -g | awk -v p="$p" '
		{a[NR] = $1}
		END {if (NR == 0) {printf "%-7s %8d %8s %8s\n", p, 0, "-", "-"; exit}
		     i = int(NR * 0.99); if (i < 1) i = 1
		     printf "%-7s %8d %8.2f %8.2f\n", p, NR, a[i], a[NR]}'
done | tee "$work/phases"
awk '{p[$1] = $3; m[$1] = $4}
	END {printf "ratio during/before: p99 %.1f, max %.1f\n", p["during"] / p["before"], m["during"] / m["before"]}' "$work/phases"
echo "failed lookups: $failed (pgbench: $(grep -o 'number of failed transactions: [0-9]*\|aborted' "$work/pgbench.out" | head -1 || true))"
awk -v u="$upgrade_ms" -v f="$floor_ms" -v l="$layout" \
	'BEGIN {printf "update %.0f ms, floor (one rewrite of users) %.0f ms, ratio %.2f (target <= 1.5); layout afterwards %s\n", u, f, u / f, l}'
