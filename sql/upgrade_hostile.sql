--
-- Hostile objects in the mail schema.  Someone who may create objects in
-- the mail schema (here: public) plants functions and operators with the
-- names and argument types the upgrade and the lookups use, each of which
-- raises an error when called.  The update runs (as superuser) and the 0.6
-- lookups answer, also for a caller whose search_path puts the mail schema
-- before pg_catalog, and none of the planted objects is ever called.
--
CREATE DATABASE vmm_t_upgrade_hostile;
\c vmm_t_upgrade_hostile
\set SHOW_CONTEXT never
\set ECHO none
\set schema public
\set dovecot 1.2
\set lookups true
\i test/fixtures/vmm-0.5.2.sql
\set users 100
\i test/fixtures/generate-0.5.2.sql
\set ECHO all
CREATE SCHEMA t;
CREATE TABLE t.calls AS
SELECT u.local_part::text AS lp, n.domainname::text AS dn
  FROM public.users u JOIN public.domain_name n USING (gid)
UNION ALL SELECT a.address::text, n.domainname::text
  FROM public.alias a JOIN public.domain_name n USING (gid)
UNION ALL SELECT r.address::text, n.domainname::text
  FROM public.relocated r JOIN public.domain_name n USING (gid)
UNION ALL SELECT 'nobody', n.domainname::text FROM public.domain_name n;
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
-- Mallory may create objects in the mail schema.
CREATE ROLE regress_vmm_mallory;
GRANT CREATE ON SCHEMA public TO regress_vmm_mallory;
SET ROLE regress_vmm_mallory;
CREATE FUNCTION public.hijack_bool(varchar, varchar) RETURNS boolean LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: comparison of varchar called'; END $$;
CREATE FUNCTION public.hijack_bool(text, text) RETURNS boolean LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: comparison of text called'; END $$;
CREATE FUNCTION public.hijack_bool(bigint, bigint) RETURNS boolean LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: comparison of bigint called'; END $$;
CREATE FUNCTION public.hijack_bool(name, name) RETURNS boolean LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: comparison of name called'; END $$;
CREATE FUNCTION public.hijack_bool(integer, integer) RETURNS boolean LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: comparison of integer called'; END $$;
CREATE FUNCTION public.hijack_text(varchar, varchar) RETURNS text LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: concatenation of varchar called'; END $$;
CREATE FUNCTION public.hijack_text(text, text) RETURNS text LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: concatenation of text called'; END $$;
CREATE FUNCTION public.hijack_bigint(bigint, bigint) RETURNS bigint LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: bigint arithmetic called'; END $$;
CREATE FUNCTION public.hijack_int(integer, integer) RETURNS integer LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: integer arithmetic called'; END $$;
CREATE FUNCTION public.hijack_neg(integer) RETURNS integer LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: negation called'; END $$;
CREATE OPERATOR public.= (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = public.hijack_bool);
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.hijack_bool);
CREATE OPERATOR public.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.hijack_bool);
CREATE OPERATOR public.= (LEFTARG = name, RIGHTARG = name, FUNCTION = public.hijack_bool);
CREATE OPERATOR public.< (LEFTARG = integer, RIGHTARG = integer, FUNCTION = public.hijack_bool);
CREATE OPERATOR public.|| (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = public.hijack_text);
CREATE OPERATOR public.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = public.hijack_text);
CREATE OPERATOR public.+ (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.hijack_bigint);
CREATE OPERATOR public.+ (LEFTARG = integer, RIGHTARG = integer, FUNCTION = public.hijack_int);
CREATE OPERATOR public.* (LEFTARG = integer, RIGHTARG = integer, FUNCTION = public.hijack_int);
CREATE OPERATOR public.& (LEFTARG = integer, RIGHTARG = integer, FUNCTION = public.hijack_int);
CREATE OPERATOR public.- (RIGHTARG = integer, FUNCTION = public.hijack_neg);
CREATE FUNCTION public.replace(varchar, varchar, varchar) RETURNS text LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: replace called'; END $$;
CREATE FUNCTION public.replace(text, text, text) RETURNS text LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: replace called'; END $$;
CREATE FUNCTION public.nextval(regclass) RETURNS bigint LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: nextval called'; END $$;
CREATE FUNCTION public.setval(regclass, bigint) RETURNS bigint LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: setval called'; END $$;
CREATE FUNCTION public.set_config(text, text, boolean) RETURNS text LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: set_config called'; END $$;
CREATE FUNCTION public.current_setting(text, boolean) RETURNS text LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: current_setting called'; END $$;
CREATE FUNCTION public.format(text, VARIADIC text[]) RETURNS text LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: format called'; END $$;
CREATE FUNCTION public.quote_ident(text) RETURNS text LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: quote_ident called'; END $$;
CREATE FUNCTION public.generate_series(integer, integer) RETURNS SETOF integer LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: generate_series called'; END $$;
CREATE FUNCTION public.textcat(text, text) RETURNS text LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: textcat called'; END $$;
RESET ROLE;
-- The trap is live: plain SQL with the mail schema first on the path walks
-- into it.
SET search_path = public, pg_catalog;
SELECT 'a'::text = 'a'::text;
SELECT 'a'::varchar || 'b'::varchar;
RESET search_path;
SELECT 'a'::varchar = 'a'::varchar;
-- The planted objects are not layout deviations of vmm's: the update runs,
-- even for a DBA whose search_path puts the mail schema first.
SET search_path = public, pg_catalog;
SET client_min_messages = error;
ALTER EXTENSION vmm_upgrade UPDATE;
RESET client_min_messages;
RESET search_path;
SELECT version, dovecot FROM vmm_upgrade.detect_layout();
SELECT count(*) AS deviations FROM vmm_upgrade.check_layout('0.6', '1.2');
-- Every lookup for every address, as one text; bound now, under the
-- default search_path.
CREATE FUNCTION t.all_lookups() RETURNS text LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT md5(string_agg(x, E'\n' ORDER BY x)) || ' ' || count(*)::text
      FROM (SELECT f::text AS x FROM t.calls c, public.dovecotpassword(c.lp, c.dn) f
            UNION ALL SELECT f::text FROM t.calls c, public.dovecotuser(c.lp, c.dn) f
            UNION ALL SELECT f::text FROM t.calls c, public.dovecotquotauser(c.lp, c.dn) f
            UNION ALL SELECT f::text FROM t.calls c, public.postfix_relocated_map(c.lp, c.dn) f
            UNION ALL SELECT f::text FROM t.calls c, public.postfix_smtpd_sender_login_map(c.lp, c.dn) f
            UNION ALL SELECT f::text FROM t.calls c, public.postfix_transport_map(c.lp, c.dn) f
            UNION ALL SELECT f::text FROM t.calls c, public.postfix_virtual_alias_map(c.lp, c.dn) f
            UNION ALL SELECT f::text FROM t.calls c, public.postfix_virtual_mailbox_map(c.lp, c.dn) f
            UNION ALL SELECT f::text FROM t.calls c, public.postfix_virtual_uid_map(c.lp, c.dn) f) AS l;
END;
-- A catch-all with substitution, so _interpolate_destination is used too.
INSERT INTO public.catchall (gid, destination)
SELECT gid, 'catchall+%n=%d@archive.test' FROM public.domain_data;
-- The same answers under the default search_path and with the mail schema
-- before pg_catalog (each a fresh session: no plan cached from before).
\c vmm_t_upgrade_hostile
SELECT t.all_lookups() AS normal \gset
\c vmm_t_upgrade_hostile
SET search_path = public, pg_catalog;
SELECT t.all_lookups() AS hostile \gset
RESET search_path;
SELECT :'normal' = :'hostile' AS same_answers, split_part(:'normal', ' ', 2)::integer AS rows;
-- The quota merge trigger, under the hostile path too.
SET search_path = public, pg_catalog;
INSERT INTO public.userquota (uid, bytes, messages) VALUES (70000, 10, 1), (70000, 5, 1);
RESET search_path;
SELECT uid, bytes, messages FROM public.userquota;
-- set_permissions under the hostile path.
CREATE ROLE regress_vmm_hostile_dovecot;
CREATE ROLE regress_vmm_hostile_postfix;
SET search_path = public, pg_catalog;
SELECT count(*) FROM vmm_upgrade.set_permissions('regress_vmm_hostile_dovecot', 'regress_vmm_hostile_postfix');
RESET search_path;
\c postgres
DROP DATABASE vmm_t_upgrade_hostile;
DROP ROLE regress_vmm_mallory;
DROP ROLE regress_vmm_hostile_dovecot;
DROP ROLE regress_vmm_hostile_postfix;
