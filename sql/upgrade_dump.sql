--
-- Dump, restore, drop.  pg_dump of an upgraded database restores without
-- errors into a fresh database of the same server, with the same structure,
-- owners, privileges and rows, and the extension present with its history;
-- DROP EXTENSION vmm_upgrade then leaves every lookup working and the mail
-- schema exactly as it was.
--
CREATE DATABASE vmm_t_upgrade_dump;
\c vmm_t_upgrade_dump
\set SHOW_CONTEXT never
CREATE ROLE regress_vmm_dump_dovecot;
CREATE ROLE regress_vmm_dump_postfix;
SET vmm_upgrade.dovecot_role = regress_vmm_dump_dovecot;
SET vmm_upgrade.postfix_role = regress_vmm_dump_postfix;
\set ECHO none
\set schema public
\set dovecot 1.2
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\set users 500
\i test/fixtures/generate-0.5.2.sql
\set ECHO all
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
SET client_min_messages = error;
ALTER EXTENSION vmm_upgrade UPDATE;
RESET client_min_messages;
INSERT INTO public.catchall (gid, destination)
SELECT gid, 'postmaster@' || domainname FROM public.domain_name WHERE is_primary ORDER BY gid LIMIT 3;
INSERT INTO public.userquota (uid, bytes, messages) SELECT uid, 4096, 3 FROM public.users ORDER BY uid LIMIT 10;
-- Dump (plain format) and restore with psql, stopping at the first error.
\setenv VMM_DUMP_FILE /tmp/vmm_t_upgrade_dump.sql
\! pg_dump --no-password -d vmm_t_upgrade_dump -f "$VMM_DUMP_FILE" && echo "pg_dump: ok"
CREATE DATABASE vmm_t_upgrade_restored;
\! psql -X -q --no-password -v ON_ERROR_STOP=1 -d vmm_t_upgrade_restored -f "$VMM_DUMP_FILE" > "$VMM_DUMP_FILE.log" 2>&1; echo "restore: exit status $?"; grep -c ERROR "$VMM_DUMP_FILE.log"
-- The restore's only message: the extension found no vmm objects yet.
\! grep -E '^psql:.*(WARNING|ERROR)' "$VMM_DUMP_FILE.log" | sed -e 's/^psql:[^:]*:[0-9]*: //'
-- Same structure, owners, privileges and rows; same extension and history.
\set ECHO none
\i test/include/snapshot.sql
\set ECHO all
SELECT md5(t.state('public')) AS original,
       (SELECT extversion FROM pg_extension WHERE extname = 'vmm_upgrade') AS original_version,
       (SELECT md5(string_agg(h::text, E'\n' ORDER BY h.id)) FROM vmm_upgrade.history h) AS original_history,
       (SELECT md5(string_agg(f::text, E'\n' ORDER BY f::text))
          FROM public.users u JOIN public.domain_name n USING (gid),
               public.dovecotquotauser(u.local_part, n.domainname) f) AS original_lookups \gset
\c vmm_t_upgrade_restored
\set SHOW_CONTEXT never
\set ECHO none
\i test/include/snapshot.sql
\set ECHO all
SELECT md5(t.state('public')) = :'original' AS same_structure_and_rows,
       (SELECT extversion FROM pg_extension WHERE extname = 'vmm_upgrade') = :'original_version' AS same_version,
       (SELECT md5(string_agg(h::text, E'\n' ORDER BY h.id)) FROM vmm_upgrade.history h) = :'original_history' AS same_history,
       (SELECT md5(string_agg(f::text, E'\n' ORDER BY f::text))
          FROM public.users u JOIN public.domain_name n USING (gid),
               public.dovecotquotauser(u.local_part, n.domainname) f) = :'original_lookups' AS same_lookups;
SELECT version, dovecot FROM vmm_upgrade.detect_layout();
SELECT count(*) AS deviations FROM vmm_upgrade.check_layout('0.6', '1.2');
SELECT from_version, to_version, from_dovecot, to_dovecot, users_changed FROM vmm_upgrade.history ORDER BY id;
-- The restored database goes on working: new rows through the sequences.
INSERT INTO public.domain_data (domaindir) VALUES ('/srv/mail/n') RETURNING gid AS new_gid;
-- DROP EXTENSION: the mail schema stays exactly as it is, lookups answer.
SELECT md5(t.state('public')) AS before_drop \gset
DROP EXTENSION vmm_upgrade;
SELECT md5(t.state('public')) = :'before_drop' AS mail_unchanged,
       (SELECT count(*) FROM pg_extension WHERE extname = 'vmm_upgrade') AS extensions;
SELECT (SELECT md5(string_agg(f::text, E'\n' ORDER BY f::text))
          FROM public.users u JOIN public.domain_name n USING (gid),
               public.dovecotquotauser(u.local_part, n.domainname) f) = :'original_lookups' AS same_lookups;
-- ... also for Postfix and Dovecot, with the privileges the dump restored.
CREATE TABLE t.addresses AS
SELECT u.local_part, n.domainname FROM public.users u JOIN public.domain_name n USING (gid);
GRANT USAGE ON SCHEMA t TO PUBLIC;
GRANT SELECT ON t.addresses TO PUBLIC;
SET ROLE regress_vmm_dump_postfix;
SELECT count(*) AS postfix_transports
  FROM t.addresses a, public.postfix_transport_map(a.local_part, a.domainname);
RESET ROLE;
SET ROLE regress_vmm_dump_dovecot;
SELECT count(*) AS dovecot_passwords
  FROM t.addresses a, public.dovecotpassword(a.local_part, a.domainname);
RESET ROLE;
\! rm -f "$VMM_DUMP_FILE" "$VMM_DUMP_FILE.log"
\c postgres
DROP DATABASE vmm_t_upgrade_restored;
DROP DATABASE vmm_t_upgrade_dump;
DROP ROLE regress_vmm_dump_dovecot;
DROP ROLE regress_vmm_dump_postfix;
