--
-- CREATE EXTENSION vmm_upgrade VERSION ...: adopt a database that holds the
-- layout of that version, refuse any other with a HINT saying what to type,
-- and never change the mail schema.
--
CREATE DATABASE vmm_t_adopt;
\c vmm_t_adopt
\set SHOW_CONTEXT never
\set ECHO none
\i test/include/snapshot.sql
\set schema mail52
\set dovecot 1.1
\set lookups true
\i test/fixtures/vmm-0.5.2.sql
\set users 300
\i test/fixtures/generate-0.5.2.sql
\set schema mail6
\set dovecot 1.2
\i test/fixtures/vmm-0.6.sql
\set ECHO all
CREATE SCHEMA empty;
SELECT t.snapshot('mail52') AS before52, t.snapshot('mail6') AS before6 \gset
SELECT count(*) AS users FROM mail52.users;
-- 0.5.2 adopts a 0.5.2 layout and records it.
SET vmm_upgrade.schema = mail52;
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
SELECT split_part(extversion, '+', 1) AS extversion FROM pg_extension WHERE extname = 'vmm_upgrade';
SELECT mail_schema, from_version, to_version, from_dovecot, to_dovecot, users_changed,
       performed_by = session_user AS by_me, details
  FROM vmm_upgrade.history;
DROP EXTENSION vmm_upgrade;
-- 0.6 refuses a 0.5.2 layout and says how to upgrade it.
CREATE EXTENSION vmm_upgrade;
CREATE EXTENSION vmm_upgrade VERSION '0.6';
-- 0.5.2 refuses a 0.6 layout.
SET vmm_upgrade.schema = mail6;
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
-- 0.6 adopts it.
CREATE EXTENSION vmm_upgrade;
SELECT mail_schema, from_version, to_version, from_dovecot, to_dovecot, details
  FROM vmm_upgrade.history;
DROP EXTENSION vmm_upgrade;
-- A schema with no vmm objects: 0.5.2 refuses naming the schema; 0.6
-- (what a pg_dump restore runs) succeeds with a WARNING and records nothing.
SET vmm_upgrade.schema = empty;
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
CREATE EXTENSION vmm_upgrade;
SELECT count(*) AS history_rows FROM vmm_upgrade.history;
DROP EXTENSION vmm_upgrade;
-- So does a schema that does not exist yet (vmm_upgrade.schema set for the
-- database, restore not yet at the CREATE SCHEMA).
SET vmm_upgrade.schema = not_yet_restored;
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
CREATE EXTENSION vmm_upgrade;
DROP EXTENSION vmm_upgrade;
-- A layout that matches no known one (a half-applied upgrade) is adopted
-- at the version the DBA names, with a WARNING, so that it can be diagnosed.
SET vmm_upgrade.schema = mail52;
ALTER TABLE mail52.users ADD COLUMN ssid bigint;
SELECT t.snapshot('mail52') AS broken52 \gset
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
SELECT * FROM vmm_upgrade.check_layout('0.5.2');
SELECT mail_schema, from_version, to_version, details FROM vmm_upgrade.history;
SELECT t.snapshot('mail52') = :'broken52' AS unchanged;
DROP EXTENSION vmm_upgrade;
ALTER TABLE mail52.users DROP COLUMN ssid;
-- The mail schemas are exactly as they were.
SELECT t.snapshot('mail52') = :'before52' AS mail52_unchanged,
       t.snapshot('mail6') = :'before6' AS mail6_unchanged;
\c contrib_regression
DROP DATABASE vmm_t_adopt;
