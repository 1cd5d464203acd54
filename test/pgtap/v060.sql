-- test/pgtap/v060.sql - the 0.6 steps' API (check_0_6_0_defects,
-- replace_lookup_functions, upgrade_dovecot_layout, version 0.6.0 and its
-- update), the dovecotpassword probe (by behaviour, leaves nothing, moves no
-- sequence), errcodes, pinned search_path, planted operators never called.
\set ECHO none
\set QUIET on
SET client_min_messages = warning;
\set schema f11
\set dovecot 1.1
\set release 0.6.0
\i test/fixtures/vmm-0.6.sql
\set schema f12
\set dovecot 1.2
\set release 0.6.2
\i test/fixtures/vmm-0.6.sql
\set schema hj
\set dovecot 1.1
\set release 0.6.2
\i test/fixtures/vmm-0.6.sql
\set schema f052
\set dovecot 1.2
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\set schema 'Mail "0.6"; x'
\set dovecot 1.1
\set release 0.6.0
\i test/fixtures/vmm-0.6.sql
CREATE FUNCTION pg_temp.populate(s name) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('search_path', quote_ident(s) || ', pg_catalog', true);
	EXECUTE format($q$
	INSERT INTO %1$I.transport (tid, transport) VALUES (2, 'domain');
	INSERT INTO %1$I.domain_data (gid, ssid, domaindir) VALUES (70000, 3, '/srv/mail/0');
	INSERT INTO %1$I.domain_name (domainname, gid, is_primary) VALUES ('example.org', 70000, true);
	INSERT INTO %1$I.users (local_part, passwd, uid, gid, ssid, tid) VALUES
		('ann', '{PLAIN}a', 70000, 70000, NULL, NULL), ('bob', '{PLAIN}b', 70001, 70000, 9, NULL)$q$, s);
END $$;
SELECT pg_temp.populate('f11'), pg_temp.populate('f12'), pg_temp.populate('hj'),
       pg_temp.populate('Mail "0.6"; x');
RESET search_path;
SET vmm_upgrade.schema = f12;
CREATE EXTENSION vmm_upgrade;
RESET client_min_messages;

BEGIN;
SELECT plan(35);

-- Versions and update paths.
SELECT ok((SELECT array_agg(version::text) FROM pg_available_extension_versions
            WHERE name = 'vmm_upgrade') @> ARRAY['0.5.2', '0.6.0', '0.6'],
          'versions 0.5.2, 0.6.0 and 0.6 are available');
SELECT is((SELECT path FROM pg_extension_update_paths('vmm_upgrade') WHERE source = '0.6.0' AND target = '0.6'),
          '0.6.0--0.6', '0.6.0 updates to 0.6 in one step');

-- The public API.
SELECT has_function('vmm_upgrade', 'check_0_6_0_defects', ARRAY['name'], 'check_0_6_0_defects(name) exists');
SELECT is(pg_get_function_arguments('vmm_upgrade.check_0_6_0_defects(name)'::regprocedure),
          'mail_schema name DEFAULT NULL::name, OUT defect text, OUT present boolean, OUT detail text',
          'check_0_6_0_defects(mail_schema DEFAULT NULL) -> (defect, present, detail)');
SELECT function_returns('vmm_upgrade', 'replace_lookup_functions', ARRAY[]::text[], 'text',
                        'replace_lookup_functions() returns a summary');
SELECT function_returns('vmm_upgrade', 'upgrade_dovecot_layout', ARRAY[]::text[], 'text',
                        'upgrade_dovecot_layout() returns a summary');

-- Every plpgsql/sql function of the extension pins search_path and none is
-- SECURITY DEFINER.  (Asked of schema vmm_upgrade, where every function of
-- the extension is.)
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p
      JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
      JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vmm_upgrade'
     WHERE p.pronamespace <> 'vmm_upgrade'::regnamespace$$,
    'every function of the extension is in schema vmm_upgrade');
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p
     WHERE p.pronamespace = 'vmm_upgrade'::regnamespace
       AND p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c')
       AND NOT (coalesce(p.proconfig, '{}') @> ARRAY['search_path=pg_catalog, pg_temp'])$$,
    'every SQL and PL/pgSQL function of the extension pins search_path to pg_catalog, pg_temp');
SELECT is((SELECT count(*)::integer FROM pg_proc WHERE pronamespace = 'vmm_upgrade'::regnamespace AND prosecdef),
          0, 'no function of the extension is SECURITY DEFINER');

-- The 0.6.0 login defect, read from dovecotpassword()'s definition.
SELECT is(vmm_upgrade._dovecotpassword_defect('f11'), 'defective',
          'vmm 0.6.0''s Dovecot 1.1 dovecotpassword is defective');
SELECT is(vmm_upgrade._dovecotpassword_defect('f12'), 'no defect found', 'a 0.6.2 dovecotpassword is not');
SELECT is(vmm_upgrade._dovecotpassword_defect('hj'), 'no defect found', 'a 0.6.2 Dovecot 1.1 dovecotpassword is not');
-- The form vmm 0.6.0 wrote it in (a comma join, the services chosen by a
-- CASE, and a plain condition on users.ssid besides), and 0.6.1's (without
-- that condition).  Our own text of the same shape.
SAVEPOINT forms;
CREATE OR REPLACE FUNCTION f12.dovecotpassword(localpart varchar, the_domain varchar)
RETURNS SETOF f12.dovecotpassword LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE
    r f12.dovecotpassword;
BEGIN
    FOR r IN SELECT localpart || '@' || the_domain, passwd, smtp, pop3, imap, sieve
               FROM f12.users, f12.service_set, f12.domain_data
              WHERE users.gid = (SELECT gid FROM f12.domain_name WHERE domainname = the_domain)
                AND local_part = localpart
                AND Service_Set.ssid = USERS.ssid   /* the defect */
                AND users.gid = domain_data.gid
                AND CASE WHEN users.ssid IS NOT NULL THEN service_set.ssid = users.ssid
                         ELSE service_set.ssid = domain_data.ssid END
    LOOP
        RETURN NEXT r;
    END LOOP;
END $$;
SELECT is(vmm_upgrade._dovecotpassword_defect('f12'), 'defective', 'the condition outside the CASE is found');
SELECT is((SELECT present FROM vmm_upgrade.check_0_6_0_defects('f12') WHERE defect LIKE 'dovecotpassword%'),
          true, 'check_0_6_0_defects reports it as present');
CREATE OR REPLACE FUNCTION f12.dovecotpassword(localpart varchar, the_domain varchar)
RETURNS SETOF f12.dovecotpassword LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE
    r f12.dovecotpassword;
BEGIN
    FOR r IN SELECT localpart || '@' || the_domain, passwd, smtp, pop3, imap, sieve
               FROM f12.users, f12.service_set, f12.domain_data
              WHERE users.gid = (SELECT gid FROM f12.domain_name WHERE domainname = the_domain)
                AND local_part = localpart
                AND users.gid = domain_data.gid
                -- service_set.ssid = users.ssid only inside the CASE
                AND CASE WHEN users.ssid IS NOT NULL THEN service_set.ssid = users.ssid
                         ELSE service_set.ssid = domain_data.ssid END
    LOOP
        RETURN NEXT r;
    END LOOP;
END $$;
SELECT is(vmm_upgrade._dovecotpassword_defect('f12'), 'no defect found', 'inside the CASE it is no defect');
-- A body that raises when called: the check does not call it.
CREATE OR REPLACE FUNCTION f12.dovecotpassword(localpart varchar, the_domain varchar)
RETURNS SETOF f12.dovecotpassword LANGUAGE plpgsql STABLE STRICT AS $$
BEGIN
    RAISE EXCEPTION 'dovecotpassword() was called';
END $$;
SELECT lives_ok('SELECT * FROM vmm_upgrade.check_0_6_0_defects(''f12'')',
                'check_0_6_0_defects never calls dovecotpassword()');
ROLLBACK TO SAVEPOINT forms;
SELECT is(vmm_upgrade._dovecotpassword_defect('public'), 'missing', 'a schema without the function: missing');
-- Defect 1 counted.
SELECT is(vmm_upgrade._domain_transport_users('f11'), 0::bigint, 'no account on the transport "domain" yet');
UPDATE f11.users SET tid = 2 WHERE local_part = 'ann';
SELECT is(vmm_upgrade._domain_transport_users('f11'), 1::bigint, 'an account on the transport "domain" is counted');

-- Errcodes.
SET LOCAL vmm_upgrade.schema = f12;
SELECT throws_ok('SELECT vmm_upgrade.upgrade_dovecot_layout()', '55000',
                 'schema "f12" already holds the Dovecot >= 1.2 variant of the vmm 0.6 layout',
                 'the switch refuses the 1.2 variant: object_not_in_prerequisite_state');
SET LOCAL vmm_upgrade.schema = f052;
SELECT throws_ok('SELECT vmm_upgrade.upgrade_dovecot_layout()', '55000', NULL,
                 'the switch refuses a 0.5.2 layout: object_not_in_prerequisite_state');
SELECT throws_ok('SELECT vmm_upgrade.replace_lookup_functions()', '55000', NULL,
                 'replace_lookup_functions refuses a 0.5.2 layout: object_not_in_prerequisite_state');
SELECT throws_ok($$SELECT * FROM vmm_upgrade.check_0_6_0_defects('f052')$$, '55000', NULL,
                 'check_0_6_0_defects refuses a 0.5.2 layout');
SET LOCAL vmm_upgrade.schema = hj;
SAVEPOINT dep;
CREATE VIEW hj.dba_quota AS SELECT * FROM hj.userquota_11;
SELECT throws_ok('SELECT vmm_upgrade.upgrade_dovecot_layout()', '2BP01', NULL,
                 'a DBA''s view on userquota_11 stops the switch: dependent_objects_still_exist');
ROLLBACK TO SAVEPOINT dep;
SAVEPOINT dep2;
CREATE FUNCTION hj.dba_login(varchar) RETURNS bigint LANGUAGE sql
BEGIN ATOMIC SELECT count(*) FROM hj.dovecotuser($1, 'example.org'); END;
SELECT throws_ok('SELECT vmm_upgrade.replace_lookup_functions()', '2BP01', NULL,
                 'a DBA''s function using dovecotuser stops replace_lookup_functions');
ROLLBACK TO SAVEPOINT dep2;

-- Planted operators and functions in the mail schema, first on the
-- caller's search_path, are never called by the steps.
SET LOCAL search_path = hj, pg_catalog;
INSERT INTO hj.userquota_11 VALUES (70000, 'quota/storage', 10), (70000, 'quota/messages', 2);
RESET search_path;
CREATE FUNCTION hj.boom(varchar, text) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'planted operator called'; END $$;
CREATE OPERATOR hj.= (LEFTARG = varchar, RIGHTARG = text, FUNCTION = hj.boom);
CREATE FUNCTION hj.boom2(bigint, bigint) RETURNS bigint LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'planted function called'; END $$;
CREATE AGGREGATE hj.sum(bigint) (SFUNC = hj.boom2, STYPE = bigint);
CREATE FUNCTION hj.boom3(bigint) RETURNS bigint LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'planted function called'; END $$;
CREATE AGGREGATE hj.count(*) (SFUNC = hj.boom3, STYPE = bigint);
SET LOCAL search_path = hj, public, pg_catalog;
SET LOCAL client_min_messages = error;
-- vmm's own dovecotpassword() (varchar = varchar) would call the planted
-- operator if it were called: the check reads its definition instead.
SELECT is((SELECT detail FROM vmm_upgrade.check_0_6_0_defects() WHERE defect LIKE 'dovecotpassword%'),
          'dovecotpassword() lets an account with a NULL ssid fall back to its domain''s services',
          'a hijacked vmm dovecotpassword() is read, not called');
SELECT lives_ok($$SELECT vmm_upgrade.replace_lookup_functions()$$, 'replace_lookup_functions with planted objects');
SELECT lives_ok($$SELECT vmm_upgrade.upgrade_dovecot_layout()$$, 'upgrade_dovecot_layout with planted objects');
RESET search_path;
SELECT results_eq($$SELECT uid, bytes, messages FROM hj.userquota$$, $$VALUES (70000::bigint, 10::bigint, 2)$$,
                  'the quota was carried all the same');
SELECT is_empty($$SELECT * FROM vmm_upgrade.check_layout('0.6', '1.2', 'hj')$$, 'and the layout is exact');

-- A mail schema whose name needs quoting: every step names it right.
SET LOCAL vmm_upgrade.schema = 'Mail "0.6"; x';
SET LOCAL client_min_messages = error;
SELECT is((SELECT count(*)::integer FROM vmm_upgrade.check_0_6_0_defects() WHERE present),
          1, 'check_0_6_0_defects in schema Mail "0.6"; x');
SELECT is(vmm_upgrade._fix_0_6_0('Mail "0.6"; x')->>'dovecotpassword_before',
          'defective', 'the 0.6.0 fix in schema Mail "0.6"; x');
SELECT lives_ok($$SELECT vmm_upgrade.replace_lookup_functions()$$, 'replace_lookup_functions in schema Mail "0.6"; x');
SELECT lives_ok($$SELECT vmm_upgrade.upgrade_dovecot_layout()$$, 'upgrade_dovecot_layout in schema Mail "0.6"; x');
SELECT is_empty($$SELECT * FROM vmm_upgrade.check_layout('0.6', '1.2', 'Mail "0.6"; x')$$,
                'schema Mail "0.6"; x holds the exact 1.2 layout');

SELECT * FROM finish();
ROLLBACK;
