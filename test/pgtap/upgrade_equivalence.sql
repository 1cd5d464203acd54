-- test/pgtap/upgrade_equivalence.sql
--
-- Proof of exactness of ALTER EXTENSION vmm_upgrade UPDATE (0.5.2 -> 0.6) on
-- generated mail systems of 10,000 users each: both Dovecot variants, with
-- and without the optional 0.5.2 lookups, and a Dovecot 1.1 database taken
-- straight to the 1.2 variant.  For each:
--   * the result is exactly the 0.6 layout (check_layout returns no rows);
--   * for every address under every domain name (primary and alias domains)
--     each 0.6 lookup function returns what the matching 0.5.2 view returned
--     before the upgrade (zero mismatches), called as the Postfix or Dovecot
--     role with only the privileges set_permissions granted;
--   * an address with no account still gets its domain's transport;
--   * unknown addresses and unknown domains give no rows;
--   * after DROP EXTENSION vmm_upgrade every lookup still answers the same.
-- Self-contained: everything happens in one transaction that is rolled back.
\set ECHO none
\set QUIET on
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true
SET client_min_messages = warning;

BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;

CREATE ROLE vmm_eq_dovecot;
CREATE ROLE vmm_eq_postfix;
SET vmm_upgrade.dovecot_role = vmm_eq_dovecot;
SET vmm_upgrade.postfix_role = vmm_eq_postfix;

-- Five mail systems, 10,000 users each.
\set users 10000
\set schema eq_11
\set dovecot 1.1
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\i test/fixtures/generate-0.5.2.sql
\set schema eq_11_lookups
\set lookups true
\i test/fixtures/vmm-0.5.2.sql
\i test/fixtures/generate-0.5.2.sql
\set schema eq_12
\set dovecot 1.2
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\i test/fixtures/generate-0.5.2.sql
\set schema eq_12_lookups
\set lookups true
\i test/fixtures/vmm-0.5.2.sql
\i test/fixtures/generate-0.5.2.sql
\set schema eq_11_to_12
\set dovecot 1.1
\set lookups true
\i test/fixtures/vmm-0.5.2.sql
\i test/fixtures/generate-0.5.2.sql
SET search_path = public;
SET client_min_messages = warning;

\i test/include/equivalence.sql
INSERT INTO eq.systems VALUES
    ('eq_11', NULL, '1.1', 1), ('eq_11_lookups', NULL, '1.1', 2), ('eq_12', NULL, '1.2', 3),
    ('eq_12_lookups', NULL, '1.2', 4), ('eq_11_to_12', '2.3.19', '1.2', 5);

-- The addresses, and what the 0.5.2 views answer for them before the
-- update (as the caller: the roles have no privileges yet), and each
-- domain's transport.
CREATE FUNCTION eq.capture_before(s name) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($q$
        INSERT INTO eq.addresses
        SELECT DISTINCT %1$L::name, a.lp, n.domainname, 'known'
          FROM (SELECT gid, local_part AS lp FROM %1$I.users
                UNION SELECT gid, address FROM %1$I.alias
                UNION SELECT gid, address FROM %1$I.relocated) AS a
          JOIN %1$I.domain_name AS n USING (gid)
        UNION ALL
        SELECT %1$L, 'no-such-user', n.domainname, 'unknown user' FROM %1$I.domain_name AS n
        UNION ALL
        SELECT %1$L, u.local_part, 'no-such-domain.example', 'unknown domain'
          FROM %1$I.users AS u WHERE u.uid %% 97 = 0$q$, s);
    EXECUTE format($q$
        INSERT INTO eq.rows
        SELECT 'before', %1$L, 'domain transport', n.domainname, t.transport
          FROM %1$I.domain_name n JOIN %1$I.domain_data d USING (gid)
          JOIN %1$I.transport t ON t.tid = d.tid$q$, s);
    ANALYZE eq.addresses;
    PERFORM eq.capture_0_5_2(s, 'before', false);
END
$$;

-- The lookups a 0.5.2 view and a 0.6 function both answer, compared.
CREATE FUNCTION eq.compared() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['maildir', 'uid', 'transport', 'relocated', 'alias', 'password', 'user']
$$;

-- Each system: capture, adopt at 0.5.2, update, then drop the extension so
-- that the next system can adopt (one extension per database).
CREATE FUNCTION eq.upgrade(s name, dovecot_version text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM eq.capture_before(s);
    PERFORM set_config('vmm_upgrade.schema', s, true);
    PERFORM set_config('vmm_upgrade.dovecot_version', coalesce(dovecot_version, ''), true);
    SET LOCAL client_min_messages = error;
    CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
    ALTER EXTENSION vmm_upgrade UPDATE TO '0.6';
END
$$;

CREATE FUNCTION eq.run(s name, dovecot_version text, target text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    lk text;
    cnt bigint;
BEGIN
    PERFORM eq.upgrade(s, dovecot_version);
    RETURN NEXT is((SELECT count(*) FROM vmm_upgrade.check_layout('0.6', target, s)), 0::bigint,
                   s || ': the result is exactly the 0.6 layout, Dovecot ' || target || ' variant');
    RETURN NEXT is((SELECT d.version || '/' || d.dovecot FROM vmm_upgrade.detect_layout(s) d),
                   '0.6/' || target, s || ': detect_layout says 0.6 / ' || target);
    RETURN NEXT ok((SELECT h.users_changed = 10000 AND h.to_version = '0.6' AND h.to_dovecot = target
                      FROM vmm_upgrade.history h
                     WHERE h.details->>'step' = 'update' AND h.mail_schema = s),
                   s || ': the update is in the history (10000 users)');
    PERFORM eq.capture_0_6(s, 'after');
    RETURN NEXT cmp_ok((SELECT count(*) FROM eq.rows r WHERE r.phase = 'before' AND r.s = run.s
                           AND r.lookup = 'uid'), '>=', 10000::bigint,
                       s || ': at least 10000 account addresses compared');
    FOR lk, cnt IN SELECT * FROM eq.mismatches(s, 'after', eq.compared()) LOOP
        RETURN NEXT is(cnt, 0::bigint,
                       format('%s: %s lookups equal the 0.5.2 view, zero mismatches', s, lk));
    END LOOP;
    RETURN NEXT is((SELECT count(*) FROM eq.rows r JOIN eq.rows b ON b.s = r.s AND b.lookup = 'user'
                                                          AND b.phase = 'before' AND b.address = r.address
                     WHERE r.s = run.s AND r.phase = 'after' AND r.lookup = 'quota user'
                       AND r.val <> split_part(b.val, '|', 1) || '|' || split_part(b.val, '|', 2) || '|'
                                  || split_part(b.val, '|', 3) || '|' || split_part(b.val, '|', 4)
                                  || '|*:bytes=0:messages=0'), 0::bigint,
                   s || ': dovecotquotauser = dovecotuser + the no-limit quota rule');
    RETURN NEXT is(eq.domain_transport_misses(s, 'after'), 0::bigint,
                   s || ': an address without an account gets its domain''s transport');
    RETURN NEXT is(eq.unknown_answers(s, 'after', true), 0::bigint,
                   s || ': unknown addresses and unknown domains give no rows');
    DROP EXTENSION vmm_upgrade;
END
$$;

SELECT plan(5 * 14 + 5 * 7 + 2);

SELECT eq.run(s, dovecot_version, target) FROM eq.systems ORDER BY n;

-- DROP EXTENSION left every system working: ask everything again.
SELECT eq.capture_0_6(s, 'after drop') FROM eq.systems ORDER BY n;
SELECT is(m.n, 0::bigint, format('%s: %s lookups still equal after DROP EXTENSION', s, m.lookup))
  FROM eq.systems, eq.mismatches(s, 'after drop', eq.compared()) AS m
 ORDER BY eq.systems.n;
SELECT is((SELECT count(*) FROM pg_extension WHERE extname = 'vmm_upgrade'), 0::bigint,
          'the extension is gone, the lookups stayed');

-- The comparison itself sees a difference when there is one.
INSERT INTO eq.rows VALUES ('after drop', 'eq_12', 'uid', 'planted@example.test', '1');
SELECT is((SELECT m.n FROM eq.mismatches('eq_12', 'after drop', eq.compared()) AS m WHERE m.lookup = 'uid'), 1::bigint,
          'a planted difference is counted as one mismatch');

SELECT * FROM finish();
ROLLBACK;
