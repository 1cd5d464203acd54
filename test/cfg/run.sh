#!/bin/sh
# test/cfg/run.sh -- golden-file tests of vmm-cfg-upgrade.
#
# usage: sh test/cfg/run.sh path/to/vmm-cfg-upgrade [UNIT-TEST-PROGRAM...]
#        CFG_UPDATE=1 sh test/cfg/run.sh ...   (rewrite the expected files)
#
# The unit test programs (test/cfg/dovecot_version_test.c for
# src/dovecot_version.c, test/cfg/ini_test.c for the INI model, as built
# by src/cfg/cfg.mk) run first, each as one test.
#
# Each directory test/cfg/cases/NAME holds
#   in/              the files the tool works on (copied to a scratch dir)
#   cmd              the tool's arguments (one line, shell words)
#   env              optional VAR=value lines ($CASE is the case directory)
#   expected-rc      the exit status
#   expected-stdout  standard output, backup time stamps replaced by TIMESTAMP
#   expected-stderr  standard error, likewise
#   expected/        the scratch dir afterwards; when absent it must be
#                    byte-identical to in/ (no file changed, none added)
# Every vmm.cfg a successful run leaves must load with Python's
# configparser; a rewritten one must carry every old value under its new
# name (check_cfg.py; a --revert case the other way round: every value of
# the vmm 0.5.2 result is in the vmm 0.6 input under its new name).  A few tests
# that need special set-up (modes, owners, symlinks, an unwritable
# directory, vmm.cfg search) follow the golden files, then
# client_queries.sh (the queries are those of src/client_queries.tsv, and
# README.md and the man page list them) and security.sh (attacks by other
# users, non-regular files, leftover temporary files).
#
# Ends with "cfg: N passed, M failed"; exits 1 if anything failed.
set -u

tool=$1
shift
case $tool in
	/*) ;;
	*) tool=$(pwd)/$tool ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/cfg-test.XXXXXX")
trap 'rm -rf "$scratch"' EXIT INT TERM
passed=0
failed=0

pass() {
	passed=$((passed + 1))
	echo "ok   $1"
}

fail() {
	failed=$((failed + 1))
	echo "FAIL $1: $2"
}

# stable names and text: backups carry a UTC time stamp
sanitize() {
	sed -E -e 's/\.bak\.[0-9]{8}T[0-9]{6}Z(\.[0-9]+)?/.bak.TIMESTAMP/g' \
		-e "s|$scratch/work|WORK|g" -e "s|$here|HERE|g"
}

# list a tree: one line per file, "path sha" (names sanitized)
tree_sum() {
	(cd "$1" && find . -type f | LC_ALL=C sort | while read -r f; do
		printf '%s %s\n' "$(printf '%s' "$f" | sanitize)" \
			"$(cksum < "$f" | cut -d' ' -f1,2)"
	done)
}

# copy a result tree to expected/, with time stamps taken out of names
save_tree() {
	rm -rf "$2"
	mkdir -p "$2"
	(cd "$1" && find . -type f) | while read -r f; do
		dest=$2/$(printf '%s' "$f" | sanitize)
		mkdir -p "$(dirname "$dest")"
		cp -p "$1/$f" "$dest"
	done
}

# unit tests: the Dovecot version parser the helper shares with the
# extension, the INI model without vmm's rules
for unit in "$@"; do
	if out=$("$unit" 2>&1); then
		pass "unit: $(printf '%s\n' "$out" | tail -1)"
	else
		printf '%s\n' "$out"
		fail "unit: $(basename "$unit")" "$(printf '%s\n' "$out" | tail -1)"
	fi
done

for dir in "$here"/cases/*/; do
	name=$(basename "$dir")
	CASE=${dir%/}
	work=$scratch/work
	rm -rf "$work"
	mkdir -p "$work"
	[ -d "$CASE/in" ] && cp -pR "$CASE/in/." "$work/"
	args=$(cat "$CASE/cmd")
	(
		cd "$work" || exit 99
		unset VMM_CFG_DOVECOT VMM_CFG_SEARCH_DIRS
		export CASE
		if [ -f "$CASE/env" ]; then
			while IFS= read -r line; do
				[ -n "$line" ] && eval "export $line"
			done < "$CASE/env"
		fi
		eval "\"$tool\" $args" > "$scratch/out" 2> "$scratch/err"
		echo $? > "$scratch/rc"
	)
	rc=$(cat "$scratch/rc")
	sanitize < "$scratch/out" > "$scratch/out.s"
	sanitize < "$scratch/err" > "$scratch/err.s"
	if [ "${CFG_UPDATE:-0}" = 1 ]; then
		echo "$rc" > "$CASE/expected-rc"
		cp "$scratch/out.s" "$CASE/expected-stdout"
		cp "$scratch/err.s" "$CASE/expected-stderr"
		if [ -d "$CASE/in" ] && [ "$(tree_sum "$work")" = "$(tree_sum "$CASE/in")" ]; then
			rm -rf "$CASE/expected"
		else
			save_tree "$work" "$CASE/expected"
		fi
	fi
	why=""
	[ "$rc" = "$(cat "$CASE/expected-rc")" ] ||
		why="exit status $rc, expected $(cat "$CASE/expected-rc")"
	if [ -z "$why" ] && ! cmp -s "$scratch/out.s" "$CASE/expected-stdout"; then
		diff -u "$CASE/expected-stdout" "$scratch/out.s" | head -40
		why="stdout differs"
	fi
	if [ -z "$why" ] && ! cmp -s "$scratch/err.s" "$CASE/expected-stderr"; then
		diff -u "$CASE/expected-stderr" "$scratch/err.s" | head -40
		why="stderr differs"
	fi
	if [ -z "$why" ]; then
		if [ -d "$CASE/expected" ]; then
			want=$(tree_sum "$CASE/expected")
		else
			mkdir -p "$scratch/empty"
			want=$(tree_sum "${CASE}/in" 2>/dev/null || tree_sum "$scratch/empty")
		fi
		if [ "$(tree_sum "$work")" != "$want" ]; then
			why="files differ from $( [ -d "$CASE/expected" ] && echo expected/ || echo 'in/ (must be untouched)')"
			if [ -d "$CASE/expected" ]; then
				(cd "$work" && find . -type f) | while read -r f; do
					e=$CASE/expected/$(printf '%s' "$f" | sanitize)
					[ -f "$e" ] && ! cmp -s "$e" "$work/$f" && diff -u "$e" "$work/$f" | head -30
				done
			fi
		fi
	fi
	if [ -z "$why" ] && [ "$rc" = 0 ] && [ -f "$work/vmm.cfg" ]; then
		# every vmm.cfg a successful run leaves must load in Python;
		# a rewritten one must carry every old value under its new name
		if cmp -s "$CASE/in/vmm.cfg" "$work/vmm.cfg"; then
			set -- --load-only "$work/vmm.cfg"
		elif grep -q -- --revert "$CASE/cmd"; then
			# the way back: every value of the vmm 0.5.2 file is in
			# the vmm 0.6 one it came from, under its 0.6 name
			set -- "$work/vmm.cfg" "$CASE/in/vmm.cfg"
		else
			set -- "$CASE/in/vmm.cfg" "$work/vmm.cfg"
		fi
		if ! "$python" "$here/check_cfg.py" "$@" > "$scratch/py" 2>&1; then
			cat "$scratch/py"
			why="configparser check failed"
		fi
	fi
	if [ -z "$why" ]; then
		pass "$name"
	else
		fail "$name" "$why"
	fi
done

# ---------------------------------------------------------------------
# tests that need more than files and a command line
# ---------------------------------------------------------------------
sample=$here/cases/stock-052/in/vmm.cfg

# mode and owner are kept, for the file and for its backup
t=$scratch/mode
mkdir -p "$t"
cp "$sample" "$t/vmm.cfg"
chmod 0640 "$t/vmm.cfg"
if [ "$(id -u)" = 0 ]; then
	chown 65534:65534 "$t/vmm.cfg"
fi
before=$(stat -c '%a %u %g' "$t/vmm.cfg")
VMM_CFG_DOVECOT= "$tool" -q "$t/vmm.cfg"
rc=$?
after=$(stat -c '%a %u %g' "$t/vmm.cfg")
bak=$(ls "$t"/vmm.cfg.bak.* 2>/dev/null | head -1)
if [ $rc = 0 ] && [ "$before" = "$after" ] && [ -n "$bak" ] &&
	[ "$(stat -c '%a %u %g' "$bak")" = "$before" ] && cmp -s "$bak" "$sample" &&
	[ "$(ls -A "$t" | wc -l)" = 2 ]; then
	pass "special: mode and owner kept ($before), backup identical"
else
	fail "special: mode and owner" "rc=$rc before=$before after=$after bak=$bak"
fi

# a symlinked vmm.cfg: the target is rewritten, the link stays a link
t=$scratch/link
mkdir -p "$t/real"
cp "$sample" "$t/real/vmm.cfg"
ln -s real/vmm.cfg "$t/vmm.cfg"
VMM_CFG_DOVECOT= "$tool" -q --no-backup "$t/vmm.cfg"
rc=$?
if [ $rc = 0 ] && [ -L "$t/vmm.cfg" ] &&
	cmp -s "$t/real/vmm.cfg" "$here/cases/stock-052/expected/vmm.cfg"; then
	pass "special: symlink followed, link kept"
else
	fail "special: symlink" "rc=$rc"
fi

# found like vmm finds it: first of the search directories that has one
t=$scratch/search
mkdir -p "$t/root" "$t/usr-local-etc" "$t/etc"
cp "$sample" "$t/usr-local-etc/vmm.cfg"
cp "$sample" "$t/etc/vmm.cfg"
VMM_CFG_DOVECOT= VMM_CFG_SEARCH_DIRS="$t/root:$t/usr-local-etc:$t/etc" \
	"$tool" -q --no-backup
rc=$?
if [ $rc = 0 ] && cmp -s "$t/etc/vmm.cfg" "$sample" &&
	cmp -s "$t/usr-local-etc/vmm.cfg" "$here/cases/stock-052/expected/vmm.cfg"; then
	pass "special: vmm.cfg search order"
else
	fail "special: vmm.cfg search order" "rc=$rc"
fi
rm -f "$t/usr-local-etc/vmm.cfg" "$t/etc/vmm.cfg"
VMM_CFG_SEARCH_DIRS="$t/root:$t/etc" "$tool" -q > /dev/null 2>&1
rc=$?
if [ $rc = 2 ]; then
	pass "special: no vmm.cfg anywhere -> exit 2"
else
	fail "special: no vmm.cfg anywhere" "rc=$rc"
fi

# unwritable directory: exit 1, nothing changed, nothing left behind.
# root may write anywhere, so as root the tool runs as nobody.
t=$scratch/ro
mkdir -p "$t/etc" "$t/postfix"
cp "$sample" "$t/etc/vmm.cfg"
cp "$here/cases/postfix/in/postfix/pgsql-virtual_uid_maps.cf" "$t/postfix/"
chmod 0644 "$t/etc/vmm.cfg" "$t/postfix/pgsql-virtual_uid_maps.cf"
chmod 0755 "$scratch" "$t" "$t/postfix"
chmod 0555 "$t/etc"
run_as=""
ro_tool=$tool
if [ "$(id -u)" = 0 ]; then
	# nobody may not reach the checkout (e.g. under /root): use a copy
	mkdir -p "$scratch/bin"
	cp "$tool" "$scratch/bin/vmm-cfg-upgrade"
	chmod 0755 "$scratch/bin" "$scratch/bin/vmm-cfg-upgrade"
	ro_tool=$scratch/bin/vmm-cfg-upgrade
	# vmm.cfg's directory is read-only for nobody; the Postfix one is
	# writable, so the first file would succeed on its own
	chown 65534:65534 "$t/postfix" "$t/postfix/pgsql-virtual_uid_maps.cf"
	run_as="setpriv --reuid=65534 --regid=65534 --clear-groups"
else
	chmod 0755 "$t/postfix"
fi
before=$(tree_sum "$t")
VMM_CFG_DOVECOT= $run_as "$ro_tool" --postfix-dir "$t/postfix" "$t/etc/vmm.cfg" \
	> "$scratch/out" 2> "$scratch/err"
rc=$?
chmod 0755 "$t/etc"
if [ $rc = 1 ] && [ "$(tree_sum "$t")" = "$before" ] &&
	grep -q "cannot create a temporary file" "$scratch/err"; then
	pass "special: unwritable directory -> exit 1, no file changed"
else
	fail "special: unwritable directory" "rc=$rc $(cat "$scratch/err")"
fi

# --check is 1 before and 0 after a real run; a second run is a no-op
t=$scratch/check
mkdir -p "$t"
cp "$sample" "$t/vmm.cfg"
cp -R "$here/cases/postfix/in/postfix" "$t/postfix"
cp "$here/cases/postfix/in/dovecot-sql.conf" "$t/"
set -- --postfix-dir "$t/postfix" --dovecot-sql "$t/dovecot-sql.conf" "$t/vmm.cfg"
VMM_CFG_DOVECOT= "$tool" -q --check "$@"; c1=$?
VMM_CFG_DOVECOT= "$tool" -q --no-backup "$@"; r1=$?
snap=$(tree_sum "$t")
VMM_CFG_DOVECOT= "$tool" -q --check "$@"; c2=$?
VMM_CFG_DOVECOT= "$tool" -q "$@"; r2=$?
if [ "$c1$r1$c2$r2" = 1000 ] && [ "$(tree_sum "$t")" = "$snap" ]; then
	pass "special: --check 1, run, --check 0, second run changes nothing"
else
	fail "special: --check cycle" "check=$c1 run=$r1 check=$c2 run=$r2"
fi

# the dry-run diff applies with patch(1) to give the real result
if command -v patch > /dev/null 2>&1; then
	t=$scratch/patch
	mkdir -p "$t"
	cp "$sample" "$t/vmm.cfg"
	(cd "$t" && VMM_CFG_DOVECOT= "$tool" -n vmm.cfg > ../dry.out)
	awk 'go && !/^[-+ @\\]/ { exit } /^--- / { go = 1 } go' \
		"$scratch/dry.out" > "$scratch/dry.diff"
	(cd "$t" && patch -s -p0 < "$scratch/dry.diff")
	if cmp -s "$t/vmm.cfg" "$here/cases/stock-052/expected/vmm.cfg"; then
		pass "special: --dry-run diff applies with patch"
	else
		fail "special: --dry-run diff" "patched file differs"
	fi
else
	echo "skip special: patch not installed"
fi

# memory errors and leaks on a full run, when valgrind is there
if command -v valgrind > /dev/null 2>&1; then
	t=$scratch/vg
	mkdir -p "$t"
	cp "$here/cases/odd-spacing/in/vmm.cfg" "$t/vmm.cfg"
	cp -R "$here/cases/postfix/in/postfix" "$t/postfix"
	cp "$here/cases/postfix/in/dovecot-sql.conf" "$t/"
	VMM_CFG_DOVECOT="$here/cases/dovecot2-probe/fake-dovecot" \
		valgrind -q --leak-check=full --error-exitcode=99 "$tool" -q \
		--postfix-dir "$t/postfix" --dovecot-sql "$t/dovecot-sql.conf" \
		--config="$t/vmm.cfg" > /dev/null 2> "$scratch/vg.err"
	rc=$?
	# and the way back, from those backups
	[ $rc = 0 ] && sleep 1 && valgrind -q --leak-check=full --error-exitcode=99 "$tool" -q \
		--revert --postfix-dir "$t/postfix" --dovecot-sql "$t/dovecot-sql.conf" \
		--config="$t/vmm.cfg" > /dev/null 2> "$scratch/vg.err"
	rc=$?
	if [ $rc = 0 ] && cmp -s "$t/vmm.cfg" "$here/cases/odd-spacing/in/vmm.cfg"; then
		pass "special: valgrind, full run and --revert"
	else
		fail "special: valgrind" "rc=$rc $(head -20 "$scratch/vg.err")"
	fi
else
	echo "skip special: valgrind not installed"
fi

# the way back: a forward run then --revert gives back every file byte
# for byte (vmm.cfg, Postfix maps, Dovecot file, through their backups);
# a second --revert changes nothing; without backups, --revert by the
# rules gives a file that a forward run takes to the same vmm 0.6 file
t=$scratch/roundtrip
mkdir -p "$t/orig"
cp "$sample" "$t/orig/vmm.cfg"
cp -R "$here/cases/postfix/in/postfix" "$t/orig/postfix"
cp "$here/cases/postfix/in/dovecot-sql.conf" "$t/orig/"
cp "$here/cases/kept-obsolete/in/vmm.cfg" "$t/orig/kept.cfg"
cp -R "$t/orig" "$t/work"
# the postfix case's vmm.cfg is vmm 0.6's already: use the sample
set -- --postfix-dir "$t/work/postfix" --dovecot-sql "$t/work/dovecot-sql.conf"
VMM_CFG_DOVECOT= "$tool" -q "$@" "$t/work/vmm.cfg"; r1=$?
VMM_CFG_DOVECOT= "$tool" -q "$t/work/kept.cfg"; r2=$?
sleep 1		# a second, so that the revert's backups have new names
"$tool" -q --revert "$@" "$t/work/vmm.cfg"; r3=$?
"$tool" -q --revert "$t/work/kept.cfg"; r4=$?
same=yes
for f in vmm.cfg kept.cfg dovecot-sql.conf $(cd "$t/orig/postfix" && ls); do
	case $f in vmm.cfg|kept.cfg|dovecot-sql.conf) p=$f ;; *) p=postfix/$f ;; esac
	cmp -s "$t/orig/$p" "$t/work/$p" || same="no ($p)"
done
snap=$(tree_sum "$t/work")
"$tool" -q --revert --no-backup "$@" "$t/work/vmm.cfg"; r5=$?
if [ "$r1$r2$r3$r4$r5" = 00000 ] && [ "$same" = yes ] &&
	[ "$(tree_sum "$t/work")" = "$snap" ]; then
	pass "special: forward then --revert gives every file back byte for byte; a second --revert changes nothing"
else
	fail "special: round trip" "rc=$r1$r2$r3$r4$r5 same=$same"
fi
t=$scratch/roundtrip-rules
mkdir -p "$t"
cp "$sample" "$t/vmm.cfg"
VMM_CFG_DOVECOT= "$tool" -q --no-backup "$t/vmm.cfg"; r1=$?
cp "$t/vmm.cfg" "$t/v06.cfg"
"$tool" -q --revert --no-backup "$t/vmm.cfg"; r2=$?
cp "$t/vmm.cfg" "$t/v052.cfg"
"$tool" -q --revert --no-backup "$t/vmm.cfg"; r3=$?
cmp -s "$t/vmm.cfg" "$t/v052.cfg"; r3=$r3$?
VMM_CFG_DOVECOT= "$tool" -q --no-backup "$t/vmm.cfg"; r4=$?
if [ "$r1$r2$r3$r4" = 00000 ] && ! grep -q dovecot_version "$t/v052.cfg" &&
	"$python" "$here/check_cfg.py" "$t/v052.cfg" "$t/v06.cfg" &&
	"$python" "$here/check_cfg.py" "$t/v052.cfg" "$t/vmm.cfg"; then
	pass "special: --revert without a backup: a vmm 0.5.2 file holding every value, forward again gives vmm 0.6"
else
	fail "special: --revert by the rules" "rc=$r1$r2$r3$r4"
fi

# the newest backup that the file came from is taken, older ones not read
t=$scratch/two-backups
mkdir -p "$t"
cp "$sample" "$t/vmm.cfg.bak.20260101T000000Z"
sed 's/^transport = .*/transport = lmtp:unix:private\/dovecot-lmtp/' "$sample" > "$t/vmm.cfg.bak.20260201T000000Z"
sed 's/^transport = .*/transport = smtp:/' "$sample" > "$t/vmm.cfg.bak.20260301T000000Z"
cp "$t/vmm.cfg.bak.20260201T000000Z" "$t/vmm.cfg"
VMM_CFG_DOVECOT= "$tool" -q --no-backup "$t/vmm.cfg"
"$tool" --revert --no-backup "$t/vmm.cfg" > "$scratch/out"; rc=$?
if [ $rc = 0 ] && cmp -s "$t/vmm.cfg" "$t/vmm.cfg.bak.20260201T000000Z" &&
	grep -q "^Backup $t/vmm.cfg.bak.20260301T000000Z not used" "$scratch/out" &&
	grep -q "^Restored from the backup $t/vmm.cfg.bak.20260201T000000Z," "$scratch/out" &&
	! grep -q 20260101T000000Z "$scratch/out"; then
	pass "special: --revert takes the newest backup the file came from"
else
	fail "special: --revert with several backups" "rc=$rc $(cat "$scratch/out")"
fi

# --help and --version
if "$tool" --help | grep -q -- '--dry-run' && "$tool" --version | grep -q '^vmm-cfg-upgrade '; then
	pass "special: --help, --version"
else
	fail "special: --help, --version" "unexpected output"
fi

# the queries are those of src/client_queries.tsv, written nowhere else
. "$here/client_queries.sh"

# attacks by other users, FIFOs and other non-regular files, leftovers
. "$here/security.sh"

echo "cfg: $passed passed, $failed failed"
[ "$failed" = 0 ]
