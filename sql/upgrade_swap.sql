--
-- The 0.5.2 -> 0.6 update builds the 0.6 users beside the old one and swaps
-- it in at the end (so that lookups are not blocked by the heavy part).
-- What depends on users from outside stops it before anything changes: a
-- view of the DBA's, a foreign key of another table, a statistics object.
-- What users carried is kept: owner, privileges of table and columns,
-- comments, defaults, the sequence owned by uid, constraint and index names,
-- statistics targets, storage parameters, the DBA's CHECK constraints,
-- indexes and triggers (those on the flag columns go, as DROP COLUMN drops
-- them), fresh statistics; the column order is 0.6's.
--
CREATE DATABASE vmm_t_upgrade_swap;
\c vmm_t_upgrade_swap
\set SHOW_CONTEXT never
CREATE ROLE regress_vmm_swap_owner;
CREATE ROLE regress_vmm_swap_reader;
CREATE SCHEMA mail AUTHORIZATION regress_vmm_swap_owner;
SET vmm_upgrade.schema = mail;
\set ECHO none
SET ROLE regress_vmm_swap_owner;
\set schema mail
\set dovecot 1.2
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\set users 50
\i test/fixtures/generate-0.5.2.sql
RESET ROLE;
\i test/include/snapshot.sql
\set ECHO all
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
SELECT t.snapshot('mail') AS before \gset
-- Refusal: a view of the DBA's on users.
BEGIN;
CREATE VIEW mail.dba_names AS SELECT local_part, name FROM mail.users;
ALTER EXTENSION vmm_upgrade UPDATE;
ROLLBACK;
-- Refusal: a table of the DBA's whose foreign key references users.
BEGIN;
CREATE TABLE mail.dba_notes (uid bigint REFERENCES mail.users (uid), note text);
ALTER EXTENSION vmm_upgrade UPDATE;
ROLLBACK;
-- Refusal: a statistics object on users.
BEGIN;
CREATE STATISTICS mail.dba_stats ON gid, mid FROM mail.users;
ALTER EXTENSION vmm_upgrade UPDATE;
ROLLBACK;
-- Refusal: a unique constraint of the DBA's on users.
BEGIN;
ALTER TABLE mail.users ADD CONSTRAINT users_one_name UNIQUE (name);
ALTER EXTENSION vmm_upgrade UPDATE;
ROLLBACK;
SELECT t.snapshot('mail') = :'before' AS unchanged,
       (SELECT split_part(extversion, '+', 1) FROM pg_extension WHERE extname = 'vmm_upgrade') AS extversion;
-- What the owner and the DBA put on users.
SET ROLE regress_vmm_swap_owner;
COMMENT ON TABLE mail.users IS 'the accounts';
COMMENT ON COLUMN mail.users.passwd IS 'a password hash';
COMMENT ON COLUMN mail.users.smtp IS 'goes with its column';
COMMENT ON CONSTRAINT pkey_users ON mail.users IS 'one account per address';
CREATE INDEX users_name ON mail.users (lower(name)) WITH (fillfactor = 70);
COMMENT ON INDEX mail.users_name IS 'for the search by name';
CREATE INDEX users_smtp ON mail.users (smtp);
ALTER TABLE mail.users ADD CONSTRAINT users_local_part_not_empty CHECK (local_part <> '');
ALTER TABLE mail.users ADD CONSTRAINT users_no_smtp_without_imap CHECK (smtp OR NOT imap) NOT VALID;
ALTER TABLE mail.users ADD CONSTRAINT users_named CHECK (name <> '') NOT VALID;
ALTER TABLE mail.users ALTER COLUMN name SET STATISTICS 300, SET (fillfactor = 90);
ALTER SEQUENCE mail.users_uid OWNED BY mail.users.uid;
CREATE TABLE mail.dba_domains (gid bigint PRIMARY KEY);
INSERT INTO mail.dba_domains SELECT gid FROM mail.domain_data;
ALTER TABLE mail.users ADD CONSTRAINT users_dba_domain FOREIGN KEY (gid) REFERENCES mail.dba_domains (gid);
CREATE TABLE mail.audit (uid bigint, what text);
CREATE FUNCTION mail.audit_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO mail.audit VALUES (NEW.uid, TG_OP);
    RETURN NEW;
END $$;
CREATE TRIGGER audit_users AFTER INSERT OR UPDATE ON mail.users FOR EACH ROW EXECUTE FUNCTION mail.audit_users();
CREATE TRIGGER audit_users_off AFTER DELETE ON mail.users FOR EACH ROW EXECUTE FUNCTION mail.audit_users();
ALTER TABLE mail.users DISABLE TRIGGER audit_users_off;
GRANT SELECT (local_part, name, smtp), UPDATE (name) ON mail.users TO regress_vmm_swap_reader;
GRANT INSERT ON mail.users TO regress_vmm_swap_reader WITH GRANT OPTION;
RESET ROLE;
SELECT 'mail.users'::regclass::oid AS old_oid \gset
SELECT count(*) AS users_before FROM mail.users \gset
SET client_min_messages = error;
ALTER EXTENSION vmm_upgrade UPDATE;
RESET client_min_messages;
SELECT 'mail.users'::regclass::oid <> :old_oid AS new_table,
       (SELECT count(*) FROM mail.users) = :users_before AS same_rows,
       (SELECT count(*) FROM mail.audit) AS audit_rows,
       pg_get_userbyid(c.relowner) AS owner, c.reloptions, c.relacl
  FROM pg_class c WHERE c.oid = 'mail.users'::regclass;
SELECT a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid) AS default, a.attstattarget, a.attacl,
       col_description(a.attrelid, a.attnum) AS comment
  FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = 'mail.users'::regclass AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum;
SELECT conname, pg_get_constraintdef(oid) AS def, convalidated,
       obj_description(oid, 'pg_constraint') AS comment
  FROM pg_constraint WHERE conrelid = 'mail.users'::regclass ORDER BY conname;
SELECT c.relname, pg_get_indexdef(i.indexrelid) AS def, obj_description(c.oid, 'pg_class') AS comment
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = 'mail.users'::regclass ORDER BY c.relname;
SELECT tgname, tgenabled, pg_get_triggerdef(oid) AS def
  FROM pg_trigger WHERE tgrelid = 'mail.users'::regclass AND NOT tgisinternal ORDER BY tgname;
SELECT obj_description('mail.users'::regclass, 'pg_class') AS table_comment,
       pg_get_serial_sequence('mail.users', 'uid') AS uid_sequence,
       (SELECT count(*) FROM pg_stats WHERE schemaname = 'mail' AND tablename = 'users') > 0 AS analyzed;
SELECT relname FROM pg_class
 WHERE relnamespace = 'mail'::regnamespace AND relname LIKE 'vmm_upgrade%';
SELECT * FROM vmm_upgrade.check_layout('0.6');
-- The triggers work on the new table, as the owner's rights allow.
SET ROLE regress_vmm_swap_owner;
INSERT INTO mail.users (local_part, passwd, gid) SELECT 'new-account', 'x', min(gid) FROM mail.domain_data;
RESET ROLE;
SELECT what, count(*) FROM mail.audit GROUP BY what;
\c contrib_regression
DROP DATABASE vmm_t_upgrade_swap;
DROP ROLE regress_vmm_swap_owner;
DROP ROLE regress_vmm_swap_reader;
