-- test/pgtap/dovecot_switch.sql - upgrade_dovecot_layout() makes the same
-- Dovecot >= 1.2 objects as the 0.5.2 -> 0.6 upgrade does for that variant
-- (the quota merge trigger and the lookup functions are written twice, in
-- upgrade.sql and lib-0.6.sql: this catches the two drifting apart), and the
-- merge trigger it installs behaves as Dovecot's dict quota needs.
\set ECHO none
\set QUIET on
SET client_min_messages = warning;
\set schema u52
\set dovecot 1.2
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\set schema s11
\set dovecot 1.1
\set release 0.6.2
\i test/fixtures/vmm-0.6.sql
SET search_path = s11, pg_catalog;
INSERT INTO s11.domain_data (gid, domaindir) VALUES (70000, '/srv/mail/0');
INSERT INTO s11.domain_name VALUES ('example.org', 70000, true);
INSERT INTO s11.users (local_part, passwd, uid, gid) VALUES ('ann', '{PLAIN}a', 70000, 70000), ('bob', '{PLAIN}b', 70001, 70000);
INSERT INTO s11.userquota_11 VALUES (70000, 'quota/storage', 100), (70000, 'quota/messages', 2);
RESET search_path;
SET vmm_upgrade.schema = s11;
CREATE EXTENSION vmm_upgrade;
RESET client_min_messages;

BEGIN;
SELECT plan(12);
SET LOCAL client_min_messages = error;
DO $$
BEGIN
    PERFORM vmm_upgrade._upgrade_0_5_2_to_0_6('u52', '1.2');
    PERFORM vmm_upgrade.upgrade_dovecot_layout();
END $$;
RESET client_min_messages;

SELECT is_empty($$SELECT * FROM vmm_upgrade.check_layout('0.6', '1.2', 'u52')$$, 'the 0.5.2 -> 0.6 upgrade gives the exact 1.2 layout');
SELECT is_empty($$SELECT * FROM vmm_upgrade.check_layout('0.6', '1.2', 's11')$$, 'the switch gives the exact 1.2 layout');

-- The same function bodies (schema name aside) and definitions.
CREATE TEMP TABLE defs AS
SELECT n.nspname AS s, p.proname,
       replace(pg_get_functiondef(p.oid), n.nspname, '@s@') AS def
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname IN ('u52', 's11') AND p.proname NOT IN ('domain_primary_trigger');
SELECT is((SELECT def FROM defs WHERE s = 's11' AND proname = 'merge_userquota'),
          (SELECT def FROM defs WHERE s = 'u52' AND proname = 'merge_userquota'),
          'merge_userquota() is the one the 0.5.2 -> 0.6 upgrade creates');
SELECT is_empty($$SELECT proname, def FROM defs WHERE s = 's11' EXCEPT SELECT proname, def FROM defs WHERE s = 'u52'$$,
                'every function of the switched schema is defined as in the upgraded one');
SELECT is_empty($$SELECT proname, def FROM defs WHERE s = 'u52' EXCEPT SELECT proname, def FROM defs WHERE s = 's11'$$,
                'and the other way round');
SELECT is((SELECT string_agg(format('%s %s', t.tgname, replace(pg_get_triggerdef(t.oid), 's11.', '@s@.')), ',')
             FROM pg_trigger t WHERE t.tgrelid = 's11.userquota'::regclass AND NOT t.tgisinternal),
          (SELECT string_agg(format('%s %s', t.tgname, replace(pg_get_triggerdef(t.oid), 'u52.', '@s@.')), ',')
             FROM pg_trigger t WHERE t.tgrelid = 'u52.userquota'::regclass AND NOT t.tgisinternal),
          'the same trigger on userquota');
SELECT is((SELECT relowner::regrole::text FROM pg_class WHERE oid = 's11.userquota'::regclass),
          (SELECT relowner::regrole::text FROM pg_class WHERE oid = 's11.users'::regclass),
          'userquota is owned by the owner of users');

-- The merge trigger after the switch: deltas add up, a first delta makes
-- the row, a uid without an account counts nothing (and is no error).
SELECT results_eq($$SELECT uid, bytes, messages FROM s11.userquota ORDER BY uid$$,
                  $$VALUES (70000::bigint, 100::bigint, 2)$$, 'carried: 100 bytes, 2 messages');
INSERT INTO s11.userquota (uid, bytes, messages) VALUES (70000, 50, 1);
SELECT results_eq($$SELECT bytes, messages FROM s11.userquota WHERE uid = 70000$$,
                  $$VALUES (150::bigint, 3)$$, 'a delta is added to the carried row');
INSERT INTO s11.userquota (uid, bytes, messages) VALUES (70001, 7, 0);
SELECT results_eq($$SELECT bytes, messages FROM s11.userquota WHERE uid = 70001$$,
                  $$VALUES (7::bigint, 0)$$, 'a first delta makes the row');
SELECT lives_ok($$INSERT INTO s11.userquota (uid, bytes, messages) VALUES (99999, 1, 1)$$,
                'a delta for a uid without an account is no error');
SELECT is((SELECT count(*)::integer FROM s11.userquota WHERE uid = 99999), 0, 'and counts nothing');

SELECT * FROM finish();
ROLLBACK;
