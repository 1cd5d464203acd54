# test/cfg/security.sh -- attacks on vmm-cfg-upgrade run by root, and
# files that are not regular files.  Sourced by run.sh after its other
# special tests; uses its $tool, $here, $scratch (removed by run.sh's
# trap, also on failure), $sample, pass and fail.
#
# The attacker is nobody (uid 65534).  Every run of the tool is bounded
# with timeout(1), so a hang is a failure, not a stuck test.

sec=$scratch/sec
mkdir -p "$sec"
# nobody must reach its own directories below the scratch directory
chmod 0755 "$scratch" "$sec"
# messages name directories without symbolic links
sec=$(cd "$sec" && pwd -P)
bound="timeout 20"
pfsample=$here/cases/postfix/in/postfix/pgsql-virtual_uid_maps.cf
pfexpected=$here/cases/postfix/expected/postfix/pgsql-virtual_uid_maps.cf
as_nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"

# Everything about a tree an attack could change: names, types, owners,
# modes, sizes, mtimes (a directory's changes when an entry is created
# in it, even if that entry is removed again), link targets, contents.
snap() {
	(cd "$1" && find . -printf '%p %y %U:%G %m %s %T@ %l\n' | LC_ALL=C sort &&
		find . -type f -exec cksum {} + | LC_ALL=C sort)
}

# Run the tool, bounded; stdout to $scratch/out, stderr to $scratch/err,
# exit status to $rc.  $dovecot is the dovecot it may ask (none if empty).
dovecot=
run_tool() {
	$bound env VMM_CFG_DOVECOT="$dovecot" "$tool" "$@" \
		> "$scratch/out" 2> "$scratch/err"
	rc=$?
}

# -----------------------------------------------------------------
# a FIFO, socket or device where a file should be is refused at once.
# Opening a FIFO without O_NONBLOCK waits for a writer forever: the
# bound of 10 s turns that into exit 124.
t=$sec/fifo
mkdir -p "$t/pf"
mkfifo "$t/vmm.cfg" "$t/pf/pgsql-virtual_uid_maps.cf" "$t/dovecot-sql.conf"
ln -s /dev/null "$t/null.cfg"
"$python" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
	"$t/sock.cfg"
bad=""
bound="timeout 10"
for what in vmm.cfg postfix dovecot device socket; do
	case $what in
		vmm.cfg)
			set -- --dovecot-version 2.3.19 "$t/vmm.cfg"
			want="$t/vmm.cfg: not a regular file (a FIFO); refused" ;;
		postfix)
			set -- --no-vmm-cfg --postfix-dir "$t/pf"
			want="$t/pf/pgsql-virtual_uid_maps.cf: not a regular file (a FIFO); refused" ;;
		dovecot)
			set -- --no-vmm-cfg --dovecot-sql "$t/dovecot-sql.conf"
			want="$t/dovecot-sql.conf: not a regular file (a FIFO); refused" ;;
		device)
			set -- --dovecot-version 2.3.19 "$t/null.cfg"
			want="$t/null.cfg: not a regular file (a character device); refused" ;;
		socket)
			set -- --dovecot-version 2.3.19 "$t/sock.cfg"
			want="$t/sock.cfg: not a regular file (a socket); refused" ;;
	esac
	run_tool "$@"
	if [ $rc != 1 ] || [ "$(cat "$scratch/err")" != "$want" ]; then
		bad="$bad $what: rc=$rc $(cat "$scratch/err");"
	fi
done
bound="timeout 20"
if [ -z "$bad" ]; then
	pass "security: FIFO as vmm.cfg, pgsql-*.cf and --dovecot-sql, a device, a socket: refused at once"
else
	fail "security: non-regular files" "$bad"
fi

# --revert reads backups too: a FIFO named like one is not opened for
# long (non-blocking) and not used; one as --dovecot-sql is refused
t=$sec/fifo-revert
mkdir -p "$t"
cp "$here/cases/stock-052/expected/vmm.cfg" "$t/vmm.cfg"
mkfifo "$t/vmm.cfg.bak.20260101T000000Z" "$t/dovecot-sql.conf"
bound="timeout 10"
run_tool --revert --no-backup "$t/vmm.cfg"
r1=$rc
grep -q "^Backup $t/vmm.cfg.bak.20260101T000000Z not used: not a regular file (a FIFO)" "$scratch/out"; g1=$?
run_tool --revert --no-vmm-cfg --dovecot-sql "$t/dovecot-sql.conf"
r2=$rc
bound="timeout 20"
if [ "$r1$g1$r2" = 001 ] && [ -p "$t/vmm.cfg.bak.20260101T000000Z" ] &&
	[ "$(cat "$scratch/err")" = "$t/dovecot-sql.conf: not a regular file (a FIFO); refused" ]; then
	pass "security: --revert: a FIFO as a backup is not used, as --dovecot-sql refused at once"
else
	fail "security: --revert and FIFOs" "rc=$r1 grep=$g1 rc=$r2 $(cat "$scratch/err")"
fi

# a backup another user owns (planted in a directory they may write) is
# not read: vmm.cfg is taken back by the rules
if [ "$(id -u)" = 0 ]; then
	t=$sec/foreign-backup
	mkdir -p "$t"
	cp "$here/cases/stock-052/expected/vmm.cfg" "$t/vmm.cfg"
	sed 's/^pass = .*/pass = stolen/' "$sample" > "$t/vmm.cfg.bak.20260101T000000Z"
	chown 65534:65534 "$t/vmm.cfg.bak.20260101T000000Z"
	run_tool --revert --no-backup "$t/vmm.cfg"
	if [ $rc = 0 ] && grep -q "^Backup $t/vmm.cfg.bak.20260101T000000Z not used: it belongs to uid 65534" "$scratch/out" &&
		! grep -q stolen "$t/vmm.cfg"; then
		pass "security: --revert does not read a backup another user owns"
	else
		fail "security: --revert and a foreign backup" "rc=$rc $(cat "$scratch/out" "$scratch/err")"
	fi
fi

# -----------------------------------------------------------------
# temporary files left by killed runs.  A run killed while it writes its
# temporary file (SIGXFSZ, from a file size limit of 512 bytes) leaves
# it behind.  A later real run removes it once it is older than 10
# minutes, but not one a run may still be writing (younger), nor
# anything that only looks like one: not a regular file, another
# owner's, not quite the name pattern, or any other hidden file.
# --dry-run and --check remove nothing.
t=$sec/leftover
mkdir -p "$t/etc" "$t/pf"
cp "$sample" "$t/etc/vmm.cfg"
cp "$pfsample" "$t/pf/"
kill_run() {
	# the outer subshell (kept by the ":") reports "File size limit
	# exceeded" to /dev/null
	( (ulimit -c 0; ulimit -f 1; exec $bound "$tool" -q --no-backup \
		--dovecot-version 2.3.19 "$t/etc/vmm.cfg"); : ) > /dev/null 2>&1
}
kill_run
old=$(ls -A "$t/etc" | grep -vxF vmm.cfg)
kill_run
fresh=$(ls -A "$t/etc" | grep -vxF -e vmm.cfg -e "$old")
touch -d '1 hour ago' "$t/etc/$old"
mkdir "$t/etc/.vmm-cfg-upgrade-NotRegular12"
ln -s vmm.cfg "$t/etc/.vmm-cfg-upgrade-SymbolicLnk1"
: > "$t/etc/.vmm-cfg-upgrade-Short"
: > "$t/etc/.vmm-cfg-upgrade-Not+Pattern1"
: > "$t/etc/.keep"
: > "$t/pf/.vmm-cfg-upgrade-PostfixDir12"
if [ "$(id -u)" = 0 ]; then
	: > "$t/etc/.vmm-cfg-upgrade-OwnedByNobdy"
	chown 65534:65534 "$t/etc/.vmm-cfg-upgrade-OwnedByNobdy"
fi
for f in "$t"/etc/.[!.]* "$t/pf/.vmm-cfg-upgrade-PostfixDir12"; do
	[ "$f" = "$t/etc/$fresh" ] || touch -h -d '1 hour ago' "$f"
done
set -- --dovecot-version 2.3.19 --postfix-dir "$t/pf" "$t/etc/vmm.cfg"
before=$(snap "$t")
run_tool --dry-run "$@"
r1=$rc
run_tool --check "$@"
r2=$rc
if [ "$r1$r2" = 01 ] && [ "$(snap "$t")" = "$before" ]; then
	pass "security: --dry-run and --check leave leftover temporary files alone"
else
	fail "security: leftovers with --dry-run/--check" "rc=$r1/$r2"
fi
run_tool --no-backup "$@"
left=$(cd "$t" && find . -mindepth 1 | LC_ALL=C sort | tr '\n' ' ')
want=$(printf '%s\n' ./etc ./etc/vmm.cfg "./etc/$fresh" ./etc/.keep \
	./etc/.vmm-cfg-upgrade-Not+Pattern1 ./etc/.vmm-cfg-upgrade-NotRegular12 \
	./etc/.vmm-cfg-upgrade-Short ./etc/.vmm-cfg-upgrade-SymbolicLnk1 \
	./pf ./pf/pgsql-virtual_uid_maps.cf
	[ "$(id -u)" = 0 ] && echo ./etc/.vmm-cfg-upgrade-OwnedByNobdy)
want=$(printf '%s\n' "$want" | LC_ALL=C sort | tr '\n' ' ')
if [ $rc = 0 ] && [ -n "$old" ] && [ -n "$fresh" ] &&
	[ "$(printf '%s\n' "$old" "$fresh" | wc -l)" = 2 ] &&
	[ "$left" = "$want" ] &&
	grep -qxF "removed $t/etc/$old, a temporary file left by an interrupted run" "$scratch/out" &&
	grep -qxF "removed $t/pf/.vmm-cfg-upgrade-PostfixDir12, a temporary file left by an interrupted run" "$scratch/out"; then
	pass "security: a killed run's stale temporary files removed, nothing else"
else
	fail "security: leftover temporary files" "rc=$rc old=$old fresh=$fresh left: $left; want: $want"
fi

if [ "$(id -u)" = 0 ]; then
	# -------------------------------------------------------------
	# a temporary file gets the owner of the file it replaces, so a
	# leftover of that owner is ours too
	t=$sec/leftover-owner
	mkdir -p "$t"
	cp "$sample" "$t/vmm.cfg"
	chown 65534:65534 "$t/vmm.cfg"
	: > "$t/.vmm-cfg-upgrade-FileOwner123"
	chown 65534:65534 "$t/.vmm-cfg-upgrade-FileOwner123"
	touch -d '1 hour ago' "$t/.vmm-cfg-upgrade-FileOwner123"
	run_tool -q --no-backup --dovecot-version 2.3.19 "$t/vmm.cfg"
	if [ $rc = 0 ] && [ "$(ls -A "$t")" = vmm.cfg ]; then
		pass "security: a stale temporary file of the rewritten file's owner removed"
	else
		fail "security: leftover of the file's owner" "rc=$rc $(ls -A "$t")"
	fi

	# -------------------------------------------------------------
	# nobody owns a Postfix directory and plants a link in it to a
	# root-only map holding a password
	t=$sec/planted
	mkdir -p "$t/secret" "$t/pf"
	sed 's/pf-secret/SECRETPW/' "$pfsample" > "$t/secret/pgsql-virtual_uid_maps.cf"
	chmod 0700 "$t/secret"
	chmod 0600 "$t/secret/pgsql-virtual_uid_maps.cf"
	chown 65534:65534 "$t/pf"
	$as_nobody ln -s ../secret/pgsql-virtual_uid_maps.cf "$t/pf/pgsql-virtual_uid_maps.cf"
	before=$(snap "$t")
	run_tool --dry-run --no-vmm-cfg --postfix-dir "$t/pf"
	if [ $rc = 1 ] && [ "$(snap "$t")" = "$before" ] &&
		grep -q "refusing to follow symbolic link" "$scratch/err" &&
		! grep -q SECRETPW "$scratch/out" "$scratch/err"; then
		pass "security: --dry-run refuses a link planted by the directory's owner, prints none of its target"
	else
		fail "security: --dry-run through a planted link" "rc=$rc, printed: $(grep SECRETPW "$scratch/out" "$scratch/err")"
	fi

	run_tool --no-backup --no-vmm-cfg --postfix-dir "$t/pf"
	if [ $rc = 1 ] && [ "$(snap "$t")" = "$before" ] &&
		grep -q "^$t/pf/pgsql-virtual_uid_maps.cf: refusing to follow symbolic link" "$scratch/err" &&
		! grep -q SECRETPW "$scratch/out" "$scratch/err"; then
		pass "security: real run refuses it too, nothing changed"
	else
		fail "security: link planted by the directory's owner" "rc=$rc $(cat "$scratch/err")"
	fi

	# -------------------------------------------------------------
	# a root-owned world-writable sticky directory (like /tmp): nobody's
	# link in it is not followed by root (the kernel's protected_symlinks
	# rule), neither as the file nor as a directory on the way to it
	t=$sec/sticky
	mkdir -p "$t/tmp" "$t/etc"
	chmod 1777 "$t/tmp"
	chmod 0700 "$t/etc"
	cp "$sample" "$t/etc/vmm.cfg"
	chmod 0600 "$t/etc/vmm.cfg"
	$as_nobody ln -s ../etc/vmm.cfg "$t/tmp/vmm.cfg"
	$as_nobody ln -s ../etc "$t/tmp/etc"
	$as_nobody ln -s ../../planted/secret "$t/tmp/pf"
	before=$(snap "$sec")
	run_tool --no-backup --dovecot-version 2.3.19 "$t/tmp/vmm.cfg"
	r1=$rc
	grep -q "^$t/tmp/vmm.cfg: refusing to follow symbolic link $t/tmp/vmm.cfg: " "$scratch/err"
	g1=$?
	run_tool --no-backup --dovecot-version 2.3.19 "$t/tmp/etc/vmm.cfg"
	r2=$rc
	grep -q "^$t/tmp/etc/vmm.cfg: refusing to follow symbolic link $t/tmp/etc: " "$scratch/err"
	g2=$?
	run_tool --no-backup --no-vmm-cfg --postfix-dir "$t/tmp/pf"
	r3=$rc
	grep -q "^$t/tmp/pf: refusing to follow symbolic link $t/tmp/pf: " "$scratch/err"
	g3=$?
	if [ "$r1$g1$r2$g2$r3$g3" = 101010 ] && [ "$(snap "$sec")" = "$before" ]; then
		pass "security: other users' links in a sticky directory refused (file, directory on the way, --postfix-dir)"
	else
		fail "security: links in a sticky directory" "rc/grep=$r1$g1 $r2$g2 $r3$g3 $(cat "$scratch/err")"
	fi

	# -------------------------------------------------------------
	# what stays allowed: root's link to a directory on the command
	# line, and in a directory of nobody's, nobody's link to nobody's
	# own file (it gives nobody nothing it did not have)
	t=$sec/allowed
	mkdir -p "$t/home/real"
	cp "$pfsample" "$t/home/real/pgsql-virtual_uid_maps.cf"
	chown -R 65534:65534 "$t/home"
	$as_nobody ln -s real/pgsql-virtual_uid_maps.cf "$t/home/pgsql-virtual_uid_maps.cf"
	ln -s home "$t/pf"
	run_tool --no-backup --no-vmm-cfg --postfix-dir "$t/pf"
	if [ $rc = 0 ] && [ -L "$t/home/pgsql-virtual_uid_maps.cf" ] &&
		cmp -s "$t/home/real/pgsql-virtual_uid_maps.cf" "$pfexpected" &&
		[ "$(stat -c %u "$t/home/real/pgsql-virtual_uid_maps.cf")" = 65534 ]; then
		pass "security: root's and the owner's own links still followed"
	else
		fail "security: allowed links" "rc=$rc $(cat "$scratch/err")"
	fi

	# -------------------------------------------------------------
	# nobody swaps its directory for a link to a root-only one while
	# the tool runs (here: while it asks "dovecot --version").  The tool
	# keeps working in the directory it opened; the root-only one sees
	# nothing, not even a temporary file created and removed again.
	t=$sec/swap
	mkdir -p "$t/home/etc" "$t/vault"
	cp "$sample" "$t/home/etc/vmm.cfg"
	chown -R 65534:65534 "$t/home"
	chmod 0700 "$t/vault"
	cat > "$t/fake-dovecot" <<EOF
#!/bin/sh
$as_nobody sh -c 'mv "$t/home/etc" "$t/home/etc.old" && ln -s ../vault "$t/home/etc"' > /dev/null 2>&1
echo 2.3.19
EOF
	chmod 0755 "$t/fake-dovecot"
	sleep 0.05  # so that a change to the vault's mtime shows
	before=$(snap "$t/vault")
	dovecot=$t/fake-dovecot
	run_tool -q --no-backup "$t/home/etc/vmm.cfg"
	dovecot=
	if [ $rc = 0 ] && [ -L "$t/home/etc" ] && [ "$(snap "$t/vault")" = "$before" ] &&
		grep -q '^dovecot_version = 2.3.19' "$t/home/etc.old/vmm.cfg" &&
		[ "$(stat -c %u "$t/home/etc.old/vmm.cfg")" = 65534 ]; then
		pass "security: directory swapped for a link mid-run: work stays in the directory opened"
	else
		fail "security: directory swapped mid-run" "rc=$rc $(cat "$scratch/err") vault: $(ls -A "$t/vault") $( [ "$(snap "$t/vault")" = "$before" ] || echo changed)"
	fi
else
	echo "skip security: the attacks on root need root"
fi
