#!/usr/bin/env bash
# test/e2e/run.sh - end to end: the real Postfix and Dovecot before and after
# the upgrade, and on a hot standby while the primary is upgraded.
#
# Runs against the cluster the PG* environment points to (run-in-cluster.sh,
# inside pg_virtualenv), with the server programs of `pg_config --bindir`.
# For each generated vmm 0.5.2 mail system (Dovecot 1.2 variant with 0.5.2's
# optional lookup functions, and on a hot standby; Dovecot 1.1 variant
# without them):
#   A  every Postfix map (postmap -q, config files in vmm 0.5.2's form,
#      written here) and Dovecot's passdb and userdb (a throwaway Dovecot:
#      logins with the right and a wrong password for every service,
#      passdb and userdb lookups) for a sample of >= 500 addresses under
#      primary and alias domain names, unknown addresses and domains;
#      A must be exactly what the 0.5.2 views hold
#   the upgrade: CREATE EXTENSION vmm_upgrade VERSION '0.5.2' (before A),
#      ALTER EXTENSION vmm_upgrade UPDATE, vmm-cfg-upgrade --postfix-dir
#      --dovecot-sql on the config files
#   B  the same through the rewritten files: equal to A except where vmm
#      0.6 deliberately answers differently (the named rules of compare.py)
#   then data only 0.6 can hold (catch-all, %n/%d/%= aliases, a domain's
#      service set, quota limits, mdbox, {SHA512-CRYPT}) answered by the
#      real clients as SPEC's lookup contracts say
# and the Dovecot 1.1 -> 1.2 switch (upgrade_dovecot_layout) on a generated
# 0.6 database: Dovecot's and Postfix's answers before and after are equal.
#
# Postfix and Dovecot log in over TCP (127.0.0.1) as the roles postfix and
# dovecot with passwords, holding only what vmm 0.5.2 granted (SELECT on
# the views) before and what the extension grants after.  Nothing listens
# on anything but loopback and unix sockets in a temporary directory; the
# standby cluster and every Dovecot are stopped at the end, also on failure.
#
# Output: one line per check ("ok   ..." / "FAIL ..."; "KNOWN ..." for a
# known issue, not counted), "rule ..." lines saying how many answers each
# deliberate difference explained, and last
#   e2e: N passed, M failed (K known issues; S s)
# Settings: E2E_USERS (accounts per mail system, default 2000), E2E_HOLD
# (seconds the upgrade's transaction stays open after its work, so that the
# standby's clients meet it; default 3), E2E_STANDBY_DELAY (the standby's
# max_standby_streaming_delay, default 1s), E2E_KEEP=1 (keep the work dir),
# E2E_SCENARIOS (default "v12 v11 switch").
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
repo=$(pwd)
. test/e2e/lib.sh

E2E_USERS=${E2E_USERS:-2000}
E2E_USERS_04=${E2E_USERS_04:-1000}
E2E_USERS_LIVE=${E2E_USERS_LIVE:-1000}
E2E_HOLD=${E2E_HOLD:-3}
E2E_STANDBY_DELAY=${E2E_STANDBY_DELAY:-1s}
t_start=$(date +%s)
passed=0
failed=0
known=0

ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
# counted FILE: show a helper's output and count its check lines
counted() {
	local n
	cat "$1"
	n=$(grep -c '^ok ' "$1"); passed=$((passed + n))
	n=$(grep -c '^FAIL ' "$1"); failed=$((failed + n))
	n=$(grep -c '^KNOWN ' "$1"); known=$((known + n))
}
now_ms() { date +%s%3N; }
# background helpers are listed in $E2E_WORK/pids until they are waited for,
# so that cleanup kills those still running and never a reused pid
remember_pid() { echo "$1" >> "$E2E_WORK/pids"; }
forget_pid() { sed -i "/^$1\$/d" "$E2E_WORK/pids"; }
elapsed() { echo "$(( $(date +%s) - $1 )) s"; }

E2E_WORK=$(mktemp -d "${TMPDIR:-/tmp}/vmm-e2e.XXXXXX") || exit 2
export E2E_WORK
chmod 755 "$E2E_WORK"
: > "$E2E_WORK/pids"
standby_data=""
created_roles=""
finished=0

# ---------------------------------------------------------------------------
# cleanup: whatever was started is stopped, also when a step failed
# ---------------------------------------------------------------------------
cleanup() {
	trap - EXIT INT TERM HUP
	local p d
	[ "$finished" = 1 ] || fail "e2e: stopped before its end (see above)"
	while read -r p; do
		[ -n "$p" ] && kill "$p" 2>/dev/null
	done < "$E2E_WORK/pids"
	sleep 0.5    # a Dovecot being started by a killed helper writes its pid
	if [ -f "$E2E_WORK/started-dovecot" ]; then
		sort -u "$E2E_WORK/started-dovecot" | while read -r d; do e2e_dovecot_stop "$d"; done
	fi
	if [ -n "$standby_data" ] && [ -f "$standby_data/postmaster.pid" ]; then
		as_owner "$bindir/pg_ctl" -D "$standby_data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
			as_owner "$bindir/pg_ctl" -D "$standby_data" -m immediate -w -t 30 stop >/dev/null 2>&1
	fi
	for d in $(psql -XAtq -d postgres -c "SELECT datname FROM pg_database WHERE datname LIKE 'vmm_e2e_%'" 2>/dev/null); do
		dropdb "$d" 2>/dev/null
	done
	for p in $created_roles; do
		psql -Xq -d postgres -c "DROP ROLE IF EXISTS $p" 2>/dev/null
	done
	if [ "${E2E_KEEP:-0}" = 1 ]; then
		echo "work directory kept: $E2E_WORK"
	else
		rm -rf "$E2E_WORK"
	fi
	echo
	echo "e2e: $passed passed, $failed failed ($known known issues; $(elapsed "$t_start"))"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
	exit $?
}
trap cleanup EXIT
trap 'echo "e2e: interrupted"; exit 130' INT TERM HUP

# ---------------------------------------------------------------------------
# tools, the cluster's owner, the roles
# ---------------------------------------------------------------------------
bindir=$(pg_config --bindir)
export PATH="$bindir:$PATH"
# Debian's python3 (test/deps.sh) starts faster than a shim on PATH
python=${PYTHON:-python3}
[ -z "${PYTHON:-}" ] && [ -x /usr/bin/python3 ] && python=/usr/bin/python3
missing=""
for t in postmap doveadm dovecot "$python" psql "$bindir/pg_basebackup" "$bindir/pg_ctl"; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
# the installed one when run-tests.sh says so (test/package.sh), else the tree's
cfgtool=${CFG_TEST_BIN:-$repo/src/cfg/vmm-cfg-upgrade}
[ -x "$cfgtool" ] || cfgtool=$(command -v vmm-cfg-upgrade || true)
[ -n "$cfgtool" ] || missing="$missing vmm-cfg-upgrade(make)"
if [ -n "$missing" ]; then
	fail "e2e: missing programs:$missing (test/deps.sh installs them)"
	exit 1
fi
ok "e2e: postmap $(postconf -d -h mail_version 2>/dev/null), Dovecot $(dovecot --version | cut -d' ' -f1), PostgreSQL $(psql -XAtc 'SHOW server_version' | cut -d' ' -f1) at port $PGPORT"

datadir=$(psql -XAtc 'SHOW data_directory')
owner=$(stat -c %U "$datadir" 2>/dev/null || id -un)
# server programs run as the cluster's owner
as_owner() {
	if [ "$(id -u)" -eq 0 ] && [ "$owner" != root ]; then
		(cd / && runuser -u "$owner" -- "$@")
	else
		(cd / && "$@")
	fi
}

pfpw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
dcpw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
for r in postfix dovecot; do
	if [ "$(psql -XAtc "SELECT count(*) FROM pg_roles WHERE rolname = '$r'")" = 0 ]; then
		created_roles="$created_roles $r"
	fi
done
psql -Xq -v ON_ERROR_STOP=1 -d postgres -v pfpw="$pfpw" -v dcpw="$dcpw" <<'SQL' || { fail "e2e: roles postfix and dovecot"; exit 1; }
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'postfix') AS mk_postfix,
       NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dovecot') AS mk_dovecot \gset
\if :mk_postfix
CREATE ROLE postfix;
\endif
\if :mk_dovecot
CREATE ROLE dovecot;
\endif
ALTER ROLE postfix LOGIN PASSWORD :'pfpw';
ALTER ROLE dovecot LOGIN PASSWORD :'dcpw';
SQL

# a minimal config for `doveadm pw` (it reads a config; not the machine's)
mkdir -p "$E2E_WORK/pw"
printf 'base_dir = %s/pw/run\nstate_dir = %s/pw/state\nlog_path = %s/pw/log\n' \
	"$E2E_WORK" "$E2E_WORK" "$E2E_WORK" > "$E2E_WORK/pw/dovecot.conf"
pwhash() { doveadm -c "$E2E_WORK/pw/dovecot.conf" pw -s "$1" -p "$2"; }

# as_role ROLE PASSWORD DB SQL: psql over TCP as a mail role; prints the
# answer or the error
as_role() {
	PGPASSWORD=$2 psql -XAtq -h 127.0.0.1 -p "${4:-$PGPORT}" -U "$1" -d "$3" -c "$5" 2>&1
}

# ---------------------------------------------------------------------------
# the hot standby
# ---------------------------------------------------------------------------
sport=""
standby_start() {
	local sdir=$E2E_WORK/standby i
	mkdir -p "$sdir"
	[ "$(id -u)" -eq 0 ] && chown "$owner" "$sdir"
	chmod 700 "$sdir"
	sport=$($python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	standby_data=$sdir/data
	rm -rf "$standby_data"    # an earlier scenario's standby, stopped
	as_owner env PGHOST=127.0.0.1 "$bindir/pg_basebackup" -D "$standby_data" -R -X stream -c fast -w >"$sdir/basebackup.log" 2>&1 ||
		{ cat "$sdir/basebackup.log"; return 1; }
	# the server settings that a hot standby must have at least as high as
	# its primary
	local must
	must=$(psql -XAt -c "SELECT string_agg(name || ' = ' || setting, E'\n') FROM pg_settings
	                      WHERE name IN ('max_connections', 'max_worker_processes', 'max_wal_senders',
	                                     'max_prepared_transactions', 'max_locks_per_transaction')")
	as_owner tee "$standby_data/postgresql.conf" >/dev/null <<-EOF
	# the vmm_upgrade end-to-end test's hot standby: loopback and a unix
	# socket in its temporary directory only
	port = $sport
	listen_addresses = '127.0.0.1'
	unix_socket_directories = '$sdir'
	hot_standby = on
	max_standby_streaming_delay = $E2E_STANDBY_DELAY
	max_standby_archive_delay = $E2E_STANDBY_DELAY
	log_recovery_conflict_waits = on
	deadlock_timeout = 200ms
	fsync = off
	shared_buffers = 32MB
	$must
	EOF
	as_owner tee "$standby_data/pg_hba.conf" >/dev/null <<-EOF
	local all all peer
	host  all all 127.0.0.1/32 scram-sha-256
	EOF
	as_owner tee "$standby_data/pg_ident.conf" </dev/null >/dev/null
	as_owner "$bindir/pg_ctl" -D "$standby_data" -l "$sdir/server.log" -w -t 60 start >/dev/null ||
		{ cat "$sdir/server.log"; return 1; }
	for i in $(seq 1 240); do
		[ "$(standby_psql -c "SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'" 2>/dev/null)" = 1 ] &&
			return 0
		sleep 0.25
	done
	return 1
}
standby_stop() {
	[ -n "$standby_data" ] || return 0
	as_owner "$bindir/pg_ctl" -D "$standby_data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
		as_owner "$bindir/pg_ctl" -D "$standby_data" -m immediate -w -t 30 stop >/dev/null 2>&1
	standby_data=""
	sport=""
}
standby_psql() { PGHOST=127.0.0.1 PGPORT=$sport PGCONNECT_TIMEOUT=10 psql -XAtq "$@"; }
# wait_replay DB LSN: wait (at most 60 s) until the standby replayed LSN
wait_replay() {
	local i
	for i in $(seq 1 600); do
		[ "$(standby_psql -d "$1" -c "SELECT pg_last_wal_replay_lsn() >= '$2'::pg_lsn" 2>/dev/null)" = t ] && return 0
		sleep 0.1
	done
	return 1
}

# listeners LABEL DOVECOT_DIR: what the throwaway Dovecot and the standby
# listen on: no TCP port for Dovecot, 127.0.0.1 only for the standby, unix
# sockets only below the work directory (ss from iproute2; skipped without)
listeners() {
	local label=$1 dir=$2 pids p bad="" inet unix
	command -v ss >/dev/null 2>&1 || { echo "$label: ss not installed, listeners not checked"; return 0; }
	e2e_dovecot_start "$dir" || { fail "$label: Dovecot did not start"; return 1; }
	pids=$(cat "$dir/run/master.pid")
	pids="$pids $(ps -o pid= --ppid "$pids" | tr -s ' \n' ' ')"
	inet=0
	unix=0
	while read -r line; do
		for p in $pids; do
			case $line in
			*"pid=$p,"*)
				case $line in
				u_*) unix=$((unix + 1)); [[ $line == *" $E2E_WORK/"* ]] || bad="$bad${bad:+; }$line" ;;
				*) inet=$((inet + 1)); bad="$bad${bad:+; }$line" ;;
				esac
				break ;;
			esac
		done
	done < <(ss -Hlnp -A inet,unix 2>/dev/null)
	e2e_dovecot_stop "$dir"
	if [ -n "$sport" ]; then
		while read -r line; do
			case $line in
			*" 127.0.0.1:$sport "*) ;;
			*) bad="$bad${bad:+; }standby: $line" ;;
			esac
		done < <(ss -Hltn "sport = :$sport" 2>/dev/null)
	fi
	if [ -z "$bad" ] && [ "$unix" -gt 0 ]; then
		ok "$label: Dovecot listens on $unix unix sockets below the work directory and no TCP port$([ -n "$sport" ] && echo "; the standby on 127.0.0.1:$sport only")"
	else
		fail "$label: listeners: ${bad:-no unix socket found}"
	fi
}

# ---------------------------------------------------------------------------
# answers: every lookup of one config set (postfix/, dovecot/ below DIR)
# ---------------------------------------------------------------------------
# answers LABEL DIR PROBES OUT SERVICES [SAMPLE]: Postfix maps and Dovecot,
# for the keys of PROBES, into OUT; SAMPLE logins also through doveadm;
# SERVICES empty: Postfix only.
# Prints its check lines (the caller counts them: it may run in the
# background, several at once).
answers() {
	local label=$1 dir=$2 probes=$3 out=$4 svcs=$5 sample=${6:-0} t0
	t0=$(now_ms)
	cut -f1 "$probes" > "$out.keys"
	if ! e2e_postmap_all "$dir/postfix" "$out.keys" "$out.pf"; then
		echo "FAIL $label: postmap failed"
		sed 's/^/        /' "$out.pf.err" | head -8
	fi
	: > "$out.dc"
	if [ -z "$svcs" ]; then
		:
	elif e2e_dovecot_start "$dir/dovecot"; then
		$python test/e2e/authprobe.py "$dir/dovecot/dovecot.conf" "$probes" "$out.dc" "$svcs" "$sample" \
			> "$out.ap" 2>&1 || echo "FAIL $label: authprobe.py failed" >> "$out.ap"
		cat "$out.ap"
		e2e_dovecot_stop "$dir/dovecot" nowait
	else
		echo "FAIL $label: Dovecot did not start"
	fi
	cat "$out.pf" "$out.dc" > "$out"
	echo "$label: $(cut -f1 "$out.keys" | wc -l) keys, $(wc -l < "$out") answers in $(( $(now_ms) - t0 )) ms"
}

# answers_all LABEL S PROBES PHASE SERVICES TARGETS [SAMPLE]: answers for
# each target (S/TARGET, into S/TARGET.PHASE) at the same time; SAMPLE
# (default 8, 0 in phase F) logins of the primary also through doveadm
answers_all() {
	local label=$1 S=$2 probes=$3 phase=$4 svcs=$5 targets=$6 sample=${7:-8} t p pids=""
	[ "$phase" = F ] && sample=0
	for t in $targets; do
		answers "$label $t $phase" "$S/$t" "$probes" "$S/$t.$phase" "$svcs" \
			"$([ "$t" = primary ] && echo "$sample" || echo 0)" > "$S/$t.$phase.log" 2>&1 &
		pids="$pids $!"
		remember_pid $!
	done
	for p in $pids; do
		wait "$p"
		forget_pid "$p"
	done
	for t in $targets; do
		counted "$S/$t.$phase.log"
	done
}

# compare: compare.py with its check lines counted
compare() {
	$python test/e2e/compare.py "$@" > "$E2E_WORK/compare.out" 2>&1 ||
		grep -q '^FAIL' "$E2E_WORK/compare.out" || echo "FAIL $1: compare.py failed" >> "$E2E_WORK/compare.out"
	counted "$E2E_WORK/compare.out"
}

# cfg_upgrade LABEL DIR [--quota]: vmm-cfg-upgrade on a config set; every
# Postfix query of a view that 0.6 drops is rewritten (not postfix_gid's,
# and not the sender login map's of 0.5.2 with lookup functions: it is
# already 0.6's)
cfg_upgrade() {
	local label=$1 dir=$2 rc n want
	shift 2
	want=$(grep -lE '^query = .* FROM postfix_(maildir|uid|alias|relocated|transport) ' "$dir/postfix"/pgsql-*.cf | wc -l)
	"$cfgtool" --no-vmm-cfg "$@" --postfix-dir "$dir/postfix" --dovecot-sql "$dir/dovecot/dovecot-sql.conf.ext" \
		> "$dir/cfg-upgrade.out" 2>&1
	rc=$?
	n=$(grep -c 'query rewritten' "$dir/cfg-upgrade.out")
	if [ "$rc" -eq 0 ] && [ "$n" -eq $((want + 2)) ]; then
		ok "$label: vmm-cfg-upgrade rewrote the $want Postfix queries and Dovecot's password_query and user_query"
	else
		fail "$label: vmm-cfg-upgrade exit $rc, $n queries rewritten (not $want + 2)"
		sed 's/^/        /' "$dir/cfg-upgrade.out"
	fi
}

# known_accounts SMTP SIEVE: SQL adding, to the domain in the temporary
# table e2e_domain, accounts whose passwords the test knows, in every 0.5.2
# scheme that fits varchar(74), with several service sets (the flags are
# named SMTP and SIEVE), and an alias whose destination holds "%d" (the old
# percent hack)
known_accounts() {
	local smtp=$1 sieve=$2 i=0 s lp h
	for s in SSHA MD5-CRYPT CRAM-MD5 SHA256 PLAIN-MD5 SSHA256 BLF-CRYPT; do
		lp="e2e.$(echo "$s" | tr 'A-Z' 'a-z')"
		h=$(pwhash "$s" "Pw-$lp-42") || return 1
		printf "INSERT INTO users (local_part, passwd, name, gid, %s, pop3, imap, %s)\n" "$smtp" "$sieve"
		printf "SELECT '%s', '%s', 'e2e %s', gid, %s FROM e2e_domain;\n" "$lp" "$h" "$s" \
			"$(echo "t,t,t,t t,f,t,f f,t,f,t t,t,f,t f,f,t,t t,f,f,f t,t,t,f" | cut -d' ' -f$((i + 1)) |
			sed 's/t/true/g; s/f/false/g')"
		i=$((i + 1))
	done
	echo "INSERT INTO alias (gid, address, destination) SELECT gid, 'percent', 'bob%dept.example@relay.example.net' FROM e2e_domain;"
}

# roles_before L DB: Postfix and Dovecot log in over TCP with their
# passwords; Postfix reads the views and no password, Dovecot its views
roles_before() {
	local L=$1 db=$2 s h
	s=$(as_role postfix "$pfpw" "$db" "" "SELECT count(*) FROM postfix_maildir")
	h=$(as_role postfix "$pfpw" "$db" "" "SELECT passwd FROM users LIMIT 1")
	case $s:$h in
	[0-9]*:*"permission denied"*) ok "$L: postfix logs in over TCP with its password, reads the views and no password" ;;
	*) fail "$L: postfix's privileges before: $s / $h" ;;
	esac
	[ "${3:-}" = no-dovecot ] && return 0
	s=$(as_role dovecot "$dcpw" "$db" "" "SELECT count(*) FROM dovecot_password")
	[[ $s =~ ^[0-9]+$ ]] && ok "$L: dovecot logs in over TCP with its password and reads its views" ||
		fail "$L: dovecot before: $s"
}

# roles_after L DB: Postfix still reads no password, Dovecot reads them
roles_after() {
	local L=$1 db=$2 s h
	h=$(as_role postfix "$pfpw" "$db" "" "SELECT passwd FROM users LIMIT 1")
	s=$(as_role dovecot "$dcpw" "$db" "" "SELECT count(passwd) FROM users")
	case $h:$s in
	*"permission denied"*:[0-9]*) ok "$L: after the upgrade postfix still reads no password, dovecot reads them" ;;
	*) fail "$L: privileges after: postfix $h / dovecot $s" ;;
	esac
}

# update_ext L DB LOG [VERSION]: ALTER EXTENSION vmm_upgrade UPDATE [TO
# 'VERSION'], timed; its output in LOG
update_ext() {
	local L=$1 db=$2 log=$3 cmd t1
	cmd="ALTER EXTENSION vmm_upgrade UPDATE${4:+ TO '$4'}"
	t1=$(now_ms)
	if psql -Xq -d "$db" -v ON_ERROR_STOP=1 -c "$cmd" > "$log" 2>&1; then
		ok "$L: $cmd ($(( $(now_ms) - t1 )) ms)"
	else
		fail "$L: $cmd"
		cat "$log"
		return 1
	fi
}

# probes_ok L FILE: the probes of FILE hold >= 500 addresses
probes_ok() {
	local n
	n=$(awk -F'\t' '$1 ~ /.@./ && $2 != "domain" && $2 != "at-domain"' "$2" | wc -l)
	[ "$n" -ge 500 ] && ok "$1: $n addresses to ask ($(wc -l < "$2") keys with domains, @domains and odd ones)" ||
		fail "$1: only $n addresses to ask"
}

# detect_is L DB WANT: detect_layout() says WANT (version/dovecot[/lookups])
detect_is() {
	local s
	s=$(psql -XAt -d "$2" -c "SELECT concat_ws('/', version, dovecot$([ "$(echo "$3" | tr -cd / | wc -c)" -ge 2 ] && echo ', lookups::text')) FROM vmm_upgrade.detect_layout()")
	[ "$s" = "$3" ] && ok "$1: detect_layout says $3" || fail "$1: detect_layout says $s, not $3"
}

# setup_052 L S DB VARIANT LOOKUPS USERS: a generated vmm 0.5.2 mail system
# in DB with the known accounts, the extension at 0.5.2, vmm 0.5.2's grants;
# its probes in S/probes.tsv
setup_052() {
	local L=$1 S=$2 db=$3 variant=$4 lookups=$5 users=$6 sieve=sieve rc
	[ "$variant" = 1.1 ] && sieve=managesieve
	known_accounts smtp "$sieve" > "$S/extra.sql" || { fail "$L: password hashes"; return 1; }
	createdb "$db" || { fail "$L: createdb"; return 1; }
	psql -Xq -d "$db" -v ON_ERROR_STOP=1 -v users="$users" -v dovecot="$variant" -v lookups="$lookups" \
		> "$S/setup.log" 2>&1 <<-SQL
	\set ECHO none
	\set schema public
	\i test/fixtures/vmm-0.5.2.sql
	\i test/fixtures/generate-0.5.2.sql
	CREATE TEMP TABLE e2e_domain AS
	SELECT gid FROM domain_name WHERE NOT is_primary ORDER BY domainname LIMIT 1;
	\i $S/extra.sql
	ANALYZE;
	CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
	-- what a vmm 0.5.2 installation granted: the views
	GRANT SELECT ON dovecot_password, dovecot_user TO dovecot;
	GRANT SELECT ON postfix_alias, postfix_gid, postfix_maildir, postfix_relocated,
	                postfix_transport, postfix_uid TO postfix;
	\if :lookups
	-- 0.5.2's optional lookup functions run with the caller's rights: an
	-- installation that used them (the sender login map needs them) let
	-- Postfix read what they read
	GRANT SELECT (domainname, gid, is_primary) ON domain_name TO postfix;
	GRANT SELECT (gid, domaindir) ON domain_data TO postfix;
	GRANT SELECT (local_part, gid, uid, mid, tid) ON users TO postfix;
	GRANT SELECT ON maillocation, transport, alias, relocated TO postfix;
	\endif
	SQL
	rc=$?
	if [ $rc -ne 0 ]; then
		fail "$L: set up the 0.5.2 mail system"
		cat "$S/setup.log"
		return 1
	fi
	detect_is "$L" "$db" "0.5.2/$variant/$lookups"
	psql -qXAt -v ON_ERROR_STOP=1 -d "$db" -f test/e2e/probes.sql > "$S/probes.tsv" ||
		{ fail "$L: probes"; return 1; }
	probes_ok "$L" "$S/probes.tsv"
	roles_before "$L" "$db"
}

# ---------------------------------------------------------------------------
# a vmm 0.5.2 mail system, its upgrade, and its answers before and after
# ---------------------------------------------------------------------------
# scenario_052 NAME VARIANT LOOKUPS STANDBY
scenario_052() {
	local name=$1 variant=$2 lookups=$3 standby=$4
	local S=$E2E_WORK/$name db=vmm_e2e_$name L=$1 sieve svcs t0 targets s h lp i rc
	t0=$(date +%s)
	sieve=sieve
	[ "$variant" = 1.1 ] && sieve=managesieve
	svcs="smtp pop3 imap $sieve"
	targets=primary
	[ "$standby" = yes ] && targets="primary standby"
	mkdir -p "$S"
	echo
	echo "== e2e $name: vmm 0.5.2, Dovecot $variant variant, optional lookup functions: $lookups, $E2E_USERS accounts$([ "$standby" = yes ] && echo ', with a hot standby')"

	setup_052 "$L" "$S" "$db" "$variant" "$lookups" "$E2E_USERS" || return 1

	# the standby, and the config sets (primary, standby; the poll's)
	if [ "$standby" = yes ]; then
		if standby_start; then
			ok "$L: hot standby streaming from the primary (port $sport, 127.0.0.1 only, max_standby_streaming_delay = $E2E_STANDBY_DELAY)"
		else
			fail "$L: hot standby did not come up"
			targets=primary
			standby=no
		fi
	fi
	for s in $targets; do
		local port=$PGPORT
		[ "$s" = standby ] && port=$sport
		e2e_write_postfix_052 "$S/$s/postfix" 127.0.0.1 "$port" "$db" "$pfpw" "$([ "$lookups" = true ] && echo on || echo off)"
		e2e_write_dovecot_052 "$S/$s/dovecot" 127.0.0.1 "$port" "$db" "$dcpw" "vmm-e2e-$name-$s"
		e2e_write_dovecot_052 "$S/$s/quota/dovecot" 127.0.0.1 "$port" "$db" "$dcpw" "vmm-e2e-$name-$s-quota"
	done
	if [ "$standby" = yes ]; then
		# the standby must have replayed everything before A
		wait_replay "$db" "$(psql -XAt -c 'SELECT pg_current_wal_lsn()')" ||
			fail "$L: standby did not catch up"
		e2e_write_postfix_052 "$S/poll-old" 127.0.0.1 "$sport" "$db" "$pfpw" on
		e2e_write_postfix_052 "$S/poll-new" 127.0.0.1 "$sport" "$db" "$pfpw" on
		"$cfgtool" --no-vmm-cfg --no-backup --postfix-dir "$S/poll-new" >/dev/null 2>&1 ||
			fail "$L: vmm-cfg-upgrade on the poll's config"
	fi

	listeners "$L" "$S/primary/dovecot"

	# A: before the upgrade
	answers_all "$L" "$S" "$S/probes.tsv" A "$svcs" "$targets"
	compare "$L primary" "$S/probes.tsv" "$S/primary.A" --expect-views
	if [ "$standby" = yes ]; then
		compare "$L standby" "$S/probes.tsv" "$S/primary.A" "$S/standby.A"
	fi

	# the configuration half: vmm-cfg-upgrade (quota: --quota)
	for s in $targets; do
		cfg_upgrade "$L $s" "$S/$s"
		"$cfgtool" --no-vmm-cfg --quota --dovecot-sql "$S/$s/quota/dovecot/dovecot-sql.conf.ext" \
			> "$S/$s/quota/cfg.out" 2>&1 || fail "$L $s: vmm-cfg-upgrade --quota"
	done
	if [ "$lookups" != true ]; then
		grep -q 'pgsql-smtpd_sender_login_maps.cf: no query setting, left alone' "$S/primary/cfg-upgrade.out" &&
			ok "$L: vmm-cfg-upgrade leaves the commented-out sender login query of a 0.5.2 without optional functions alone" ||
			fail "$L: vmm-cfg-upgrade and the commented-out sender login query"
	fi
	sed 's/^/    /' "$S/primary/cfg-upgrade.out"

	# the upgrade
	if [ "$standby" = yes ]; then
		upgrade_with_standby "$L" "$S" "$db" "$lookups"
	else
		update_ext "$L" "$db" "$S/upgrade.log" || return 1
	fi
	detect_is "$L" "$db" "0.6/$variant"
	roles_after "$L" "$db"

	# B: after
	answers_all "$L" "$S" "$S/probes.tsv" B "$svcs" "$targets"
	for s in $targets; do
		compare "$L $s" "$S/probes.tsv" "$S/primary.A" "$S/$s.B" --rules
	done
	[ "$standby" = yes ] && compare "$L standby=primary" "$S/probes.tsv" "$S/primary.B" "$S/standby.B"

	# what only 0.6 can hold (Dovecot >= 1.2 variant)
	if [ "$variant" = 1.2 ]; then
		features "$L" "$S" "$db" "$svcs" "$targets"
	fi
	[ "$standby" = yes ] && standby_stop
	echo "$L: $(elapsed "$t0")"
}

# features LABEL S DB SERVICES TARGETS
features() {
	local L=$1 S=$2 db=$3 svcs=$4 targets=$5 s
	psql -Xq -d "$db" -v ON_ERROR_STOP=1 \
		-v h1="$(pwhash SHA512-CRYPT Pw-e2e.inherit-42)" \
		-v h2="$(pwhash SHA512-CRYPT Pw-e2e.quota-42)" \
		-v h3="$(pwhash SHA512-CRYPT Pw-e2e.mdbox-42)" \
		-f test/e2e/features-0.6.sql > "$S/features.log" 2>&1 ||
		{ fail "$L: 0.6 data"; cat "$S/features.log"; return 1; }
	psql -XAtq -d "$db" -c "COPY (SELECT key, what, value, why FROM e2e.expect) TO STDOUT" > "$S/expect.tsv"
	psql -XAtq -d "$db" -c "COPY (SELECT key, 'feature', coalesce(max(password), ''), '', '' FROM e2e.expect
	                              GROUP BY key ORDER BY key) TO STDOUT" > "$S/fprobes.tsv"
	echo "$L: $(wc -l < "$S/expect.tsv") answers expected from vmm 0.6 data (catch-all, %n/%d/%=, service set, quota, mdbox)"
	if [[ $targets == *standby* ]]; then
		wait_replay "$db" "$(psql -XAt -c 'SELECT pg_current_wal_lsn()')" || fail "$L: standby did not replay the 0.6 data"
	fi
	answers_all "$L" "$S" "$S/fprobes.tsv" F "$svcs" "$targets"
	for s in $targets; do
		if e2e_dovecot_start "$S/$s/quota/dovecot"; then
			$python test/e2e/authprobe.py "$S/$s/quota/dovecot/dovecot.conf" "$S/fprobes.tsv" "$S/$s.Q" "$svcs" > /dev/null 2>&1
			e2e_dovecot_stop "$S/$s/quota/dovecot" nowait
			sed -n 's/^dovecot:userdb\t/dovecot:quota:userdb\t/p' "$S/$s.Q" >> "$S/$s.F"
		else
			fail "$L $s: the quota Dovecot did not start"
		fi
		compare "$L $s 0.6" --expect "$S/expect.tsv" "$S/$s.F"
	done
}

# upgrade_with_standby LABEL S DB LOOKUPS: the upgrade on the primary while
# the standby's clients are watched
upgrade_with_standby() {
	local L=$1 S=$2 db=$3 lookups=$4 key expect t_begin t_commit t_replayed lsn lsn0 pid_poll pid_reader rc i
	# the key the poll looks up: an account, and its maildir
	key=$(awk -F'\t' '$2 == "account" && $1 ~ /^[a-z]/ {print $1; exit}' "$S/probes.tsv")
	expect=$(awk -F'\t' -v k="$key" '$1 == "postfix:mailbox" && $2 == k {print $3}' "$S/primary.A")
	: > "$S/poll.stop.wait"
	rm -f "$S/poll.stop"
	(PGHOST=127.0.0.1 PGPORT=$sport PGDATABASE=$db exec $python test/e2e/poll.py run "$S/poll.log" "$S/poll.stop" \
		"$S/poll-old" "$S/poll-new" "$key" 3000 $((E2E_HOLD + 90))) &
	pid_poll=$!
	remember_pid "$pid_poll"
	# a long reader on the standby: a transaction that holds a lock on users
	(PGHOST=127.0.0.1 PGPORT=$sport exec timeout 90 psql -X -d "$db" -c "SET statement_timeout = '80s'" \
		-c "BEGIN" -c "SELECT count(*) FROM users" -c "SELECT pg_sleep(60)" -c "COMMIT" > "$S/reader.log" 2>&1) &
	pid_reader=$!
	remember_pid "$pid_reader"
	psql -XAtq -d "$db" -c "COPY (SELECT c.oid, c.relkind, c.relname FROM pg_class c
	                               WHERE c.relnamespace = 'public'::regnamespace) TO STDOUT" > "$S/relations.tsv"
	sleep 1
	lsn0=$(psql -XAt -c 'SELECT pg_current_wal_lsn()')
	t_begin=$(now_ms)
	psql -Xq -d "$db" -v ON_ERROR_STOP=1 > "$S/upgrade.log" 2>&1 <<-SQL
	BEGIN;
	ALTER EXTENSION vmm_upgrade UPDATE;
	-- a bigger mail system takes longer: hold the transaction open
	SELECT pg_sleep($E2E_HOLD);
	COMMIT;
	SQL
	rc=$?
	t_commit=$(now_ms)
	lsn=$(psql -XAt -c 'SELECT pg_current_wal_lsn()')
	if [ $rc -eq 0 ]; then
		ok "$L: ALTER EXTENSION vmm_upgrade UPDATE on the primary ($(( t_commit - t_begin )) ms, held open ${E2E_HOLD} s; $(psql -XAt -c "SELECT pg_size_pretty(pg_wal_lsn_diff('$lsn', '$lsn0'))") of WAL)"
	else
		fail "$L: ALTER EXTENSION vmm_upgrade UPDATE"
		cat "$S/upgrade.log"
	fi
	if wait_replay "$db" "$lsn"; then
		t_replayed=$(now_ms)
		ok "$L: the standby replayed the upgrade $(( t_replayed - t_commit )) ms after the commit"
	else
		t_replayed=$(now_ms)
		fail "$L: the standby did not replay the upgrade within 60 s"
	fi
	touch "$S/poll.stop"
	for i in $(seq 1 1200); do
		kill -0 "$pid_poll" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid_poll" 2>/dev/null && kill "$pid_poll"
	wait "$pid_poll" 2>/dev/null
	forget_pid "$pid_poll"
	for i in $(seq 1 900); do
		kill -0 "$pid_reader" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid_reader" 2>/dev/null && kill "$pid_reader"
	wait "$pid_reader" 2>/dev/null
	forget_pid "$pid_reader"
	$python test/e2e/poll.py analyse "$S/poll.log" "$expect" "$lookups" "$t_begin" "$t_replayed" "$S/relations.tsv" > "$S/poll.out" 2>&1
	counted "$S/poll.out"
	# the long reader: cancelled by the conflict with recovery
	if grep -q 'conflict with recovery' "$S/reader.log"; then
		ok "$L: a standby transaction holding a lock on users was cancelled (conflict with recovery, max_standby_streaming_delay = $E2E_STANDBY_DELAY): $(grep -m1 -E 'ERROR|FATAL' "$S/reader.log")"
	else
		fail "$L: the long standby transaction was not cancelled by the upgrade's replay"
		cat "$S/reader.log"
	fi
	# what the standby's log says about waits and conflicts
	echo "standby log during the upgrade:"
	grep -E 'recovery (still )?waiting|conflict with recovery|could not open relation' "$E2E_WORK/standby/server.log" |
		sed -E 's/^[0-9-]+ [0-9:.]+ [A-Z]+ \[[0-9]+\] //' | sort | uniq -c | sort -rn | head -12 | sed 's/^/    /'
}

# ---------------------------------------------------------------------------
# a vmm 0.4 mail system: 0.4 -> 0.5.2 -> 0.6, the same answers throughout
# ---------------------------------------------------------------------------
# probes_04 DB OUT [release]: probes.sql on a 0.4 database, through
# temporary views in the shape of 0.5.2's domain tables (one primary name per
# domain); vmm 0.4's sender login map asks the views.  The release form has
# no dovecot_password: its Dovecot answers are what r41's view would hold
# (the view the 0.4 -> 0.5.2 step creates must hold exactly that).
probes_04() {
	psql -qXAt -v ON_ERROR_STOP=1 -d "$1" -v sender_views=true > "$2" <<-SQL
	CREATE TEMP VIEW domain_name AS SELECT domainname, gid, true AS is_primary FROM domains;
	CREATE TEMP VIEW domain_data AS SELECT gid, tid, domaindir FROM domains;
	$([ "${3:-}" = release ] && echo 'CREATE TEMP VIEW dovecot_password AS
	SELECT users.local_part || '"'@'"' || domains.domainname AS "user", users.passwd AS password,
	       users.smpt AS smtp, users.pop3, users.imap, users.managesieve
	  FROM users LEFT JOIN domains USING (gid);')
	\i test/e2e/probes.sql
	SQL
}

# scenario_04 NAME FORM: FORM r41 (vmm 0.4-r41) or release (vmm 0.4 as
# released: users.smpt, no dovecot_password, so Dovecot's password_query
# fails and only Postfix is asked before the first step)
scenario_04() {
	local name=$1 form=$2 S=$E2E_WORK/$1 db=vmm_e2e_$1 L=$1 t0 s smtp=smtp svcs="smtp pop3 imap managesieve" pf=""
	t0=$(date +%s)
	[ "$form" = release ] && smtp=smpt && pf=--postfix-only
	mkdir -p "$S"
	echo
	echo "== e2e $name: vmm 0.4 ($form form), Dovecot 1.1 variant, $E2E_USERS_04 accounts: 0.4 -> 0.5.2 -> 0.6"
	known_accounts "$smtp" managesieve > "$S/extra.sql" || { fail "$L: password hashes"; return 1; }
	createdb "$db" || { fail "$L: createdb"; return 1; }
	psql -Xq -d "$db" -v ON_ERROR_STOP=1 -v users="$E2E_USERS_04" -v form="$form" > "$S/setup.log" 2>&1 <<-SQL
	\set ECHO none
	\set schema public
	\i test/fixtures/vmm-0.4.sql
	\i test/fixtures/generate-0.4.sql
	CREATE TEMP TABLE e2e_domain AS
	SELECT gid FROM domains WHERE gid IN (SELECT gid FROM users) ORDER BY domainname LIMIT 1;
	\i $S/extra.sql
	ANALYZE;
	CREATE EXTENSION vmm_upgrade VERSION '0.4';
	-- what a vmm 0.4 installation granted: the views (the release form
	-- lacks dovecot_password)
	GRANT SELECT ON dovecot_user TO dovecot;
	SELECT to_regclass('dovecot_password') IS NOT NULL AS has_dp \gset
	\if :has_dp
	GRANT SELECT ON dovecot_password TO dovecot;
	\endif
	GRANT SELECT ON postfix_alias, postfix_gid, postfix_maildir, postfix_relocated,
	                postfix_transport, postfix_uid TO postfix;
	SQL
	[ $? -eq 0 ] || { fail "$L: set up the 0.4 mail system"; cat "$S/setup.log"; return 1; }
	detect_is "$L" "$db" "0.4/1.1"
	probes_04 "$db" "$S/probes.tsv" "$form" || { fail "$L: probes"; return 1; }
	probes_ok "$L" "$S/probes.tsv"
	if [ "$form" = release ]; then
		roles_before "$L" "$db" no-dovecot
		s=$(as_role dovecot "$dcpw" "$db" "" "SELECT count(*) FROM dovecot_password")
		[[ $s == *'relation "dovecot_password" does not exist'* ]] &&
			ok "$L: no view dovecot_password (as vmm 0.4 released it): Dovecot's password_query cannot answer, only Postfix is asked before the first step" ||
			fail "$L: dovecot_password in the release form: $s"
	else
		roles_before "$L" "$db"
	fi
	e2e_write_postfix_04 "$S/primary/postfix" 127.0.0.1 "$PGPORT" "$db" "$pfpw"
	e2e_write_dovecot_052 "$S/primary/dovecot" 127.0.0.1 "$PGPORT" "$db" "$dcpw" "vmm-e2e-$name"
	# the 0.5.2 forms: vmm 0.5.2's files are 0.4's but for the sender login
	# map (0.5.2 ships it commented out without its optional functions), so
	# the 0.4 files are asked after the first step (the same query text)
	e2e_write_postfix_052 "$S/f052/postfix" 127.0.0.1 "$PGPORT" "$db" "$pfpw" off
	s=$(cd "$S" && for f in primary/postfix/pgsql-*.cf; do
		cmp -s <(grep '^query' "$f") <(grep '^query' "f052/postfix/${f#primary/postfix/}") || basename "$f"
	done)
	[ "$s" = pgsql-smtpd_sender_login_maps.cf ] &&
		ok "$L: vmm 0.4's Postfix queries are 0.5.2's word for word but the sender login map's (its view query works on 0.5.2 too)" ||
		fail "$L: 0.4 and 0.5.2 Postfix queries differ in: $s"

	# A: vmm 0.4
	answers_all "$L 0.4" "$S" "$S/probes.tsv" A "$([ "$form" = r41 ] && echo "$svcs")" primary
	compare "$L 0.4" "$S/probes.tsv" "$S/primary.A" --expect-views $pf

	# 0.4 -> 0.5.2
	update_ext "$L" "$db" "$S/update-052.log" 0.5.2 || return 1
	detect_is "$L" "$db" "0.5.2/1.1/false"
	roles_before "$L 0.5.2" "$db"
	psql -qXAt -v ON_ERROR_STOP=1 -d "$db" -v sender_views=true -f test/e2e/probes.sql > "$S/probes-052.tsv" ||
		{ fail "$L: probes after the first step"; return 1; }
	cmp -s "$S/probes.tsv" "$S/probes-052.tsv" &&
		ok "$L: the 0.5.2 views hold for each of the $(wc -l < "$S/probes.tsv") keys what the 0.4 views held$([ "$form" = release ] && echo ", dovecot_password what r41's would")" ||
		{ fail "$L: the 0.5.2 views differ from the 0.4 ones"; diff "$S/probes.tsv" "$S/probes-052.tsv" | head -8 | sed 's/^/        /'; }
	answers_all "$L 0.5.2" "$S" "$S/probes.tsv" A2 "$svcs" primary "$([ "$form" = release ] && echo 8 || echo 0)"
	compare "$L 0.5.2" "$S/probes.tsv" "$S/primary.A2" --expect-views
	compare "$L 0.4=0.5.2" "$S/probes.tsv" "$S/primary.A" "$S/primary.A2" $pf

	# 0.5.2 -> 0.6, the 0.4 files rewritten
	cfg_upgrade "$L" "$S/primary"
	grep -q "vmm 0.4's postfix_maildir UNION postfix_alias" "$S/primary/cfg-upgrade.out" &&
		ok "$L: vmm-cfg-upgrade recognised vmm 0.4's sender login query" ||
		fail "$L: vmm-cfg-upgrade and vmm 0.4's sender login query"
	update_ext "$L" "$db" "$S/upgrade.log" || return 1
	detect_is "$L" "$db" "0.6/1.1"
	roles_after "$L" "$db"
	answers_all "$L 0.6" "$S" "$S/probes.tsv" B "$svcs" primary "$([ "$form" = r41 ] && echo 8 || echo 0)"
	compare "$L 0.6" "$S/probes.tsv" "$S/primary.A2" "$S/primary.B" --rules
	echo "$L: $(elapsed "$t0")"
}

# ---------------------------------------------------------------------------
# the live procedure: the real clients ask the primary and the standby all
# the time (e2e_live_procedure, live.py)
# ---------------------------------------------------------------------------
# e2e_live_replayed NAME DB: wait until the standby replayed what the primary
# wrote so far (called by e2e_live_procedure after the commit and the drop)
e2e_live_replayed() {
	wait_replay "$2" "$(psql -XAt -c 'SELECT pg_current_wal_lsn()')" ||
		echo "FAIL live: the $1 did not replay the primary's WAL within 60 s"
}

scenario_live() {
	local L=live S=$E2E_WORK/live db=vmm_e2e_live t0 t port
	t0=$(date +%s)
	mkdir -p "$S"
	echo
	echo "== e2e live: vmm 0.5.2, Dovecot 1.2 variant, $E2E_USERS_LIVE accounts, a hot standby: the live procedure while postmap and doveadm ask both"
	setup_052 "$L" "$S" "$db" 1.2 false "$E2E_USERS_LIVE" || return 1
	if standby_start; then
		ok "$L: hot standby streaming from the primary (port $sport)"
	else
		fail "$L: hot standby did not come up"
		return 1
	fi
	for t in primary standby; do
		port=$PGPORT
		[ "$t" = standby ] && port=$sport
		e2e_write_postfix_052 "$S/$t/postfix" 127.0.0.1 "$port" "$db" "$pfpw" off
		e2e_write_dovecot_052 "$S/$t/dovecot" 127.0.0.1 "$port" "$db" "$dcpw" "vmm-e2e-live-$t"
	done
	e2e_live_expect "$db" "$S/live.expect" || { fail "$L: the expected answers"; return 1; }
	ok "$L: $(wc -l < "$S/live.expect") expected answers from the 0.5.2 views ($(cut -f1 "$S/live.expect" | sort | uniq -c | awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2}'))"
	wait_replay "$db" "$(psql -XAt -c 'SELECT pg_current_wal_lsn()')" || fail "$L: standby did not catch up"
	for t in primary standby; do
		e2e_dovecot_start "$S/$t/dovecot" || { fail "$L: the $t's Dovecot did not start"; return 1; }
	done
	e2e_live_procedure "$S" "$db" "$E2E_HOLD" primary="$S/primary" standby="$S/standby" > "$S/live.out" 2>&1
	counted "$S/live.out"
	grep -q 'WARNING' "$S/live-drop.log" && sed -n 's/^/    drop_compatibility_views: /; /WARNING/p' "$S/live-drop.log" | head -3
	for t in primary standby; do
		e2e_dovecot_stop "$S/$t/dovecot"
	done
	detect_is "$L" "$db" "0.6/1.2"
	standby_stop
	echo "$L: $(elapsed "$t0")"
}

# ---------------------------------------------------------------------------
# the Dovecot 1.1 -> 1.2 switch on a vmm 0.6 database
# ---------------------------------------------------------------------------
scenario_switch() {
	local L=switch S=$E2E_WORK/switch db=vmm_e2e_switch t0 s
	t0=$(date +%s)
	mkdir -p "$S"
	echo
	echo "== e2e switch: a generated vmm 0.6 database of the Dovecot 1.1 variant, then upgrade_dovecot_layout()"
	createdb "$db" || { fail "$L: createdb"; return 1; }
	psql -Xq -d "$db" -v ON_ERROR_STOP=1 -v users=$((E2E_USERS / 2)) > "$S/setup.log" 2>&1 <<-'SQL'
	\set ECHO none
	\set schema public
	\set dovecot 1.1
	\set release 0.6.2
	\i test/fixtures/vmm-0.6.sql
	\i test/fixtures/generate-0.6.sql
	CREATE EXTENSION vmm_upgrade;
	SELECT count(*) FROM vmm_upgrade.set_permissions('dovecot', 'postfix');
	-- the fixture's postfix_smtpd_sender_login_map orders by
	-- domain_name.is_primary, a column set_permissions (like vmm's
	-- set-permissions) does not grant to Postfix: without this its sender
	-- login lookups fail with "permission denied for table domain_name"
	GRANT SELECT (is_primary) ON domain_name TO postfix;
	SQL
	[ $? -eq 0 ] || { fail "$L: set up the 0.6 mail system"; cat "$S/setup.log"; return 1; }
	psql -qXAt -v ON_ERROR_STOP=1 -d "$db" -f test/e2e/probes-0.6.sql > "$S/probes.tsv" || { fail "$L: probes"; return 1; }
	s=$(awk -F'\t' '$2 == "account"' "$S/probes.tsv" | wc -l)
	[ "$s" -ge 100 ] && ok "$L: $s accounts to ask ($(wc -l < "$S/probes.tsv") keys)" || fail "$L: only $s accounts to ask"
	e2e_write_postfix_052 "$S/db/postfix" 127.0.0.1 "$PGPORT" "$db" "$pfpw" on
	e2e_write_dovecot_052 "$S/db/dovecot" 127.0.0.1 "$PGPORT" "$db" "$dcpw" vmm-e2e-switch
	"$cfgtool" --no-vmm-cfg --quota --no-backup --postfix-dir "$S/db/postfix" \
		--dovecot-sql "$S/db/dovecot/dovecot-sql.conf.ext" > "$S/cfg.out" 2>&1 ||
		{ fail "$L: vmm-cfg-upgrade"; cat "$S/cfg.out"; }
	answers "$L A (Dovecot 1.1 variant, service managesieve)" "$S/db" "$S/probes.tsv" "$S/A" "smtp pop3 imap managesieve" 8 \
		> "$S/A.log" 2>&1
	counted "$S/A.log"
	if psql -Xq -d "$db" -v ON_ERROR_STOP=1 -c 'SELECT vmm_upgrade.upgrade_dovecot_layout()' > "$S/switch.log" 2>&1; then
		ok "$L: upgrade_dovecot_layout()"
	else
		fail "$L: upgrade_dovecot_layout()"
		cat "$S/switch.log"
	fi
	s=$(psql -XAt -d "$db" -c "SELECT version || '/' || dovecot FROM vmm_upgrade.detect_layout()")
	[ "$s" = 0.6/1.2 ] && ok "$L: detect_layout says 0.6, Dovecot 1.2" || fail "$L: after the switch detect_layout says $s"
	answers "$L B (Dovecot >= 1.2 variant, service sieve)" "$S/db" "$S/probes.tsv" "$S/B" "smtp pop3 imap sieve" 8 \
		> "$S/B.log" 2>&1
	counted "$S/B.log"
	compare "$L" "$S/probes.tsv" "$S/A" "$S/B" --rename managesieve=sieve
	echo "$L: $(elapsed "$t0")"
}

for sc in ${E2E_SCENARIOS:-v12 v11 switch v04 v04rel live}; do
	case $sc in
	v12) scenario_052 v12 1.2 true yes ;;
	v11) scenario_052 v11 1.1 false no ;;
	switch) scenario_switch ;;
	v04) scenario_04 v04 r41 ;;
	v04rel) scenario_04 v04rel release ;;
	live) scenario_live ;;
	*) fail "e2e: unknown scenario $sc (E2E_SCENARIOS: v12 v11 switch v04 v04rel live)" ;;
	esac
done
finished=1
exit 0
