-- test/include/equivalence.sql - what the pgTAP equivalence tests
-- (test/pgtap/upgrade_equivalence.sql, upgrade_0_4_equivalence.sql) share:
-- the tables of what is asked and answered, the answers of the 0.5.2 views
-- and of the 0.6 lookup functions, and their comparison.
--
-- Before \i: the roles of vmm_upgrade.dovecot_role and vmm_upgrade.postfix_role
-- exist and are set (the captures ask as them).  Afterwards the test fills
-- eq.systems and eq.addresses, and captures what the layout it starts from
-- answers as phase 'before'.

CREATE SCHEMA eq;
GRANT USAGE ON SCHEMA eq TO PUBLIC;
-- the systems: schema, the Dovecot version set for the update, the target
-- variant, the order
CREATE TABLE eq.systems (s name PRIMARY KEY, dovecot_version text, target text, n integer);
-- every address to ask about: each local part of an account, alias or
-- relocated entry under every name of its domain (known), one unknown user
-- per domain name, and account local parts under an unknown domain
CREATE TABLE eq.addresses (s name, localpart text, domain text, kind text);
-- what the lookups said in each phase, one row per row
CREATE TABLE eq.rows (phase text, s name, lookup text, address text, val text);
CREATE INDEX ON eq.rows (s, lookup, phase, address);
CREATE INDEX ON eq.addresses (s);
GRANT SELECT ON eq.addresses TO PUBLIC;
GRANT INSERT ON eq.rows TO PUBLIC;

-- What the 0.5.2 views of schema s answer (phase), as the Postfix and the
-- Dovecot role when as_roles (else as the caller): every row of each view;
-- 'sender login' is what vmm's 0.5.2 sender-login query says for the
-- addresses of eq.addresses (an account's own address, an alias' destinations).
CREATE FUNCTION eq.capture_0_5_2(s name, phase text, as_roles boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    sieve text := (SELECT a.attname FROM pg_attribute a
                    WHERE a.attrelid = format('%I.users', s)::regclass AND a.attname IN ('sieve', 'managesieve'));
BEGIN
    IF as_roles THEN
        EXECUTE format('SET LOCAL ROLE %I', current_setting('vmm_upgrade.postfix_role'));
    END IF;
    EXECUTE format($q$
        INSERT INTO eq.rows
        SELECT %2$L, %1$L, 'maildir', address, maildir FROM %1$I.postfix_maildir
        UNION ALL SELECT %2$L, %1$L, 'uid', address, uid::text FROM %1$I.postfix_uid
        UNION ALL SELECT %2$L, %1$L, 'transport', address, transport FROM %1$I.postfix_transport
        UNION ALL SELECT %2$L, %1$L, 'relocated', address, destination FROM %1$I.postfix_relocated
        UNION ALL SELECT %2$L, %1$L, 'alias', address, destination FROM %1$I.postfix_alias
        UNION ALL SELECT %2$L, %1$L, 'gid', domainname, gid::text FROM %1$I.postfix_gid
        UNION ALL SELECT %2$L, %1$L, 'sender login', x.address, x.login
                    FROM (SELECT m.address, m.address AS login FROM %1$I.postfix_maildir m
                          UNION
                          SELECT p.address, p.destination FROM %1$I.postfix_alias p) AS x
                    JOIN eq.addresses a ON a.s = %1$L AND a.localpart || '@' || a.domain = x.address$q$, s, phase);
    IF as_roles THEN
        RESET ROLE;
        EXECUTE format('SET LOCAL ROLE %I', current_setting('vmm_upgrade.dovecot_role'));
    END IF;
    EXECUTE format($q$
        INSERT INTO eq.rows
        SELECT %2$L, %1$L, 'password', "user", concat_ws('|', password, smtp, pop3, imap, %3$I)
          FROM %1$I.dovecot_password
        UNION ALL SELECT %2$L, %1$L, 'user', userid,
                         concat_ws('|', uid, gid, home, 'maildir:' || mail) FROM %1$I.dovecot_user$q$,
        s, phase, sieve);
    IF as_roles THEN
        RESET ROLE;
    END IF;
    ANALYZE eq.rows;
END
$$;

-- What the 0.6 lookup functions of schema s answer for every address of
-- eq.addresses (phase), asked as the Postfix and the Dovecot role.
CREATE FUNCTION eq.capture_0_6(s name, phase text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    sieve text := (SELECT a.attname FROM pg_attribute a
                    WHERE a.attrelid = format('%I.service_set', s)::regclass
                      AND a.attname IN ('sieve', 'managesieve'));
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', current_setting('vmm_upgrade.postfix_role'));
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
          FROM eq.addresses a, %1$I.postfix_smtpd_sender_login_map(a.localpart, a.domain) f WHERE a.s = %1$L
        UNION ALL SELECT %2$L, %1$L, 'gid', domainname, gid::text FROM %1$I.postfix_gid$q$,
        s, phase);
    RESET ROLE;
    EXECUTE format('SET LOCAL ROLE %I', current_setting('vmm_upgrade.dovecot_role'));
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

-- Rows that differ between 'before' and a phase, per lookup of the list
-- (both directions, duplicates counted).  Transport: over the addresses
-- with an account (vmm 0.6 answers the domain's transport for the others
-- too).
CREATE FUNCTION eq.mismatches(s name, phase text, lookups text[]) RETURNS TABLE (lookup text, n bigint)
LANGUAGE sql AS $$
    WITH b AS (SELECT r.lookup, r.address, r.val FROM eq.rows r WHERE r.phase = 'before' AND r.s = $1),
         a AS (SELECT r.lookup, r.address, r.val FROM eq.rows r WHERE r.phase = $2 AND r.s = $1
                AND (r.lookup <> 'transport'
                     OR r.address IN (SELECT u.address FROM b AS u WHERE u.lookup = 'uid'))),
         diff AS ((SELECT * FROM b EXCEPT ALL SELECT * FROM a)
                  UNION ALL
                  (SELECT * FROM a EXCEPT ALL SELECT * FROM b))
    SELECT l.lookup, count(diff.lookup)
      FROM unnest($3) WITH ORDINALITY AS l(lookup, o)
      LEFT JOIN diff ON diff.lookup = l.lookup
     GROUP BY l.lookup, l.o ORDER BY l.o
$$;

-- Addresses of a known domain without an account whose transport in a
-- phase of 0.6 functions is not their domain's ('domain transport' of
-- phase 'before').
CREATE FUNCTION eq.domain_transport_misses(s name, phase text) RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM eq.addresses a
      JOIN eq.rows d ON d.phase = 'before' AND d.s = a.s AND d.lookup = 'domain transport'
                    AND d.address = a.domain
      LEFT JOIN eq.rows acc ON acc.phase = 'before' AND acc.s = a.s AND acc.lookup = 'uid'
                           AND acc.address = a.localpart || '@' || a.domain
      LEFT JOIN eq.rows r ON r.phase = $2 AND r.s = a.s AND r.lookup = 'transport'
                         AND r.address = a.localpart || '@' || a.domain
     WHERE a.s = $1 AND a.kind <> 'unknown domain' AND acc.address IS NULL
       AND r.val IS DISTINCT FROM d.val
$$;

-- Answers a phase gave for unknown addresses and unknown domains; in a
-- phase of 0.6 functions (functions) the transport of an unknown user of
-- a known domain is its domain's, and no answer to count.
CREATE FUNCTION eq.unknown_answers(s name, phase text, functions boolean) RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM eq.rows r JOIN eq.addresses a
           ON a.s = r.s AND r.address = a.localpart || '@' || a.domain
     WHERE r.s = $1 AND r.phase = $2 AND a.kind <> 'known'
       AND NOT ($3 AND r.lookup = 'transport' AND a.kind = 'unknown user')
$$;
