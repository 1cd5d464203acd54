# test/e2e/lib.sh - shared by test/e2e/run.sh and the demo: vmm 0.5.2-style
# Postfix and Dovecot configuration written by us, throwaway Dovecot
# instances, batched postmap lookups.  Source it; needs E2E_WORK (a
# temporary directory) for the list of what was started.
#
# Nothing here touches the machine's Postfix or Dovecot: every Postfix
# lookup runs `postmap -c DIR` with a config directory of its own, and every
# Dovecot is an instance with its own config file, base_dir and state_dir,
# no protocols and no inet listener (only unix sockets below its base_dir).

# The eight Postfix lookup tables of vmm 0.5.2: short name, file.
E2E_MAPS="mailbox:pgsql-virtual_mailbox_maps.cf
uid:pgsql-virtual_uid_maps.cf
gid:pgsql-virtual_gid_maps.cf
alias:pgsql-virtual_alias_maps.cf
relocated:pgsql-relocated_maps.cf
transport:pgsql-transport.cf
domains:pgsql-virtual_mailbox_domains.cf
sender_login:pgsql-smtpd_sender_login_maps.cf"

# e2e_write_postfix_052 DIR HOST PORT DBNAME PASSWORD SENDER_LOGIN
#   A Postfix config directory as a vmm 0.5.2 installation has it: a
#   minimal main.cf of its own and the eight pgsql-*.cf with vmm 0.5.2's
#   queries.  SENDER_LOGIN=on: the sender login map's query is enabled
#   (it needs 0.5.2's optional lookup functions); off: commented out, as
#   vmm 0.5.2 ships it; 0.4: the files of vmm 0.4 (e2e_write_postfix_04).
# e2e_write_postfix_04 DIR HOST PORT DBNAME PASSWORD
#   The same as a vmm 0.4 installation has it: vmm 0.4's seven other
#   queries are word for word 0.5.2's; its sender login map asked the views,
#   postfix_maildir UNION postfix_alias, on two lines as vmm 0.4 wrote it.
e2e_write_postfix_04() { e2e_write_postfix_052 "$1" "$2" "$3" "$4" "$5" 0.4; }
e2e_write_postfix_052() {
	local dir=$1 host=$2 port=$3 db=$4 pw=$5 sl=$6 name file query form=0.5.2
	[ "$sl" = 0.4 ] && form=0.4
	mkdir -p "$dir"
	cat > "$dir/main.cf" <<-EOF
	# vmm_upgrade end-to-end test: Postfix configuration for postmap -c only.
	# No daemon ever reads it; it exists so that postmap does not read the
	# machine's /etc/postfix/main.cf.
	compatibility_level = 3.6
	syslog_name = vmm-e2e-postmap
	EOF
	while IFS=: read -r name file; do
		case $name in
		mailbox) query="SELECT maildir FROM postfix_maildir WHERE address='%s'" ;;
		uid) query="SELECT uid FROM postfix_uid WHERE address='%s'" ;;
		gid) query="SELECT gid FROM postfix_gid WHERE domainname='%d'" ;;
		alias) query="SELECT destination FROM postfix_alias WHERE address='%s'" ;;
		relocated) query="SELECT destination FROM postfix_relocated WHERE address='%s'" ;;
		transport) query="SELECT transport FROM postfix_transport WHERE address='%s'" ;;
		domains) query="SELECT gid FROM postfix_gid WHERE domainname='%s'" ;;
		sender_login)
			if [ "$form" = 0.4 ]; then
				query="SELECT address FROM postfix_maildir WHERE address='%s'
 UNION SELECT destination FROM postfix_alias WHERE address='%s'"
			else
				query="SELECT login FROM postfix_smtpd_sender_login_map('%u', '%d')"
			fi ;;
		esac
		{
			echo "# $file: Postfix $name lookups of the vmm mail database"
			echo "# (written by the vmm_upgrade end-to-end test in the form vmm $form uses)."
			echo "#"
			echo "# where and as whom to connect"
			echo "hosts = inet:$host:$port"
			echo "user = postfix"
			echo "password = $pw"
			echo "dbname = $db"
			echo
			if [ "$name" = sender_login ] && [ "$sl" = off ]; then
				echo "# needs the optional lookup functions of vmm 0.5.2; enable once installed:"
				echo "#query = $query"
			else
				echo "# the lookup"
				echo "query = $query"
			fi
		} > "$dir/$file"
		chmod 600 "$dir/$file"    # it holds the role's password
	done <<< "$E2E_MAPS"
}

# e2e_write_dovecot_052 DIR HOST PORT DBNAME PASSWORD [NAME]
#   A throwaway Dovecot instance in DIR: DIR/dovecot.conf (own base_dir and
#   state_dir, no protocols, no inet listener, no auth cache, no failure
#   delay) and DIR/dovecot-sql.conf.ext with vmm 0.5.2's queries.  Logins
#   that must not raise Dovecot's auth penalty (which delays the next
#   logins of a client after a failed one by up to 15 s) say so:
#   doveadm auth test -x no-penalty, or the no-penalty flag of AUTH.
e2e_write_dovecot_052() {
	local dir=$1 host=$2 port=$3 db=$4 pw=$5 name=${6:-vmm-e2e}
	mkdir -p "$dir/run" "$dir/state"
	cat > "$dir/dovecot-sql.conf.ext" <<-EOF
	# Dovecot SQL passdb/userdb of the vmm mail database (written by the
	# vmm_upgrade end-to-end test in the form vmm 0.5.2 uses).
	driver = pgsql
	connect = host=$host port=$port dbname=$db user=dovecot password=$pw
	default_pass_scheme = CRAM-MD5

	# %Ls: the service (imap, pop3, smtp, sieve or managesieve) is a
	# boolean column of the view
	password_query = SELECT "user", password FROM dovecot_password WHERE "user"='%u' AND %Ls

	user_query = SELECT home, uid, gid, 'maildir:'||mail AS mail FROM dovecot_user WHERE userid = '%u'
	EOF
	# it holds the role's password; Dovecot reads it before it drops root
	chmod 600 "$dir/dovecot-sql.conf.ext"
	cat > "$dir/dovecot.conf" <<-EOF
	# A throwaway Dovecot of the vmm_upgrade end-to-end test: only its auth
	# service does anything, on unix sockets below base_dir.
	base_dir = $dir/run
	state_dir = $dir/state
	instance_name = $name
	log_path = $dir/dovecot.log
	protocols =
	listen = 127.0.0.1
	ssl = no
	auth_mechanisms = plain
	disable_plaintext_auth = no
	auth_cache_size = 0
	auth_failure_delay = 0
	passdb {
	  driver = sql
	  args = $dir/dovecot-sql.conf.ext
	}
	userdb {
	  driver = sql
	  args = $dir/dovecot-sql.conf.ext
	}
	EOF
	if [ "$(id -u)" -ne 0 ]; then
		# unprivileged: every Dovecot process runs as the caller
		local me grp
		me=$(id -un)
		grp=$(id -gn)
		cat >> "$dir/dovecot.conf" <<-EOF
		default_internal_user = $me
		default_internal_group = $grp
		default_login_user = $me
		service anvil {
		  chroot =
		}
		service auth-worker {
		  user = $me
		}
		EOF
	fi
}

# e2e_dovecot_start DIR: start the instance (after the previous one in DIR
# is gone) and wait (at most 20 s) until its auth sockets answer.
e2e_dovecot_start() {
	local dir=$1 i
	e2e_dovecot_wait "$dir"
	# recorded first: whoever cleans up stops it even if we are killed now
	echo "$dir" >> "$E2E_WORK/started-dovecot"
	dovecot -c "$dir/dovecot.conf" || return 1
	for i in $(seq 1 200); do
		[ -S "$dir/run/auth-client" ] && [ -S "$dir/run/auth-userdb" ] &&
			[ -s "$dir/run/master.pid" ] && return 0
		sleep 0.1
	done
	echo "dovecot in $dir did not come up" >&2
	cat "$dir/dovecot.log" >&2
	return 1
}

# e2e_dovecot_pid DIR: the pid of the instance's master, if it runs
# (Dovecot leaves master.pid behind: the pid must still be a dovecot
# started with DIR's config, never a process that got the number since)
e2e_dovecot_pid() {
	local dir=$1 pid
	[ -s "$dir/run/master.pid" ] || return 1
	pid=$(cat "$dir/run/master.pid" 2>/dev/null)    # a stopping master removes it
	case $pid in *[!0-9]*|'') return 1 ;; esac
	tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "dovecot -c $dir/dovecot.conf" || return 1
	echo "$pid"
}

# e2e_dovecot_stop DIR [nowait]: stop the instance; wait (at most 10 s,
# then SIGKILL) until it is gone, unless nowait (a Dovecot master takes a
# few seconds to shut down: the next e2e_dovecot_start in DIR, or
# e2e_dovecot_wait, waits for it)
e2e_dovecot_stop() {
	local dir=$1 pid
	pid=$(e2e_dovecot_pid "$dir") || return 0
	kill "$pid" 2>/dev/null
	[ "${2:-}" = nowait ] || e2e_dovecot_wait "$dir"
}

# e2e_dovecot_wait DIR: wait until the instance in DIR is gone (at most
# 10 s after it was told to stop, then SIGKILL)
e2e_dovecot_wait() {
	local dir=$1 pid i
	pid=$(e2e_dovecot_pid "$dir") || { rm -f "$dir/run/master.pid"; return 0; }
	for i in $(seq 1 100); do
		e2e_dovecot_pid "$dir" >/dev/null || { rm -f "$dir/run/master.pid"; return 0; }
		sleep 0.1
	done
	e2e_dovecot_pid "$dir" >/dev/null && kill -9 "$pid" 2>/dev/null
	rm -f "$dir/run/master.pid"
}

# e2e_postmap_all PFDIR KEYS OUT: every map of PFDIR queried with every
# key of the file KEYS (one postmap process per map, keys on stdin, the
# maps in parallel); OUT gets "postfix:MAP<TAB>KEY<TAB>VALUE" for each
# key found, OUT.err what postmap said when a map failed.  Returns 1 if
# any postmap failed (a table lookup error, not "not found").
e2e_postmap_all() {
	local dir=$1 keys=$2 out=$3 name file rc=0
	local tmp=$out.d
	rm -rf "$tmp"
	mkdir -p "$tmp"
	while IFS=: read -r name file; do
		[ -f "$dir/$file" ] || continue
		grep -q '^query' "$dir/$file" || continue
		(
			timeout 300 postmap -c "$dir" -q - "pgsql:$dir/$file" < "$keys" > "$tmp/$name.out" 2> "$tmp/$name.err"
			echo $? > "$tmp/$name.rc"
		) &
	done <<< "$E2E_MAPS"
	wait
	: > "$out"
	: > "$out.err"
	for f in "$tmp"/*.out; do
		[ -e "$f" ] || continue
		name=$(basename "$f" .out)
		# exit 1 with nothing said is "some keys not found"; anything on
		# stderr is a failed lookup
		if [ -s "$tmp/$name.err" ] || [ "$(cat "$tmp/$name.rc")" -gt 1 ]; then
			rc=1
			sed "s/^/$name: /" "$tmp/$name.err" >> "$out.err"
		fi
		sed "s/^/postfix:$name\t/" "$f" >> "$out"
	done
	rm -rf "$tmp"
	return $rc
}

# ---------------------------------------------------------------------------
# the live procedure: the real clients ask all the time
# ---------------------------------------------------------------------------
# e2e_live_expect DB OUT [ACCOUNTS]: the keys live.py asks and the answer
# expected for each (see live.py), from the 0.5.2 views of DB before the
# update: ACCOUNTS (default 16) accounts whose password the test knows
# ({PLAIN}, or Pw-<local part>-42 for the e2e.* ones) with their maildir,
# userdb fields and a login per service (ok where the service flag is on),
# a wrong password, unknown addresses, an alias (no mailbox), domains.
e2e_live_expect() {
	local db=$1 out=$2 n=${3:-16}
	psql -XAtq -v ON_ERROR_STOP=1 -d "$db" -v n="$n" > "$out" <<-'SQL'
	CREATE TEMP TABLE live_acct AS
	SELECT p."user" AS key, CASE WHEN p.password LIKE '{PLAIN}%' THEN substr(p.password, 8)
	                             ELSE 'Pw-' || split_part(p."user", '@', 1) || '-42' END AS pw,
	       to_jsonb(p) - 'user' - 'password' AS flags
	  FROM dovecot_password p
	 WHERE p.password LIKE '{PLAIN}%' OR p."user" LIKE 'e2e.%'
	 ORDER BY p."user" LIKE 'e2e.%' DESC, md5(p."user")
	 LIMIT :n;
	CREATE TEMP TABLE live_other AS
	SELECT 'nobody.live@' || domainname AS key FROM postfix_gid ORDER BY md5(domainname) LIMIT 2;
	INSERT INTO live_other
	SELECT min(a.address) FROM postfix_alias a WHERE NOT EXISTS (SELECT FROM postfix_maildir m WHERE m.address = a.address);
	COPY (
	    SELECT 'mailbox', k.key, '-', coalesce((SELECT maildir FROM postfix_maildir m WHERE m.address = k.key), '-')
	      FROM (SELECT key FROM live_acct UNION ALL SELECT key FROM live_other) AS k
	    UNION ALL
	    SELECT 'domains', d, '-', coalesce((SELECT gid::text FROM postfix_gid g WHERE g.domainname = d), '-')
	      FROM (SELECT domainname AS d FROM postfix_gid ORDER BY md5(domainname) LIMIT 5) AS x
	      UNION ALL SELECT 'domains', 'example.invalid', '-', '-'
	    UNION ALL
	    SELECT 'auth', a.key, f.key || ':' || a.pw, CASE WHEN f.value = 'true'::jsonb THEN 'ok' ELSE 'fail' END
	      FROM live_acct a, jsonb_each(a.flags) AS f
	    UNION ALL
	    SELECT 'auth', a.key, 'imap:not-' || a.pw, 'fail' FROM (SELECT * FROM live_acct LIMIT 2) AS a
	    UNION ALL
	    SELECT 'auth', o.key, 'imap:x', 'fail' FROM live_other o
	    UNION ALL
	    SELECT 'user', k.key, '-',
	           coalesce((SELECT format('uid=%s gid=%s home=%s mail=maildir:%s', u.uid, u.gid, u.home, u.mail)
	                       FROM dovecot_user u WHERE u.userid = k.key), '-')
	      FROM (SELECT key FROM live_acct UNION ALL SELECT key FROM live_other) AS k
	) TO STDOUT;
	SQL
}

# e2e_live_procedure S DB HOLD NAME=DIR...: the live procedure on DB
# while live.py asks every target NAME (config set DIR: DIR/postfix/ in
# vmm 0.5.2's form, DIR/dovecot/ with its Dovecot running) the keys of
# S/live.expect (e2e_live_expect):
#   SET vmm_upgrade.compatibility_views = on; ALTER EXTENSION vmm_upgrade
#   UPDATE (its transaction held open HOLD s, standing in for a bigger mail
#   system); vmm-cfg-upgrade on every DIR and doveadm reload of its Dovecot
#   (Postfix reads the files per lookup); SELECT
#   vmm_upgrade.drop_compatibility_views().
# Needs $cfgtool (vmm-cfg-upgrade) and $python.  If a function
# e2e_live_replayed NAME is defined, it is called after the commit and after
# the drop for every NAME but the first (the primary) and must return once
# that replica has replayed it.  S/live.times gets the steps' times, S/live.log
# the answers; prints the steps and live.py's check lines.
e2e_live_procedure() {
	local S=$1 db=$2 hold=$3 t pid rc i
	shift 3
	local targets=("$@") names=()
	for t in "${targets[@]}"; do names+=("${t%%=*}"); done
	e2e_live_mark() { echo "$1 $(date +%s%3N)" >> "$S/live.times"; }
	: > "$S/live.times"
	rm -f "$S/live.stop"
	$python test/e2e/live.py run "$S/live.log" "$S/live.stop" "$S/live.expect" 20000 $((hold + 120)) "${targets[@]}" &
	pid=$!
	[ -f "$E2E_WORK/pids" ] && echo "$pid" >> "$E2E_WORK/pids"
	sleep 2.5
	echo "-- $(date +%T.%3N) SET vmm_upgrade.compatibility_views = on; ALTER EXTENSION vmm_upgrade UPDATE; (held open $hold s)"
	e2e_live_mark begin
	psql -Xq -d "$db" -v ON_ERROR_STOP=1 > "$S/live-update.log" 2>&1 <<-SQL
	SET vmm_upgrade.compatibility_views = on;
	BEGIN;
	ALTER EXTENSION vmm_upgrade UPDATE;
	SELECT pg_sleep($hold);
	COMMIT;
	SQL
	rc=$?
	e2e_live_mark commit
	[ $rc -eq 0 ] && echo "ok   live: ALTER EXTENSION vmm_upgrade UPDATE with compatibility views ($(( $(tail -1 "$S/live.times" | cut -d' ' -f2) - $(head -1 "$S/live.times" | cut -d' ' -f2) )) ms), layout $(psql -XAt -d "$db" -c 'SELECT version FROM vmm_upgrade.detect_layout()')" ||
		{ echo "FAIL live: ALTER EXTENSION vmm_upgrade UPDATE"; sed 's/^/        /' "$S/live-update.log"; }
	for t in "${names[@]:1}"; do
		declare -F e2e_live_replayed >/dev/null && e2e_live_replayed "$t" "$db"
		e2e_live_mark "$t:replayed"
	done
	sleep 1
	echo "-- $(date +%T.%3N) vmm-cfg-upgrade --postfix-dir ... --dovecot-sql ...; doveadm reload ($(echo "${names[@]}" | sed 's/ /, /g'))"
	e2e_live_mark switch_begin
	for t in "${targets[@]}"; do
		local d=${t#*=}
		"$cfgtool" --no-vmm-cfg --no-backup --postfix-dir "$d/postfix" --dovecot-sql "$d/dovecot/dovecot-sql.conf.ext" \
			> "$d/live-cfg.out" 2>&1 &&
			doveadm -c "$d/dovecot/dovecot.conf" reload > "$d/live-reload.out" 2>&1 ||
			{ echo "FAIL live: ${t%%=*}: vmm-cfg-upgrade or doveadm reload"; sed 's/^/        /' "$d/live-cfg.out" "$d/live-reload.out"; }
	done
	e2e_live_mark switched
	sleep 1.5
	echo "-- $(date +%T.%3N) SELECT vmm_upgrade.drop_compatibility_views();"
	e2e_live_mark drop_begin
	psql -XAtq -d "$db" -v ON_ERROR_STOP=1 -c 'SELECT vmm_upgrade.drop_compatibility_views()' > "$S/live-drop.log" 2>&1
	rc=$?
	e2e_live_mark dropped
	[ $rc -eq 0 ] && echo "ok   live: drop_compatibility_views() ($(( $(tail -1 "$S/live.times" | cut -d' ' -f2) - $(grep '^drop_begin ' "$S/live.times" | cut -d' ' -f2) )) ms), layout $(psql -XAt -d "$db" -c 'SELECT version FROM vmm_upgrade.detect_layout()')" ||
		{ echo "FAIL live: drop_compatibility_views()"; sed 's/^/        /' "$S/live-drop.log"; }
	for t in "${names[@]:1}"; do
		declare -F e2e_live_replayed >/dev/null && e2e_live_replayed "$t" "$db"
		e2e_live_mark "$t:drop_replayed"
	done
	sleep 1.5
	touch "$S/live.stop"
	for i in $(seq 1 600); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill "$pid"
	wait "$pid"
	[ -f "$E2E_WORK/pids" ] && sed -i "/^$pid\$/d" "$E2E_WORK/pids"
	$python test/e2e/live.py analyse "$S/live.log" "$S/live.times" "${names[@]}"
}
