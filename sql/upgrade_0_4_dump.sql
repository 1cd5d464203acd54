--
-- Dump, restore, drop, on the way from vmm 0.4.
--   * A dump taken at 0.4 (adopted, not yet updated) restores with the
--     extension at the default version over the 0.4 layout (pg_dump records
--     no extension version); the documented next command, ALTER EXTENSION
--     vmm_upgrade UPDATE, then says exactly what to type, and following it
--     reaches 0.6 with the history kept.
--   * A dump taken at 0.5.2 (after the first step) and one taken at 0.6
--     (after the second) restore without errors into fresh databases with
--     the same structure, owners, privileges, rows and history; DROP
--     EXTENSION vmm_upgrade then leaves the mail schema exactly as it was,
--     and Postfix and Dovecot read what they read before, with the
--     privileges the dump restored; the primary-name trigger still works.
--
CREATE DATABASE vmm_t_04_dump;
\c vmm_t_04_dump
\set SHOW_CONTEXT never
CREATE ROLE regress_vmm04d_dovecot;
CREATE ROLE regress_vmm04d_postfix;
SET vmm_upgrade.dovecot_role = regress_vmm04d_dovecot;
SET vmm_upgrade.postfix_role = regress_vmm04d_postfix;
\set ECHO none
\set schema public
\set form release
\i test/fixtures/vmm-0.4.sql
\set users 200
\i test/fixtures/generate-0.4.sql
\set ECHO all
CREATE EXTENSION vmm_upgrade VERSION '0.4';
-- 1. A dump taken at 0.4.
\setenv VMM_DUMP_FILE /tmp/vmm_t_04_dump.sql
\! pg_dump --no-password -d vmm_t_04_dump -f "$VMM_DUMP_FILE" && echo "pg_dump: ok"
CREATE DATABASE vmm_t_04_dump_at04;
\! psql -X -q --no-password -v ON_ERROR_STOP=1 -d vmm_t_04_dump_at04 -f "$VMM_DUMP_FILE" > "$VMM_DUMP_FILE.log" 2>&1; echo "restore: exit status $?"
\! grep -E '^psql:.*(WARNING|ERROR)' "$VMM_DUMP_FILE.log" | sed -e 's/^psql:[^:]*:[0-9]*: //'
\c vmm_t_04_dump_at04
\set SHOW_CONTEXT never
SELECT split_part(extversion, '+', 1) AS extversion FROM pg_extension WHERE extname = 'vmm_upgrade';
SELECT version FROM vmm_upgrade.detect_layout();
SET client_min_messages = warning;
ALTER EXTENSION vmm_upgrade UPDATE;
RESET client_min_messages;
DROP EXTENSION vmm_upgrade;
CREATE EXTENSION vmm_upgrade VERSION '0.4';
SET client_min_messages = error;
ALTER EXTENSION vmm_upgrade UPDATE;
RESET client_min_messages;
SELECT version, dovecot FROM vmm_upgrade.detect_layout();
SELECT id, from_version, to_version, details->>'step' AS step FROM vmm_upgrade.history ORDER BY id;
-- 2. A dump taken at 0.5.2.
\c vmm_t_04_dump
\set SHOW_CONTEXT never
SET vmm_upgrade.dovecot_role = regress_vmm04d_dovecot;
SET vmm_upgrade.postfix_role = regress_vmm04d_postfix;
SET client_min_messages = error;
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
RESET client_min_messages;
\set ECHO none
\i test/include/snapshot.sql
\set ECHO all
-- What Postfix and Dovecot read (as those roles), as one text.
CREATE FUNCTION t.views_as(role name) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', role);
    IF role = 'regress_vmm04d_postfix' THEN
        SELECT md5(string_agg(x, E'\n' ORDER BY x)) || ' ' || count(*) INTO result
          FROM (SELECT m::text AS x FROM public.postfix_maildir m
                UNION ALL SELECT a::text FROM public.postfix_alias a
                UNION ALL SELECT r::text FROM public.postfix_relocated r
                UNION ALL SELECT t::text FROM public.postfix_transport t
                UNION ALL SELECT u::text FROM public.postfix_uid u
                UNION ALL SELECT g::text FROM public.postfix_gid g) AS v;
    ELSE
        SELECT md5(string_agg(x, E'\n' ORDER BY x)) || ' ' || count(*) INTO result
          FROM (SELECT p::text AS x FROM public.dovecot_password p
                UNION ALL SELECT u::text FROM public.dovecot_user u) AS v;
    END IF;
    RESET ROLE;
    RETURN result;
END $$;
GRANT USAGE ON SCHEMA t TO PUBLIC;
SELECT md5(t.state('public')) AS original,
       (SELECT md5(string_agg(h::text, E'\n' ORDER BY h.id)) FROM vmm_upgrade.history h) AS original_history,
       t.views_as('regress_vmm04d_postfix') AS postfix_reads,
       t.views_as('regress_vmm04d_dovecot') AS dovecot_reads \gset
\! pg_dump --no-password -d vmm_t_04_dump -f "$VMM_DUMP_FILE" && echo "pg_dump: ok"
CREATE DATABASE vmm_t_04_dump_at052;
\! psql -X -q --no-password -v ON_ERROR_STOP=1 -d vmm_t_04_dump_at052 -f "$VMM_DUMP_FILE" > "$VMM_DUMP_FILE.log" 2>&1; echo "restore: exit status $?"
\! grep -E '^psql:.*(WARNING|ERROR)' "$VMM_DUMP_FILE.log" | sed -e 's/^psql:[^:]*:[0-9]*: //'
\c vmm_t_04_dump_at052
\set SHOW_CONTEXT never
SELECT md5(t.state('public')) = :'original' AS same_structure_and_rows,
       (SELECT md5(string_agg(h::text, E'\n' ORDER BY h.id)) FROM vmm_upgrade.history h) = :'original_history' AS same_history,
       t.views_as('regress_vmm04d_postfix') = :'postfix_reads' AS postfix_reads_the_same,
       t.views_as('regress_vmm04d_dovecot') = :'dovecot_reads' AS dovecot_reads_the_same;
SELECT version, dovecot FROM vmm_upgrade.detect_layout();
-- DROP EXTENSION: the mail schema stays exactly as it is, and is read the
-- same; the primary-name trigger still guards the domain names.
DROP EXTENSION vmm_upgrade;
SELECT md5(t.state('public')) = :'original' AS mail_unchanged,
       t.views_as('regress_vmm04d_postfix') = :'postfix_reads' AS postfix_reads_the_same,
       t.views_as('regress_vmm04d_dovecot') = :'dovecot_reads' AS dovecot_reads_the_same;
INSERT INTO public.domain_name (domainname, gid, is_primary)
SELECT 'second-primary.example', gid, true FROM public.domain_name ORDER BY gid LIMIT 1;
-- 3. A dump taken at 0.6.
\c vmm_t_04_dump
\set SHOW_CONTEXT never
SET vmm_upgrade.dovecot_role = regress_vmm04d_dovecot;
SET vmm_upgrade.postfix_role = regress_vmm04d_postfix;
SET client_min_messages = error;
ALTER EXTENSION vmm_upgrade UPDATE;
RESET client_min_messages;
CREATE TABLE t.addresses AS
SELECT u.local_part, n.domainname FROM public.users u JOIN public.domain_name n USING (gid);
GRANT SELECT ON t.addresses TO PUBLIC;
-- every lookup for every account, asked as Postfix or Dovecot
CREATE FUNCTION t.lookups_as(role name) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', role);
    IF role = 'regress_vmm04d_postfix' THEN
        SELECT md5(string_agg(x, E'\n' ORDER BY x)) || ' ' || count(*) INTO result
          FROM (SELECT f::text AS x FROM t.addresses a, public.postfix_virtual_mailbox_map(a.local_part, a.domainname) f
                UNION ALL SELECT f::text FROM t.addresses a, public.postfix_transport_map(a.local_part, a.domainname) f
                UNION ALL SELECT f::text FROM t.addresses a, public.postfix_virtual_alias_map(a.local_part, a.domainname) f) AS v;
    ELSE
        SELECT md5(string_agg(x, E'\n' ORDER BY x)) || ' ' || count(*) INTO result
          FROM (SELECT f::text AS x FROM t.addresses a, public.dovecotpassword(a.local_part, a.domainname) f
                UNION ALL SELECT f::text FROM t.addresses a, public.dovecotuser(a.local_part, a.domainname) f) AS v;
    END IF;
    RESET ROLE;
    RETURN result;
END $$;
SELECT md5(t.state('public')) AS original,
       (SELECT md5(string_agg(h::text, E'\n' ORDER BY h.id)) FROM vmm_upgrade.history h) AS original_history,
       t.lookups_as('regress_vmm04d_postfix') AS postfix_reads,
       t.lookups_as('regress_vmm04d_dovecot') AS dovecot_reads \gset
\! pg_dump --no-password -d vmm_t_04_dump -f "$VMM_DUMP_FILE" && echo "pg_dump: ok"
CREATE DATABASE vmm_t_04_dump_at06;
\! psql -X -q --no-password -v ON_ERROR_STOP=1 -d vmm_t_04_dump_at06 -f "$VMM_DUMP_FILE" > "$VMM_DUMP_FILE.log" 2>&1; echo "restore: exit status $?"
\! grep -E '^psql:.*(WARNING|ERROR)' "$VMM_DUMP_FILE.log" | sed -e 's/^psql:[^:]*:[0-9]*: //'
\c vmm_t_04_dump_at06
\set SHOW_CONTEXT never
SELECT md5(t.state('public')) = :'original' AS same_structure_and_rows,
       (SELECT md5(string_agg(h::text, E'\n' ORDER BY h.id)) FROM vmm_upgrade.history h) = :'original_history' AS same_history,
       t.lookups_as('regress_vmm04d_postfix') = :'postfix_reads' AS postfix_reads_the_same,
       t.lookups_as('regress_vmm04d_dovecot') = :'dovecot_reads' AS dovecot_reads_the_same;
SELECT version, dovecot FROM vmm_upgrade.detect_layout();
SELECT from_version, to_version, users_changed, domains_changed FROM vmm_upgrade.history ORDER BY id;
DROP EXTENSION vmm_upgrade;
SELECT md5(t.state('public')) = :'original' AS mail_unchanged,
       t.lookups_as('regress_vmm04d_postfix') = :'postfix_reads' AS postfix_reads_the_same,
       t.lookups_as('regress_vmm04d_dovecot') = :'dovecot_reads' AS dovecot_reads_the_same;
\! rm -f "$VMM_DUMP_FILE" "$VMM_DUMP_FILE.log"
\c contrib_regression
DROP DATABASE vmm_t_04_dump_at04;
DROP DATABASE vmm_t_04_dump_at052;
DROP DATABASE vmm_t_04_dump_at06;
DROP DATABASE vmm_t_04_dump;
DROP ROLE regress_vmm04d_dovecot;
DROP ROLE regress_vmm04d_postfix;
