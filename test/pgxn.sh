#!/usr/bin/env bash
# test/pgxn.sh - the PGXN distribution, installed the way PGXN's client does
# it, passes the regression tests in a throwaway PostgreSQL prefix.
#
#   1. `make dist` writes vmm_upgrade-VERSION.zip: exactly the tracked files
#      of DIST_REF (default: the work tree's) under vmm_upgrade-VERSION/;
#   2. its META.json follows the PGXN Meta Spec 1.0.0 and matches the
#      files beside it (test/meta_check.py);
#   3. `pgxn install ./vmm_upgrade-VERSION.zip` (Debian's pgxnclient) with
#      the pg_config of a private copy of PostgreSQL 15 (from which every
#      vmm_upgrade file was removed first; PostgreSQL finds its share and lib
#      directories relative to its binaries) installs the extension there,
#      and vmm-cfg-upgrade into CFG_PREFIX (a throwaway directory too); the
#      versions agree (test/versions.sh); nothing in the system's
#      PostgreSQL directories or /usr/local changed;
#   4. in a throwaway cluster of that copy (own socket, no TCP), the
#      unpacked distribution's `make installcheck` passes for the tests in
#      PGXN_REGRESS (default: a subset, see below; "all" for every one) and
#      the isolation test.
# Prints TAP lines and "pgxn: N passed, N failed"; exit 1 on a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export PATH="/usr/lib/postgresql/15/bin:$PATH"
release=$(cat VERSION)
name=vmm_upgrade-$release
# the tracked files as they are in the work tree (a commit git makes without
# touching anything, or HEAD when nothing changed)
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	echo "# skip: make dist needs a git checkout"
	echo "pgxn: 0 passed, 0 failed"
	exit 0
fi
ref=${DIST_REF:-$(git -c user.name=vmm-test -c user.email=vmm-test@localhost stash create 2>/dev/null)}
ref=${ref:-HEAD}
# pg_regress subset: adoption at every version, the validator, both update
# steps, the lookups, a mail owner's code under the C sandbox.  Left out by
# default for time (the whole suite runs against the Debian package):
# upgrade_atomicity and v060_failures (a failure at every DDL command,
# about 4 minutes between them) and the rest (about 35 s).
subset="adopt layout_detect upgrade_update upgrade_lookups v060_update security_owner_code"
case "${PGXN_REGRESS:-}" in
"") regress=$subset ;;
all) regress=$(cd sql && ls *.sql | sed 's/\.sql$//' | sort | tr '\n' ' ') ;;
*) regress=$PGXN_REGRESS ;;
esac
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
notok() { failed=$((failed + 1)); echo "not ok - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else notok "$1 (expected '$2', got '$3')"; fi; }
summary() { echo "pgxn: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; }

tmp=$(mktemp -d /tmp/vmm-pgxn.XXXXXX)
chmod 755 "$tmp"
pgbin=$tmp/pg/lib/postgresql/15/bin
port=5438
cleanup() {
	[ -f "$tmp/data/postmaster.pid" ] &&
		su postgres -c "$pgbin/pg_ctl -D $tmp/data -m immediate stop" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# 1. the zip, from git
zip=""
if make -s dist DIST_REF="$ref" >"$tmp/dist.log" 2>&1 && [ -f "$name.zip" ]; then
	mv "$name.zip" "$tmp/"
	zip=$tmp/$name.zip
	ok "make dist writes $name.zip"
else
	notok "make dist writes $name.zip: $(tail -3 "$tmp/dist.log")"
	summary; exit
fi
want=$(git ls-tree -r --name-only "$ref" | sed "s|^|$name/|" | LC_ALL=C sort)
got=$(python3 -c '
import sys, zipfile
print("\n".join(sorted(n for n in zipfile.ZipFile(sys.argv[1]).namelist() if not n.endswith("/"))))
' "$zip" | LC_ALL=C sort)
if [ "$want" = "$got" ]; then
	ok "the zip holds exactly the $(echo "$got" | wc -l) tracked files, under $name/"
else
	notok "the zip holds exactly the tracked files under $name/:"
	diff <(echo "$want") <(echo "$got") | head -20 | sed 's/^/#   /'
fi

# 2. META.json of the distribution itself
mkdir "$tmp/dist"
python3 -m zipfile -e "$zip" "$tmp/dist"
while read -r line; do
	case "$line" in
	"ok - "*) ok "zip: ${line#ok - }" ;;
	"not ok - "*) notok "zip: ${line#not ok - }" ;;
	*) echo "$line" ;;
	esac
done < <(python3 test/meta_check.py "$tmp/dist/$name")

# 3. pgxn install into a private PostgreSQL without vmm_upgrade
mkdir -p "$tmp/pg/lib/postgresql" "$tmp/pg/share/postgresql"
cp -a /usr/lib/postgresql/15 "$tmp/pg/lib/postgresql/"
cp -a /usr/share/postgresql/15 "$tmp/pg/share/postgresql/"
ln -s /usr/include "$tmp/pg/include"
pgconfig=$pgbin/pg_config
sharedir=$("$pgconfig" --sharedir)
pkglibdir=$("$pgconfig" --pkglibdir)
rm -rf "$sharedir"/extension/vmm_upgrade[-.]* "$pkglibdir"/vmm_upgrade.so "$pkglibdir"/bitcode/vmm_upgrade*
# pgxnclient installs only where pg_config's libdir is writable
mkdir -p "$("$pgconfig" --libdir)"
touch "$tmp/before"
sleep 1
if (cd "$tmp" && CFG_PREFIX=$tmp/cfg pgxn install --pg_config "$pgconfig" "./$name.zip") >"$tmp/install.log" 2>&1; then
	ok "pgxn install ./$name.zip into a private PostgreSQL"
else
	notok "pgxn install ./$name.zip: $(tail -5 "$tmp/install.log")"
fi
n=$(ls "$sharedir"/extension/vmm_upgrade--*.sql 2>/dev/null | wc -l)
if [ -f "$sharedir/extension/vmm_upgrade.control" ] && [ -f "$pkglibdir/vmm_upgrade.so" ] &&
	[ "$n" -gt 0 ] && [ -x "$tmp/cfg/bin/vmm-cfg-upgrade" ] &&
	[ -f "$tmp/cfg/share/man/man1/vmm-cfg-upgrade.1" ]; then
	ok "installed: the control file, $n scripts, the module; vmm-cfg-upgrade and its man page in CFG_PREFIX"
else
	notok "installed: control file, scripts ($n), module, vmm-cfg-upgrade in CFG_PREFIX"
fi
while read -r line; do
	case "$line" in
	"ok - "*) ok "pgxn-installed: ${line#ok - }" ;;
	"not ok - "*) notok "pgxn-installed: ${line#not ok - }" ;;
	esac
done < <(VMM_TOP=$tmp/dist/$name bash test/versions.sh \
	"$sharedir/extension/vmm_upgrade.control" "$tmp/cfg/bin/vmm-cfg-upgrade")
changed=$(find /usr/lib/postgresql/15 /usr/share/postgresql/15 /usr/local -newer "$tmp/before" 2>/dev/null | head -5)
check "nothing in the system's PostgreSQL directories or /usr/local changed" "" "$changed"

# 4. installcheck of the unpacked distribution against that installation
mkdir "$tmp/data" "$tmp/sock"
chown postgres "$tmp/data" "$tmp/sock"
if su postgres -c "$pgbin/initdb -D $tmp/data -A trust -U postgres" >"$tmp/initdb.log" 2>&1 &&
	su postgres -c "$pgbin/pg_ctl -D $tmp/data -l $tmp/sock/log -w -o \"-k $tmp/sock -c listen_addresses='' -p $port\" start" >/dev/null; then
	d=$tmp/dist/$name
	mkdir -p "$d/test/results"
	chmod 777 "$d/test/results"
	if PGHOST=$tmp/sock PGPORT=$port PGUSER=postgres \
		make -s -C "$d" PG_CONFIG="$pgconfig" installcheck REGRESS="$regress" \
		>"$tmp/installcheck.log" 2>&1; then
		ok "installcheck of the distribution: $(grep -cE '^(not ok|ok|test) ' "$tmp/installcheck.log") tests ($regress, isolation)"
	else
		notok "installcheck of the distribution ($regress)"
		grep -E '^(not ok|ok|test) ' "$tmp/installcheck.log" | sed 's/^/#   /'
		cat "$d"/test/results/regression.diffs "$d"/test/results/isolation/regression.diffs 2>/dev/null | head -60
	fi
else
	notok "a throwaway cluster of the private PostgreSQL starts: $(tail -3 "$tmp/initdb.log" "$tmp/sock/log" 2>/dev/null)"
fi

summary
