--
-- The 0.5.2 -> 0.6 update with vmm_upgrade.compatibility_views on: next to
-- the exact 0.6 layout, the 0.5.2 views Postfix and Dovecot query stay,
-- over the 0.6 tables (layout 0.6+compat), read-only, granted as in 0.5.2.
-- Every address answers through them what it answered before the update;
-- data added afterwards answers as the 0.6 lookups answer it.  The 0.5.2
-- lookup functions are called by their 0.6 successors of the same name.
-- drop_compatibility_views() ends at the exact 0.6 layout; pg_dump keeps the
-- state; DROP EXTENSION leaves old and new lookups working.
--
CREATE DATABASE vmm_t_upgrade_compat;
\c vmm_t_upgrade_compat
\set SHOW_CONTEXT never
CREATE ROLE regress_vmm_compat_dovecot;
CREATE ROLE regress_vmm_compat_postfix;
SET vmm_upgrade.dovecot_role = regress_vmm_compat_dovecot;
SET vmm_upgrade.postfix_role = regress_vmm_compat_postfix;
\set ECHO none
\set schema public
\set dovecot 1.2
\set lookups true
\i test/fixtures/vmm-0.5.2.sql
\set users 300
\i test/fixtures/generate-0.5.2.sql
\set ECHO all
-- A few placeholders of the old percent hack, kept literally by 0.5.2.
INSERT INTO alias (gid, address, destination)
SELECT gid, 'list', '%n-owner@%d' FROM domain_name WHERE is_primary ORDER BY gid LIMIT 1;
-- What every 0.5.2 view answers before the update.
CREATE TEMP TABLE before AS
SELECT 'dovecot_password' AS view, v::text AS line FROM dovecot_password v
UNION ALL SELECT 'dovecot_user', v::text FROM dovecot_user v
UNION ALL SELECT 'postfix_alias', v::text FROM postfix_alias v
UNION ALL SELECT 'postfix_maildir', v::text FROM postfix_maildir v
UNION ALL SELECT 'postfix_relocated', v::text FROM postfix_relocated v
UNION ALL SELECT 'postfix_transport', v::text FROM postfix_transport v
UNION ALL SELECT 'postfix_uid', v::text FROM postfix_uid v
UNION ALL SELECT 'postfix_gid', v::text FROM postfix_gid v;
SELECT view, count(*) > 0 AS has_rows FROM before GROUP BY view ORDER BY view;
-- The 0.5.2 lookup functions' answers before (same names in 0.6).
CREATE TEMP TABLE before_functions AS
SELECT u.uid, n.domainname,
       (SELECT array_agg(f::text ORDER BY f::text) FROM postfix_virtual_mailbox_map(u.local_part, n.domainname) f) AS mailbox,
       (SELECT array_agg(f::text ORDER BY f::text) FROM postfix_virtual_uid_map(u.local_part, n.domainname) f) AS uid_map,
       (SELECT array_agg(f::text ORDER BY f::text) FROM postfix_transport_map(u.local_part, n.domainname) f) AS transport,
       (SELECT array_agg(f::text ORDER BY f::text) FROM dovecotpassword(u.local_part, n.domainname) f) AS password
  FROM users u JOIN domain_name n USING (gid);
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
SET vmm_upgrade.compatibility_views = on;
SET client_min_messages = error;
ALTER EXTENSION vmm_upgrade UPDATE;
RESET client_min_messages;
-- The validator knows the state: 0.6+compat, neither 0.6 nor unknown.
SELECT * FROM vmm_upgrade.detect_layout();
SELECT * FROM vmm_upgrade.check_layout('0.6+compat');
SELECT * FROM vmm_upgrade.check_layout('0.6');
SELECT to_version, details->'compatibility_views' AS compatibility_views
  FROM vmm_upgrade.history ORDER BY id;
-- Every address answers what it answered before (both ways, row for row).
CREATE TEMP TABLE after AS
SELECT 'dovecot_password' AS view, v::text AS line FROM dovecot_password v
UNION ALL SELECT 'dovecot_user', v::text FROM dovecot_user v
UNION ALL SELECT 'postfix_alias', v::text FROM postfix_alias v
UNION ALL SELECT 'postfix_maildir', v::text FROM postfix_maildir v
UNION ALL SELECT 'postfix_relocated', v::text FROM postfix_relocated v
UNION ALL SELECT 'postfix_transport', v::text FROM postfix_transport v
UNION ALL SELECT 'postfix_uid', v::text FROM postfix_uid v
UNION ALL SELECT 'postfix_gid', v::text FROM postfix_gid v;
SELECT (SELECT count(*) FROM (SELECT * FROM before EXCEPT ALL SELECT * FROM after) x) AS lost,
       (SELECT count(*) FROM (SELECT * FROM after EXCEPT ALL SELECT * FROM before) x) AS new;
-- The 0.5.2 function calls answer through the 0.6 functions of the same
-- name and arguments, as before (the placeholders aside, which 0.6 expands
-- and the update warned about).
SELECT count(*) AS differ
  FROM before_functions b JOIN users u USING (uid) JOIN domain_name n ON n.domainname = b.domainname
 WHERE b.mailbox IS DISTINCT FROM (SELECT array_agg(f::text ORDER BY f::text) FROM postfix_virtual_mailbox_map(u.local_part, n.domainname) f)
    OR b.uid_map IS DISTINCT FROM (SELECT array_agg(f::text ORDER BY f::text) FROM postfix_virtual_uid_map(u.local_part, n.domainname) f)
    OR b.transport IS DISTINCT FROM (SELECT array_agg(f::text ORDER BY f::text) FROM postfix_transport_map(u.local_part, n.domainname) f)
    OR b.password IS DISTINCT FROM (SELECT array_agg(f::text ORDER BY f::text) FROM dovecotpassword(u.local_part, n.domainname) f);
-- Read-only, owned by the owner of the mail tables, no extension members.
SELECT c.relname, c.relowner::regrole = (SELECT relowner FROM pg_class WHERE oid = 'public.users'::regclass)::regrole AS owner_ok,
       pg_relation_is_updatable(c.oid, false) AS updatable_events,
       EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e') AS extension_member
  FROM pg_class c
 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'v'
 ORDER BY c.relname;
INSERT INTO postfix_uid (address, uid) VALUES ('x@example.org', 1);
-- Granted as in 0.5.2: the postfix_* views to Postfix, the dovecot_* views
-- to Dovecot, and nothing else; Postfix never reads a password.
SELECT c.relname,
       has_table_privilege('regress_vmm_compat_postfix', c.oid, 'SELECT') AS postfix,
       has_table_privilege('regress_vmm_compat_dovecot', c.oid, 'SELECT') AS dovecot,
       has_table_privilege('regress_vmm_compat_postfix', c.oid, 'INSERT, UPDATE, DELETE') OR
       has_table_privilege('regress_vmm_compat_dovecot', c.oid, 'INSERT, UPDATE, DELETE') AS writes
  FROM pg_class c
 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'v'
 ORDER BY c.relname;
SET ROLE regress_vmm_compat_postfix;
SELECT count(*) > 0 AS postfix_reads FROM postfix_maildir WHERE address LIKE '%@%';
SELECT password FROM dovecot_password LIMIT 1;
RESET ROLE;
SET ROLE regress_vmm_compat_dovecot;
SELECT count(*) > 0 AS dovecot_reads FROM dovecot_password WHERE imap;
RESET ROLE;
-- set_permissions() knows the views too, and refuses a password readable
-- by Postfix through them.
GRANT SELECT ON dovecot_password TO PUBLIC;
SELECT * FROM vmm_upgrade.set_permissions();
REVOKE SELECT ON dovecot_password FROM PUBLIC;
SELECT count(*) AS statements FROM vmm_upgrade.set_permissions();
-- Data added after the update answers through the old queries as the 0.6
-- lookups answer it: an account inheriting the domain's services and
-- transport, one with its own, a changed domain transport.
INSERT INTO users (local_part, passwd, uid, gid, mid)
SELECT 'newcomer', '{SHA512-CRYPT}$6$' || repeat('x', 100), 90000, gid, 1
  FROM domain_name WHERE is_primary ORDER BY gid LIMIT 1;
INSERT INTO users (local_part, passwd, uid, gid, mid, ssid, tid)
SELECT 'picky', '{PLAIN}picky', 90001, gid, 2, 6, 3
  FROM domain_name WHERE is_primary ORDER BY gid LIMIT 1;
UPDATE domain_data SET tid = 2, ssid = 11 WHERE gid = (SELECT min(gid) FROM domain_data);
INSERT INTO alias (gid, address, destination)
SELECT gid, 'fresh', 'newcomer@' || domainname FROM domain_name WHERE is_primary ORDER BY gid LIMIT 1;
-- Compared for every account under every name of its domain: 0 mismatches.
SELECT count(*) FILTER (WHERE m.maildir IS DISTINCT FROM (SELECT f.maildir FROM postfix_virtual_mailbox_map(u.local_part, n.domainname) f)) AS maildir,
       count(*) FILTER (WHERE x.uid IS DISTINCT FROM (SELECT f.uid FROM postfix_virtual_uid_map(u.local_part, n.domainname) f)) AS uid,
       count(*) FILTER (WHERE t.transport IS DISTINCT FROM (SELECT f.transport FROM postfix_transport_map(u.local_part, n.domainname) f)) AS transport,
       count(*) FILTER (WHERE row(p.password, p.smtp, p.pop3, p.imap, p.sieve)::text IS DISTINCT FROM
                              (SELECT row(f.password, f.smtp, f.pop3, f.imap, f.sieve)::text FROM dovecotpassword(u.local_part, n.domainname) f)) AS password,
       count(*) FILTER (WHERE row(d.uid, d.gid, d.home, 'maildir:' || d.mail)::text IS DISTINCT FROM
                              (SELECT row(f.uid, f.gid, f.home, f.mail)::text FROM dovecotuser(u.local_part, n.domainname) f)) AS userdb,
       count(*) AS addresses
  FROM users u JOIN domain_name n USING (gid)
  LEFT JOIN postfix_maildir m ON m.address = u.local_part || '@' || n.domainname
  LEFT JOIN postfix_uid x ON x.address = u.local_part || '@' || n.domainname
  LEFT JOIN postfix_transport t ON t.address = u.local_part || '@' || n.domainname
  LEFT JOIN dovecot_password p ON p."user" = u.local_part || '@' || n.domainname
  LEFT JOIN dovecot_user d ON d.userid = u.local_part || '@' || n.domainname;
SELECT address, maildir FROM postfix_maildir WHERE address LIKE 'newcomer@%' OR address LIKE 'picky@%' ORDER BY address LIMIT 2;
SELECT "user", smtp, pop3, imap, sieve FROM dovecot_password WHERE "user" LIKE 'newcomer@%' OR "user" LIKE 'picky@%' ORDER BY "user" LIMIT 2;
SELECT address, transport FROM postfix_transport WHERE address LIKE 'newcomer@%' OR address LIKE 'picky@%' ORDER BY address LIMIT 2;
SELECT address, destination FROM postfix_alias WHERE address LIKE 'fresh@%' ORDER BY address LIMIT 1;
-- Alias destinations without a catch-all: as the 0.6 lookup, placeholders
-- aside (literal in the view, as 0.5.2 delivered them).
SELECT count(*) AS alias_mismatches
  FROM (SELECT a.address || '@' || n.domainname AS address, a.destination
          FROM alias a JOIN domain_name n USING (gid)
         WHERE a.destination NOT LIKE '%\%%') AS a
 WHERE a.destination NOT IN (SELECT f.destination FROM postfix_virtual_alias_map(split_part(a.address, '@', 1), split_part(a.address, '@', 2)) f)
    OR a.destination NOT IN (SELECT v.destination FROM postfix_alias v WHERE v.address = a.address);
SELECT address, destination FROM postfix_alias WHERE destination = '%n-owner@%d';
-- pg_dump and restore keep the state (layout, privileges, history).
\setenv VMM_DUMP_FILE /tmp/vmm_t_upgrade_compat.sql
\! pg_dump --no-password -d vmm_t_upgrade_compat -f "$VMM_DUMP_FILE" && echo "pg_dump: ok"
CREATE DATABASE vmm_t_upgrade_compat_restored;
\! psql -X -q --no-password -v ON_ERROR_STOP=1 -d vmm_t_upgrade_compat_restored -f "$VMM_DUMP_FILE" > "$VMM_DUMP_FILE.log" 2>&1; echo "restore: exit status $?"
\set ECHO none
\i test/include/snapshot.sql
\set ECHO all
SELECT md5(t.state('public')) AS original \gset
\c vmm_t_upgrade_compat_restored
\set SHOW_CONTEXT never
\set ECHO none
\i test/include/snapshot.sql
\set ECHO all
SELECT md5(t.state('public')) = :'original' AS same_state;
SELECT version, dovecot FROM vmm_upgrade.detect_layout();
SELECT to_version, details->'compatibility_views' AS compatibility_views FROM vmm_upgrade.history ORDER BY id;
\! rm -f "$VMM_DUMP_FILE" "$VMM_DUMP_FILE.log"
-- DROP EXTENSION in that state: old and new lookups keep working.
DROP EXTENSION vmm_upgrade;
SELECT domainname AS newcomer_domain FROM domain_name WHERE is_primary ORDER BY gid LIMIT 1 \gset
SET ROLE regress_vmm_compat_postfix;
SELECT uid AS old_query FROM postfix_uid WHERE address = 'newcomer@' || :'newcomer_domain';
SELECT uid AS new_query FROM postfix_virtual_uid_map('newcomer', :'newcomer_domain');
RESET ROLE;
SET ROLE regress_vmm_compat_dovecot;
SELECT mail AS old_query FROM dovecot_user WHERE userid = 'newcomer@' || :'newcomer_domain';
SELECT mail AS new_query FROM dovecotuser('newcomer', :'newcomer_domain');
RESET ROLE;
\c vmm_t_upgrade_compat
\set SHOW_CONTEXT never
SET vmm_upgrade.dovecot_role = regress_vmm_compat_dovecot;
SET vmm_upgrade.postfix_role = regress_vmm_compat_postfix;
-- drop_compatibility_views(): a view of the DBA's built on them stops it,
-- nothing changed.
CREATE VIEW my_report AS SELECT count(*) FROM postfix_maildir;
SELECT vmm_upgrade.drop_compatibility_views();
SELECT version FROM vmm_upgrade.detect_layout();
DROP VIEW my_report;
-- Drops exactly those views, ends at the exact 0.6 layout, is recorded, and
-- names the Postfix and Dovecot sessions connected since before the update
-- (none here).
SELECT r - 'update_started_at' AS result, (r->>'update_started_at')::timestamptz =
       (SELECT started_at FROM vmm_upgrade.history WHERE to_version = '0.6' AND from_version = '0.5.2') AS since_update
  FROM vmm_upgrade.drop_compatibility_views() AS r;
SELECT * FROM vmm_upgrade.detect_layout();
SELECT from_version, to_version, details->>'step' AS step, details->'dropped' AS dropped
  FROM vmm_upgrade.history ORDER BY id;
SELECT count(*) AS statements FROM vmm_upgrade.set_permissions();
-- On any other state it refuses.
SELECT vmm_upgrade.drop_compatibility_views();
-- Not while switching the Dovecot variant: Dovecot's 0.5.2 query names the
-- sieve flag as the old variant does.
\c postgres
CREATE DATABASE vmm_t_upgrade_compat_switch;
\c vmm_t_upgrade_compat_switch
\set SHOW_CONTEXT never
\set ECHO none
\set schema public
\set dovecot 1.1
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\set ECHO all
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
SET vmm_upgrade.compatibility_views = on;
SET vmm_upgrade.dovecot_version = '2.3.19';
ALTER EXTENSION vmm_upgrade UPDATE;
SELECT version, dovecot FROM vmm_upgrade.detect_layout();
-- The Dovecot 1.1 variant kept: its own dovecot_password (managesieve), and
-- the closing WARNINGs say that the views stay until they are dropped.
RESET vmm_upgrade.dovecot_version;
SET vmm_upgrade.dovecot_role = regress_vmm_compat_dovecot;
SET vmm_upgrade.postfix_role = regress_vmm_compat_postfix;
ALTER EXTENSION vmm_upgrade UPDATE;
SELECT version, dovecot FROM vmm_upgrade.detect_layout();
SELECT * FROM vmm_upgrade.check_layout('0.6+compat', '1.1');
SELECT attname FROM pg_attribute WHERE attrelid = 'public.dovecot_password'::regclass AND attnum > 0 ORDER BY attnum;
SELECT r->'dropped' AS dropped FROM vmm_upgrade.drop_compatibility_views() AS r;
SELECT version, dovecot FROM vmm_upgrade.detect_layout();
\c postgres
DROP DATABASE vmm_t_upgrade_compat;
DROP DATABASE vmm_t_upgrade_compat_restored;
DROP DATABASE vmm_t_upgrade_compat_switch;
DROP ROLE regress_vmm_compat_dovecot;
DROP ROLE regress_vmm_compat_postfix;
