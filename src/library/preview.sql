-- preview.sql: vmm_upgrade.preview(version), the dry run of a step.
--
-- Every function pins search_path to pg_catalog, pg_temp and names each mail
-- object through its schema; existing mail tables are changed only through
-- vmm_upgrade._as_owner; what is created in the mail schema is handed over
-- to the owner of users (src/library/README.md).

-- ---------------------------------------------------------------------------
-- A dry run: what ALTER EXTENSION vmm_upgrade UPDATE TO <version> would do
-- ---------------------------------------------------------------------------

-- Changes nothing and takes no lock stronger than a read (ACCESS SHARE, for
-- the duration of the calling statement's transaction): the checks the
-- update makes before it changes anything, run here in a subtransaction.
-- One row per item: item 'refusal' with the ERROR the update would raise
-- (message, DETAIL and HINT in detail), else per kind how many rows or
-- objects the update would change, named as in the details of its
-- vmm_upgrade.history row (discarded.KIND for what the downgrade would
-- discard, granted for the grant statements or roles), and the same
-- numbers.  version: '0.6' (from 0.5.2) or '0.5.2' (from 0.6); with or
-- without +release.  Grant refusals (a Postfix role that could read the
-- passwords, ...) come after the layout is changed and are not foreseen.
--   SELECT * FROM vmm_upgrade.preview('0.5.2');
CREATE FUNCTION vmm_upgrade.preview(version text)
RETURNS TABLE (item text, n bigint, detail text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    mail_schema name := vmm_upgrade.mail_schema();
    s       text := quote_ident(mail_schema);
    target  text := vmm_upgrade._layout_of(version);
    layout  record;
    pre     jsonb;
    lost    jsonb;
    m       text;
    d       text;
    h       text;
    lookups boolean;
    k       text;
    dovecot name := vmm_upgrade._configured_role('dovecot');
    postfix name := vmm_upgrade._configured_role('postfix');
    roles   bigint;
BEGIN
    IF target IS NULL OR target NOT IN ('0.6', '0.5.2') THEN
        RAISE EXCEPTION 'vmm_upgrade.preview: no update to version "%"', version
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Known targets: 0.6 (from 0.5.2) and 0.5.2 (from 0.6).';
    END IF;
    SELECT * INTO layout FROM vmm_upgrade.detect_layout(mail_schema);
    IF layout.version = target THEN
        item := 'nothing to do';
        detail := format('schema "%s" already holds the vmm %s layout.', mail_schema, target);
        RETURN NEXT;
        RETURN;
    END IF;
    roles := (SELECT count(*) FROM pg_roles r WHERE r.rolname IN (dovecot, postfix));
    BEGIN
        -- The runner's own preflight (src/library/runner.sql), so that the
        -- preview and the update cannot disagree on what is refused.
        pre := vmm_upgrade._step_preflight(CASE target WHEN '0.6' THEN '0.5.2--0.6' ELSE '0.6--0.5.2' END,
                                           mail_schema);
        lost := pre->'discarded';
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
        item := 'refusal';
        detail := concat_ws(E'\n', 'ERROR:  ' || m, 'DETAIL:  ' || nullif(d, ''), 'HINT:  ' || nullif(h, ''));
        RETURN NEXT;
        RETURN;
    END;

    IF target = '0.6' THEN
        RETURN QUERY EXECUTE format($q$
            SELECT 'users', count(*), 'accounts whose four service flags become a service set'
              FROM %1$s.users AS u JOIN %1$s.domain_data AS dd ON dd.gid = u.gid
            UNION ALL
            SELECT 'users_transport_inherited', count(*) FILTER (WHERE u.tid = dd.tid),
                   'accounts whose transport is their domain''s and becomes inherited (NULL)'
              FROM %1$s.users AS u JOIN %1$s.domain_data AS dd ON dd.gid = u.gid
            UNION ALL
            SELECT 'domains', count(*), 'domains that get quota limit 1 and service set 1' FROM %1$s.domain_data
            UNION ALL
            SELECT 'maillocations', count(*), 'mail locations that become maildir directories' FROM %1$s.maillocation
            UNION ALL
            SELECT 'aliases_with_placeholders', count(*), 'alias destinations with %%n, %%d or %%= that vmm 0.6 expands'
              FROM vmm_upgrade._alias_placeholders(%2$L) AS p$q$, s, mail_schema);
        item := 'lookups_replaced';
        n := layout.lookups::integer;
        detail := CASE WHEN layout.lookups THEN 'the optional 0.5.2 lookup functions are replaced'
                       ELSE 'no optional 0.5.2 lookup functions to replace' END;
        RETURN NEXT;
        item := 'granted';
        n := roles;
        detail := 'roles (vmm_upgrade.dovecot_role, vmm_upgrade.postfix_role) that get the 0.6 privileges';
        RETURN NEXT;
        RETURN;
    END IF;

    lookups := vmm_upgrade._downgrade_lookups(mail_schema);
    RETURN QUERY EXECUTE format($q$
        SELECT 'users', count(*), 'accounts that get their effective service flags and transport'
          FROM %1$s.users AS u JOIN %1$s.domain_data AS dd ON dd.gid = u.gid
        UNION ALL
        SELECT 'services_inherited', count(*) FILTER (WHERE u.ssid IS NULL),
               'accounts whose services come from their domain''s service set'
          FROM %1$s.users AS u JOIN %1$s.domain_data AS dd ON dd.gid = u.gid
        UNION ALL
        SELECT 'services_restricted', count(*) FILTER (WHERE NOT (ss.smtp AND ss.pop3 AND ss.imap AND ss.%2$I)),
               'accounts with some service off'
          FROM %1$s.users AS u JOIN %1$s.domain_data AS dd ON dd.gid = u.gid
          JOIN %1$s.service_set AS ss ON ss.ssid = COALESCE(u.ssid, dd.ssid)
        UNION ALL
        SELECT 'transport_inherited', count(*) FILTER (WHERE u.tid IS NULL),
               'accounts whose transport becomes their domain''s, explicitly'
          FROM %1$s.users AS u JOIN %1$s.domain_data AS dd ON dd.gid = u.gid
        UNION ALL
        SELECT 'domains', count(*), 'domains that lose quota limit, service set and note' FROM %1$s.domain_data
        UNION ALL
        SELECT 'domains_service_set_made_explicit', count(*) FILTER (WHERE ssid <> 1),
               'domains whose service set other than 1 is made explicit in their accounts' FROM %1$s.domain_data
        UNION ALL
        SELECT 'maillocations', count(*), 'mail locations' FROM %1$s.maillocation$q$,
        s, vmm_upgrade._sieve_flag(layout.dovecot));
    item := 'objects_dropped';
    n := (SELECT count(*) FROM vmm_upgrade._lookup_definitions(mail_schema, layout.dovecot)) + 1 + 5 + 7;
    detail := 'the 0.6 lookup functions and types, vmm_domain_info, the quota and catch-all tables, service_set, mailboxformat, quotalimit and their sequences';
    RETURN NEXT;
    item := 'objects_created';
    n := (SELECT count(*) FROM vmm_upgrade._definitions_0_5_2(mail_schema, layout.dovecot, lookups) AS d WHERE NOT d.kept);
    detail := CASE WHEN lookups THEN 'the 0.5.2 views and the optional 0.5.2 lookup types and functions'
                   ELSE 'the 0.5.2 views' END;
    RETURN NEXT;
    item := 'lookups_created';
    n := lookups::integer;
    detail := CASE WHEN lookups THEN 'the optional 0.5.2 lookup functions come back'
                   ELSE 'no optional 0.5.2 lookup functions (SET vmm_upgrade.lookups_052 = on to have them)' END;
    RETURN NEXT;
    FOR k IN SELECT jsonb_object_keys(lost) ORDER BY 1 LOOP
        item := 'discarded.' || k;
        n := (lost->>k)::bigint;
        detail := 'rows lost, as vmm_upgrade.downgrade_discard accepts';
        RETURN NEXT;
    END LOOP;
    item := 'granted';
    n := 2 * roles + (SELECT count(*) FROM pg_roles r
                       WHERE r.rolname IN (dovecot, postfix) AND NOT has_schema_privilege(r.oid, s, 'USAGE'));
    detail := 'statements: the 0.6 privileges revoked and SELECT on the 0.5.2 views granted, per existing role';
    RETURN NEXT;
END
$fn$;

COMMENT ON FUNCTION vmm_upgrade.preview(text) IS
'what ALTER EXTENSION vmm_upgrade UPDATE TO version would do, without changing anything';

-- A preview's numbers against a history row's details (for tests and for
-- the DBA after the update): the items whose numbers differ.
CREATE FUNCTION vmm_upgrade._preview_mismatches(preview jsonb, details jsonb)
RETURNS TABLE (item text, previewed bigint, recorded bigint)
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT p.key, (p.value)::text::bigint, r.v
      FROM jsonb_each(preview) AS p,
           LATERAL (SELECT CASE
                    WHEN p.key LIKE 'discarded.%' THEN (details->'discarded'->>substr(p.key, 11))::bigint
                    WHEN p.key = 'granted' AND jsonb_typeof(details->'granted') = 'array'
                        THEN jsonb_array_length(details->'granted')::bigint
                    WHEN p.key = 'granted'
                        THEN (SELECT count(*) FROM jsonb_each(details->'granted') AS g WHERE g.value <> 'null')
                    WHEN jsonb_typeof(details->p.key) = 'boolean' THEN (details->>p.key)::boolean::integer::bigint
                    ELSE (details->>p.key)::bigint END AS v) AS r
     WHERE r.v IS DISTINCT FROM (p.value)::text::bigint
$fn$;
