#!/usr/bin/env bash
# test/demo-in-cluster.sh - the demo's session, against the throwaway cluster
# that pg_virtualenv set up (PG* variables).
set -euo pipefail
cd "$(dirname "$0")/.."
users=${DEMO_USERS:-2000}

createdb mailsys
psql -qX -d mailsys -v ON_ERROR_STOP=1 -v users="$users" <<'SQL'
\set ECHO none
\set schema public
\set dovecot 1.2
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\i test/fixtures/generate-0.5.2.sql
SQL

echo "== A vmm 0.5.2 mail database 'mailsys' with $users generated accounts."
echo
psql -X -d mailsys -e -v ON_ERROR_STOP=1 <<'SQL'
SELECT count(*) AS domains FROM domain_data;
SELECT count(*) AS accounts FROM users;
-- Install the extension at the version the database has.
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
-- What does the database hold?
SELECT * FROM vmm_upgrade.detect_layout();
-- Exactly 0.5.2?  (no rows: yes)
SELECT * FROM vmm_upgrade.check_layout('0.5.2');
-- What separates it from 0.6?
SELECT count(*) AS deviations_from_0_6 FROM vmm_upgrade.check_layout('0.6');
SELECT * FROM vmm_upgrade.check_layout('0.6') LIMIT 12;
-- A damaged layout is named precisely (inside a transaction we roll back).
BEGIN;
ALTER TABLE users DROP COLUMN name;
SELECT * FROM vmm_upgrade.detect_layout();
SELECT * FROM vmm_upgrade.check_layout('0.5.2');
ROLLBACK;
-- The wrong version is refused with a hint.
DROP EXTENSION vmm_upgrade;
\set ON_ERROR_STOP 0
CREATE EXTENSION vmm_upgrade;
\set ON_ERROR_STOP 1
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
SELECT mail_schema, from_version, to_version, from_dovecot, details FROM vmm_upgrade.history;
SQL

# The upgrade itself, once the update script is installed.
if psql -qXtA -d mailsys -c "SELECT count(*) FROM pg_extension_update_paths('vmm_upgrade')
                             WHERE source = '0.5.2' AND target = '0.6' AND path IS NOT NULL" | grep -qx 1 &&
   [ -f test/demo-upgrade.sql ]; then
	echo
	echo "== The upgrade to 0.6"
	psql -X -d mailsys -e -v ON_ERROR_STOP=1 -f test/demo-upgrade.sql
fi
