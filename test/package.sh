#!/usr/bin/env bash
# test/package.sh - the test suite runs against the installed Debian
# packages, not against a `make install` of this tree (test/run-tests.sh).
#
#   bash test/package.sh install   build, check and install the packages
#   bash test/package.sh remove    remove them; nothing of theirs is left
#
# install:
#   1. exports the tracked files as they are in the work tree (a commit git
#      makes without touching anything: `git stash create`, else HEAD) and
#      builds them with `dpkg-buildpackage -us -uc -b`;
#   2. lintian: no error (every tag is printed);
#   3. the contents: postgresql-15-vmm-upgrade holds exactly the control
#      file, scripts and module a `make install` of this tree installs,
#      vmm-cfg-upgrade the helper in /usr/bin and its man page, and neither
#      anything of the other;
#   4. removes from the system what a `make install` of this tree put there
#      (the files of `make install DESTDIR=...`, and any other vmm_upgrade
#      file in PostgreSQL's directories and vmm-cfg-upgrade in /usr/local
#      that no package owns);
#   5. `dpkg -i` of both (`apt-get -f install` for missing dependencies);
#      `dpkg -L` lists exactly the files of the .debs; vmm-cfg-upgrade on
#      PATH is /usr/bin's; one version everywhere (test/versions.sh, with
#      the installed control file, binary and packages; its self-test, and
#      META.json's: test/meta_check.py);
#   6. the PGXN distribution (test/pgxn.sh).
#   Exits 2 when the packages are not installed (the suite cannot run),
#   1 when another check failed (the suite can run; the failure is counted).
# remove (at the very end, from run-tests.sh's EXIT trap): `dpkg -L` of both
#   is what install recorded; `apt-get remove -y` both; no file of theirs is
#   left, no directory of theirs that no other package owns, no vmm_upgrade
#   file in PostgreSQL's directories, no vmm-cfg-upgrade.
#
# State and the .debs are kept in test/results/package/.  Each phase prints
# TAP lines and "package: N passed, N failed" (written to
# test/results/package/PHASE.counts as "N M" for run-tests.sh's total).
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export PATH="/usr/lib/postgresql/15/bin:$PATH"
export DEBIAN_FRONTEND=noninteractive
phase=${1:-}
state=$repo/test/results/package
pkgs=(postgresql-15-vmm-upgrade vmm-cfg-upgrade)
release=$(cat VERSION)
sharedir=$(pg_config --sharedir)
pkglibdir=$(pg_config --pkglibdir)
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
notok() { failed=$((failed + 1)); echo "not ok - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else notok "$1 (expected '$2', got '$3')"; fi; }
finish() {
	echo "package: $passed passed, $failed failed"
	echo "$passed $failed" > "$state/$phase.counts"
}
status() { dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || echo not-installed; }
owned() { dpkg -S "$1" >/dev/null 2>&1; }
# every vmm_upgrade file a make install of any version puts into the system
leftover_globs() {
	ls -d "$sharedir"/extension/vmm_upgrade[-.]* "$pkglibdir"/vmm_upgrade.so \
		"$pkglibdir"/bitcode/vmm_upgrade "$pkglibdir"/bitcode/vmm_upgrade.index.bc \
		/usr/local/bin/vmm-cfg-upgrade /usr/local/share/man/man1/vmm-cfg-upgrade.1 2>/dev/null
}
seconds() { echo $(( $(date +%s) - $1 )); }

case "$phase" in
install)
	rm -rf "$state"
	mkdir -p "$state"
	t0=$(date +%s)

	# 1. build from the tracked files
	build=$(mktemp -d /tmp/vmm-package.XXXXXX)
	trap 'rm -rf "$build"' EXIT
	src=$build/vmm-upgrade-$release
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		ref=$(git -c user.name=vmm-test -c user.email=vmm-test@localhost stash create 2>/dev/null)
		ref=${ref:-HEAD}
		git archive --prefix="vmm-upgrade-$release/" "$ref" | tar -x -C "$build"
		export DIST_REF=$ref
	else	# an unpacked distribution: all but what a build leaves
		mkdir "$src"
		tar -c --exclude=./test/results --exclude='./build-*' --exclude='*.o' --exclude='*.so' \
			--exclude='*.bc' . | tar -x -C "$src"
		make -s -C "$src" clean >/dev/null 2>&1
	fi
	t=$(date +%s)
	if (cd "$src" && dpkg-buildpackage -us -uc -b) >"$state/build.log" 2>&1; then
		ok "dpkg-buildpackage -us -uc -b from the tracked files ($(seconds "$t") s)"
	else
		notok "dpkg-buildpackage -us -uc -b (test/results/package/build.log):"
		tail -20 "$state/build.log" | sed 's/^/#   /'
	fi
	debs=()
	for p in "${pkgs[@]}"; do
		d=$(ls "$build/${p}_"*.deb 2>/dev/null | head -1)
		[ -n "$d" ] && debs+=("$state/$(basename "$d")")
	done
	# the .debs (with the -dbgsym ones), .changes and .buildinfo are kept
	cp "$build"/*.deb "$build"/*.changes "$build"/*.buildinfo "$state/" 2>/dev/null
	check "binary packages built" "${pkgs[*]}" \
		"$(for d in "${debs[@]}"; do dpkg-deb -f "$d" Package; done | tr '\n' ' ' | sed 's/ $//')"
	if [ ${#debs[@]} -ne 2 ]; then
		finish; exit 2
	fi

	# 2. lintian
	t=$(date +%s)
	if command -v lintian >/dev/null; then
		lintian --pedantic "$state"/*.changes >"$state/lintian.txt" 2>&1
		grep -v '^running with root' "$state/lintian.txt" | sed 's/^/#   /'
		check "lintian: no errors ($(grep -c '^W:' "$state/lintian.txt") warnings, $(seconds "$t") s)" 0 \
			"$(grep -c '^E:' "$state/lintian.txt")"
	else
		notok "lintian is not installed"
	fi

	# 3. the contents against a make install of this tree
	make -s install DESTDIR="$state/stage" >"$state/stage.log" 2>&1 ||
		notok "make install DESTDIR=... of this tree: $(tail -3 "$state/stage.log")"
	(cd "$state/stage" && find . ! -type d | sed 's|^\.||' | LC_ALL=C sort) > "$state/make-install.list"
	debfiles() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ { sub(/^\.\//, "/", $6); print $6 }' | LC_ALL=C sort; }
	debfiles "${debs[0]}" > "$state/${pkgs[0]}.deb.list"
	debfiles "${debs[1]}" > "$state/${pkgs[1]}.deb.list"
	check "${pkgs[0]}: exactly the control file, scripts and module of make install" \
		"$(grep -E "^($sharedir|$pkglibdir)/" "$state/make-install.list" | tr '\n' ' ')" \
		"$(grep -v '^/usr/share/doc/' "$state/${pkgs[0]}.deb.list" | tr '\n' ' ')"
	check "${pkgs[1]}: /usr/bin/vmm-cfg-upgrade and its man page, nothing else but docs" \
		"/usr/bin/vmm-cfg-upgrade /usr/share/man/man1/vmm-cfg-upgrade.1.gz " \
		"$(grep -v '^/usr/share/doc/' "$state/${pkgs[1]}.deb.list" | tr '\n' ' ')"
	check "make install of the tree: the helper in /usr/local, as before" \
		"/usr/local/bin/vmm-cfg-upgrade /usr/local/share/man/man1/vmm-cfg-upgrade.1 " \
		"$(grep -vE "^($sharedir|$pkglibdir)/" "$state/make-install.list" | tr '\n' ' ')"
	check "${pkgs[0]} depends on PostgreSQL 15, ${pkgs[1]} on no PostgreSQL" "yes no" \
		"$(dpkg-deb -f "${debs[0]}" Depends | grep -q 'postgresql-15\b' && echo yes || echo no) $(dpkg-deb -f "${debs[1]}" Depends | grep -qi postgres && echo yes || echo no)"

	# 4. what a make install of this tree left in the system goes
	removed=()
	while read -r f; do
		[ -n "$f" ] || continue
		if [ -e "$f" ] && ! owned "$f"; then
			rm -rf "$f" && removed+=("$f")
		fi
	done < <(cat "$state/make-install.list"; leftover_globs)
	[ -d "$pkglibdir/bitcode/vmm_upgrade" ] && ! owned "$pkglibdir/bitcode/vmm_upgrade" &&
		rm -rf "$pkglibdir/bitcode/vmm_upgrade" && removed+=("$pkglibdir/bitcode/vmm_upgrade")
	echo "# removed ${#removed[@]} files a make install had left (not owned by any package)"
	for f in "${removed[@]}"; do echo "#   $f"; done
	left=$(while read -r f; do [ -e "$f" ] && ! owned "$f" && echo "$f"; done < <(cat "$state/make-install.list"; leftover_globs))
	check "no file of a make install left in the system before the packages come" "" "$left"

	# 5. install
	t=$(date +%s)
	if ! dpkg -i "${debs[@]}" >"$state/dpkg-i.log" 2>&1; then
		echo "# dpkg -i: $(grep -i 'depend' "$state/dpkg-i.log" | head -3); apt-get -f install"
		apt-get -f install -y -qq >>"$state/dpkg-i.log" 2>&1
	fi
	check "dpkg -i: both installed ($(seconds "$t") s)" "installed installed" \
		"$(status "${pkgs[0]}") $(status "${pkgs[1]}")"
	if [ "$(status "${pkgs[0]}")" != installed ] || [ "$(status "${pkgs[1]}")" != installed ]; then
		tail -20 "$state/dpkg-i.log" | sed 's/^/#   /'
		finish; exit 2
	fi
	for p in "${pkgs[@]}"; do
		dpkg -L "$p" | LC_ALL=C sort > "$state/$p.dpkg-L"
		check "dpkg -L $p: exactly the files of its .deb" "$(cat "$state/$p.deb.list")" \
			"$(while read -r f; do [ -d "$f" ] || echo "$f"; done < "$state/$p.dpkg-L")"
	done
	check "vmm-cfg-upgrade on PATH is the package's" /usr/bin/vmm-cfg-upgrade "$(command -v vmm-cfg-upgrade)"
	while read -r line; do
		case "$line" in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) notok "${line#not ok - }" ;;
		esac
	done < <(bash test/versions.sh "$sharedir/extension/vmm_upgrade.control" /usr/bin/vmm-cfg-upgrade \
			$( [ -x src/cfg/vmm-cfg-upgrade ] && echo src/cfg/vmm-cfg-upgrade) \
			pkg:"${pkgs[0]}" pkg:"${pkgs[1]}";
		bash test/versions.sh --self-test; python3 test/meta_check.py; python3 test/meta_check.py --self-test)

	# 6. PGXN
	t=$(date +%s)
	echo "# PGXN: test/pgxn.sh"
	while read -r line; do
		case "$line" in
		"ok - "*) ok "pgxn: ${line#ok - }" ;;
		"not ok - "*) notok "pgxn: ${line#not ok - }" ;;
		"pgxn: "*) echo "# $line ($(seconds "$t") s)" ;;
		*) echo "$line" ;;
		esac
	done < <(bash test/pgxn.sh 2>&1)
	echo "# packages: $(seconds "$t0") s in all"
	finish
	[ "$failed" -eq 0 ] || exit 1
	;;

remove)
	mkdir -p "$state"
	t0=$(date +%s)
	installed=()
	for p in "${pkgs[@]}"; do
		[ "$(status "$p")" = not-installed ] || installed+=("$p")
	done
	if [ ${#installed[@]} -eq 0 ] && [ ! -f "$state/${pkgs[0]}.dpkg-L" ]; then
		echo "# nothing to remove: the packages were never installed"
		finish; exit 0
	fi
	# what dpkg says they installed, before they go
	for p in "${pkgs[@]}"; do
		if [ "$(status "$p")" = installed ]; then
			dpkg -L "$p" | LC_ALL=C sort > "$state/$p.before-remove"
			if [ -f "$state/$p.dpkg-L" ]; then
				check "dpkg -L $p before removal: what was installed" "" \
					"$(diff "$state/$p.dpkg-L" "$state/$p.before-remove")"
			fi
		else
			notok "$p is installed before removal ($(status "$p"))"
			cp "$state/$p.dpkg-L" "$state/$p.before-remove" 2>/dev/null || : > "$state/$p.before-remove"
		fi
	done
	if apt-get remove -y -qq "${installed[@]}" >"$state/remove.log" 2>&1; then
		ok "apt-get remove -y ${installed[*]}"
	else
		notok "apt-get remove -y ${installed[*]}: $(tail -3 "$state/remove.log")"
	fi
	check "both gone from dpkg's database" "not-installed not-installed" \
		"$(status "${pkgs[0]}") $(status "${pkgs[1]}")"
	for p in "${pkgs[@]}"; do
		files=$(while read -r f; do [ -e "$f" ] && [ ! -d "$f" ] && echo "$f"; done < "$state/$p.before-remove")
		check "$p: no file it installed is left" "" "$files"
		dirs=$(while read -r f; do [ "$f" != /. ] && [ -d "$f" ] && ! owned "$f" && echo "$f"; done < "$state/$p.before-remove")
		check "$p: no directory of its own is left" "" "$dirs"
	done
	check "no vmm_upgrade file in PostgreSQL's directories, no vmm-cfg-upgrade" "" \
		"$(leftover_globs; ls /usr/bin/vmm-cfg-upgrade /usr/share/man/man1/vmm-cfg-upgrade.1.gz 2>/dev/null)"
	echo "# removal: $(seconds "$t0") s"
	finish
	[ "$failed" -eq 0 ]
	;;

*)
	echo "usage: bash test/package.sh install|remove" >&2
	exit 2
	;;
esac
