#!/usr/bin/env bash
# test/run-tests.sh - the whole test suite; what `make test` and CI run.
#
# Installs what is missing (Debian 12 packages), builds with warnings as
# errors, builds and installs the Debian packages (test/package.sh, which
# also tests the PGXN distribution), starts a throwaway PostgreSQL 15
# cluster with pg_virtualenv (the machine's own clusters are never touched),
# runs the pg_regress suite, the pgTAP suite, the vmm-cfg-upgrade tests and
# the end-to-end tests with the real Postfix and Dovecot (test/e2e/) against
# what the packages installed, removes the cluster, removes the packages
# (nothing of theirs may be left), and ends with one line
# "vmm_upgrade: N passed, N failed" counting every test.
set -euo pipefail
cd "$(dirname "$0")/.."
. test/deps.sh
vmm_install_deps

make -s clean >/dev/null
make -s

rm -rf test/results
mkdir -p test/results
chmod 777 test/results

# --- the installed packages (test/package.sh) -------------------------
# Instead of `make install` of this tree: the packages, built from the
# tracked files, replace what a make install left; the helper's tests use
# the installed /usr/bin/vmm-cfg-upgrade.  At the very end they are removed
# again, and the last line adds their tests to the suite's.
finish() {
	local rc=$? p=0 f=0 line
	trap - EXIT
	echo "== packages removed"
	bash test/package.sh remove || rc=1
	line=$(grep -E '^vmm_upgrade: [0-9]+ passed, [0-9]+ failed' test/results/suite.log 2>/dev/null | tail -1)
	if [ -n "$line" ]; then
		p=$(echo "$line" | awk '{print $2}'); f=$(echo "$line" | awk '{print $4}')
	else
		f=1	# the suite printed no total
	fi
	for c in test/results/package/install.counts test/results/package/remove.counts; do
		[ -f "$c" ] && read -r a b < "$c" && p=$((p + a)) && f=$((f + b))
	done
	echo
	echo "vmm_upgrade: $p passed, $f failed"
	[ "$f" -eq 0 ] && [ "$rc" -eq 0 ] || exit 1
	exit 0
}
trap finish EXIT
echo "== packages"
bash test/package.sh install || [ $? -eq 1 ]
export CFG_TEST_BIN=/usr/bin/vmm-cfg-upgrade
# ----------------------------------------------------------------------

pg_virtualenv -t -v 15 bash test/run-in-cluster.sh 2>&1 | tee test/results/suite.log
