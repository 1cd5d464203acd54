#!/usr/bin/env bash
# bench/upgrade.sh - how fast ALTER EXTENSION vmm_upgrade UPDATE (0.5.2 -> 0.6)
# is, and how fast the 0.6 lookup functions answer.
#
#   bash bench/upgrade.sh [USERS [ROUNDS [SECONDS]]]     (defaults 1000000 3 8)
#
# Runs against the cluster the PG* environment variables name; without
# PGPORT it starts a throwaway one with pg_virtualenv (never the machine's own
# clusters), with shared_buffers = 1GB (BENCH_SHARED_BUFFERS) so that the mail
# tables fit in memory as on a mail server.  The extension must be installed
# (make install).
#
# 1. Upgrade time.  A vmm 0.5.2 mail system of USERS accounts (Dovecot 1.2
#    variant, with the optional lookups) is generated once with the project's
#    fixtures; each round copies it twice (CREATE DATABASE ... TEMPLATE) and
#    times, on one copy, the floor "UPDATE users SET name = name" (one full
#    rewrite of users) and, on the other, ALTER EXTENSION vmm_upgrade UPDATE
#    (after CREATE EXTENSION vmm_upgrade VERSION '0.5.2', not timed).  Both
#    copies are vacuumed and checkpointed first.  Reports each round and the
#    medians; the ratio is upgrade / floor (target: at most 1.5).
# 2. Lookup throughput.  On the upgraded copy, pgbench with the simple query
#    protocol over one persistent connection runs, per lookup function, a
#    script that picks a random address (of an account, alias or relocated
#    entry, under any name of its domain), then sends "SELECT 1" and the
#    lookup as two statements; pgbench -r gives each statement's mean latency
#    in the same run over the same connection.  lookups/s = 1000 / latency;
#    ratio = latency(SELECT 1) / latency(lookup) (target: at least 0.6).
#    Each function is run ROUNDS times for SECONDS seconds; medians reported.
#    Two alternative implementations of dovecotuser are measured the same
#    way for comparison: the same plpgsql body with a SET search_path clause
#    instead of qualified names, and a non-inlined STRICT SQL function.  Two
#    reference points: bench.noop, a plpgsql set-returning function that
#    returns at once (the floor for any plpgsql lookup), and "domain_name",
#    a primary-key lookup in one table sent as plain SQL.  Last,
#    postfix_smtpd_sender_login_map again after CREATE INDEX ON
#    domain_name (gid): vmm's layout has no index there, and listing a
#    domain's names scans domain_name.
set -euo pipefail
cd "$(dirname "$0")/.."

users=${1:-1000000}
rounds=${2:-3}
seconds=${3:-8}

if [ -z "${PGPORT:-}" ]; then
	exec pg_virtualenv -t -v 15 -o "shared_buffers=${BENCH_SHARED_BUFFERS:-1GB}" \
		bash "$0" "$users" "$rounds" "$seconds"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vmm-bench.XXXXXX")
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
src=vmm_bench_src
psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

echo "# vmm_upgrade benchmark: $users users, $rounds rounds, lookups ${seconds}s each"
echo "# $(psql -XAtc 'SELECT version()')"
echo "# $(nproc) CPUs; $(date -u '+%Y-%m-%d %H:%M UTC')"

# --- the source database --------------------------------------------------
psql_q -d postgres -c "DROP DATABASE IF EXISTS $src" -c "CREATE DATABASE $src"
t0=$(date +%s.%N)
psql_q -d "$src" -v schema=public -v dovecot=1.2 -v lookups=true -v users="$users" \
	-c 'SET client_min_messages = warning' \
	-f test/fixtures/vmm-0.5.2.sql -f test/fixtures/generate-0.5.2.sql >/dev/null
psql_q -d "$src" -c 'VACUUM ANALYZE'
t1=$(date +%s.%N)
psql -XAt -d "$src" -c "SELECT format('# generated in %s s: %s users, %s domain names, %s aliases, %s relocated; users table %s',
	round(($t1 - $t0)::numeric, 1), (SELECT count(*) FROM users), (SELECT count(*) FROM domain_name),
	(SELECT count(*) FROM alias), (SELECT count(*) FROM relocated),
	pg_size_pretty(pg_total_relation_size('users')))"

# --- 1. upgrade time against the floor ------------------------------------
timed() {  # database, SQL: prints the milliseconds the SQL took
	psql -X -v ON_ERROR_STOP=1 -d "$1" -c 'SET client_min_messages = error' -c '\timing on' -c "$2" \
		| sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
}
prepare_copy() {
	psql_q -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 TEMPLATE $src"
	psql_q -d "$1" -c 'VACUUM ANALYZE' -c 'CHECKPOINT'
}
: > "$work/floor"; : > "$work/upgrade"; : > "$work/ratio"
echo
echo "round  floor_ms  upgrade_ms  ratio"
for r in $(seq 1 "$rounds"); do
	prepare_copy vmm_bench_floor
	f=$(timed vmm_bench_floor 'UPDATE users SET name = name')
	psql_q -d postgres -c 'DROP DATABASE vmm_bench_floor'
	prepare_copy vmm_bench_upgrade
	psql_q -d vmm_bench_upgrade -c "CREATE EXTENSION vmm_upgrade VERSION '0.5.2'" -c 'CHECKPOINT'
	u=$(timed vmm_bench_upgrade 'ALTER EXTENSION vmm_upgrade UPDATE')
	[ "$r" -lt "$rounds" ] && psql_q -d postgres -c 'DROP DATABASE vmm_bench_upgrade'
	ratio=$(echo "$u $f" | awk '{printf "%.2f", $1 / $2}')
	echo "$f" >> "$work/floor"; echo "$u" >> "$work/upgrade"; echo "$ratio" >> "$work/ratio"
	printf '%5s  %8.0f  %10.0f  %5s\n' "$r" "$f" "$u" "$ratio"
done
printf 'median %8.0f  %10.0f  %5s   (upgrade / floor; target <= 1.5)\n' \
	"$(median < "$work/floor")" "$(median < "$work/upgrade")" "$(median < "$work/ratio")"
psql -XAt -d vmm_bench_upgrade -c "SELECT '# check_layout(0.6) deviations after the upgrade: ' || count(*) FROM vmm_upgrade.check_layout('0.6')"

# --- 2. lookup throughput --------------------------------------------------
db=vmm_bench_upgrade
psql_q -d "$db" <<'SQL'
CREATE SCHEMA bench;
CREATE TABLE bench.addr (id integer PRIMARY KEY, lp text, dn text);
INSERT INTO bench.addr
SELECT row_number() OVER (ORDER BY a.lp, n.domainname), a.lp, n.domainname
  FROM (SELECT gid, local_part AS lp FROM users
        UNION SELECT gid, address FROM alias
        UNION SELECT gid, address FROM relocated) AS a
  JOIN domain_name n USING (gid);
ANALYZE bench.addr;
-- Alternatives, for comparison only: dovecotuser's body with a fixed
-- search_path instead of qualified names, and as a (STRICT, so not inlined)
-- SQL function.
CREATE FUNCTION bench.dovecotuser_setpath(localpart varchar, the_domain varchar)
RETURNS SETOF public.dovecotuser LANGUAGE plpgsql STABLE STRICT
SET search_path = public, pg_catalog AS $$
BEGIN
    RETURN QUERY
    SELECT (localpart || '@' || the_domain)::varchar(320), u.uid, n.gid,
           d.domaindir || '/' || u.uid::text, f.format || ':~/' || l.directory
      FROM domain_name n
      JOIN users u ON u.gid = n.gid AND u.local_part = localpart
      JOIN domain_data d ON d.gid = n.gid
      JOIN maillocation l ON l.mid = u.mid
      JOIN mailboxformat f ON f.fid = l.fid
     WHERE n.domainname = the_domain;
END
$$;
-- Reference point: the cost of calling any plpgsql set-returning function
-- (one that returns at once).
CREATE FUNCTION bench.noop(localpart varchar, the_domain varchar)
RETURNS SETOF public.dovecotuser LANGUAGE plpgsql STABLE STRICT AS $$ BEGIN RETURN; END $$;
CREATE FUNCTION bench.dovecotuser_sql(localpart varchar, the_domain varchar)
RETURNS SETOF public.dovecotuser LANGUAGE sql STABLE STRICT AS $$
    SELECT (localpart OPERATOR(pg_catalog.||) '@' OPERATOR(pg_catalog.||) the_domain)::pg_catalog.varchar(320),
           u.uid, n.gid,
           d.domaindir OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) u.uid::pg_catalog.text,
           f.format OPERATOR(pg_catalog.||) ':~/' OPERATOR(pg_catalog.||) l.directory
      FROM public.domain_name n
      JOIN public.users u ON u.gid OPERATOR(pg_catalog.=) n.gid AND u.local_part OPERATOR(pg_catalog.=) localpart
      JOIN public.domain_data d ON d.gid OPERATOR(pg_catalog.=) n.gid
      JOIN public.maillocation l ON l.mid OPERATOR(pg_catalog.=) u.mid
      JOIN public.mailboxformat f ON f.fid OPERATOR(pg_catalog.=) l.fid
     WHERE n.domainname OPERATOR(pg_catalog.=) the_domain
$$;
SQL
n=$(psql -XAt -d "$db" -c 'SELECT count(*) FROM bench.addr')
echo
echo "# lookups: pgbench -M simple -c 1 -T $seconds -r, $n addresses to pick from"
echo "function                            select1_ms  lookup_ms  lookups/s  ratio"
for fn in dovecotpassword dovecotuser dovecotquotauser postfix_virtual_mailbox_map \
          postfix_virtual_uid_map postfix_transport_map postfix_relocated_map \
          postfix_virtual_alias_map postfix_smtpd_sender_login_map \
          bench.dovecotuser_setpath bench.dovecotuser_sql bench.noop domain_name \
          index postfix_smtpd_sender_login_map; do
	if [ "$fn" = index ]; then
		psql_q -d "$db" -c 'CREATE INDEX bench_domain_name_gid ON domain_name (gid)' -c 'ANALYZE domain_name'
		echo "# after CREATE INDEX ON domain_name (gid):"
		continue
	fi
	cat > "$work/script.sql" <<EOF
\\set i random(1, $n)
SELECT lp, dn FROM bench.addr WHERE id = :i \\gset
SELECT 1;
SELECT * FROM $fn(':lp', ':dn');
EOF
	# reference point: one primary-key lookup in one table, sent as plain SQL
	if [ "$fn" = domain_name ]; then
		sed -i "s/^SELECT \\* FROM domain_name.*/SELECT * FROM domain_name WHERE domainname = ':dn';/" "$work/script.sql"
	fi
	: > "$work/one"; : > "$work/look"; : > "$work/r"
	for r in $(seq 1 "$rounds"); do
		pgbench -n -M simple -c 1 -j 1 -T "$seconds" -r -f "$work/script.sql" "$db" > "$work/out" 2>&1 \
			|| { cat "$work/out"; exit 1; }
		one=$(awk '/^ +[0-9.]+ +[0-9]+ +SELECT 1;/ {print $1}' "$work/out")
		look=$(awk '/^ +[0-9.]+ +[0-9]+ +SELECT \* FROM/ {print $1}' "$work/out")
		echo "$one" >> "$work/one"; echo "$look" >> "$work/look"
		echo "$one $look" | awk '{printf "%.3f\n", $1 / $2}' >> "$work/r"
	done
	one=$(median < "$work/one"); look=$(median < "$work/look"); ratio=$(median < "$work/r")
	printf '%-34s  %10s  %9s  %9.0f  %5s\n' "$fn" "$one" "$look" "$(echo "$look" | awk '{print 1000 / $1}')" "$ratio"
done
echo "# ratio = median over rounds of latency(SELECT 1) / latency(lookup), same connection and run (target >= 0.6)"
psql_q -d postgres -c "DROP DATABASE $db" -c "DROP DATABASE $src"
