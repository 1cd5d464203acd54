--
-- vmm 0.6.0 databases: CREATE EXTENSION vmm_upgrade VERSION '0.6.0' adopts
-- them, ALTER EXTENSION vmm_upgrade UPDATE fixes the two 0.6.0 defects
-- (accounts on the transport named "domain"; dovecotpassword() giving no
-- row to an account with a NULL ssid in the Dovecot 1.1 variant), plain
-- CREATE EXTENSION refuses them; a correct 0.6 database is adopted with its
-- lookup functions left alone until replace_lookup_functions().
--
CREATE DATABASE vmm_t_v060_update;
\c vmm_t_v060_update
\set SHOW_CONTEXT never
\set ECHO none
\i test/include/snapshot.sql
\set schema m11
\set dovecot 1.1
\set release 0.6.0
\i test/fixtures/vmm-0.6.sql
\set schema m12
\set dovecot 1.2
\set release 0.6.0
\i test/fixtures/vmm-0.6.sql
\set schema m62
\set dovecot 1.2
\set release 0.6.2
\i test/fixtures/vmm-0.6.sql
\set ECHO all
-- A small mail system: two domains (one with an alias domain), accounts
-- with and without a service set of their own (ssid NULL: the domain's),
-- on the transport row named "domain" (vmm 0.6.0's usertransport), on
-- another transport, or inheriting.
CREATE FUNCTION t.populate(s name) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('search_path', quote_ident(s) || ', pg_catalog', true);
	EXECUTE format($q$
	INSERT INTO %1$I.transport (tid, transport) VALUES (2, 'domain'), (3, 'smtp:[relay.example.com]');
	INSERT INTO %1$I.domain_data (gid, ssid, tid, domaindir) VALUES
		(70000, 3, 1, '/srv/mail/0'), (70001, 1, 3, '/srv/mail/1');
	INSERT INTO %1$I.domain_name (domainname, gid, is_primary) VALUES
		('example.org', 70000, true), ('example.net', 70000, false), ('example.com', 70001, true);
	INSERT INTO %1$I.users (local_part, passwd, uid, gid, ssid, tid) VALUES
		('ann', '{PLAIN}a', 70000, 70000, NULL, 2),
		('bob', '{PLAIN}b', 70001, 70000, 9, NULL),
		('cid', '{PLAIN}c', 70002, 70000, NULL, 3),
		('dan', '{PLAIN}d', 70003, 70001, NULL, 2),
		('eve', '{PLAIN}e', 70004, 70001, 16, 1)$q$, s);
END $$;
-- Every account under every name of its domain, as Dovecot's passdb sees
-- it (vmm's own functions name their tables without a schema).
CREATE FUNCTION t.logins(s name)
RETURNS TABLE (userid text, password text, services jsonb, transport text)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('search_path', quote_ident(s) || ', pg_catalog', true);
	RETURN QUERY EXECUTE format($q$
		SELECT u.local_part || '@' || n.domainname, r.password::text,
		       to_jsonb(r) - 'userid' - 'password', t.transport::text
		  FROM %1$I.users u
		  JOIN %1$I.domain_name n USING (gid)
		  LEFT JOIN LATERAL %1$I.dovecotpassword(u.local_part, n.domainname) r ON true
		  LEFT JOIN LATERAL %1$I.postfix_transport_map(u.local_part, n.domainname) t ON true
		 ORDER BY 1$q$, s);
END $$;
CREATE FUNCTION t.sequences(s name) RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(format('%s=%s', sequencename, coalesce(last_value, 0)), ' ' ORDER BY sequencename)
	  FROM pg_sequences WHERE schemaname = s
$$;
SELECT t.populate('m11'), t.populate('m12'), t.populate('m62');
SELECT t.snapshot('m11') AS m11_before, t.snapshot('m12') AS m12_before,
       t.snapshot('m62') AS m62_before, t.sequences('m11') AS m11_seq \gset
--
-- 1. vmm 0.6.0, Dovecot 1.1 variant: both defects.
--
-- The login defect: ann and cid (ssid NULL) get no row from dovecotpassword,
-- so Dovecot cannot log them in; ann's transport is the row named "domain".
SELECT * FROM t.logins('m11');
SET vmm_upgrade.schema = m11;
-- Accounts on the transport named "domain" may be vmm 0.6.0's mistake or a
-- real transport: the data cannot tell, so version 0.6 asks, giving both
-- answers.
CREATE EXTENSION vmm_upgrade;
-- Told it is the mistake, version 0.6 refuses it, naming both defects, and
-- says what to type.
SET vmm_upgrade.transport_domain = inherit;
CREATE EXTENSION vmm_upgrade;
-- Version 0.6.0 adopts it and records the defects it found (read from the
-- data and from dovecotpassword()'s definition, which is never called);
-- nothing in the mail schema changed, no sequence moved.
CREATE EXTENSION vmm_upgrade VERSION '0.6.0';
SELECT t.snapshot('m11') = :'m11_before' AS unchanged, t.sequences('m11') = :'m11_seq' AS sequences_unchanged;
SELECT from_version, to_version, from_dovecot, jsonb_pretty(details) FROM vmm_upgrade.history;
SELECT * FROM vmm_upgrade.check_0_6_0_defects();
-- The update fixes both and says so.
SELECT now() AS update_began \gset
ALTER EXTENSION vmm_upgrade UPDATE;
SELECT split_part(extversion, '+', 1) AS extversion FROM pg_extension WHERE extname = 'vmm_upgrade';
SELECT from_version, to_version, from_dovecot, to_dovecot, users_changed,
       duration IS NOT NULL AS timed,
       started_at >= :'update_began' AND started_at + duration BETWEEN started_at AND now() AS during_update,
       jsonb_pretty(details)
  FROM vmm_upgrade.history WHERE id > 1;
-- ann and dan inherit their domain's transport now; the row "domain" stays.
SELECT local_part, ssid, tid FROM m11.users ORDER BY uid;
SELECT * FROM m11.transport ORDER BY tid;
-- Everyone can log in; an account with a NULL ssid gets its domain's
-- services (example.org: set 3, pop3 off), and so through the alias domain.
SELECT * FROM t.logins('m11');
SELECT * FROM vmm_upgrade.check_layout('0.6', '1.1', 'm11');
SELECT * FROM vmm_upgrade.check_0_6_0_defects();
SELECT t.sequences('m11') = :'m11_seq' AS sequences_unchanged;
-- Our bodies, owned by the owner of users, not extension members.
SELECT p.proname, p.proowner::regrole AS owner,
       pg_get_functiondef(p.oid) LIKE '%OPERATOR(pg_catalog.%' AS qualified,
       EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                 AND d.deptype = 'e') AS member
  FROM pg_proc p WHERE p.pronamespace = 'm11'::regnamespace ORDER BY 1;
-- Re-running is harmless: the fixed database is now adopted by plain
-- CREATE EXTENSION; adopting it at 0.6.0 and updating again fixes nothing
-- and changes nothing.
SELECT t.snapshot('m11') AS m11_fixed \gset
DROP EXTENSION vmm_upgrade;
CREATE EXTENSION vmm_upgrade;
DROP EXTENSION vmm_upgrade;
CREATE EXTENSION vmm_upgrade VERSION '0.6.0';
ALTER EXTENSION vmm_upgrade UPDATE;
SELECT users_changed, details->>'dovecotpassword_before' AS before FROM vmm_upgrade.history WHERE id > 1;
SELECT t.snapshot('m11') = :'m11_fixed' AS unchanged;
DROP EXTENSION vmm_upgrade;
--
-- 2. vmm 0.6.0, Dovecot 1.2 variant: only the transport defect; the lookup
-- functions are replaced all the same.
--
SET vmm_upgrade.schema = m12;
SELECT * FROM t.logins('m12');
CREATE EXTENSION vmm_upgrade;
SELECT t.snapshot('m12') = :'m12_before' AS unchanged;
-- Privileges of the DBA's on the lookup functions survive the update, and
-- are not taken for the extension's initial privileges (which pg_dump would
-- leave out).
CREATE ROLE regress_vmm_v060_dovecot;
REVOKE EXECUTE ON FUNCTION m12.dovecotpassword(varchar, varchar) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION m12.dovecotpassword(varchar, varchar) TO regress_vmm_v060_dovecot;
CREATE EXTENSION vmm_upgrade VERSION '0.6.0';
ALTER EXTENSION vmm_upgrade UPDATE;
SELECT has_function_privilege('regress_vmm_v060_dovecot', 'm12.dovecotpassword(varchar, varchar)', 'EXECUTE') AS dovecot_may,
       has_function_privilege('public', 'm12.dovecotpassword(varchar, varchar)', 'EXECUTE') AS public_may,
       (SELECT count(*) FROM pg_init_privs ip JOIN pg_proc p ON ip.classoid = 'pg_proc'::regclass AND p.oid = ip.objoid
         WHERE p.pronamespace = 'm12'::regnamespace) AS initial_privileges;
\setenv VMM_V060_DB vmm_t_v060_update
\! pg_dump --no-password -n m12 -d "$VMM_V060_DB" | grep -E '^(GRANT|REVOKE).*dovecotpassword'
DROP OWNED BY regress_vmm_v060_dovecot;
DROP ROLE regress_vmm_v060_dovecot;
SELECT local_part, ssid, tid FROM m12.users ORDER BY uid;
SELECT * FROM t.logins('m12');
SELECT * FROM vmm_upgrade.check_layout('0.6', '1.2', 'm12');
-- (all but _interpolate_destination, an SQL expression that is deparsed)
SELECT count(*) FILTER (WHERE pg_get_functiondef(oid) LIKE '%OPERATOR(pg_catalog.%') AS ours, count(*) AS functions
  FROM pg_proc WHERE pronamespace = 'm12'::regnamespace AND proname NOT LIKE 'merge%' AND proname NOT LIKE '%trigger';
DROP EXTENSION vmm_upgrade;
--
-- 3. A correct 0.6 database (vmm 0.6.2): adopted by CREATE EXTENSION, its
-- lookup functions left as they are until the DBA asks for ours.
--
SET vmm_upgrade.schema = m62;
UPDATE m62.users SET tid = NULL WHERE tid = 2;
SELECT t.snapshot('m62') AS m62_before \gset
SELECT md5(string_agg(prosrc, '' ORDER BY proname)) AS m62_bodies
  FROM pg_proc WHERE pronamespace = 'm62'::regnamespace \gset
CREATE EXTENSION vmm_upgrade;
SELECT t.snapshot('m62') = :'m62_before' AS unchanged;
SELECT * FROM vmm_upgrade.check_0_6_0_defects();
SELECT * FROM t.logins('m62');
-- A privilege set by the DBA on a lookup function survives the replacement.
CREATE ROLE regress_vmm_v060_reader;
REVOKE EXECUTE ON FUNCTION m62.dovecotpassword(varchar, varchar) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION m62.dovecotpassword(varchar, varchar) TO regress_vmm_v060_reader;
SELECT vmm_upgrade.replace_lookup_functions();
SELECT md5(string_agg(prosrc, '' ORDER BY proname)) = :'m62_bodies' AS same_bodies
  FROM pg_proc WHERE pronamespace = 'm62'::regnamespace;
SELECT has_function_privilege('regress_vmm_v060_reader', 'm62.dovecotpassword(varchar, varchar)', 'EXECUTE') AS reader_may,
       has_function_privilege('public', 'm62.dovecotpassword(varchar, varchar)', 'EXECUTE') AS public_may,
       has_function_privilege('public', 'm62.dovecotuser(varchar, varchar)', 'EXECUTE') AS public_may_dovecotuser;
SELECT * FROM t.logins('m62');
SELECT * FROM vmm_upgrade.check_layout('0.6', '1.2', 'm62');
SELECT from_version, to_version, from_dovecot, to_dovecot, details->>'step' AS step,
       details->>'objects_replaced' AS replaced
  FROM vmm_upgrade.history ORDER BY id;
-- Again: harmless, same bodies.
SELECT t.snapshot('m62') AS m62_ours \gset
SELECT vmm_upgrade.replace_lookup_functions();
SELECT t.snapshot('m62') = :'m62_ours' AS unchanged;
DROP EXTENSION vmm_upgrade;
DROP OWNED BY regress_vmm_v060_reader;
DROP ROLE regress_vmm_v060_reader;
\c contrib_regression
DROP DATABASE vmm_t_v060_update;
