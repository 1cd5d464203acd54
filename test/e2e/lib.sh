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
#   vmm 0.5.2 ships it.
e2e_write_postfix_052() {
	local dir=$1 host=$2 port=$3 db=$4 pw=$5 sl=$6 name file query
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
		sender_login) query="SELECT login FROM postfix_smtpd_sender_login_map('%u', '%d')" ;;
		esac
		{
			echo "# $file: Postfix $name lookups of the vmm mail database"
			echo "# (written by the vmm_upgrade end-to-end test in the form vmm 0.5.2 uses)."
			echo "#"
			echo "# where and as whom to connect"
			echo "hosts = inet:$host:$port"
			echo "user = postfix"
			echo "password = $pw"
			echo "dbname = $db"
			echo
			if [ "$name" = sender_login ] && [ "$sl" != on ]; then
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
	pid=$(cat "$dir/run/master.pid")
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
