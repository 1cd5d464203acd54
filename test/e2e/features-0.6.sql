-- test/e2e/features-0.6.sql - after the upgrade, use what vmm 0.6 added and
-- write down what Postfix and Dovecot must answer, by SPEC's lookup
-- contracts (0.6, Dovecot >= 1.2 variant).
--
--   psql -v h1=HASH -v h2=HASH -v h3=HASH -f test/e2e/features-0.6.sql
--
-- h1..h3: {SHA512-CRYPT} hashes (too long for 0.5.2's varchar(74)) of
-- Pw-e2e.inherit-42, Pw-e2e.quota-42 and Pw-e2e.mdbox-42.  Leaves the table
-- e2e.expect (key, what, value, why, password): one expected answer each,
-- in the names of the answer files; value '' for Postfix = no answer, for
-- Dovecot 'notfound', 'OK', 'FAIL', or tokens the answer must contain.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE SCHEMA e2e;
CREATE TABLE e2e.expect (key text, what text, value text, why text, password text);

-- four domains with accounts, each with an alias domain name where one
-- exists: g1 also has aliases and relocated addresses
SELECT d.gid AS g1, p.domainname AS p1, coalesce(a.domainname, p.domainname) AS a1
  FROM domain_data d
  JOIN domain_name p ON p.gid = d.gid AND p.is_primary
  LEFT JOIN LATERAL (SELECT domainname FROM domain_name x WHERE x.gid = d.gid AND NOT x.is_primary
                      ORDER BY domainname LIMIT 1) a ON true
 WHERE EXISTS (SELECT FROM relocated r WHERE r.gid = d.gid)
   AND EXISTS (SELECT FROM alias l WHERE l.gid = d.gid)
   AND EXISTS (SELECT FROM users u WHERE u.gid = d.gid)
 ORDER BY (a.domainname IS NULL), d.gid LIMIT 1
\gset
SELECT d.gid AS g2, p.domainname AS p2, coalesce(a.domainname, p.domainname) AS a2
  FROM domain_data d
  JOIN domain_name p ON p.gid = d.gid AND p.is_primary
  LEFT JOIN LATERAL (SELECT domainname FROM domain_name x WHERE x.gid = d.gid AND NOT x.is_primary
                      ORDER BY domainname LIMIT 1) a ON true
 WHERE d.gid <> :g1
 ORDER BY (a.domainname IS NULL), d.gid LIMIT 1
\gset
SELECT d.gid AS g3, p.domainname AS p3
  FROM domain_data d JOIN domain_name p ON p.gid = d.gid AND p.is_primary
 WHERE d.gid NOT IN (:g1, :g2)
   AND (SELECT count(*) FROM users u WHERE u.gid = d.gid AND u.ssid = 1 AND u.tid IS NULL) >= 3
 ORDER BY d.gid LIMIT 1
\gset
SELECT d.gid AS g4, p.domainname AS p4, d.domaindir AS dir4
  FROM domain_data d JOIN domain_name p ON p.gid = d.gid AND p.is_primary
 WHERE d.gid NOT IN (:g1, :g2, :g3)
   AND EXISTS (SELECT FROM users u WHERE u.gid = d.gid)
 ORDER BY d.gid LIMIT 1
\gset

-- 1. A catch-all for g1, with %n and %d.
INSERT INTO catchall (gid, destination)
VALUES (:g1, 'catchall+%n@archive.example.net'), (:g1, 'ops-%d@example.net');
INSERT INTO e2e.expect VALUES
  ('nobody.e2e@' || :'p1', 'postfix:alias',
   'catchall+nobody.e2e@archive.example.net,ops-' || :'p1' || '@example.net',
   'catch-all: an unknown local part gets the catch-all destinations, %n and %d substituted', NULL),
  ('nobody.e2e@' || :'a1', 'postfix:alias',
   'catchall+nobody.e2e@archive.example.net,ops-' || :'a1' || '@example.net',
   'catch-all under an alias domain name: %d is that name', NULL),
  ('nobody.e2e@' || :'p1', 'postfix:mailbox', '', 'catch-all: no mailbox for the unknown address', NULL),
  ('nobody.e2e@' || :'p1', 'dovecot:userdb', 'notfound', 'catch-all: no Dovecot user for the unknown address', NULL);
INSERT INTO e2e.expect
SELECT u.local_part || '@' || :'p1', 'postfix:alias', u.local_part || '@' || :'p1',
       'catch-all: an account keeps precedence (answers itself)', NULL
  FROM users u WHERE u.gid = :g1 AND NOT EXISTS (SELECT FROM alias a WHERE a.gid = u.gid AND a.address = u.local_part)
 ORDER BY u.uid LIMIT 1;
INSERT INTO e2e.expect
SELECT r.address || '@' || :'p1', 'postfix:alias', r.address || '@' || :'p1',
       'catch-all: a relocated address keeps precedence (answers itself)', NULL
  FROM relocated r WHERE r.gid = :g1 ORDER BY r.address LIMIT 1;
INSERT INTO e2e.expect
SELECT a.address || '@' || :'p1', 'postfix:alias', string_agg(a.destination, ',' ORDER BY a.destination),
       'catch-all: an alias keeps precedence (its own destinations)', NULL
  FROM alias a WHERE a.gid = :g1
 GROUP BY a.address HAVING bool_and(a.destination NOT LIKE '%\%%')
 ORDER BY a.address LIMIT 1;
INSERT INTO e2e.expect
SELECT 'nobody.e2e@' || :'p1', 'postfix:transport', t.transport,
       'an address without an account: the domain''s transport', NULL
  FROM domain_data d JOIN transport t ON t.tid = d.tid WHERE d.gid = :g1;

-- 2. An alias with %n, %d and %= for g2.
INSERT INTO alias (gid, address, destination)
VALUES (:g2, 'fwd.e2e', '%n@forward.example.org'), (:g2, 'fwd.e2e', 'box-%d@example.net'),
       (:g2, 'list.e2e', '%=@lists.example.org');
INSERT INTO e2e.expect VALUES
  ('fwd.e2e@' || :'p2', 'postfix:alias', 'box-' || :'p2' || '@example.net,fwd.e2e@forward.example.org',
   'alias with %n and %d', NULL),
  ('fwd.e2e@' || :'a2', 'postfix:alias', 'box-' || :'a2' || '@example.net,fwd.e2e@forward.example.org',
   'alias with %n and %d under an alias domain name', NULL),
  ('list.e2e@' || :'p2', 'postfix:alias', 'list.e2e=' || :'p2' || '@lists.example.org', 'alias with %=', NULL);

-- 3. A service set for g3 (smtp and imap only: ssid 1 + 2 + 8 = 11) and a
-- transport of its own (procmail:); accounts without a service set or
-- transport of their own (NULL) inherit them, the others keep theirs.
UPDATE domain_data SET ssid = 11, tid = (SELECT tid FROM transport WHERE transport = 'procmail:')
 WHERE gid = :g3;
SELECT min(uid) AS inh_uid, max(uid) AS own_uid
  FROM (SELECT uid FROM users WHERE gid = :g3 AND ssid = 1 AND tid IS NULL ORDER BY uid LIMIT 3) AS x
\gset
UPDATE users SET ssid = NULL WHERE uid = :inh_uid;
INSERT INTO users (local_part, passwd, gid, mid) VALUES ('e2e.inherit', :'h1', :g3, 1);
INSERT INTO e2e.expect
SELECT k.key, v.what, v.value, v.why, k.pw
  FROM (VALUES ('e2e.inherit@' || :'p3', 'Pw-e2e.inherit-42')) AS k (key, pw),
       (VALUES ('dovecot:passdb:imap', 'found', 'domain service set: imap on for an account that inherits it'),
               ('dovecot:passdb:smtp', 'found', 'domain service set: smtp on'),
               ('dovecot:passdb:pop3', 'notfound', 'domain service set: pop3 off'),
               ('dovecot:passdb:sieve', 'notfound', 'domain service set: sieve off'),
               ('dovecot:auth:imap', 'OK', 'domain service set: IMAP login with the right password ({SHA512-CRYPT})'),
               ('dovecot:auth:pop3', 'FAIL', 'domain service set: no POP3 login even with the right password'),
               ('postfix:transport', 'procmail:', 'the domain''s new transport for an account that inherits it'),
               ('postfix:sender_login',
                (SELECT string_agg('e2e.inherit@' || n.domainname, ',' ORDER BY n.domainname)
                   FROM domain_name n WHERE n.gid = :g3),
                'sender login of a new account: itself under every name of its domain')) AS v (what, value, why);
INSERT INTO e2e.expect
SELECT u.local_part || '@' || :'p3', v.what, v.value, v.why, NULL
  FROM users u,
       (VALUES ('dovecot:passdb:pop3', 'notfound', 'domain service set: an upgraded account set to inherit loses pop3'),
               ('dovecot:passdb:imap', 'found', 'domain service set: an upgraded account set to inherit keeps imap'),
               ('postfix:transport', 'procmail:', 'an upgraded account that inherited the transport follows the domain')) AS v (what, value, why)
 WHERE u.uid = :inh_uid;
INSERT INTO e2e.expect
SELECT u.local_part || '@' || :'p3', 'dovecot:passdb:pop3', 'found',
       'domain service set: an account with a service set of its own keeps pop3', NULL
  FROM users u WHERE u.uid = :own_uid;
INSERT INTO e2e.expect
SELECT u.local_part || '@' || :'p3', 'postfix:transport', t.transport,
       'an account with a transport of its own keeps it', NULL
  FROM users u JOIN transport t ON t.tid = u.tid
 WHERE u.gid = :g3 AND u.tid IS NOT NULL
   AND u.tid <> (SELECT tid FROM transport WHERE transport = 'procmail:')
 ORDER BY u.uid LIMIT 1;

-- 4. Quota limits: one for g4, one of an account's own; another domain
-- keeps "no limit".  A mailbox in mdbox format.
INSERT INTO quotalimit (bytes, messages) VALUES (1073741824, 10000), (5368709120, 0);
UPDATE domain_data SET qid = (SELECT qid FROM quotalimit WHERE bytes = 1073741824 AND messages = 10000)
 WHERE gid = :g4;
SELECT min(uid) AS q_uid FROM users WHERE gid = :g4
\gset
UPDATE users SET qid = (SELECT qid FROM quotalimit WHERE bytes = 5368709120 AND messages = 0)
 WHERE uid = :q_uid;
INSERT INTO users (local_part, passwd, gid, mid) VALUES ('e2e.quota', :'h2', :g4, 1);
INSERT INTO maillocation (fid, directory) VALUES (2, 'mdbox');
INSERT INTO users (local_part, passwd, gid, mid)
VALUES ('e2e.mdbox', :'h3', :g4, (SELECT max(mid) FROM maillocation WHERE fid = 2 AND directory = 'mdbox'));
INSERT INTO e2e.expect
SELECT 'e2e.quota@' || :'p4', 'dovecot:quota:userdb', 'quota_rule=*:bytes=1073741824:messages=10000',
       'dovecotquotauser: the domain''s quota limit for an account that inherits it', 'Pw-e2e.quota-42'
UNION ALL
SELECT u.local_part || '@' || :'p4', 'dovecot:quota:userdb', 'quota_rule=*:bytes=5368709120:messages=0',
       'dovecotquotauser: an account''s own quota limit', NULL
  FROM users u WHERE u.uid = :q_uid
UNION ALL
SELECT 'e2e.inherit@' || :'p3', 'dovecot:quota:userdb', 'quota_rule=*:bytes=0:messages=0',
       'dovecotquotauser: no limit in a domain without one', 'Pw-e2e.inherit-42'
UNION ALL
SELECT 'e2e.mdbox@' || :'p4', 'postfix:mailbox', d.domaindir || '/' || u.uid || '/mdbox/',
       'mailbox in mdbox format: Postfix gets domaindir/uid/directory/', 'Pw-e2e.mdbox-42'
  FROM users u JOIN domain_data d ON d.gid = u.gid WHERE u.local_part = 'e2e.mdbox' AND u.gid = :g4
UNION ALL
SELECT 'e2e.mdbox@' || :'p4', 'dovecot:userdb',
       'mail=mdbox:~/mdbox home=' || d.domaindir || '/' || u.uid || ' uid=' || u.uid || ' gid=' || u.gid,
       'mailbox in mdbox format: Dovecot gets mail=mdbox:~/mdbox', 'Pw-e2e.mdbox-42'
  FROM users u JOIN domain_data d ON d.gid = u.gid WHERE u.local_part = 'e2e.mdbox' AND u.gid = :g4
UNION ALL
SELECT 'e2e.mdbox@' || :'p4', 'dovecot:auth:sieve', 'OK', 'a new account logs in with its {SHA512-CRYPT} password', 'Pw-e2e.mdbox-42';
ANALYZE;
