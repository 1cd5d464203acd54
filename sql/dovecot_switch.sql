--
-- vmm_upgrade.upgrade_dovecot_layout(): a 0.6 database of the Dovecot < 1.2
-- variant switched to the Dovecot >= 1.2 variant, quota usage carried over
-- from userquota_11 to userquota, refused on every other layout with
-- nothing changed, atomic when failed at any DDL command or stopped by a
-- conflicting object; set_permissions afterwards grants on userquota.
--
CREATE DATABASE vmm_t_dovecot_switch;
\c vmm_t_dovecot_switch
\set SHOW_CONTEXT never
\set ECHO none
\i test/include/snapshot.sql
\set schema m11
\set dovecot 1.1
\set release 0.6.2
\i test/fixtures/vmm-0.6.sql
\set schema m12
\set dovecot 1.2
\i test/fixtures/vmm-0.6.sql
\set schema d11
\set dovecot 1.1
\set release 0.6.0
\i test/fixtures/vmm-0.6.sql
\set schema m052
\set dovecot 1.1
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\set ECHO all
CREATE FUNCTION t.populate(s name) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('search_path', quote_ident(s) || ', pg_catalog', true);
	EXECUTE format($q$
	INSERT INTO %1$I.quotalimit (qid, bytes, messages) VALUES (2, 1048576, 100);
	INSERT INTO %1$I.domain_data (gid, ssid, qid, domaindir) VALUES (70000, 3, 2, '/srv/mail/0'), (70001, 1, 1, '/srv/mail/1');
	INSERT INTO %1$I.domain_name (domainname, gid, is_primary) VALUES
		('example.org', 70000, true), ('example.net', 70000, false), ('example.com', 70001, true);
	INSERT INTO %1$I.users (local_part, passwd, uid, gid, ssid) VALUES
		('ann', '{PLAIN}a', 70000, 70000, NULL), ('bob', '{PLAIN}b', 70001, 70000, 9),
		('cid', '{PLAIN}c', 70002, 70001, NULL), ('dan', '{PLAIN}d', 70003, 70001, 16)$q$, s);
END $$;
CREATE FUNCTION t.logins(s name)
RETURNS TABLE (userid text, password text, services jsonb, quota_rule text)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('search_path', quote_ident(s) || ', pg_catalog', true);
	RETURN QUERY EXECUTE format($q$
		SELECT u.local_part || '@' || n.domainname, r.password::text,
		       to_jsonb(r) - 'userid' - 'password', q.quota_rule
		  FROM %1$I.users u
		  JOIN %1$I.domain_name n USING (gid)
		  LEFT JOIN LATERAL %1$I.dovecotpassword(u.local_part, n.domainname) r ON true
		  LEFT JOIN LATERAL %1$I.dovecotquotauser(u.local_part, n.domainname) q ON true
		 ORDER BY 1$q$, s);
END $$;
SELECT t.populate('m11'), t.populate('m12'), t.populate('d11');
-- Quota usage as Dovecot 1.1's dict quota keeps it: one row per path,
-- inserted as deltas that the merge trigger adds up.
SET search_path = m11, public;
INSERT INTO m11.userquota_11 (uid, path, current) VALUES
	(70000, 'quota/storage', 1000), (70000, 'quota/messages', 4),
	(70000, 'quota/storage', 500), (70000, 'quota/messages', 1),
	(70001, 'quota/storage', 7340032),
	(70002, 'quota/messages', 12),
	(70003, 'quota/dict/x', 3);
SET search_path = d11, public;
INSERT INTO d11.userquota_11 (uid, path, current) VALUES (70000, 'quota/storage', 42);
RESET search_path;
SELECT * FROM m11.userquota_11 ORDER BY uid, path;
SELECT * FROM t.logins('m11');
CREATE ROLE regress_vmm_sw_dovecot;
CREATE ROLE regress_vmm_sw_postfix;
SET vmm_upgrade.schema = m11;
CREATE EXTENSION vmm_upgrade;
-- Dovecot's privileges on the 1.1 variant: userquota_11.
SELECT * FROM vmm_upgrade.set_permissions('regress_vmm_sw_dovecot', 'regress_vmm_sw_postfix') AS s
 WHERE s LIKE 'GRANT%userquota%';
SELECT t.snapshot('m11') AS m11_before, t.snapshot('m12') AS m12_before,
       t.snapshot('m052') AS m052_before \gset
--
-- 1. Refused on anything but the exact 0.6 layout of the 1.1 variant.
--
-- the 1.2 variant
SET vmm_upgrade.schema = m12;
SELECT vmm_upgrade.upgrade_dovecot_layout();
-- a 0.5.2 layout (it can go to 0.6 and 1.2 in one step)
SET vmm_upgrade.schema = m052;
SELECT vmm_upgrade.upgrade_dovecot_layout();
-- a half-switched 1.1 layout: managesieve already renamed
SET vmm_upgrade.schema = m11;
ALTER TABLE m11.service_set RENAME COLUMN managesieve TO sieve;
SELECT vmm_upgrade.upgrade_dovecot_layout();
ALTER TABLE m11.service_set RENAME COLUMN sieve TO managesieve;
-- a schema with no vmm objects, and one that does not exist
CREATE SCHEMA empty;
SET vmm_upgrade.schema = empty;
SELECT vmm_upgrade.upgrade_dovecot_layout();
SET vmm_upgrade.schema = nosuchschema;
SELECT vmm_upgrade.upgrade_dovecot_layout();
SET vmm_upgrade.schema = m11;
SELECT t.snapshot('m11') = :'m11_before' AS m11_unchanged, t.snapshot('m12') = :'m12_before' AS m12_unchanged,
       t.snapshot('m052') = :'m052_before' AS m052_unchanged,
       (SELECT count(*) FROM vmm_upgrade.history) AS history_rows;
--
-- 2. Failed midway: at each of its DDL commands in turn (event trigger),
-- then stopped by conflicting objects.  Nothing changes.
--
\set ECHO none
\i test/include/fail_each.sql
\set ECHO all
SET client_min_messages = error;
SELECT commands, failed = commands AS all_failed, unchanged = commands AS all_unchanged
  FROM t.fail_each('SELECT vmm_upgrade.upgrade_dovecot_layout()', 'm11');
RESET client_min_messages;
DROP EVENT TRIGGER t_fail_at_nth;
-- A table of the DBA's already named userquota.
CREATE TABLE m11.userquota (uid bigint);
SELECT vmm_upgrade.upgrade_dovecot_layout();
DROP TABLE m11.userquota;
-- A view of the DBA's on userquota_11.
CREATE VIEW m11.quota_report AS SELECT uid, sum(current) AS used FROM m11.userquota_11 GROUP BY uid;
SELECT vmm_upgrade.upgrade_dovecot_layout();
DROP VIEW m11.quota_report;
-- A message count that does not fit userquota.messages (integer).
SET search_path = m11, public;
INSERT INTO m11.userquota_11 VALUES (70003, 'quota/messages', 3000000000);
RESET search_path;
SELECT t.snapshot('m11') AS m11_overflow \gset
SELECT vmm_upgrade.upgrade_dovecot_layout();
SELECT t.snapshot('m11') = :'m11_overflow' AS unchanged;
DELETE FROM m11.userquota_11 WHERE uid = 70003 AND path = 'quota/messages';
SELECT t.snapshot('m11') = :'m11_before' AS unchanged,
       (SELECT count(*) FROM vmm_upgrade.history) AS history_rows;
--
-- 3. The switch.
--
SELECT vmm_upgrade.upgrade_dovecot_layout();
SELECT * FROM vmm_upgrade.check_layout('0.6', '1.2', 'm11');
SELECT * FROM vmm_upgrade.detect_layout('m11');
-- The usage, carried: bytes from quota/storage, messages from
-- quota/messages, per uid; the quota/dict/x row is not.
SELECT * FROM m11.userquota ORDER BY uid;
-- The service set column and its unique constraint, the dovecotpassword type.
SELECT attname FROM pg_attribute WHERE attrelid = 'm11.service_set'::regclass AND attnum > 0 ORDER BY attnum;
SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'ukey_service_set' AND connamespace = 'm11'::regnamespace;
SELECT * FROM t.logins('m11');
-- Dovecot 1.2's dict quota inserts deltas: the new trigger adds them up.
INSERT INTO m11.userquota (uid, bytes, messages) VALUES (70000, 100, 1), (70003, 5, 1), (99999, 1, 1);
SELECT * FROM m11.userquota ORDER BY uid;
-- The new objects belong to the mail system, not to the extension.
SELECT c.relname, c.relowner::regrole,
       EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e') AS member
  FROM pg_class c WHERE c.relnamespace = 'm11'::regnamespace AND c.relname LIKE 'userquota%' ORDER BY 1;
SELECT from_version, to_version, from_dovecot, to_dovecot, users_changed, jsonb_pretty(details)
  FROM vmm_upgrade.history WHERE details->>'step' = 'upgrade_dovecot_layout';
--
-- 4. Privileges: Dovecot's privileges on userquota_11 passed to userquota,
-- and set_permissions now grants on userquota (userquota_11 is gone).
--
SELECT has_table_privilege('regress_vmm_sw_dovecot', 'm11.userquota', 'SELECT, INSERT, UPDATE, DELETE') AS dovecot_may,
       has_table_privilege('regress_vmm_sw_postfix', 'm11.userquota', 'SELECT') AS postfix_may;
REVOKE ALL ON m11.userquota FROM regress_vmm_sw_dovecot;
SELECT * FROM vmm_upgrade.set_permissions('regress_vmm_sw_dovecot', 'regress_vmm_sw_postfix') AS s
 WHERE s LIKE 'GRANT%userquota%';
SELECT has_table_privilege('regress_vmm_sw_dovecot', 'm11.userquota', 'SELECT, INSERT, UPDATE, DELETE') AS dovecot_may,
       to_regclass('m11.userquota_11') AS userquota_11;
--
-- 5. Running it again is refused, changing nothing.
--
SELECT t.snapshot('m11') AS m11_after \gset
SELECT vmm_upgrade.upgrade_dovecot_layout();
SELECT t.snapshot('m11') = :'m11_after' AS unchanged;
DROP EXTENSION vmm_upgrade;
--
-- 6. A vmm 0.6.0 database of the 1.1 variant, switched without the 0.6.0
-- update first: the switch rebuilds dovecotpassword, so its login defect
-- goes too.
--
SET vmm_upgrade.schema = d11;
SELECT * FROM t.logins('d11');
-- (only the dovecotpassword defect: version 0.6 refuses it all the same)
CREATE EXTENSION vmm_upgrade;
CREATE EXTENSION vmm_upgrade VERSION '0.6.0';
SELECT vmm_upgrade.upgrade_dovecot_layout();
SELECT * FROM t.logins('d11');
SELECT * FROM vmm_upgrade.check_layout('0.6', '1.2', 'd11');
SELECT * FROM vmm_upgrade.check_0_6_0_defects();
DROP EXTENSION vmm_upgrade;
DROP OWNED BY regress_vmm_sw_dovecot, regress_vmm_sw_postfix;
DROP ROLE regress_vmm_sw_dovecot, regress_vmm_sw_postfix;
\c contrib_regression
DROP DATABASE vmm_t_dovecot_switch;
