--
-- The 0.6 steps (the 0.6.0 -> 0.6 update, replace_lookup_functions) made
-- to fail at every DDL command in turn, or stopped by a conflicting object,
-- or refused on the wrong layout: each time the mail schema, the history
-- and the extension version are exactly as before.
--
CREATE DATABASE vmm_t_v060_failures;
\c vmm_t_v060_failures
\set SHOW_CONTEXT never
\set ECHO none
\i test/include/snapshot.sql
\set schema m11
\set dovecot 1.1
\set release 0.6.0
\i test/fixtures/vmm-0.6.sql
\set schema m052
\set dovecot 1.2
\set lookups true
\i test/fixtures/vmm-0.5.2.sql
\set ECHO all
SET search_path = m11, public;
INSERT INTO m11.transport (tid, transport) VALUES (2, 'domain');
INSERT INTO m11.domain_data (gid, ssid, domaindir) VALUES (70000, 3, '/srv/mail/0');
INSERT INTO m11.domain_name VALUES ('example.org', 70000, true), ('example.net', 70000, false);
INSERT INTO m11.users (local_part, passwd, uid, gid, ssid, tid) VALUES
	('ann', '{PLAIN}a', 70000, 70000, NULL, 2), ('bob', '{PLAIN}b', 70001, 70000, 9, NULL);
RESET search_path;
-- An event trigger that fails a step at each of its DDL commands in turn.
\set ECHO none
\i test/include/fail_each.sql
\set ECHO all
SELECT t.snapshot('m11') AS m11_before, t.snapshot('m052') AS m052_before \gset
SET vmm_upgrade.schema = m11;
SET vmm_upgrade.transport_domain = inherit;
CREATE EXTENSION vmm_upgrade VERSION '0.6.0';
-- 1. ALTER EXTENSION vmm_upgrade UPDATE failed at each of its DDL commands.
SELECT commands, failed = commands AS all_failed, unchanged = commands AS all_unchanged
  FROM t.fail_each('ALTER EXTENSION vmm_upgrade UPDATE', 'm11');
-- 2. The same for replace_lookup_functions.
SELECT commands, failed = commands AS all_failed, unchanged = commands AS all_unchanged
  FROM t.fail_each('SELECT vmm_upgrade.replace_lookup_functions()', 'm11');
-- (the failure is real: not failing, the step changes the schema)
SELECT t.snapshot('m11') = :'m11_before' AS unchanged;
-- 3. A conflicting object: a view of the DBA's built on dovecotpassword()
-- stops the update and replace_lookup_functions, saying which object it is
-- (no CASCADE, no HINT to use it); nothing changed.
DROP EVENT TRIGGER t_fail_at_nth;
CREATE VIEW m11.dba_logins AS SELECT * FROM m11.dovecotpassword('ann', 'example.org');
SELECT t.snapshot('m11') AS m11_with_view \gset
ALTER EXTENSION vmm_upgrade UPDATE;
SELECT vmm_upgrade.replace_lookup_functions();
SELECT t.snapshot('m11') = :'m11_with_view' AS unchanged,
       (SELECT count(*) FROM m11.users WHERE tid = 2) AS still_on_domain_transport,
       (SELECT split_part(extversion, '+', 1) FROM pg_extension WHERE extname = 'vmm_upgrade') AS version,
       (SELECT count(*) FROM vmm_upgrade.history) AS history_rows;
DROP VIEW m11.dba_logins;
-- 4. A layout that is not exactly 0.6 (a DBA's column added to users) is
-- adopted at 0.6.0 with a WARNING, but the update refuses it, as does
-- replace_lookup_functions.
ALTER TABLE m11.users ADD COLUMN mobile text;
SELECT t.snapshot('m11') AS m11_unknown \gset
DROP EXTENSION vmm_upgrade;
CREATE EXTENSION vmm_upgrade VERSION '0.6.0';
ALTER EXTENSION vmm_upgrade UPDATE;
SELECT vmm_upgrade.replace_lookup_functions();
SELECT vmm_upgrade.upgrade_dovecot_layout();
SELECT * FROM vmm_upgrade.check_0_6_0_defects();
SELECT t.snapshot('m11') = :'m11_unknown' AS unchanged,
       (SELECT split_part(extversion, '+', 1) FROM pg_extension WHERE extname = 'vmm_upgrade') AS version;
ALTER TABLE m11.users DROP COLUMN mobile;
DROP EXTENSION vmm_upgrade;
-- 5. A 0.5.2 layout: version 0.6.0 refuses it (with the way forward), and
-- the 0.6 steps refuse it.
SET vmm_upgrade.schema = m052;
CREATE EXTENSION vmm_upgrade VERSION '0.6.0';
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
SELECT vmm_upgrade.replace_lookup_functions();
SELECT * FROM vmm_upgrade.check_0_6_0_defects();
SELECT t.snapshot('m052') = :'m052_before' AS unchanged;
DROP EXTENSION vmm_upgrade;
-- 6. No vmm objects: version 0.6.0 refuses, naming the schema.
CREATE SCHEMA empty;
SET vmm_upgrade.schema = empty;
CREATE EXTENSION vmm_upgrade VERSION '0.6.0';
-- 7. A hostile dovecotpassword() (it raises, saying who called it): the
-- 0.6.0 check reads its definition and never calls it, so version 0.6
-- adopts the database without a word and changes nothing.
SET vmm_upgrade.schema = m11;
UPDATE m11.users SET tid = NULL;
CREATE ROLE regress_vmm_v060_mallory;
GRANT USAGE ON SCHEMA m11 TO regress_vmm_v060_mallory;
CREATE OR REPLACE FUNCTION m11.dovecotpassword(localpart varchar, the_domain varchar)
RETURNS SETOF m11.dovecotpassword LANGUAGE plpgsql STABLE STRICT AS $$
BEGIN
	RAISE EXCEPTION 'called as %, superuser: %', current_user,
		(SELECT rolsuper FROM pg_roles WHERE rolname = current_user);
END $$;
ALTER FUNCTION m11.dovecotpassword(varchar, varchar) OWNER TO regress_vmm_v060_mallory;
SELECT t.snapshot('m11') AS m11_hostile \gset
CREATE EXTENSION vmm_upgrade;
SELECT t.snapshot('m11') = :'m11_hostile' AS unchanged;
SELECT * FROM vmm_upgrade.check_0_6_0_defects();
-- replace_lookup_functions puts a correct one in its place.
SELECT vmm_upgrade.replace_lookup_functions();
SELECT * FROM vmm_upgrade.check_0_6_0_defects();
DROP EXTENSION vmm_upgrade;
DROP OWNED BY regress_vmm_v060_mallory;
DROP ROLE regress_vmm_v060_mallory;
\c contrib_regression
DROP DATABASE vmm_t_v060_failures;
