#!/usr/bin/env bash
# test/demo.sh - what `make demo` runs.
#
# Builds and installs the extension, starts a throwaway PostgreSQL 15
# cluster (pg_virtualenv; the machine's own clusters are never touched),
# creates a vmm 0.5.2 mail database "mailsys" with a generated mail system
# (DEMO_USERS accounts, default 2000), and shows what a DBA types and sees.
set -euo pipefail
cd "$(dirname "$0")/.."
. test/deps.sh
vmm_install_deps
make -s >/dev/null
make -s install >/dev/null
exec pg_virtualenv -t -v 15 bash test/demo-in-cluster.sh
