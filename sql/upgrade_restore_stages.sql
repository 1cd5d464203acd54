--
-- A dump taken before the update.  pg_dump records no extension version, so
-- a database dumped at 0.5.2 restores with the extension at the default 0.6
-- over the 0.5.2 layout.  The documented next command, ALTER EXTENSION
-- vmm_upgrade UPDATE, then fails saying exactly what to type (instead of
-- silently doing nothing); following it reaches 0.6, and the restored
-- history is kept all the way, DROP EXTENSION included.
--
CREATE DATABASE vmm_t_restore_stages;
\c vmm_t_restore_stages
\set SHOW_CONTEXT never
\set ECHO none
\set schema public
\set dovecot 1.2
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\set users 100
\i test/fixtures/generate-0.5.2.sql
\set ECHO all
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
\setenv VMM_DUMP_FILE /tmp/vmm_t_restore_stages.sql
\! pg_dump --no-password -d vmm_t_restore_stages -f "$VMM_DUMP_FILE" && echo "pg_dump: ok"
CREATE DATABASE vmm_t_restore_stages_r;
\! psql -X -q --no-password -v ON_ERROR_STOP=1 -d vmm_t_restore_stages_r -f "$VMM_DUMP_FILE" > "$VMM_DUMP_FILE.log" 2>&1; echo "restore: exit status $?"
-- The restore's only message: no vmm objects yet, and what to do after.
\! grep -E '^psql:.*(WARNING|ERROR|HINT)' "$VMM_DUMP_FILE.log" | sed -e 's/^psql:[^:]*:[0-9]*: //'
\! rm -f "$VMM_DUMP_FILE" "$VMM_DUMP_FILE.log"
\c vmm_t_restore_stages_r
\set SHOW_CONTEXT never
-- Restored: the extension at 0.6 over a 0.5.2 layout, the history as dumped.
SELECT split_part(extversion, '+', 1) AS extversion FROM pg_extension WHERE extname = 'vmm_upgrade';
SELECT version FROM vmm_upgrade.detect_layout();
SELECT id, from_version, to_version FROM vmm_upgrade.history ORDER BY id;
-- The documented next command says what to type (PostgreSQL's NOTICE, which
-- names the release, is not shown).
SET client_min_messages = warning;
ALTER EXTENSION vmm_upgrade UPDATE;
RESET client_min_messages;
SELECT split_part(extversion, '+', 1) AS extversion FROM pg_extension WHERE extname = 'vmm_upgrade';
-- Following it: the history survives DROP EXTENSION, and the update runs.
DROP EXTENSION vmm_upgrade;
SELECT id, from_version, to_version FROM vmm_upgrade.history ORDER BY id;
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
SET client_min_messages = error;
ALTER EXTENSION vmm_upgrade UPDATE;
RESET client_min_messages;
SELECT split_part(extversion, '+', 1) AS extversion FROM pg_extension WHERE extname = 'vmm_upgrade';
SELECT version FROM vmm_upgrade.detect_layout();
SELECT id, from_version, to_version, details->>'step' AS step FROM vmm_upgrade.history ORDER BY id;
-- The history is no member of the extension (so DROP EXTENSION keeps it and
-- pg_dump dumps it as a table).
SELECT count(*) AS members FROM pg_depend d
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.classid = 'pg_class'::regclass
   AND d.objid IN ('vmm_upgrade.history'::regclass, 'vmm_upgrade.history_id_seq'::regclass);
-- A consistent database: ALTER EXTENSION at the installed version says
-- nothing (but for PostgreSQL's NOTICE).
SET client_min_messages = warning;
ALTER EXTENSION vmm_upgrade UPDATE;
RESET client_min_messages;
\c contrib_regression
DROP DATABASE vmm_t_restore_stages_r;
DROP DATABASE vmm_t_restore_stages;
