-- test/demo-upgrade.sql - the second half of `make demo`: the upgrade to 0.6
-- on the generated mail database, with lookups before and after.

-- Three addresses to look up: an account, an account under an alias domain
-- name, and an alias.
CREATE TEMP TABLE demo_address AS
(SELECT 'account' AS what, u.local_part::text AS localpart, n.domainname::text AS domain
   FROM users u JOIN domain_name n ON n.gid = u.gid AND n.is_primary
  ORDER BY u.uid LIMIT 1)
UNION ALL
(SELECT 'account under an alias domain', u.local_part, n.domainname
   FROM users u JOIN domain_name n ON n.gid = u.gid AND NOT n.is_primary
  ORDER BY u.uid LIMIT 1)
UNION ALL
(SELECT 'alias', a.address, n.domainname
   FROM alias a JOIN domain_name n ON n.gid = a.gid AND n.is_primary
  WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.gid = a.gid AND u.local_part = a.address)
  ORDER BY a.gid, a.address LIMIT 1);
SELECT * FROM demo_address;

-- Before: what Postfix and Dovecot read through vmm 0.5.2's views.
SELECT d.what, m.maildir, t.transport, p.password, p.smtp, p.pop3, p.imap, p.sieve
  FROM demo_address d
  LEFT JOIN postfix_maildir m ON m.address = d.localpart || '@' || d.domain
  LEFT JOIN postfix_transport t ON t.address = d.localpart || '@' || d.domain
  LEFT JOIN dovecot_password p ON p."user" = d.localpart || '@' || d.domain
 WHERE d.what <> 'alias';
SELECT d.what, a.destination
  FROM demo_address d JOIN postfix_alias a ON a.address = d.localpart || '@' || d.domain;

-- The roles Postfix and Dovecot connect as (made by demo-in-cluster.sh,
-- with passwords); the update grants them what they need (and warns if
-- they are missing).
SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname IN ('dovecot', 'postfix') ORDER BY 1;

-- The upgrade: one transaction, validated before and after.
\timing on
ALTER EXTENSION vmm_upgrade UPDATE;
\timing off

SELECT * FROM vmm_upgrade.detect_layout();
SELECT count(*) AS deviations_from_0_6 FROM vmm_upgrade.check_layout('0.6');
SELECT from_version, to_version, from_dovecot, to_dovecot, users_changed, domains_changed, duration > interval '0' AS timed
  FROM vmm_upgrade.history ORDER BY id;

-- After: the same lookups through the 0.6 functions (the queries Postfix
-- and Dovecot now use).
SELECT d.what, m.maildir, t.transport, p.password, p.smtp, p.pop3, p.imap, p.sieve
  FROM demo_address d
  LEFT JOIN LATERAL postfix_virtual_mailbox_map(d.localpart, d.domain) m ON true
  LEFT JOIN LATERAL postfix_transport_map(d.localpart, d.domain) t ON true
  LEFT JOIN LATERAL dovecotpassword(d.localpart, d.domain) p ON true
 WHERE d.what <> 'alias';
SELECT d.what, a.destination
  FROM demo_address d, LATERAL postfix_virtual_alias_map(d.localpart, d.domain) a;
SELECT d.what, u.home, u.mail FROM demo_address d, LATERAL dovecotuser(d.localpart, d.domain) u
 WHERE d.what <> 'alias';

-- What Postfix may read: columns, never a password.
SET ROLE postfix;
SELECT count(*) AS transports FROM postfix_transport_map('nobody', 'example.invalid');
\set ON_ERROR_STOP 0
SELECT passwd FROM users LIMIT 1;
\set ON_ERROR_STOP 1
RESET ROLE;
