-- compatibility-views.sql: the 0.5.2 views over the 0.6 tables that let
-- Postfix and Dovecot keep their 0.5.2 queries through the update
-- (vmm_upgrade.compatibility_views), and drop_compatibility_views().
--
-- Every function pins search_path to pg_catalog, pg_temp and names each mail
-- object through its schema; existing mail tables are changed only through
-- vmm_upgrade._as_owner; what is created in the mail schema is handed over
-- to the owner of users (src/library/README.md).

-- ---------------------------------------------------------------------------
-- The 0.5.2 views over the 0.6 tables (vmm_upgrade.compatibility_views)
-- ---------------------------------------------------------------------------

-- The views Postfix and Dovecot query in 0.5.2, by name and column, written
-- over the 0.6 tables, as (view, service, definition): service is the one
-- granted SELECT on it, as in 0.5.2 (_client_views_0_5_2).  Every address of the 0.5.2 database answers what
-- it answered before the update: the same maildir, uid, alias destinations
-- (literally, %n/%d/%= unexpanded, as 0.5.2 delivered them), relocated
-- destination, transport (a NULL tid of 0.6 is the domain's, as the 0.6
-- lookup has it) and services (the user's service set or the domain's).
-- Data added afterwards answers as the 0.6 lookups answer it where a 0.5.2
-- view can say it; what it cannot say: catch-all (0.5.2 has no row for an
-- address without an alias), the mailbox format (Dovecot's 0.5.2 query puts
-- "maildir:" in front of mail), %n/%d/%= expansion (it would change what
-- old aliases answer).  postfix_gid is part of 0.6 and stays anyway.  Every
-- view joins tables, so none is updatable: they are read-only.
CREATE FUNCTION vmm_upgrade._compatibility_view_definitions(mail_schema name, dovecot text)
RETURNS TABLE (view name, service text, statement text)
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT v.name::pg_catalog.name, c.service,
           pg_catalog.replace(pg_catalog.replace(v.statement, '@s@', pg_catalog.quote_ident(mail_schema)),
                              '@sieve@', vmm_upgrade._sieve_flag(dovecot))
      FROM (VALUES
        (1, 'dovecot_password', $q$
            CREATE VIEW @s@.dovecot_password AS
            SELECT (users.local_part::text || '@'::text) || domain_name.domainname::text AS "user",
                   users.passwd AS password, service_set.smtp, service_set.pop3,
                   service_set.imap, service_set.@sieve@
              FROM @s@.users
              LEFT JOIN @s@.domain_data USING (gid)
              LEFT JOIN @s@.service_set ON service_set.ssid = COALESCE(users.ssid, domain_data.ssid)
              LEFT JOIN @s@.domain_name USING (gid)$q$),
        (2, 'dovecot_user', $q$
            CREATE VIEW @s@.dovecot_user AS
            SELECT (users.local_part::text || '@'::text) || domain_name.domainname::text AS userid,
                   users.uid, users.gid,
                   (domain_data.domaindir::text || '/'::text) || users.uid AS home,
                   '~/'::text || maillocation.directory::text AS mail
              FROM @s@.users
              LEFT JOIN @s@.domain_data USING (gid)
              LEFT JOIN @s@.domain_name USING (gid)
              LEFT JOIN @s@.maillocation USING (mid)$q$),
        (3, 'postfix_alias', $q$
            CREATE VIEW @s@.postfix_alias AS
            SELECT (alias.address::text || '@'::text) || domain_name.domainname::text AS address,
                   alias.destination, alias.gid
              FROM @s@.alias
              LEFT JOIN @s@.domain_name USING (gid)$q$),
        (4, 'postfix_maildir', $q$
            CREATE VIEW @s@.postfix_maildir AS
            SELECT (users.local_part::text || '@'::text) || domain_name.domainname::text AS address,
                   ((((domain_data.domaindir::text || '/'::text) || users.uid) || '/'::text)
                     || maillocation.directory::text) || '/'::text AS maildir
              FROM @s@.users
              LEFT JOIN @s@.domain_data USING (gid)
              LEFT JOIN @s@.domain_name USING (gid)
              LEFT JOIN @s@.maillocation USING (mid)$q$),
        (5, 'postfix_relocated', $q$
            CREATE VIEW @s@.postfix_relocated AS
            SELECT (relocated.address::text || '@'::text) || domain_name.domainname::text AS address,
                   relocated.destination
              FROM @s@.relocated
              LEFT JOIN @s@.domain_name USING (gid)$q$),
        (6, 'postfix_transport', $q$
            CREATE VIEW @s@.postfix_transport AS
            SELECT (users.local_part::text || '@'::text) || domain_name.domainname::text AS address,
                   transport.transport
              FROM @s@.users
              LEFT JOIN @s@.domain_data USING (gid)
              LEFT JOIN @s@.transport ON transport.tid = COALESCE(users.tid, domain_data.tid)
              LEFT JOIN @s@.domain_name USING (gid)$q$),
        (7, 'postfix_uid', $q$
            CREATE VIEW @s@.postfix_uid AS
            SELECT (users.local_part::text || '@'::text) || domain_name.domainname::text AS address,
                   users.uid
              FROM @s@.users
              LEFT JOIN @s@.domain_name USING (gid)$q$)) AS v(ord, name, statement)
      JOIN vmm_upgrade._client_views_0_5_2() AS c ON c.view OPERATOR(pg_catalog.=) v.name
     ORDER BY v.ord
$fn$;

-- Is vmm_upgrade.compatibility_views on?
CREATE FUNCTION vmm_upgrade._compatibility_views_wanted()
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT coalesce(pg_catalog.current_setting('vmm_upgrade.compatibility_views', true), 'off')::boolean
$fn$;

-- Creates the compatibility views in <mail_schema> (Dovecot variant
-- dovecot) and hands them over to the owner of users, whose rights they
-- read the tables with.
CREATE FUNCTION vmm_upgrade._create_compatibility_views(mail_schema name, dovecot text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    owner name := vmm_upgrade._users_owner(mail_schema);
    d     record;
BEGIN
    FOR d IN SELECT * FROM vmm_upgrade._compatibility_view_definitions(mail_schema, dovecot) LOOP
        EXECUTE d.statement;
        PERFORM vmm_upgrade._hand_over('VIEW', format('%I.%I', mail_schema, d.view), owner);
    END LOOP;
END
$fn$;

-- Public API: drop the compatibility views the 0.5.2 -> 0.6 update left
-- (vmm_upgrade.compatibility_views on), once Postfix and Dovecot run the 0.6
-- queries.  Only from layout 0.6+compat, to exactly layout 0.6 (ERROR and
-- nothing changed otherwise); recorded in vmm_upgrade.history.  No CASCADE:
-- a view of the DBA's built on them stops it.  The result names the views
-- dropped and the sessions of the roles that could read them (Postfix's and
-- Dovecot's) connected since before the update: they may still have run the
-- 0.5.2 queries, and will fail on their next lookup through a view.  One
-- step of the runner (src/library/runner.sql).
--   SELECT vmm_upgrade.drop_compatibility_views();
CREATE FUNCTION vmm_upgrade.drop_compatibility_views()
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RETURN vmm_upgrade._run_step('drop_compatibility_views');
END
$fn$;

-- The work of drop_compatibility_views() on <mail_schema> (layout 0.6+compat
-- of Dovecot variant dovecot, checked and locked by the runner): who may
-- read the views, before they go; the views go; which sessions of those
-- roles were connected before the 0.5.2 -> 0.6 update (the latest recorded
-- in the history).  Returns mail_schema, dropped, update_started_at and
-- sessions_from_before_the_update.
CREATE FUNCTION vmm_upgrade._drop_compatibility_views(mail_schema name, dovecot text)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    updated_at  timestamptz;
    readers     oid[];
    sessions    jsonb;
    dropped     text[] := '{}';
    d           record;
BEGIN
    readers := ARRAY(SELECT DISTINCT e.grantee
                       FROM vmm_upgrade._compatibility_view_definitions(mail_schema, dovecot) AS c
                       JOIN pg_class r ON r.relname = c.view
                                      AND r.relnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = mail_schema)
                      CROSS JOIN LATERAL aclexplode(r.relacl) AS e
                      WHERE e.grantee <> r.relowner);
    PERFORM vmm_upgrade._history_table();
    SELECT max(h.started_at) INTO updated_at
      FROM vmm_upgrade.history h
     WHERE h.mail_schema = _drop_compatibility_views.mail_schema
       AND h.from_version = '0.5.2' AND h.to_version = '0.6';
    FOR d IN SELECT * FROM vmm_upgrade._compatibility_view_definitions(mail_schema, dovecot) LOOP
        EXECUTE format('DROP VIEW %I.%I', mail_schema, d.view);
        dropped := dropped || d.view::text;
    END LOOP;
    SELECT coalesce(jsonb_agg(jsonb_build_object('pid', a.pid, 'role', a.usename,
                                                 'application_name', a.application_name,
                                                 'client_addr', a.client_addr,
                                                 'backend_start', a.backend_start)
                              ORDER BY a.backend_start, a.pid), '[]')
      INTO sessions
      FROM pg_stat_activity a
     WHERE a.usesysid = ANY (readers)
       AND a.pid <> pg_backend_pid()
       AND (updated_at IS NULL OR a.backend_start < updated_at);
    RETURN jsonb_build_object('mail_schema', mail_schema,
                              'dropped', to_jsonb(dropped),
                              'update_started_at', updated_at,
                              'sessions_from_before_the_update', sessions);
END
$fn$;

-- The WARNING that ends drop_compatibility_views(): the sessions of Postfix
-- or Dovecot connected before the update, which may still query the views.
CREATE FUNCTION vmm_upgrade._warn_compatibility_sessions(result jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    n integer := jsonb_array_length(result->'sessions_from_before_the_update');
BEGIN
    IF n > 0 THEN
        RAISE WARNING 'vmm_upgrade: % session% of Postfix or Dovecot connected before the update still run%',
            n, CASE WHEN n = 1 THEN '' ELSE 's' END, CASE WHEN n = 1 THEN 's' ELSE '' END
            USING DETAIL = 'They may still query the 0.5.2 views, which are gone now: their next such lookup fails.',
                  HINT = 'Reload the service they belong to ("postfix reload", "doveadm reload").';
    END IF;
END
$fn$;

REVOKE EXECUTE ON FUNCTION
    vmm_upgrade.drop_compatibility_views(),
    vmm_upgrade._drop_compatibility_views(name, text),
    vmm_upgrade._warn_compatibility_sessions(jsonb)
FROM PUBLIC;
