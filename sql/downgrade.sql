--
-- The way back: ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2' on a 0.6
-- database.
--   1. round trip 0.5.2 -> 0.6 -> 0.5.2 on generated systems (both Dovecot
--      variants, with and without the optional lookups, the 0.5.2 grants
--      given): structure, owners, privileges and every row as before, the
--      optional lookups back because the history says they were there;
--   2. a database made by vmm 0.6 (generated, adopted): refused, naming
--      every kind 0.5.2 cannot hold, with nothing changed; then, the
--      unexpressible rows changed and the rest discarded by the setting,
--      downgraded: every address answers through the 0.5.2 views what it
--      answered through the 0.6 functions (services and transports made
--      explicit per account), the discarded counted in the history, the
--      grants those of 0.5.2;
--   3. failure at each DDL command of the downgrade: nothing changed.
--
CREATE DATABASE vmm_t_downgrade;
\c vmm_t_downgrade
\set SHOW_CONTEXT never
CREATE ROLE regress_vmm_down_dovecot;
CREATE ROLE regress_vmm_down_postfix;
SET vmm_upgrade.dovecot_role = regress_vmm_down_dovecot;
SET vmm_upgrade.postfix_role = regress_vmm_down_postfix;
\set ECHO none
\set QUIET on
\i test/include/snapshot.sql
\set users 60
\set schema r11
\set dovecot 1.1
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\i test/fixtures/generate-0.5.2.sql
\set schema r11l
\set lookups true
\i test/fixtures/vmm-0.5.2.sql
\i test/fixtures/generate-0.5.2.sql
\set schema r12
\set dovecot 1.2
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\i test/fixtures/generate-0.5.2.sql
\set schema r12l
\set lookups true
\i test/fixtures/vmm-0.5.2.sql
\i test/fixtures/generate-0.5.2.sql
\set users 120
\set schema g12
\i test/fixtures/vmm-0.6.sql
\i test/fixtures/generate-0.6.sql
\set schema g11
\set dovecot 1.1
\i test/fixtures/vmm-0.6.sql
\i test/fixtures/generate-0.6.sql
\set users 0
\set schema f11
\i test/fixtures/vmm-0.6.sql
\set QUIET off
\set ECHO all
-- What a vmm 0.5.2 installation grants: SELECT on the views (and, the
-- schema not being public, USAGE on it).
DO $$
DECLARE
    s name;
BEGIN
    FOREACH s IN ARRAY ARRAY['r11', 'r11l', 'r12', 'r12l'] LOOP
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO regress_vmm_down_dovecot, regress_vmm_down_postfix', s);
        EXECUTE format('GRANT SELECT ON %1$I.dovecot_password, %1$I.dovecot_user TO regress_vmm_down_dovecot', s);
        EXECUTE format('GRANT SELECT ON %1$I.postfix_alias, %1$I.postfix_gid, %1$I.postfix_maildir, %1$I.postfix_relocated, %1$I.postfix_transport, %1$I.postfix_uid TO regress_vmm_down_postfix', s);
    END LOOP;
END $$;
CREATE TABLE t.before (s name PRIMARY KEY, state text);
INSERT INTO t.before SELECT s, t.state(s) FROM unnest('{r11,r11l,r12,r12l}'::name[]) AS s;
-- 1. Round trips.
CREATE TABLE t.trip (s name, lookups_before boolean, at_06 text, back text, same boolean, lookups_after boolean);
\set ECHO none
SET client_min_messages = error;
SET vmm_upgrade.schema = r11;
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
ALTER EXTENSION vmm_upgrade UPDATE TO '0.6';
INSERT INTO t.trip (s, at_06) SELECT 'r11', version FROM vmm_upgrade.detect_layout('r11');
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
DROP EXTENSION vmm_upgrade;
SET vmm_upgrade.schema = r11l;
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
ALTER EXTENSION vmm_upgrade UPDATE TO '0.6';
INSERT INTO t.trip (s, at_06) SELECT 'r11l', version FROM vmm_upgrade.detect_layout('r11l');
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
DROP EXTENSION vmm_upgrade;
SET vmm_upgrade.schema = r12;
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
ALTER EXTENSION vmm_upgrade UPDATE TO '0.6';
INSERT INTO t.trip (s, at_06) SELECT 'r12', version FROM vmm_upgrade.detect_layout('r12');
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
DROP EXTENSION vmm_upgrade;
SET vmm_upgrade.schema = r12l;
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
CREATE TABLE t.previews (s name, target text, p jsonb);
INSERT INTO t.previews SELECT 'r12l', '0.6', jsonb_object_agg(item, n) FROM vmm_upgrade.preview('0.6') WHERE n IS NOT NULL;
ALTER EXTENSION vmm_upgrade UPDATE TO '0.6';
INSERT INTO t.trip (s, at_06) SELECT 'r12l', version FROM vmm_upgrade.detect_layout('r12l');
INSERT INTO t.previews SELECT 'r12l', '0.5.2', jsonb_object_agg(item, n) FROM vmm_upgrade.preview('0.5.2') WHERE n IS NOT NULL;
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
RESET client_min_messages;
\set ECHO all
UPDATE t.trip SET back = d.version || ' ' || d.dovecot, lookups_after = d.lookups,
                  same = t.state(trip.s) = b.state,
                  lookups_before = (SELECT (h.details->>'lookups')::boolean FROM vmm_upgrade.history h
                                     WHERE h.mail_schema = trip.s AND h.details->>'step' = 'adopt')
  FROM t.before b, vmm_upgrade.detect_layout(b.s) d WHERE b.s = trip.s;
SELECT s, lookups_before, at_06, back, lookups_after, same FROM t.trip ORDER BY s;
SELECT mail_schema, from_version, to_version, from_dovecot, to_dovecot,
       users_changed, domains_changed, details->'lookups_created' AS lookups_created,
       details->'discarded' AS discarded, details->>'objects_dropped' AS dropped,
       details->>'objects_created' AS created, details->>'transport_inherited' AS transport_inherited,
       details->>'transport_inherited' = (SELECT u.details->>'users_transport_inherited'
                                            FROM vmm_upgrade.history u
                                           WHERE u.mail_schema = h.mail_schema AND u.details->>'step' = 'update') AS as_before
  FROM vmm_upgrade.history h WHERE details->>'step' = 'downgrade' ORDER BY id;
-- vmm_upgrade.preview said before each step what its history row says
-- after it.
SELECT p.target, (SELECT count(*) FROM jsonb_object_keys(p.p)) AS items, m.*
  FROM t.previews p
  JOIN vmm_upgrade.history h ON h.mail_schema = p.s AND h.to_version = p.target
                            AND h.details->>'step' IN ('update', 'downgrade')
  LEFT JOIN LATERAL vmm_upgrade._preview_mismatches(p.p, h.details) AS m ON true
 ORDER BY p.target DESC;
-- A second downgrade finds 0.5.2: nothing to do.
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
-- From 0.5.2 with this release's version, UPDATE TO '0.5.2' is a refresh,
-- no detour through 0.6 and back.
SELECT pg_catalog.format('0.5.2+%s', vmm_upgrade.release()) AS v052r \gset
ALTER EXTENSION vmm_upgrade UPDATE TO :'v052r';
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
SELECT from_version, to_version, details->>'step' AS step FROM vmm_upgrade.history
 WHERE mail_schema = 'r12l' ORDER BY id DESC LIMIT 3;
DROP EXTENSION vmm_upgrade;
-- 2. A database made by vmm 0.6 (Dovecot 1.2 variant, generated).  Two more
-- kinds 0.5.2 cannot hold: mail location options, and two locations with
-- one directory.
SET vmm_upgrade.schema = g12;
CREATE EXTENSION vmm_upgrade;
-- (with the 0.6 grants, which the downgrade takes back)
SELECT count(*) > 0 AS granted_0_6 FROM vmm_upgrade.set_permissions();
INSERT INTO g12.maillocation (mid, fid, directory, extra) VALUES (90, 1, 'Maildir', 'LAYOUT=fs');
SELECT t.snapshot('g12') AS g12_before, (SELECT count(*) FROM vmm_upgrade.history) AS history_before \gset
-- the dry run says what the update then says
SELECT item, n FROM vmm_upgrade.preview('0.5.2');
SELECT detail FROM vmm_upgrade.preview('0.5.2') \gset preview_
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
\set preview_error :LAST_ERROR_MESSAGE
SELECT strpos(:'preview_detail', :'preview_error') > 0 AS same_message;
-- accepting to lose what may be lost leaves what may not
SET vmm_upgrade.downgrade_discard = 'catchall, quota_limits,quota_usage,notes,maillocation_extra';
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
-- a kind that is not one
SET vmm_upgrade.downgrade_discard = 'catchall,passwords';
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
SELECT t.snapshot('g12') = :'g12_before' AS unchanged,
       (SELECT count(*) FROM vmm_upgrade.history) = :history_before AS history_unchanged,
       (SELECT split_part(extversion, '+', 1) FROM pg_extension WHERE extname = 'vmm_upgrade') AS version;
-- The DBA changes what 0.5.2 cannot express at all.
DELETE FROM g12.maillocation WHERE mid = 90;
UPDATE g12.maillocation SET fid = 1;
UPDATE g12.users SET passwd = left(passwd, 74) WHERE char_length(passwd) > 74;
DELETE FROM g12.alias WHERE destination ~ '%[nd=]';
-- (and one domain gives its accounts fewer services: no POP3, no IMAP)
UPDATE g12.domain_data SET ssid = 7 WHERE gid = (SELECT min(gid) FROM g12.users WHERE ssid IS NULL);
-- What the 0.6 functions answer, for every local part of an account, alias
-- or relocated entry under every name of its domain.
CREATE FUNCTION t.answers_06(s name) RETURNS TABLE (lookup text, address text, val text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('search_path', quote_ident(s) || ', pg_catalog', true);
    RETURN QUERY EXECUTE format($q$
        WITH a AS (
            SELECT x.lp::text AS lp, n.domainname::text AS dn, x.k
              FROM (SELECT gid, local_part AS lp, 'user' AS k FROM %1$I.users
                    UNION SELECT gid, address, 'alias' FROM %1$I.alias
                    UNION SELECT gid, address, 'relocated' FROM %1$I.relocated) AS x
              JOIN %1$I.domain_name n ON n.gid = x.gid)
        SELECT 'password', a.lp || '@' || a.dn, row(p.*)::text FROM a, dovecotpassword(a.lp, a.dn) p WHERE a.k = 'user'
        UNION ALL
        SELECT 'user', a.lp || '@' || a.dn, row(u.userid, u.uid, u.gid, u.home, u.mail)::text FROM a, dovecotuser(a.lp, a.dn) u WHERE a.k = 'user'
        UNION ALL
        SELECT 'maildir', a.lp || '@' || a.dn, m.maildir FROM a, postfix_virtual_mailbox_map(a.lp, a.dn) m WHERE a.k = 'user'
        UNION ALL
        SELECT 'uid', a.lp || '@' || a.dn, u.uid::text FROM a, postfix_virtual_uid_map(a.lp, a.dn) u WHERE a.k = 'user'
        UNION ALL
        SELECT 'transport', a.lp || '@' || a.dn, tr.transport FROM a, postfix_transport_map(a.lp, a.dn) tr WHERE a.k = 'user'
        UNION ALL
        SELECT 'alias', a.lp || '@' || a.dn, d.destination FROM a, postfix_virtual_alias_map(a.lp, a.dn) d WHERE a.k = 'alias'
        UNION ALL
        SELECT 'relocated', a.lp || '@' || a.dn, r.destination FROM a, postfix_relocated_map(a.lp, a.dn) r WHERE a.k = 'relocated'
        $q$, s);
END $$;
-- What the 0.5.2 views answer for the same addresses.
CREATE FUNCTION t.answers_052(s name) RETURNS TABLE (lookup text, address text, val text)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
        SELECT 'password', p."user", row(p.*)::text FROM %1$I.dovecot_password p
        UNION ALL
        SELECT 'user', u.userid, row(u.userid, u.uid, u.gid, u.home, 'maildir:' || u.mail)::text FROM %1$I.dovecot_user u
        UNION ALL
        SELECT 'maildir', m.address, m.maildir FROM %1$I.postfix_maildir m
        UNION ALL
        SELECT 'uid', u.address, u.uid::text FROM %1$I.postfix_uid u
        UNION ALL
        SELECT 'transport', tr.address, tr.transport::text FROM %1$I.postfix_transport tr
        UNION ALL
        SELECT 'alias', a.address, a.destination::text FROM %1$I.postfix_alias a
        UNION ALL
        SELECT 'relocated', r.address, r.destination::text FROM %1$I.postfix_relocated r
        $q$, s);
END $$;
CREATE TABLE t.answers AS SELECT 'g12'::name AS s, * FROM t.answers_06('g12');
-- the accounts whose services and transport come from their domain
SELECT count(*) FILTER (WHERE ssid IS NULL) > 0 AS some_inherit_services,
       count(*) FILTER (WHERE tid IS NULL) > 0 AS some_inherit_transport,
       (SELECT count(*) FROM g12.domain_data WHERE ssid <> 1) > 0 AS some_domains_restricted
  FROM g12.users;
SET vmm_upgrade.downgrade_discard = 'catchall,quota_limits,quota_usage,notes';
SELECT * FROM vmm_upgrade.preview('0.5.2');
SELECT jsonb_object_agg(item, n) AS g12_preview FROM vmm_upgrade.preview('0.5.2') WHERE n IS NOT NULL \gset
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
SELECT version, dovecot, lookups FROM vmm_upgrade.detect_layout('g12');
SELECT count(*) AS mismatches FROM vmm_upgrade.history h, vmm_upgrade._preview_mismatches(:'g12_preview', h.details)
 WHERE h.mail_schema = 'g12' AND h.details->>'step' = 'downgrade';
SELECT * FROM vmm_upgrade.preview('0.5.2');
-- every answer the same, both ways
SELECT lookup, count(*) AS answers,
       count(*) FILTER (WHERE NOT EXISTS (SELECT FROM t.answers_052('g12') b
                                           WHERE (b.lookup, b.address, b.val) = (a.lookup, a.address, a.val))) AS lost
  FROM t.answers a WHERE s = 'g12' GROUP BY lookup ORDER BY lookup;
SELECT count(*) AS new_answers FROM t.answers_052('g12') b
 WHERE NOT EXISTS (SELECT FROM t.answers a WHERE a.s = 'g12' AND (b.lookup, b.address, b.val) = (a.lookup, a.address, a.val));
SELECT users_changed, domains_changed, details->'discarded' AS discarded,
       details->'lookups_created' AS lookups_created,
       (details->>'domains_service_set_made_explicit')::int > 0 AS domain_services_made_explicit
  FROM vmm_upgrade.history WHERE mail_schema = 'g12' AND details->>'step' = 'downgrade';
-- the grants of 0.5.2, and nothing more
SELECT r.rolname, c.relname,
       has_table_privilege(r.rolname, c.oid, 'SELECT') AS can_select,
       has_any_column_privilege(r.rolname, c.oid, 'SELECT') AS any_column
  FROM pg_class c, pg_roles r
 WHERE c.relnamespace = 'g12'::regnamespace AND c.relkind IN ('r', 'v')
   AND r.rolname IN ('regress_vmm_down_dovecot', 'regress_vmm_down_postfix')
   AND has_any_column_privilege(r.rolname, c.oid, 'SELECT')
 ORDER BY 1, 2;
DROP EXTENSION vmm_upgrade;
-- The Dovecot 1.1 variant, adopted at 0.6, everything discardable lost,
-- the optional 0.5.2 lookups asked for by the setting (the database never
-- had them).
SET vmm_upgrade.schema = g11;
CREATE EXTENSION vmm_upgrade;
UPDATE g11.maillocation SET fid = 1;
UPDATE g11.users SET passwd = left(passwd, 74) WHERE char_length(passwd) > 74;
DELETE FROM g11.alias WHERE destination ~ '%[nd=]';
INSERT INTO t.answers SELECT 'g11', * FROM t.answers_06('g11');
SET vmm_upgrade.downgrade_discard = 'catchall,quota_limits,quota_usage,notes';
SET vmm_upgrade.lookups_052 = on;
SET client_min_messages = error;
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
RESET client_min_messages;
RESET vmm_upgrade.lookups_052;
SELECT version, dovecot, lookups FROM vmm_upgrade.detect_layout('g11');
SELECT count(*) AS answers,
       count(*) FILTER (WHERE NOT EXISTS (SELECT FROM t.answers_052('g11') b
                                           WHERE (b.lookup, b.address, b.val) = (a.lookup, a.address, a.val))) AS lost
  FROM t.answers a WHERE s = 'g11';
SELECT details->'discarded' ?& '{catchall,quota_limits,quota_usage,notes}' AS discarded_counted,
       details->'lookups_created' AS lookups_created
  FROM vmm_upgrade.history WHERE mail_schema = 'g11' AND details->>'step' = 'downgrade';
DROP EXTENSION vmm_upgrade;
-- 3. Failure at each DDL command of the downgrade (a small 0.6 system:
-- a domain with its own service set, accounts inheriting and not).  The
-- commands that re-create the library are those of every update (failed
-- one by one in v060_failures and upgrade_atomicity); here every command
-- of the downgrade proper fails in turn.
SET vmm_upgrade.schema = f11;
RESET vmm_upgrade.downgrade_discard;
SET search_path = f11, public;
INSERT INTO f11.domain_data (gid, ssid, domaindir) VALUES (70000, 3, '/srv/mail/0');
INSERT INTO f11.domain_name VALUES ('example.org', 70000, true), ('example.net', 70000, false);
INSERT INTO f11.users (local_part, passwd, uid, gid, ssid, tid) VALUES
	('ann', '{PLAIN}a', 70000, 70000, NULL, NULL), ('bob', '{PLAIN}b', 70001, 70000, 9, 1);
RESET search_path;
CREATE EXTENSION vmm_upgrade VERSION '0.6';
\set ECHO none
\i test/include/fail_each.sql
\set ECHO all
SET client_min_messages = error;
-- the number of DDL commands of the library (a refresh re-creates it and
-- changes nothing else), and of the whole downgrade
CREATE FUNCTION t.ddl_count(step text) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    PERFORM set_config('t.fail_at', '0', false), set_config('t.ddl', '0', false);
    EXECUTE step;
    n := current_setting('t.ddl')::integer;
    RAISE EXCEPTION 'undo' USING ERRCODE = 'VT002';
EXCEPTION WHEN SQLSTATE 'VT002' THEN
    RETURN n;
END $$;
SELECT t.ddl_count(format('ALTER EXTENSION vmm_upgrade UPDATE TO %L', '0.6+' || vmm_upgrade.release())) AS library,
       t.ddl_count('ALTER EXTENSION vmm_upgrade UPDATE TO ''0.5.2''') AS commands \gset
SELECT :commands - :library > 40 AS many_commands;
-- The statements of src/scripts/update-0.6--0.5.2.sql after the library, as
-- one function (each ALTER EXTENSION would re-create the library first).
CREATE FUNCTION t.downgrade_steps() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    s name := vmm_upgrade.mail_schema();
    lost jsonb;
    r jsonb;
BEGIN
    PERFORM vmm_upgrade.require_layout('0.6', NULL, s, 'the preflight of the test');
    PERFORM vmm_upgrade._require_safe_tables(s, 'test');
    lost := vmm_upgrade._require_downgradable(s, vmm_upgrade._downgrade_discard_setting(), 'test');
    r := vmm_upgrade._downgrade_0_6_to_0_5_2(s, vmm_upgrade._downgrade_lookups(s));
    r := r || jsonb_build_object('granted', to_jsonb(vmm_upgrade._downgrade_grants(s)));
    PERFORM vmm_upgrade.require_layout('0.5.2', r->>'to_dovecot', s, 'the postflight of the test');
    PERFORM vmm_upgrade._record(s, '0.6', '0.5.2', r->>'from_dovecot', r->>'to_dovecot',
                                statement_timestamp(), (r->>'users')::bigint, (r->>'domains')::bigint,
                                r || jsonb_build_object('step', 'downgrade', 'discarded', lost));
END $$;
-- (the same commands, but for the eight views made members of the
-- extension by CREATE VIEW in the script, and handed over by ALTER
-- EXTENSION DROP VIEW)
SELECT commands + 8 = :commands - :library AS same_commands, failed = commands AS all_failed,
       unchanged = commands AS all_unchanged
  FROM t.fail_each('SELECT t.downgrade_steps()', 'f11');
-- and ALTER EXTENSION itself, failing at the first command after the
-- library, in the middle and at the last
CREATE TABLE t.sweep (n integer, failed boolean);
SELECT t.snapshot('f11') AS f11_before, (SELECT count(*) FROM vmm_upgrade.history) AS history_before \gset
SELECT format('%s,%s,%s,%s', :library, :library + 1, (:library + :commands) / 2, :commands) AS points \gset
SET t.points = :'points';
DO $$
DECLARE
    i integer;
BEGIN
    FOREACH i IN ARRAY string_to_array(current_setting('t.points'), ',')::integer[] LOOP
        BEGIN
            PERFORM set_config('t.fail_at', i::text, false), set_config('t.ddl', '0', false);
            ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
            INSERT INTO t.sweep VALUES (i, false);
        EXCEPTION WHEN SQLSTATE 'VT001' THEN
            INSERT INTO t.sweep VALUES (i, true);
        END;
    END LOOP;
    PERFORM set_config('t.fail_at', '0', false);
END $$;
SELECT count(*) AS attempts, bool_and(failed) AS all_failed,
       t.snapshot('f11') = :'f11_before' AS unchanged,
       (SELECT count(*) FROM vmm_upgrade.history) = :history_before AS history_unchanged,
       (SELECT split_part(extversion, '+', 1) FROM pg_extension WHERE extname = 'vmm_upgrade') AS version
  FROM t.sweep;
DROP EVENT TRIGGER t_fail_at_nth;
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
RESET client_min_messages;
SELECT local_part, smtp, pop3, imap, managesieve, tid FROM f11.users ORDER BY uid;
-- 4. The grants of the way back with a Postfix role that does not exist:
-- the 0.6 grants of the Dovecot role taken back, SELECT on the Dovecot
-- views granted; the WARNING is the one of the 0.4 -> 0.5.2 step (one
-- 0.5.2 grant, _grant_0_5_2).
BEGIN;
SET LOCAL vmm_upgrade.postfix_role = regress_vmm_down_nosuch;
SELECT unnest(vmm_upgrade._downgrade_grants('f11')) AS statement;
ROLLBACK;
\c contrib_regression
DROP DATABASE vmm_t_downgrade;
DROP ROLE regress_vmm_down_dovecot;
DROP ROLE regress_vmm_down_postfix;
