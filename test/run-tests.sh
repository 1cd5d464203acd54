#!/usr/bin/env bash
# test/run-tests.sh - the whole test suite; what `make test` and CI run.
#
# Installs what is missing (Debian 12 packages), builds with warnings as
# errors, installs, starts a throwaway PostgreSQL 15 cluster with
# pg_virtualenv (the machine's own clusters are never touched), runs the
# pg_regress suite, the pgTAP suite, the vmm-cfg-upgrade tests and the
# end-to-end tests with the real Postfix and Dovecot (test/e2e/), removes
# the cluster, and ends with one line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
. test/deps.sh
vmm_install_deps

make -s clean >/dev/null
make -s
make -s install >/dev/null

rm -rf test/results
mkdir -p test/results
chmod 777 test/results
pg_virtualenv -t -v 15 bash test/run-in-cluster.sh
