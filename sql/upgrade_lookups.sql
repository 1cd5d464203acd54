--
-- The 0.6 lookup functions after ALTER EXTENSION vmm_upgrade UPDATE, on a
-- small hand-made mail system, and on data added after the upgrade: service
-- sets and transports inherited or not, alias domains, catch-all with the
-- precedence of accounts and relocated addresses, %n/%d/%= substitution,
-- sender logins, quota rules, mailbox formats, the quota merge trigger,
-- unknown addresses and domains, NULL arguments.
--
CREATE DATABASE vmm_t_upgrade_lookups;
\c vmm_t_upgrade_lookups
\set SHOW_CONTEXT never
\set ECHO none
\set schema public
\set dovecot 1.2
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\set ECHO all
-- 0.5.2 data: example.org (alias domain example.net) delivers to Dovecot,
-- other.test relays; bob has a transport of his own.
INSERT INTO transport (transport) VALUES ('smtp:[relay.example.com]');
INSERT INTO domain_data (gid, tid, domaindir) VALUES
    (70000, 1, '/srv/mail/5/70000'), (70001, 2, '/srv/mail/c/70001');
INSERT INTO domain_name (domainname, gid, is_primary) VALUES
    ('example.org', 70000, true), ('example.net', 70000, false), ('other.test', 70001, true);
INSERT INTO users (local_part, passwd, name, uid, gid, mid, tid, smtp, pop3, imap, sieve) VALUES
    ('alice', '{PLAIN}alice', 'Alice', 70000, 70000, 1, 1, true, true, true, true),
    ('bob', '{PLAIN}bob', NULL, 70001, 70000, 1, 2, false, true, false, true),
    ('carol', '{PLAIN}carol', 'Carol', 70002, 70001, 1, 2, true, false, true, false);
INSERT INTO alias (gid, address, destination) VALUES
    (70000, 'info', 'alice@example.org'), (70000, 'info', 'bob@example.org'),
    (70000, 'team', 'carol@other.test');
INSERT INTO relocated (gid, address, destination) VALUES (70000, 'dave', 'dave@elsewhere.test');
SET client_min_messages = error;
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
ALTER EXTENSION vmm_upgrade UPDATE;
RESET client_min_messages;
-- The users: services as service sets (bob: no smtp, no imap = 6; carol: no
-- pop3, no sieve = 11), a transport equal to the domain's inherited (NULL).
SELECT local_part, ssid, tid, qid FROM users ORDER BY uid;
-- Dovecot.
SELECT * FROM dovecotpassword('alice', 'example.org');
SELECT * FROM dovecotpassword('bob', 'example.net');
SELECT * FROM dovecotpassword('carol', 'other.test');
SELECT * FROM dovecotuser('alice', 'example.net');
SELECT * FROM dovecotquotauser('carol', 'other.test');
-- Postfix.
SELECT * FROM postfix_virtual_mailbox_map('bob', 'example.org');
SELECT * FROM postfix_virtual_uid_map('carol', 'other.test');
SELECT * FROM postfix_transport_map('alice', 'example.org');
SELECT * FROM postfix_transport_map('bob', 'example.net');
SELECT * FROM postfix_transport_map('carol', 'other.test');
SELECT * FROM postfix_transport_map('nobody', 'example.org');
SELECT * FROM postfix_relocated_map('dave', 'example.net');
SELECT * FROM postfix_virtual_alias_map('info', 'example.net') ORDER BY destination;
SELECT * FROM postfix_virtual_alias_map('alice', 'example.org');
SELECT * FROM postfix_smtpd_sender_login_map('alice', 'example.net') ORDER BY login;
SELECT * FROM postfix_smtpd_sender_login_map('info', 'example.org') ORDER BY login;
SELECT * FROM postfix_gid WHERE domainname = 'example.net';
SELECT * FROM vmm_domain_info ORDER BY gid;
-- Unknown addresses and domains, NULL arguments: no rows.
SELECT (SELECT count(*) FROM dovecotpassword('nobody', 'example.org'))
     + (SELECT count(*) FROM dovecotuser('alice', 'nowhere.test'))
     + (SELECT count(*) FROM dovecotquotauser('nobody', 'example.org'))
     + (SELECT count(*) FROM postfix_virtual_mailbox_map('nobody', 'example.org'))
     + (SELECT count(*) FROM postfix_virtual_uid_map('alice', 'nowhere.test'))
     + (SELECT count(*) FROM postfix_transport_map('alice', 'nowhere.test'))
     + (SELECT count(*) FROM postfix_relocated_map('alice', 'example.org'))
     + (SELECT count(*) FROM postfix_virtual_alias_map('nobody', 'example.org'))
     + (SELECT count(*) FROM postfix_virtual_alias_map('info', 'nowhere.test'))
     + (SELECT count(*) FROM postfix_smtpd_sender_login_map('nobody', 'example.org'))
     + (SELECT count(*) FROM postfix_smtpd_sender_login_map('alice', 'nowhere.test')) AS rows_for_unknown;
SELECT (SELECT count(*) FROM dovecotpassword(NULL, 'example.org'))
     + (SELECT count(*) FROM dovecotuser('alice', NULL))
     + (SELECT count(*) FROM postfix_transport_map(NULL, 'example.org'))
     + (SELECT count(*) FROM postfix_virtual_alias_map('info', NULL)) AS rows_for_null;
-- Data added after the upgrade.  A catch-all for example.org (both names),
-- with substitution; an alias with every substitution.
INSERT INTO catchall (gid, destination) VALUES
    (70000, 'postmaster@example.org'), (70000, 'catchall+%n=%d@archive.test');
INSERT INTO alias (gid, address, destination) VALUES
    (70000, 'list', '%n-owner@%d'), (70000, 'list', 'archive+%=@lists.test');
SELECT * FROM postfix_virtual_alias_map('list', 'example.net') ORDER BY destination;
-- The catch-all catches unknown local parts, under either name ...
SELECT * FROM postfix_virtual_alias_map('zed', 'example.org') ORDER BY destination;
SELECT * FROM postfix_virtual_alias_map('zed', 'example.net') ORDER BY destination;
-- ... but accounts and relocated addresses keep precedence (the address
-- itself, once), and aliases keep theirs.
SELECT * FROM postfix_virtual_alias_map('alice', 'example.net');
SELECT * FROM postfix_virtual_alias_map('dave', 'example.org');
SELECT * FROM postfix_virtual_alias_map('info', 'example.org') ORDER BY destination;
-- other.test has no catch-all: an unknown address there has no alias.
SELECT count(*) FROM postfix_virtual_alias_map('zed', 'other.test');
SELECT gid, catchall FROM vmm_domain_info ORDER BY gid;
-- Inheritance: alice inherits the domain's service set, carol the domain's
-- transport (which changes), bob keeps his own.
UPDATE domain_data SET ssid = 16, tid = 1 WHERE gid = 70000;
UPDATE domain_data SET tid = 1 WHERE gid = 70001;
UPDATE users SET ssid = NULL WHERE local_part = 'alice';
SELECT * FROM dovecotpassword('alice', 'example.org');
SELECT * FROM dovecotpassword('bob', 'example.org');
SELECT * FROM postfix_transport_map('carol', 'other.test');
SELECT * FROM postfix_transport_map('bob', 'example.org');
-- Quota limits: the domain's, unless the user has one.
INSERT INTO quotalimit (bytes, messages) VALUES (1073741824, 10000), (524288000, 0);
UPDATE domain_data SET qid = 2 WHERE gid = 70000;
UPDATE users SET qid = 3 WHERE local_part = 'bob';
SELECT userid, quota_rule FROM dovecotquotauser('alice', 'example.org');
SELECT userid, quota_rule FROM dovecotquotauser('bob', 'example.org');
-- A new account in an mdbox location.
INSERT INTO maillocation (fid, directory) VALUES (2, 'mdbox');
INSERT INTO users (local_part, passwd, uid, gid, mid) VALUES ('erin', '{SHA512-CRYPT}$6$' || repeat('x', 100), 70003, 70000, (SELECT mid FROM maillocation WHERE directory = 'mdbox'));
SELECT userid, home, mail FROM dovecotuser('erin', 'example.org');
SELECT * FROM postfix_virtual_mailbox_map('erin', 'example.net');
SELECT userid, length(password) FROM dovecotpassword('erin', 'example.org');
-- The quota usage table merges what Dovecot inserts.
INSERT INTO userquota (uid, bytes, messages) VALUES (70000, 1000, 2);
INSERT INTO userquota (uid, bytes, messages) VALUES (70000, 500, 1);
INSERT INTO userquota (uid, bytes, messages) VALUES (70000, -200, 0);
INSERT INTO userquota (uid, bytes, messages) VALUES (79999, 1, 1);
SELECT * FROM userquota ORDER BY uid;
DELETE FROM users WHERE local_part = 'erin';
\c postgres
DROP DATABASE vmm_t_upgrade_lookups;
