-- test/pgtap/upgrade_0_4_equivalence.sql
--
-- Proof of exactness of the way from vmm 0.4 to 0.6: CREATE EXTENSION
-- vmm_upgrade VERSION '0.4', ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2',
-- then ALTER EXTENSION vmm_upgrade UPDATE (to 0.6), on two generated mail
-- systems of 10,000 accounts: one of vmm 0.4 as released (users.smpt, no
-- view dovecot_password) taken to the Dovecot >= 1.2 variant, one of vmm
-- 0.4-r41 staying with Dovecot 1.1.  For each:
--   * after each step the layout is exactly 0.5.2, then 0.6, of the
--     variant, and the history has the step;
--   * for every address of the 0.4 system (each local part of an account,
--     alias or relocated entry under its domain's name, an unknown user per
--     domain, account local parts under an unknown domain), the 0.5.2 views
--     after the first step answer what the 0.4 views answered before it,
--     asked as the Postfix or Dovecot role with only what the step granted:
--     maildir, uid, transport, relocated, alias, password and service flags
--     (for 0.4 as released, which had no dovecot_password view: what its
--     tables held, as 0.4-r41's view shows it), home and mail, the domain's
--     gid, and what vmm 0.4's sender-login query (postfix_maildir union
--     postfix_alias) gives for each address; zero mismatches;
--   * after the second step the 0.6 functions answer the same again (the
--     sender-login map excepted: vmm 0.6 changed its contract), zero
--     mismatches; an address without an account gets its domain's
--     transport; unknown addresses and domains give no rows;
--   * after DROP EXTENSION vmm_upgrade the lookups of one system answer
--     the same still.
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

CREATE ROLE vmm_eq04_dovecot;
CREATE ROLE vmm_eq04_postfix;
SET vmm_upgrade.dovecot_role = vmm_eq04_dovecot;
SET vmm_upgrade.postfix_role = vmm_eq04_postfix;

-- Two mail systems, 10,000 accounts each.
\set users 10000
\set schema eq04_release
\set form release
\i test/fixtures/vmm-0.4.sql
\i test/fixtures/generate-0.4.sql
\set schema eq04_r41
\set form r41
\i test/fixtures/vmm-0.4.sql
\i test/fixtures/generate-0.4.sql
SET search_path = public;
SET client_min_messages = warning;

\i test/include/equivalence.sql
INSERT INTO eq.systems VALUES ('eq04_release', '2.3.19', '1.2', 1), ('eq04_r41', NULL, '1.1', 2);

-- The addresses, and what the 0.4 views answer for them.
CREATE FUNCTION eq.capture_0_4(s name) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    smtp text := (SELECT a.attname FROM pg_attribute a
                   WHERE a.attrelid = format('%I.users', s)::regclass AND a.attname IN ('smtp', 'smpt'));
BEGIN
    EXECUTE format($q$
        INSERT INTO eq.addresses
        SELECT DISTINCT %1$L::name, a.lp, d.domainname, 'known'
          FROM (SELECT gid, local_part AS lp FROM %1$I.users
                UNION SELECT gid, address FROM %1$I.alias
                UNION SELECT gid, address FROM %1$I.relocated) AS a
          JOIN %1$I.domains AS d USING (gid)
        UNION ALL
        SELECT %1$L, 'no-such-user', d.domainname, 'unknown user' FROM %1$I.domains AS d
        UNION ALL
        SELECT %1$L, u.local_part, 'no-such-domain.example', 'unknown domain'
          FROM %1$I.users AS u WHERE u.uid %% 89 = 0$q$, s);
    -- vmm 0.4 as released had no dovecot_password: what its tables held,
    -- as the view of 0.4-r41 shows it
    EXECUTE format($q$
        INSERT INTO eq.rows
        SELECT 'before', %1$L, 'maildir', address, maildir FROM %1$I.postfix_maildir
        UNION ALL SELECT 'before', %1$L, 'uid', address, uid::text FROM %1$I.postfix_uid
        UNION ALL SELECT 'before', %1$L, 'transport', address, transport FROM %1$I.postfix_transport
        UNION ALL SELECT 'before', %1$L, 'relocated', address, destination FROM %1$I.postfix_relocated
        UNION ALL SELECT 'before', %1$L, 'alias', address, destination FROM %1$I.postfix_alias
        UNION ALL SELECT 'before', %1$L, 'gid', domainname, gid::text FROM %1$I.postfix_gid
        UNION ALL SELECT 'before', %1$L, 'password', u.local_part || '@' || d.domainname,
                         concat_ws('|', u.passwd, u.%2$I, u.pop3, u.imap, u.managesieve)
                    FROM %1$I.users u LEFT JOIN %1$I.domains d USING (gid)
        UNION ALL SELECT 'before', %1$L, 'user', userid,
                         concat_ws('|', uid, gid, home, 'maildir:' || mail) FROM %1$I.dovecot_user
        UNION ALL SELECT 'before', %1$L, 'sender login', x.address, x.login
                    FROM (SELECT m.address, m.address AS login FROM %1$I.postfix_maildir m
                          UNION
                          SELECT p.address, p.destination FROM %1$I.postfix_alias p) AS x
                    JOIN eq.addresses a ON a.s = %1$L AND a.localpart || '@' || a.domain = x.address
        UNION ALL SELECT 'before', %1$L, 'domain transport', d.domainname, t.transport
                    FROM %1$I.domains d JOIN %1$I.transport t ON t.tid = d.tid$q$, s, smtp);
    IF smtp = 'smtp' THEN
        -- 0.4-r41's own view says the same as its tables
        EXECUTE format($q$
            INSERT INTO eq.rows
            SELECT 'r41 view', %1$L, 'password', "user", concat_ws('|', password, smtp, pop3, imap, managesieve)
              FROM %1$I.dovecot_password$q$, s);
    END IF;
    ANALYZE eq.addresses;
    ANALYZE eq.rows;
END
$$;

CREATE FUNCTION eq.run(s name, dovecot_version text, target text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    lk  text;
    cnt bigint;
    views CONSTANT text[] := ARRAY['maildir', 'uid', 'transport', 'relocated', 'alias', 'gid',
                                   'password', 'user', 'sender login'];
    functions CONSTANT text[] := ARRAY['maildir', 'uid', 'transport', 'relocated', 'alias', 'gid',
                                       'password', 'user'];
BEGIN
    PERFORM eq.capture_0_4(s);
    PERFORM set_config('vmm_upgrade.schema', s, true);
    PERFORM set_config('vmm_upgrade.dovecot_version', coalesce(dovecot_version, ''), true);
    SET LOCAL client_min_messages = error;

    -- 0.4, adopted
    CREATE EXTENSION vmm_upgrade VERSION '0.4';
    RETURN NEXT is((SELECT h.details->>'form' FROM vmm_upgrade.history h
                     WHERE h.mail_schema = s AND h.details->>'step' = 'adopt'),
                   CASE WHEN s = 'eq04_release' THEN 'release' ELSE 'r41' END,
                   s || ': adopted at 0.4, the form recorded');
    IF s = 'eq04_r41' THEN
        RETURN NEXT is((SELECT count(*) FROM ((SELECT address, val FROM eq.rows r
                                                WHERE r.s = run.s AND r.phase = 'before' AND r.lookup = 'password'
                                               EXCEPT ALL
                                               SELECT address, val FROM eq.rows r
                                                WHERE r.s = run.s AND r.phase = 'r41 view' AND r.lookup = 'password')
                                              UNION ALL
                                              (SELECT address, val FROM eq.rows r
                                                WHERE r.s = run.s AND r.phase = 'r41 view' AND r.lookup = 'password'
                                               EXCEPT ALL
                                               SELECT address, val FROM eq.rows r
                                                WHERE r.s = run.s AND r.phase = 'before' AND r.lookup = 'password')) d),
                       0::bigint, s || ': the passwords read from the tables are what the 0.4 view says');
    END IF;

    -- 0.4 -> 0.5.2
    ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
    RETURN NEXT is((SELECT count(*) FROM vmm_upgrade.check_layout('0.5.2', target, s)), 0::bigint,
                   s || ': after the first step exactly the 0.5.2 layout, Dovecot ' || target || ' variant');
    RETURN NEXT ok((SELECT h.users_changed = 0 AND h.domains_changed = 200 AND h.to_dovecot = target
                      FROM vmm_upgrade.history h
                     WHERE h.mail_schema = s AND h.from_version = '0.4' AND h.to_version = '0.5.2'),
                   s || ': the first step is in the history (200 domains)');
    PERFORM eq.capture_0_5_2(s, '0.5.2', true);
    RETURN NEXT cmp_ok((SELECT count(*) FROM eq.rows r WHERE r.phase = '0.5.2' AND r.s = run.s
                           AND r.lookup = 'uid'), '>=', 10000::bigint,
                       s || ': at least 10000 account addresses compared');
    FOR lk, cnt IN SELECT * FROM eq.mismatches(s, '0.5.2', views) LOOP
        RETURN NEXT is(cnt, 0::bigint,
                       format('%s: %s: the 0.5.2 views answer what the 0.4 views did, zero mismatches', s, lk));
    END LOOP;

    -- 0.5.2 -> 0.6
    ALTER EXTENSION vmm_upgrade UPDATE;
    RETURN NEXT is((SELECT count(*) FROM vmm_upgrade.check_layout('0.6', target, s)), 0::bigint,
                   s || ': after the second step exactly the 0.6 layout, Dovecot ' || target || ' variant');
    RETURN NEXT ok((SELECT h.users_changed = 10000 AND h.to_dovecot = target
                      FROM vmm_upgrade.history h
                     WHERE h.mail_schema = s AND h.from_version = '0.5.2' AND h.to_version = '0.6'),
                   s || ': the second step is in the history (10000 accounts)');
    PERFORM eq.capture_0_6(s, '0.6');
    FOR lk, cnt IN SELECT * FROM eq.mismatches(s, '0.6', functions) LOOP
        RETURN NEXT is(cnt, 0::bigint,
                       format('%s: %s: the 0.6 functions answer what the 0.4 views did, zero mismatches', s, lk));
    END LOOP;
    RETURN NEXT is(eq.domain_transport_misses(s, '0.6'), 0::bigint,
                   s || ': an address without an account gets its domain''s transport');
    RETURN NEXT is(eq.unknown_answers(s, '0.5.2', false) + eq.unknown_answers(s, '0.6', true), 0::bigint,
                   s || ': unknown addresses and unknown domains give no rows');
    DROP EXTENSION vmm_upgrade;
END
$$;

SELECT plan(25 + 26 + 2);

SELECT eq.run(s, dovecot_version, target) FROM eq.systems ORDER BY n;

-- DROP EXTENSION left the mail system working: one system asked again.
SELECT eq.capture_0_6('eq04_release', 'after drop');
SELECT is((SELECT count(*) FROM eq.mismatches('eq04_release', 'after drop',
                                              ARRAY['maildir', 'uid', 'transport', 'relocated', 'alias',
                                                    'gid', 'password', 'user']) AS m WHERE m.n <> 0),
          0::bigint, 'eq04_release: after DROP EXTENSION every lookup still answers the same');

-- The comparison itself sees a difference when there is one.
INSERT INTO eq.rows VALUES ('0.6', 'eq04_r41', 'uid', 'planted@example.test', '1');
SELECT is((SELECT m.n FROM eq.mismatches('eq04_r41', '0.6', ARRAY['uid']) AS m), 1::bigint,
          'a planted difference is counted as one mismatch');

SELECT * FROM finish();
ROLLBACK;
