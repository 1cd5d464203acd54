-- test/pgtap/extension.sql - the structure of the extension itself, and
-- that every fixture is exactly its layout (check_layout returns no rows).
\set ECHO none
\set QUIET on
SET client_min_messages = warning;
\set schema l052_11
\set dovecot 1.1
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\set schema l052_12
\set dovecot 1.2
\i test/fixtures/vmm-0.5.2.sql
\set schema l052_11_lookups
\set dovecot 1.1
\set lookups true
\i test/fixtures/vmm-0.5.2.sql
\set schema l052_12_lookups
\set dovecot 1.2
\i test/fixtures/vmm-0.5.2.sql
\set schema l06_11
\set dovecot 1.1
\i test/fixtures/vmm-0.6.sql
\set schema l06_12
\set dovecot 1.2
\i test/fixtures/vmm-0.6.sql
\set schema l04_release
\set form release
\i test/fixtures/vmm-0.4.sql
\set schema l04_r41
\set form r41
\i test/fixtures/vmm-0.4.sql
SET vmm_upgrade.schema = l052_12;
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
RESET client_min_messages;

BEGIN;
SELECT plan(35);

-- The control file: default 0.6, own schema, not relocatable, versions.
SELECT is((SELECT default_version FROM pg_available_extensions WHERE name = 'vmm_upgrade'),
          '0.6+' || vmm_upgrade.release(), 'default version is layout 0.6 of this release (the file VERSION)');
SELECT is((SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'vmm_upgrade'),
          'vmm_upgrade', 'extension lives in schema vmm_upgrade');
SELECT is((SELECT extrelocatable FROM pg_extension WHERE extname = 'vmm_upgrade'),
          false, 'extension is not relocatable');
SELECT ok((SELECT array_agg(version::text) FROM pg_available_extension_versions
            WHERE name = 'vmm_upgrade') @> ARRAY['0.4', '0.5.2', '0.6.0', '0.6', '0.4+' || vmm_upgrade.release(),
                                                 '0.5.2+' || vmm_upgrade.release(),
                                                 '0.6.0+' || vmm_upgrade.release(), '0.6+' || vmm_upgrade.release()],
          'versions 0.4, 0.5.2, 0.6.0 and 0.6 are available, also as this release''s');

-- The validator's API.
SELECT has_function('vmm_upgrade', 'mail_schema', ARRAY['name'], 'mail_schema(name) exists');
SELECT has_function('vmm_upgrade', 'detect_layout', ARRAY['name'], 'detect_layout(name) exists');
SELECT has_function('vmm_upgrade', 'check_layout', ARRAY['text', 'text', 'name'], 'check_layout(text, text, name) exists');
SELECT has_function('vmm_upgrade', 'require_layout', ARRAY['text', 'text', 'name', 'text'], 'require_layout exists');
SELECT function_lang_is('vmm_upgrade', 'check_layout', ARRAY['text', 'text', 'name'], 'c', 'check_layout is written in C');
SELECT function_lang_is('vmm_upgrade', 'detect_layout', ARRAY['name'], 'c', 'detect_layout is written in C');
SELECT volatility_is('vmm_upgrade', 'check_layout', ARRAY['text', 'text', 'name'], 'stable', 'check_layout is STABLE');
SELECT is(pg_get_function_result('vmm_upgrade.check_layout(text, text, name)'::regprocedure),
          'SETOF record', 'check_layout returns a set');
SELECT is(pg_get_function_arguments('vmm_upgrade.check_layout(text, text, name)'::regprocedure),
          'version text, dovecot text DEFAULT NULL::text, mail_schema name DEFAULT NULL::name, OUT object text, OUT problem text',
          'check_layout(version, dovecot DEFAULT NULL, mail_schema DEFAULT NULL) -> (object, problem)');
SELECT is(pg_get_function_arguments('vmm_upgrade.detect_layout(name)'::regprocedure),
          'mail_schema name DEFAULT NULL::name, OUT mail_schema name, OUT version text, OUT dovecot text, OUT lookups boolean',
          'detect_layout(mail_schema DEFAULT NULL) -> (mail_schema, version, dovecot, lookups)');

-- The settings exist (registered by the library) with their defaults.
SELECT is(current_setting('vmm_upgrade.dovecot_role'), 'dovecot', 'vmm_upgrade.dovecot_role defaults to dovecot');
SELECT is(current_setting('vmm_upgrade.postfix_role'), 'postfix', 'vmm_upgrade.postfix_role defaults to postfix');
SELECT is(current_setting('vmm_upgrade.dovecot_version'), '', 'vmm_upgrade.dovecot_version defaults to empty');
SELECT is((SELECT boot_val FROM pg_settings WHERE name = 'vmm_upgrade.schema'), 'public',
          'vmm_upgrade.schema defaults to public');
SELECT throws_ok($$SET vmm_upgrade.no_such_setting = 1$$, '42602', NULL,
                 'the vmm_upgrade prefix is reserved: unknown settings are errors');

-- The history is an ordinary table, no member of the extension: DROP
-- EXTENSION keeps it, pg_dump dumps it like any table.
SELECT has_table('vmm_upgrade', 'history', 'history table exists');
SELECT is((SELECT count(*)::integer FROM pg_depend d
            WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
              AND d.classid = 'pg_class'::regclass
              AND d.objid IN ('vmm_upgrade.history'::regclass, 'vmm_upgrade.history_id_seq'::regclass)),
          0, 'history is no member of the extension (DROP EXTENSION keeps it, pg_dump dumps it)');
SELECT columns_are('vmm_upgrade', 'history',
                   ARRAY['id', 'mail_schema', 'from_version', 'to_version', 'from_dovecot', 'to_dovecot',
                         'started_at', 'duration', 'users_changed', 'domains_changed', 'performed_by', 'details',
                         'release'],
                   'history records from, to, variants, when, how long, what changed, by whom');

-- Installing changed nothing in the mail schema: no member lives there.
SELECT is((SELECT count(*)::integer FROM pg_depend d
             JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vmm_upgrade'
            WHERE d.deptype = 'e' AND d.classid = 'pg_class'::regclass
              AND (SELECT relnamespace FROM pg_class WHERE oid = d.objid) <> 'vmm_upgrade'::regnamespace),
          0, 'no relation outside schema vmm_upgrade belongs to the extension');

-- Every fixture is exactly its layout.
SELECT is_empty($$SELECT * FROM vmm_upgrade.check_layout('0.5.2', '1.1', 'l052_11')$$, '0.5.2 Dovecot 1.1 fixture is exact');
SELECT is_empty($$SELECT * FROM vmm_upgrade.check_layout('0.5.2', '1.2', 'l052_12')$$, '0.5.2 Dovecot 1.2 fixture is exact');
SELECT is_empty($$SELECT * FROM vmm_upgrade.check_layout('0.5.2', '1.1', 'l052_11_lookups')$$, '0.5.2 Dovecot 1.1 + lookups fixture is exact');
SELECT is_empty($$SELECT * FROM vmm_upgrade.check_layout('0.5.2', '1.2', 'l052_12_lookups')$$, '0.5.2 Dovecot 1.2 + lookups fixture is exact');
SELECT is_empty($$SELECT * FROM vmm_upgrade.check_layout('0.6', '1.1', 'l06_11')$$, '0.6 Dovecot 1.1 fixture is exact');
SELECT is_empty($$SELECT * FROM vmm_upgrade.check_layout('0.6', '1.2', 'l06_12')$$, '0.6 Dovecot 1.2 fixture is exact');
SELECT is_empty($$SELECT * FROM vmm_upgrade.check_layout('0.4', '1.1', 'l04_release')$$, '0.4 fixture, as released, is exact');
SELECT is_empty($$SELECT * FROM vmm_upgrade.check_layout('0.4-r41', NULL, 'l04_r41')$$, '0.4-r41 fixture is exact');
SELECT isnt_empty($$SELECT * FROM vmm_upgrade.check_layout('0.6', '1.2', 'l052_12')$$, 'a 0.5.2 fixture is not 0.6');

-- Errors carry an errcode.
SELECT throws_ok($$SELECT * FROM vmm_upgrade.check_layout('0.5.2', NULL, 'nope')$$, '3F000',
                 'mail schema "nope" does not exist', 'a missing schema is undefined_schema');
SELECT throws_ok($$SELECT * FROM vmm_upgrade.check_layout('1.0')$$, '22023',
                 'unknown vmm layout version "1.0"', 'an unknown version is invalid_parameter_value');
SELECT throws_ok($$SELECT * FROM vmm_upgrade.check_layout('0.6', '3')$$, '22023',
                 'unknown Dovecot variant "3"', 'an unknown variant is invalid_parameter_value');

SELECT * FROM finish();
ROLLBACK;
