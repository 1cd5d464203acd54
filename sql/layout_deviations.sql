--
-- check_layout() on damaged layouts: every kind of deviation is named, a
-- DBA's own objects are not deviations, and bad arguments are clear errors.
--
CREATE DATABASE vmm_t_deviations;
\c vmm_t_deviations
\set SHOW_CONTEXT never
CREATE SCHEMA m;
SET vmm_upgrade.schema = m;
\set ECHO none
\set schema m
\set dovecot 1.2
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\set schema m6
\set dovecot 1.1
\i test/fixtures/vmm-0.6.sql
\i test/include/snapshot.sql
\set ECHO all
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
SELECT t.snapshot('m') AS before \gset
-- A dropped column.
BEGIN;
ALTER TABLE m.users DROP COLUMN name;
SELECT * FROM vmm_upgrade.check_layout('0.5.2');
SELECT version, dovecot FROM vmm_upgrade.detect_layout();
ROLLBACK;
-- A retyped column, a changed default, a changed nullability.
BEGIN;
ALTER TABLE m.users ALTER COLUMN name TYPE varchar(64);
ALTER TABLE m.users ALTER COLUMN smtp SET DEFAULT false;
ALTER TABLE m.users ALTER COLUMN name SET NOT NULL;
ALTER TABLE m.domain_data ALTER COLUMN tid DROP DEFAULT;
SELECT * FROM vmm_upgrade.check_layout('0.5.2');
ROLLBACK;
-- A dropped constraint and a constraint that means something else.
BEGIN;
ALTER TABLE m.alias DROP CONSTRAINT fkey_alias_gid_domain_data;
ALTER TABLE m.relocated DROP CONSTRAINT pkey_relocated;
ALTER TABLE m.relocated ADD CONSTRAINT pkey_relocated PRIMARY KEY (gid, address, destination);
SELECT * FROM vmm_upgrade.check_layout('0.5.2');
ROLLBACK;
-- A missing view, a missing trigger, a missing sequence.
BEGIN;
DROP VIEW m.postfix_uid;
DROP TRIGGER primary_count_upd ON m.domain_name;
ALTER TABLE m.maillocation ALTER COLUMN mid SET DEFAULT 1;
DROP SEQUENCE m.maillocation_id;
SELECT * FROM vmm_upgrade.check_layout('0.5.2');
ROLLBACK;
-- An extra column on a vmm table is a deviation; a DBA's own index,
-- table, view, constraint, trigger and function are not.
BEGIN;
ALTER TABLE m.users ADD COLUMN quota integer;
SELECT * FROM vmm_upgrade.check_layout('0.5.2');
ALTER TABLE m.users DROP COLUMN quota;
CREATE INDEX users_name_idx ON m.users (name);
CREATE TABLE m.audit_log (at timestamptz, what text);
CREATE VIEW m.active_users AS SELECT local_part, gid FROM m.users WHERE smtp;
ALTER TABLE m.users ADD CONSTRAINT users_local_part_lower CHECK (local_part = lower(local_part));
CREATE FUNCTION m.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER audit_users AFTER UPDATE ON m.users FOR EACH ROW EXECUTE FUNCTION m.touch();
SELECT * FROM vmm_upgrade.check_layout('0.5.2');
SELECT version, dovecot FROM vmm_upgrade.detect_layout();
ROLLBACK;
-- An overload planted next to a vmm function name is a deviation.
BEGIN;
CREATE FUNCTION m.postfix_virtual_uid_map(text) RETURNS bigint LANGUAGE sql AS 'SELECT 1::bigint';
SELECT * FROM vmm_upgrade.check_layout('0.5.2');
ROLLBACK;
-- Functions and operators planted in the mail schema under the names the
-- validator uses are never called (each would raise), and are no deviations.
BEGIN;
CREATE FUNCTION m.format_type(oid, integer) RETURNS text LANGUAGE plpgsql
  AS $$BEGIN RAISE EXCEPTION 'planted format_type called'; END$$;
CREATE FUNCTION m.concat(name, text, name) RETURNS text LANGUAGE plpgsql
  AS $$BEGIN RAISE EXCEPTION 'planted concat called'; END$$;
CREATE FUNCTION m.planted_eq(oid, oid) RETURNS boolean LANGUAGE plpgsql
  AS $$BEGIN RAISE EXCEPTION 'planted = called'; END$$;
CREATE OPERATOR m.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = m.planted_eq);
CREATE FUNCTION m.planted_cat(name, text) RETURNS text LANGUAGE plpgsql
  AS $$BEGIN RAISE EXCEPTION 'planted || called'; END$$;
CREATE OPERATOR m.|| (LEFTARG = name, RIGHTARG = text, FUNCTION = m.planted_cat);
SELECT * FROM vmm_upgrade.check_layout('0.5.2');
SELECT version, dovecot FROM vmm_upgrade.detect_layout();
ROLLBACK;
-- Half-upgraded: what vmm's own script leaves when it stops midway
-- (service_set created and filled, users still carrying the flags).
BEGIN;
CREATE SEQUENCE m.service_set_id;
CREATE TABLE m.service_set (
	ssid bigint NOT NULL DEFAULT nextval('m.service_set_id'),
	smtp boolean NOT NULL DEFAULT true, pop3 boolean NOT NULL DEFAULT true,
	imap boolean NOT NULL DEFAULT true, sieve boolean NOT NULL DEFAULT true,
	CONSTRAINT pkey_service_set PRIMARY KEY (ssid),
	CONSTRAINT ukey_service_set UNIQUE (smtp, pop3, imap, sieve));
INSERT INTO m.service_set (smtp, pop3, imap, sieve)
SELECT (n & 1) = 0, (n & 2) = 0, (n & 4) = 0, (n & 8) = 0 FROM generate_series(0, 15) AS n ORDER BY n;
ALTER TABLE m.users ADD COLUMN ssid bigint;
SELECT * FROM vmm_upgrade.detect_layout();
SELECT * FROM vmm_upgrade.check_layout('0.5.2');
SELECT count(*) AS deviations_from_0_6 FROM vmm_upgrade.check_layout('0.6');
ROLLBACK;
-- A 0.6 layout missing its quota trigger and a helper function.
BEGIN;
DROP TRIGGER mergeuserquota_11 ON m6.userquota_11;
DROP FUNCTION m6._interpolate_destination(varchar, varchar, varchar) CASCADE;
SELECT * FROM vmm_upgrade.check_layout('0.6', NULL, 'm6');
ROLLBACK;
-- A hostile schema name is only ever a value.
\set ECHO none
\set schema 'Mail "Box"; DROP TABLE m.users; --'
\set dovecot 1.1
\i test/fixtures/vmm-0.5.2.sql
\set ECHO all
SELECT * FROM vmm_upgrade.detect_layout('Mail "Box"; DROP TABLE m.users; --');
SELECT count(*) FROM vmm_upgrade.check_layout('0.5.2', '1.1', 'Mail "Box"; DROP TABLE m.users; --');
-- Bad arguments.
SELECT * FROM vmm_upgrade.check_layout('0.5.2', NULL, 'no_such_schema');
SELECT * FROM vmm_upgrade.detect_layout('no_such_schema');
SELECT * FROM vmm_upgrade.check_layout('0.7');
SELECT * FROM vmm_upgrade.check_layout('0.5.2', '2.0');
SELECT * FROM vmm_upgrade.check_layout(NULL);
SET vmm_upgrade.dovecot_version = 'latest';
SET vmm_upgrade.dovecot_version = '2.3.19';
RESET vmm_upgrade.dovecot_version;
SET vmm_upgrade.schema = no_such_schema;
SELECT * FROM vmm_upgrade.detect_layout();
SET vmm_upgrade.schema = m;
-- Nothing above changed the mail schema.
SELECT t.snapshot('m') = :'before' AS unchanged;
\c contrib_regression
DROP DATABASE vmm_t_deviations;
