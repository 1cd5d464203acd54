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

CREATE SCHEMA eq;
GRANT USAGE ON SCHEMA eq TO PUBLIC;
-- the systems: schema, source variant, target Dovecot version
CREATE TABLE eq.systems (s name PRIMARY KEY, dovecot_version text, target text, n integer);
INSERT INTO eq.systems VALUES
    ('eq_11', NULL, '1.1', 1), ('eq_11_lookups', NULL, '1.1', 2), ('eq_12', NULL, '1.2', 3),
    ('eq_12_lookups', NULL, '1.2', 4), ('eq_11_to_12', '2.3.19', '1.2', 5);
-- every address to ask about: each local part of an account, alias or
-- relocated entry under every name of its domain (known), one unknown user
-- per domain name, and account local parts under an unknown domain
CREATE TABLE eq.addresses (s name, localpart text, domain text, kind text);
-- what the views said before and the functions say after, one row per row
CREATE TABLE eq.rows (phase text, s name, lookup text, address text, val text);
CREATE INDEX ON eq.rows (s, lookup, phase, address);
CREATE INDEX ON eq.addresses (s);
GRANT SELECT ON eq.addresses TO PUBLIC;
GRANT INSERT ON eq.rows TO PUBLIC;

CREATE FUNCTION eq.capture_before(s name) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    sieve text := (SELECT a.attname FROM pg_attribute a
                    WHERE a.attrelid = format('%I.users', s)::regclass
                      AND a.attname IN ('sieve', 'managesieve'));
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
        SELECT 'before', %1$L, 'maildir', address, maildir FROM %1$I.postfix_maildir
        UNION ALL SELECT 'before', %1$L, 'uid', address, uid::text FROM %1$I.postfix_uid
        UNION ALL SELECT 'before', %1$L, 'transport', address, transport FROM %1$I.postfix_transport
        UNION ALL SELECT 'before', %1$L, 'relocated', address, destination FROM %1$I.postfix_relocated
        UNION ALL SELECT 'before', %1$L, 'alias', address, destination FROM %1$I.postfix_alias
        UNION ALL SELECT 'before', %1$L, 'password', "user",
                         concat_ws('|', password, smtp, pop3, imap, %2$I) FROM %1$I.dovecot_password
        UNION ALL SELECT 'before', %1$L, 'user', userid,
                         concat_ws('|', uid, gid, home, 'maildir:' || mail) FROM %1$I.dovecot_user
        UNION ALL SELECT 'before', %1$L, 'domain transport', n.domainname, t.transport
                    FROM %1$I.domain_name n JOIN %1$I.domain_data d USING (gid)
                    JOIN %1$I.transport t ON t.tid = d.tid$q$, s, sieve);
    ANALYZE eq.addresses;
    ANALYZE eq.rows;
END
$$;

-- Calls every 0.6 lookup for every address, as the role that would.
CREATE FUNCTION eq.capture_after(s name, phase text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    sieve text := (SELECT a.attname FROM pg_attribute a
                    WHERE a.attrelid = format('%I.service_set', s)::regclass
                      AND a.attname IN ('sieve', 'managesieve'));
BEGIN
    SET LOCAL ROLE vmm_eq_postfix;
    EXECUTE format($q$
        INSERT INTO eq.rows
        SELECT %2$L, %1$L, 'maildir', f.address, f.maildir
          FROM eq.addresses a, %1$I.postfix_virtual_mailbox_map(a.localpart, a.domain) f WHERE a.s = %1$L
        UNION ALL SELECT %2$L, %1$L, 'uid', f.recipient, f.uid::text
          FROM eq.addresses a, %1$I.postfix_virtual_uid_map(a.localpart, a.domain) f WHERE a.s = %1$L
        UNION ALL SELECT %2$L, %1$L, 'transport', f.recipient, f.transport
          FROM eq.addresses a, %1$I.postfix_transport_map(a.localpart, a.domain) f WHERE a.s = %1$L
        UNION ALL SELECT %2$L, %1$L, 'relocated', f.recipient, f.destination
          FROM eq.addresses a, %1$I.postfix_relocated_map(a.localpart, a.domain) f WHERE a.s = %1$L
        UNION ALL SELECT %2$L, %1$L, 'alias', f.recipient, f.destination
          FROM eq.addresses a, %1$I.postfix_virtual_alias_map(a.localpart, a.domain) f WHERE a.s = %1$L
        UNION ALL SELECT %2$L, %1$L, 'sender login', f.sender, f.login
          FROM eq.addresses a, %1$I.postfix_smtpd_sender_login_map(a.localpart, a.domain) f WHERE a.s = %1$L$q$,
        s, phase);
    RESET ROLE;
    SET LOCAL ROLE vmm_eq_dovecot;
    EXECUTE format($q$
        INSERT INTO eq.rows
        SELECT %2$L, %1$L, 'password', f.userid, concat_ws('|', f.password, f.smtp, f.pop3, f.imap, f.%3$I)
          FROM eq.addresses a, %1$I.dovecotpassword(a.localpart, a.domain) f WHERE a.s = %1$L
        UNION ALL SELECT %2$L, %1$L, 'user', f.userid, concat_ws('|', f.uid, f.gid, f.home, f.mail)
          FROM eq.addresses a, %1$I.dovecotuser(a.localpart, a.domain) f WHERE a.s = %1$L
        UNION ALL SELECT %2$L, %1$L, 'quota user', f.userid, concat_ws('|', f.uid, f.gid, f.home, f.mail, f.quota_rule)
          FROM eq.addresses a, %1$I.dovecotquotauser(a.localpart, a.domain) f WHERE a.s = %1$L$q$,
        s, phase, sieve);
    RESET ROLE;
    ANALYZE eq.rows;
END
$$;

-- Rows that differ between before and the given phase, per lookup (both
-- directions, duplicates counted), over the addresses the views knew (for
-- transport: the addresses with an account).
CREATE FUNCTION eq.mismatches(s name, phase text) RETURNS TABLE (lookup text, n bigint)
LANGUAGE sql AS $$
    WITH b AS (SELECT r.lookup, r.address, r.val FROM eq.rows r WHERE r.phase = 'before' AND r.s = $1),
         a AS (SELECT r.lookup, r.address, r.val FROM eq.rows r WHERE r.phase = $2 AND r.s = $1
                AND (r.lookup <> 'transport'
                     OR r.address IN (SELECT u.address FROM b AS u WHERE u.lookup = 'uid'))),
         diff AS ((SELECT * FROM b EXCEPT ALL SELECT * FROM a)
                  UNION ALL
                  (SELECT * FROM a EXCEPT ALL SELECT * FROM b))
    SELECT l.lookup, count(diff.lookup)
      FROM unnest(ARRAY['maildir', 'uid', 'transport', 'relocated', 'alias', 'password', 'user'])
           WITH ORDINALITY AS l(lookup, o)
      LEFT JOIN diff ON diff.lookup = l.lookup
     GROUP BY l.lookup, l.o ORDER BY l.o
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
    PERFORM eq.capture_after(s, 'after');
    RETURN NEXT cmp_ok((SELECT count(*) FROM eq.rows r WHERE r.phase = 'before' AND r.s = run.s
                           AND r.lookup = 'uid'), '>=', 10000::bigint,
                       s || ': at least 10000 account addresses compared');
    FOR lk, cnt IN SELECT * FROM eq.mismatches(s, 'after') LOOP
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
    RETURN NEXT is((SELECT count(*) FROM eq.addresses a
                      JOIN eq.rows d ON d.phase = 'before' AND d.s = a.s AND d.lookup = 'domain transport'
                                    AND d.address = a.domain
                      LEFT JOIN eq.rows acc ON acc.phase = 'before' AND acc.s = a.s AND acc.lookup = 'uid'
                                           AND acc.address = a.localpart || '@' || a.domain
                      LEFT JOIN eq.rows r ON r.phase = 'after' AND r.s = a.s AND r.lookup = 'transport'
                                         AND r.address = a.localpart || '@' || a.domain
                     WHERE a.s = run.s AND a.kind <> 'unknown domain' AND acc.address IS NULL
                       AND r.val IS DISTINCT FROM d.val), 0::bigint,
                   s || ': an address without an account gets its domain''s transport');
    RETURN NEXT is((SELECT count(*) FROM eq.rows r JOIN eq.addresses a
                           ON a.s = r.s AND r.address = a.localpart || '@' || a.domain
                     WHERE r.s = run.s AND r.phase = 'after' AND a.kind <> 'known'
                       AND NOT (r.lookup = 'transport' AND a.kind = 'unknown user')), 0::bigint,
                   s || ': unknown addresses and unknown domains give no rows');
    DROP EXTENSION vmm_upgrade;
END
$$;

SELECT plan(5 * 14 + 5 * 7 + 2);

SELECT eq.run(s, dovecot_version, target) FROM eq.systems ORDER BY n;

-- DROP EXTENSION left every system working: ask everything again.
SELECT eq.capture_after(s, 'after drop') FROM eq.systems ORDER BY n;
SELECT is(m.n, 0::bigint, format('%s: %s lookups still equal after DROP EXTENSION', s, m.lookup))
  FROM eq.systems, eq.mismatches(s, 'after drop') AS m
 ORDER BY eq.systems.n;
SELECT is((SELECT count(*) FROM pg_extension WHERE extname = 'vmm_upgrade'), 0::bigint,
          'the extension is gone, the lookups stayed');

-- The comparison itself sees a difference when there is one.
INSERT INTO eq.rows VALUES ('after drop', 'eq_12', 'uid', 'planted@example.test', '1');
SELECT is((SELECT m.n FROM eq.mismatches('eq_12', 'after drop') AS m WHERE m.lookup = 'uid'), 1::bigint,
          'a planted difference is counted as one mismatch');

SELECT * FROM finish();
ROLLBACK;
