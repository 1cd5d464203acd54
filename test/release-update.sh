#!/usr/bin/env bash
# test/release-update.sh - a database adopted with an earlier release of
# vmm_upgrade, updated after the package was upgraded, ends exactly where a
# database adopted and updated with this tree alone ends.
#
# Release 1.0.0 (git e351f59) is built from this repository's history into a
# private copy of the PostgreSQL installation (PostgreSQL finds its share
# and lib directories relative to its binaries), so the machine's own
# installation is never touched.  In one throwaway cluster of that copy:
#   old052, old06, old060  adopted with 1.0.0 at 0.5.2, 0.6 and 0.6.0;
#   then this tree is installed over 1.0.0 (as a package upgrade does) and
#   each gets ALTER EXTENSION vmm_upgrade UPDATE;
#   new052, new06, new060  adopted and updated with this tree alone.
# Compared pairwise: the mail schema (structure, owners, privileges, rows:
# test/include/snapshot.sql), the vmm_upgrade schema (every function with its
# body, settings, privileges and comment, the event trigger, the members of
# the extension, the history's columns) and the answers of every lookup for
# every address.  Prints TAP lines and "release-update: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
old_commit=e351f59
passed=0
failed=0
check() {	# check NAME EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then
		passed=$((passed + 1)); echo "ok - $1"
	else
		failed=$((failed + 1)); echo "not ok - $1 (expected '$2', got '$3')"
	fi
}

tmp=$(mktemp -d /tmp/vmm-release-update.XXXXXX)
chmod 755 "$tmp"
pgbin=$tmp/pg/lib/postgresql/15/bin
cleanup() {
	[ -f "$tmp/data/postmaster.pid" ] &&
		su postgres -c "$pgbin/pg_ctl -D $tmp/data -m immediate stop" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

if ! git -C "$repo" cat-file -e "$old_commit^{commit}" 2>/dev/null; then
	echo "not ok - release 1.0.0 ($old_commit) is not in this clone's history"
	echo "release-update: 0 passed, 1 failed"
	exit 1
fi

# A private PostgreSQL installation: binaries, share and lib copied, headers
# linked.
mkdir -p "$tmp/pg/lib/postgresql" "$tmp/pg/share/postgresql"
cp -a /usr/lib/postgresql/15 "$tmp/pg/lib/postgresql/"
cp -a /usr/share/postgresql/15 "$tmp/pg/share/postgresql/"
ln -s /usr/include "$tmp/pg/include"
pgconfig=$pgbin/pg_config

# Release 1.0.0, built from git.
mkdir "$tmp/old"
git -C "$repo" archive "$old_commit" | tar -x -C "$tmp/old"
make -s -C "$tmp/old" PG_CONFIG="$pgconfig" CFG_PREFIX="$tmp/cfg" install >/dev/null 2>&1

# A throwaway cluster of the private installation: a socket of its own, no TCP.
mkdir "$tmp/data" "$tmp/sock"
chown postgres "$tmp/data" "$tmp/sock"
su postgres -c "$pgbin/initdb -D $tmp/data -A trust -U postgres" >/dev/null
su postgres -c "$pgbin/pg_ctl -D $tmp/data -l $tmp/sock/log -w -o \"-k $tmp/sock -c listen_addresses='' -p 5439\" start" >/dev/null
psql() { "$pgbin/psql" -X -q -h "$tmp/sock" -p 5439 -U postgres -v ON_ERROR_STOP=1 "$@"; }

# A mail database: the fixture's layout (0.5.2 with 300 generated accounts,
# or 0.6 of a release), adopted at VERSION.
make_db() {	# make_db DB LAYOUT(0.5.2|0.6) RELEASE(0.6.0|0.6.2) VERSION
	psql -d postgres -c "CREATE DATABASE $1"
	if [ "$2" = 0.5.2 ]; then
		psql -d "$1" -v schema=public -v dovecot=1.1 -v lookups=true -v users=300 \
			-f test/fixtures/vmm-0.5.2.sql -f test/fixtures/generate-0.5.2.sql >/dev/null
	else
		psql -d "$1" -v schema=public -v dovecot=1.1 -v release="$3" -v users=300 \
			-f test/fixtures/vmm-0.6.sql -f test/fixtures/generate-0.6.sql >/dev/null
	fi
	psql -d "$1" -c "SET client_min_messages = error" -c "CREATE EXTENSION vmm_upgrade VERSION '$4'"
}
update_db() {	# update_db DB
	psql -d "$1" -c "SET client_min_messages = error" -c "SET vmm_upgrade.transport_domain = inherit" \
		-c "ALTER EXTENSION vmm_upgrade UPDATE"
}
make_db old052 0.5.2 - 0.5.2
make_db old06 0.6 0.6.2 0.6
make_db old060 0.6 0.6.0 0.6.0
check "release 1.0.0 adopted at 0.5.2, 0.6, 0.6.0" "0.5.2 0.6 0.6.0" \
	"$(for d in old052 old06 old060; do psql -d $d -At -c "SELECT extversion FROM pg_extension WHERE extname = 'vmm_upgrade'"; done | tr '\n' ' ' | sed 's/ $//')"

check "release 1.0.0's code is what they run (its dovecotpassword probe exists)" "t" \
	"$(psql -d old060 -At -c "SELECT to_regprocedure('vmm_upgrade._probe_dovecotpassword(name)') IS NOT NULL")"

# The package upgrade: this tree over 1.0.0.
make -s -C "$repo" PG_CONFIG="$pgconfig" CFG_PREFIX="$tmp/cfg" install >/dev/null
release=$(cat "$repo/VERSION")
for d in old052 old06 old060; do update_db $d; done
check "after the update they run this release's code" "f $release" \
	"$(psql -d old060 -At -F ' ' -c "SELECT to_regprocedure('vmm_upgrade._probe_dovecotpassword(name)') IS NOT NULL, vmm_upgrade.release()")"
make_db new052 0.5.2 - 0.5.2
make_db new06 0.6 0.6.2 0.6
make_db new060 0.6 0.6.0 0.6.0
for d in new052 new06 new060; do update_db $d; done

# What is compared, per database: three digests.
fingerprint() {	# fingerprint DB
	psql -d "$1" -At <<'SQL'
\set QUIET on
\i test/include/snapshot.sql
SELECT 'mail ' || md5(t.state('public'));
SELECT 'library ' || md5(string_agg(x, E'\n' ORDER BY x)) FROM (
    SELECT format('%s %s %s %s %s %s %s %s', p.oid::regprocedure, p.prosrc, p.proconfig, p.proacl,
                  p.provolatile, p.proisstrict, p.prosecdef,
                  obj_description(p.oid, 'pg_proc')) AS x
      FROM pg_proc p WHERE p.pronamespace = 'vmm_upgrade'::regnamespace
    UNION ALL
    SELECT format('event trigger %s %s %s', e.evtname, e.evtevent, e.evtfoid::regprocedure)
      FROM pg_event_trigger e
    UNION ALL
    SELECT 'member ' || pg_describe_object(d.classid, d.objid, d.objsubid)
      FROM pg_depend d JOIN pg_extension x ON x.oid = d.refobjid
     WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND x.extname = 'vmm_upgrade'
    UNION ALL
    SELECT format('history column %s %s', a.attname, format_type(a.atttypid, a.atttypmod))
      FROM pg_attribute a
     WHERE a.attrelid = 'vmm_upgrade.history'::regclass AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT 'version ' || extversion FROM pg_extension WHERE extname = 'vmm_upgrade') AS q;
SELECT 'lookups ' || md5(string_agg(r, E'\n' ORDER BY r)) FROM (
    SELECT concat_ws(' ', a.lp, a.dn, p.*::text, q.*::text, v.*::text, m.*::text, u.*::text,
                     rl.*::text, tr.*::text, al.*::text, sl.*::text) AS r
      FROM (SELECT u.local_part AS lp, n.domainname AS dn FROM public.users u JOIN public.domain_name n USING (gid)
            UNION SELECT a.address, n.domainname FROM public.alias a JOIN public.domain_name n USING (gid)
            UNION SELECT r.address, n.domainname FROM public.relocated r JOIN public.domain_name n USING (gid)
            UNION SELECT 'nobody', n.domainname FROM public.domain_name n) AS a
      LEFT JOIN LATERAL public.dovecotpassword(a.lp, a.dn) p ON true
      LEFT JOIN LATERAL public.dovecotquotauser(a.lp, a.dn) q ON true
      LEFT JOIN LATERAL public.dovecotuser(a.lp, a.dn) v ON true
      LEFT JOIN LATERAL public.postfix_virtual_mailbox_map(a.lp, a.dn) m ON true
      LEFT JOIN LATERAL public.postfix_virtual_uid_map(a.lp, a.dn) u ON true
      LEFT JOIN LATERAL public.postfix_relocated_map(a.lp, a.dn) rl ON true
      LEFT JOIN LATERAL public.postfix_transport_map(a.lp, a.dn) tr ON true
      LEFT JOIN LATERAL public.postfix_virtual_alias_map(a.lp, a.dn) al ON true
      LEFT JOIN LATERAL public.postfix_smtpd_sender_login_map(a.lp, a.dn) sl ON true) AS x;
SQL
}
for pair in 052 06 060; do
	old=$(fingerprint old$pair); new=$(fingerprint new$pair)
	for what in mail library lookups; do
		check "from $pair: the $what after 1.0.0 then $release equals $release alone" \
			"$(echo "$new" | grep "^$what ")" "$(echo "$old" | grep "^$what ")"
	done
done
check "the updated databases are at the default version" \
	"0.6+$release 0.6+$release 0.6+$release" \
	"$(for d in old052 old06 old060; do psql -d $d -At -c "SELECT extversion FROM pg_extension WHERE extname = 'vmm_upgrade'"; done | tr '\n' ' ' | sed 's/ $//')"
check "the history of release 1.0.0 is kept, and the new steps added to it" \
	"adopt/ adopt/ adopt/ refresh/$release update/$release update/$release" \
	"$(for d in old052 old06 old060; do psql -d $d -At -c "SELECT details->>'step' || '/' || coalesce(release, '') FROM vmm_upgrade.history ORDER BY id"; done | sort | tr '\n' ' ' | sed 's/ $//')"

echo "release-update: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
