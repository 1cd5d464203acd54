#!/usr/bin/env bash
# test/demo-in-cluster.sh - the demo's session, against the throwaway cluster
# that pg_virtualenv set up (PG* variables).
set -euo pipefail
cd "$(dirname "$0")/.."
users=${DEMO_USERS:-2000}

createdb mailsys
psql -qX -d mailsys -v ON_ERROR_STOP=1 -v users="$users" <<'SQL'
\set ECHO none
\set schema public
\set dovecot 1.2
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\i test/fixtures/generate-0.5.2.sql
SQL

echo "== A vmm 0.5.2 mail database 'mailsys' with $users generated accounts."
echo
psql -X -d mailsys -e -v ON_ERROR_STOP=1 <<'SQL'
SELECT count(*) AS domains FROM domain_data;
SELECT count(*) AS accounts FROM users;
-- Install the extension at the version the database has.
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
-- What does the database hold?
SELECT * FROM vmm_upgrade.detect_layout();
-- Exactly 0.5.2?  (no rows: yes)
SELECT * FROM vmm_upgrade.check_layout('0.5.2');
-- What separates it from 0.6?
SELECT count(*) AS deviations_from_0_6 FROM vmm_upgrade.check_layout('0.6');
SELECT * FROM vmm_upgrade.check_layout('0.6') LIMIT 12;
-- A damaged layout is named precisely (inside a transaction we roll back).
BEGIN;
ALTER TABLE users DROP COLUMN name;
SELECT * FROM vmm_upgrade.detect_layout();
SELECT * FROM vmm_upgrade.check_layout('0.5.2');
ROLLBACK;
-- The wrong version is refused with a hint.
DROP EXTENSION vmm_upgrade;
\set ON_ERROR_STOP 0
CREATE EXTENSION vmm_upgrade;
\set ON_ERROR_STOP 1
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
SELECT mail_schema, from_version, to_version, from_dovecot, details FROM vmm_upgrade.history;
SQL

# The upgrade itself, once the update script is installed: with the real
# Postfix (postmap -q) and Dovecot (doveadm auth test) asking the database
# before and after, through config files in vmm 0.5.2's form rewritten by
# vmm-cfg-upgrade.
if psql -qXtA -d mailsys -c "SELECT count(*) FROM pg_extension_update_paths('vmm_upgrade')
                             WHERE source = '0.5.2' AND target = '0.6' AND path IS NOT NULL" | grep -qx 1 &&
   [ -f test/demo-upgrade.sql ]; then
	E2E_WORK=$(mktemp -d "${TMPDIR:-/tmp}/vmm-demo.XXXXXX")
	export E2E_WORK
	chmod 755 "$E2E_WORK"
	. test/e2e/lib.sh
	demo_cleanup() {
		local d
		[ -f "$E2E_WORK/pids" ] && while read -r d; do kill "$d" 2>/dev/null; done < "$E2E_WORK/pids"
		[ -f "$E2E_WORK/started-dovecot" ] && sort -u "$E2E_WORK/started-dovecot" |
			while read -r d; do e2e_dovecot_stop "$d"; done
		rm -rf "$E2E_WORK"
	}
	trap demo_cleanup EXIT
	pfpw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	dcpw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')

	echo
	echo "== Postfix and Dovecot on the 0.5.2 database"
	echo "-- The roles Postfix and Dovecot log in as (over TCP, with a password), with"
	echo "-- what vmm 0.5.2 granted them: SELECT on the views."
	psql -X -d mailsys -e -v ON_ERROR_STOP=1 -v pfpw="$pfpw" -v dcpw="$dcpw" <<'SQL'
CREATE ROLE postfix LOGIN PASSWORD :'pfpw';
CREATE ROLE dovecot LOGIN PASSWORD :'dcpw';
GRANT SELECT ON postfix_alias, postfix_gid, postfix_maildir, postfix_relocated, postfix_transport, postfix_uid TO postfix;
GRANT SELECT ON dovecot_password, dovecot_user TO dovecot;
SQL
	# an account with a {PLAIN} password in a domain with an alias domain
	# name: under both names; an alias; an unknown address
	read -r acct_lp acct_pw acct_dom alias_dom <<<"$(psql -XAt -F' ' -d mailsys -c "
		SELECT u.local_part, substr(u.passwd, 8), p.domainname,
		       (SELECT min(a.domainname) FROM domain_name a WHERE a.gid = u.gid AND NOT a.is_primary)
		  FROM users u JOIN domain_name p ON p.gid = u.gid AND p.is_primary
		 WHERE u.passwd LIKE '{PLAIN}%' AND u.smtp AND u.imap
		   AND EXISTS (SELECT FROM domain_name a WHERE a.gid = u.gid AND NOT a.is_primary)
		 ORDER BY u.uid LIMIT 1")"
	alias_addr=$(psql -XAt -d mailsys -c "
		SELECT a.address || '@' || n.domainname FROM alias a JOIN domain_name n ON n.gid = a.gid AND n.is_primary
		 WHERE a.address = 'postmaster' ORDER BY a.gid LIMIT 1")
	e2e_write_postfix_052 "$E2E_WORK/postfix" 127.0.0.1 "$PGPORT" mailsys "$pfpw" off
	e2e_write_dovecot_052 "$E2E_WORK/dovecot" 127.0.0.1 "$PGPORT" mailsys "$dcpw" vmm-demo
	show_lookups() {
		local pf=$E2E_WORK/postfix dc=$E2E_WORK/dovecot/dovecot.conf k f
		echo "-- $1"
		grep -h '^query' "$pf/pgsql-virtual_mailbox_maps.cf" "$pf/pgsql-virtual_alias_maps.cf" "$pf/pgsql-transport.cf" |
			sed 's/^/   postfix: /'
		grep -hE '^(password|user)_query' "$E2E_WORK/dovecot/dovecot-sql.conf.ext" | sed 's/^/   dovecot: /'
		for f in virtual_mailbox_maps virtual_alias_maps transport; do
			for k in "$acct_lp@$acct_dom" "$acct_lp@$alias_dom" "$alias_addr" "nobody@$acct_dom"; do
				echo "\$ postmap -q $k pgsql:.../pgsql-$f.cf"
				postmap -c "$pf" -q "$k" "pgsql:$pf/pgsql-$f.cf" || echo "(not found)"
			done
		done
		e2e_dovecot_start "$E2E_WORK/dovecot" || return 1
		for k in "$acct_lp@$acct_dom imap $acct_pw" "$acct_lp@$alias_dom pop3 $acct_pw" \
		         "$acct_lp@$acct_dom imap wrong-password" "nobody@$acct_dom imap $acct_pw"; do
			set -- $k
			echo "\$ doveadm auth test -x service=$2 $1 $3"
			doveadm -c "$dc" auth test -x service="$2" -x no-penalty "$1" "$3" 2>&1 | grep -v '^ *$' || true
		done
		echo "\$ doveadm user $acct_lp@$alias_dom"
		doveadm -c "$dc" user "$acct_lp@$alias_dom" 2>&1 | grep -v '^ *$' || true
		e2e_dovecot_stop "$E2E_WORK/dovecot"
	}
	show_lookups "vmm 0.5.2's queries (config files in $E2E_WORK)"

	echo
	echo "== The upgrade to 0.6"
	psql -X -d mailsys -e -v ON_ERROR_STOP=1 -f test/demo-upgrade.sql

	echo
	echo "== The configuration half: vmm-cfg-upgrade rewrites the queries"
	echo "\$ vmm-cfg-upgrade --no-vmm-cfg --postfix-dir .../postfix --dovecot-sql .../dovecot-sql.conf.ext"
	src/cfg/vmm-cfg-upgrade --no-vmm-cfg --no-backup --postfix-dir "$E2E_WORK/postfix" \
		--dovecot-sql "$E2E_WORK/dovecot/dovecot-sql.conf.ext" | sed "s|$E2E_WORK|...|g"
	echo
	echo "== Postfix and Dovecot on the 0.6 database: the same answers"
	echo "-- (the transport map of 0.6 answers for any address of a domain: the alias"
	echo "-- and the unknown address now get the domain's transport)"
	show_lookups "vmm 0.6's queries"

	# The live procedure on a second mail database: the real clients ask
	# without pause while the DBA upgrades (e2e_live_procedure in
	# test/e2e/lib.sh; the test suite does the same against a hot standby
	# too, test/e2e/run.sh scenario live).
	live_users=${DEMO_LIVE_USERS:-500}
	echo
	echo "== The live procedure: the same upgrade while Postfix and Dovecot keep asking"
	echo "-- A second vmm 0.5.2 database 'mailsys_live' ($live_users accounts). postmap -q (mailbox and"
	echo "-- domain maps) and doveadm auth test / doveadm user ask it without pause, each answer"
	echo "-- compared with the one the 0.5.2 views gave before; meanwhile the DBA types:"
	echo "--   SET vmm_upgrade.compatibility_views = on; ALTER EXTENSION vmm_upgrade UPDATE;"
	echo "--   vmm-cfg-upgrade ...; postfix reload; doveadm reload"
	echo "--   SELECT vmm_upgrade.drop_compatibility_views();"
	createdb mailsys_live
	psql -qX -d mailsys_live -v ON_ERROR_STOP=1 -v users="$live_users" <<'SQL'
\set ECHO none
\set schema public
\set dovecot 1.2
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\i test/fixtures/generate-0.5.2.sql
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
GRANT SELECT ON postfix_alias, postfix_gid, postfix_maildir, postfix_relocated, postfix_transport, postfix_uid TO postfix;
GRANT SELECT ON dovecot_password, dovecot_user TO dovecot;
SQL
	python=python3
	cfgtool=src/cfg/vmm-cfg-upgrade
	: > "$E2E_WORK/pids"
	L=$E2E_WORK/live
	e2e_write_postfix_052 "$L/primary/postfix" 127.0.0.1 "$PGPORT" mailsys_live "$pfpw" off
	e2e_write_dovecot_052 "$L/primary/dovecot" 127.0.0.1 "$PGPORT" mailsys_live "$dcpw" vmm-demo-live
	e2e_live_expect mailsys_live "$L/live.expect"
	e2e_dovecot_start "$L/primary/dovecot"
	e2e_live_procedure "$L" mailsys_live "${DEMO_HOLD:-2}" primary="$L/primary" |
		sed 's/^ok   live: /ok   /; s/^FAIL live: /FAIL /; s/^live: //'
	e2e_dovecot_stop "$L/primary/dovecot"
	echo "-- (the update's transaction was held open ${DEMO_HOLD:-2} s, standing in for a bigger mail system;"
	echo "-- lookups on the views and tables it replaces wait for its commit, then answer)"
fi
