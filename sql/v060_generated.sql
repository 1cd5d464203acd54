--
-- The 0.6 steps on generated mail systems (test/fixtures/generate-0.6.sql):
--  * vmm 0.6.0, Dovecot 1.1, 2000 accounts: the 0.6.0 update, then the
--    switch to the Dovecot >= 1.2 variant; for every address under every
--    domain name, dovecotpassword and postfix_transport_map give what the
--    data says (the domain's services and transport where the account
--    inherits), and the quota usage is carried exactly;
--  * vmm 0.6.2, Dovecot 1.2: replace_lookup_functions changes no answer of
--    any lookup function for any address (known, alias, relocated, unknown).
--
CREATE DATABASE vmm_t_v060_generated;
\c vmm_t_v060_generated
\set SHOW_CONTEXT never
\set ECHO none
\i test/include/snapshot.sql
\set schema g11
\set dovecot 1.1
\set release 0.6.0
\i test/fixtures/vmm-0.6.sql
\set users 2000
\i test/fixtures/generate-0.6.sql
\set schema g12
\set dovecot 1.2
\set release 0.6.2
\i test/fixtures/vmm-0.6.sql
\set users 1000
\i test/fixtures/generate-0.6.sql
\set ECHO all
-- What every address must get, computed from the data alone: services of
-- the account's set, else the domain's; transport the account's unless it
-- is the row named "domain" (vmm 0.6.0's mistake), else the domain's.
CREATE TABLE t.expected AS
SELECT u.local_part, n.domainname,
       jsonb_build_object('smtp', s.smtp, 'pop3', s.pop3, 'imap', s.imap, 'sieve', s.managesieve) AS services,
       t.transport::text AS transport
  FROM g11.users u
  JOIN g11.domain_name n ON n.gid = u.gid
  JOIN g11.domain_data d ON d.gid = u.gid
  JOIN g11.service_set s ON s.ssid = coalesce(u.ssid, d.ssid)
  JOIN g11.transport t ON t.tid = CASE WHEN u.tid IN (SELECT tid FROM g11.transport WHERE transport = 'domain')
                                       THEN d.tid ELSE coalesce(u.tid, d.tid) END;
CREATE TABLE t.expected_quota AS
SELECT uid, coalesce(sum(current) FILTER (WHERE path = 'quota/storage'), 0) AS bytes,
       coalesce(sum(current) FILTER (WHERE path = 'quota/messages'), 0) AS messages
  FROM g11.userquota_11 GROUP BY uid;
SELECT count(*) AS addresses, count(DISTINCT local_part || '@' || domainname) AS distinct_addresses
  FROM t.expected;
SELECT (SELECT count(*) FROM g11.users WHERE ssid IS NULL) AS inherit_services,
       (SELECT count(*) FROM g11.users u JOIN g11.transport t USING (tid) WHERE t.transport = 'domain')
         AS on_transport_domain,
       (SELECT count(*) FROM t.expected_quota) AS with_quota;
-- Before: with vmm 0.6.0's function, every account that inherits its
-- services cannot log in.
SET search_path = g11, pg_catalog;
SELECT count(*) FILTER (WHERE r.userid IS NULL) = (SELECT count(*) FROM g11.users u JOIN g11.domain_name n USING (gid) WHERE u.ssid IS NULL)
         AS exactly_the_inheriting_fail,
       count(*) FILTER (WHERE r.userid IS NULL) AS fail
  FROM t.expected e
  LEFT JOIN LATERAL g11.dovecotpassword(e.local_part, e.domainname) r ON true;
RESET search_path;
SET vmm_upgrade.schema = g11;
SET client_min_messages = error;
SET vmm_upgrade.transport_domain = inherit;
CREATE EXTENSION vmm_upgrade VERSION '0.6.0';
ALTER EXTENSION vmm_upgrade UPDATE;
SELECT vmm_upgrade.upgrade_dovecot_layout();
RESET client_min_messages;
SELECT * FROM vmm_upgrade.check_layout('0.6', '1.2', 'g11');
SELECT to_version, from_dovecot, to_dovecot,
       users_changed = (SELECT count(*) FROM t.expected_quota) AS quota_accounts_match
  FROM vmm_upgrade.history WHERE details->>'step' = 'upgrade_dovecot_layout';
-- After: every address gets exactly one row with the expected services,
-- and the expected transport.
SELECT count(*) AS addresses,
       count(*) FILTER (WHERE r.n <> 1 OR r.services IS DISTINCT FROM e.services) AS services_mismatches,
       count(*) FILTER (WHERE tr.transport IS DISTINCT FROM e.transport) AS transport_mismatches
  FROM t.expected e
  LEFT JOIN LATERAL (SELECT count(*) AS n, min((to_jsonb(p) - 'userid' - 'password')::text)::jsonb AS services
                       FROM g11.dovecotpassword(e.local_part, e.domainname) p) r ON true
  LEFT JOIN LATERAL g11.postfix_transport_map(e.local_part, e.domainname) tr ON true;
-- The quota usage, carried exactly.
SELECT (SELECT count(*) FROM t.expected_quota) AS expected_rows,
       (SELECT count(*) FROM g11.userquota) AS carried_rows,
       (SELECT count(*) FROM (SELECT uid, bytes, messages FROM t.expected_quota
                              EXCEPT SELECT uid, bytes, messages FROM g11.userquota) x) AS mismatches;
DROP EXTENSION vmm_upgrade;
--
-- vmm 0.6.2: every lookup function answers the same for every address
-- before and after replace_lookup_functions.
--
CREATE FUNCTION t.lookups(s name)
RETURNS TABLE (fn text, address text, result text)
LANGUAGE plpgsql AS $$
DECLARE
	f text;
BEGIN
	PERFORM set_config('search_path', quote_ident(s) || ', pg_catalog', true);
	-- every lookup function the schema has: (local part, domain) -> rows
	FOR f IN SELECT p.proname FROM pg_proc p
	          WHERE p.pronamespace = s::regnamespace AND p.proretset
	            AND p.pronargs = 2 AND p.proargtypes[0] = 'varchar'::regtype AND p.proargtypes[1] = 'varchar'::regtype
	          ORDER BY 1 LOOP
		RETURN QUERY EXECUTE format($q$
			WITH addresses AS (
				SELECT u.local_part AS l, n.domainname AS d FROM %1$I.users u JOIN %1$I.domain_name n USING (gid)
				UNION SELECT a.address, n.domainname FROM %1$I.alias a JOIN %1$I.domain_name n USING (gid)
				UNION SELECT r.address, n.domainname FROM %1$I.relocated r JOIN %1$I.domain_name n USING (gid)
				UNION SELECT 'nobody-here', n.domainname FROM %1$I.domain_name n
				UNION SELECT 'postmaster', 'unknown.example')
			SELECT %2$L, a.l || '@' || a.d,
			       (SELECT coalesce(string_agg(to_jsonb(x)::text, ' ' ORDER BY to_jsonb(x)::text), '')
			          FROM %1$I.%2$I(a.l, a.d) x)
			  FROM addresses a$q$, s, f);
	END LOOP;
END $$;
CREATE TABLE t.before AS SELECT * FROM t.lookups('g12');
SELECT count(DISTINCT fn) AS functions, count(*) AS lookups, count(DISTINCT address) AS addresses,
       count(*) FILTER (WHERE result <> '') AS with_rows FROM t.before;
SET vmm_upgrade.schema = g12;
CREATE EXTENSION vmm_upgrade;
SELECT vmm_upgrade.replace_lookup_functions();
CREATE TABLE t.after AS SELECT * FROM t.lookups('g12');
SELECT fn, count(*) AS mismatches
  FROM (SELECT * FROM t.before EXCEPT SELECT * FROM t.after
        UNION ALL
        SELECT * FROM t.after EXCEPT SELECT * FROM t.before) x
 GROUP BY fn ORDER BY fn;
SELECT count(*) = (SELECT count(*) FROM t.before) AS same_count FROM t.after;
-- (the functions compared are every lookup function the extension makes)
SELECT (SELECT array_agg(DISTINCT fn ORDER BY fn) FROM t.after)
       = (SELECT array_agg(split_part(object, '(', 1) ORDER BY 1) FROM vmm_upgrade._lookup_objects_0_6()
           WHERE kind = 'FUNCTION' AND object LIKE '%(pg_catalog.varchar, pg_catalog.varchar)') AS every_lookup_compared;
DROP EXTENSION vmm_upgrade;
\c contrib_regression
DROP DATABASE vmm_t_v060_generated;
