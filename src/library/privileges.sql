-- privileges.sql: what Postfix and Dovecot may read (replaces vmm's
-- set-permissions.py): set_permissions(), the grants of the update, the
-- refusals of roles and grants that would leak passwords.
--
-- Every function pins search_path to pg_catalog, pg_temp and names each mail
-- object through its schema; existing mail tables are changed only through
-- vmm_upgrade._as_owner; what is created in the mail schema is handed over
-- to the owner of users (src/library/README.md).

-- A GRANT or REVOKE run inside an extension script (ALTER EXTENSION UPDATE
-- runs the grants and the 0.6.0 fixes) is recorded in pg_init_privs as the
-- object's "initial privileges", whether the object belongs to the extension
-- or not, and pg_dump leaves out what it takes for initial: a restored
-- database would give Postfix and Dovecot nothing.  The relations, functions
-- and types of the mail schema, and the schema itself, belong to the mail
-- system: they have no initial privileges.
CREATE FUNCTION vmm_upgrade._forget_initial_privs(mail_schema name)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    ns oid := (SELECT n.oid FROM pg_namespace n WHERE n.nspname = mail_schema);
    r  record;
BEGIN
    -- Read first, delete only what is there: outside an extension script
    -- there is nothing, and a DBA who is not superuser may not write
    -- pg_init_privs (set_permissions calls this too).
    FOR r IN
        SELECT ip.classoid, ip.objoid
          FROM pg_init_privs ip
         WHERE ip.privtype = 'e'
           AND (ip.classoid = 'pg_proc'::regclass
                AND ip.objoid IN (SELECT p.oid FROM pg_proc p WHERE p.pronamespace = ns)
                OR ip.classoid = 'pg_type'::regclass
                AND ip.objoid IN (SELECT y.oid FROM pg_type y WHERE y.typnamespace = ns)
                OR ip.classoid = 'pg_class'::regclass
                AND ip.objoid IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = ns)
                OR ip.classoid = 'pg_namespace'::regclass
                AND ip.objoid = ns)
           AND NOT EXISTS (SELECT FROM pg_depend d
                            WHERE d.classid = ip.classoid AND d.objid = ip.objoid AND d.deptype = 'e')
    LOOP
        DELETE FROM pg_init_privs ip
         WHERE ip.classoid = r.classoid AND ip.objoid = r.objoid AND ip.privtype = 'e';
    END LOOP;
END
$fn$;

-- ---------------------------------------------------------------------------
-- Privileges for Postfix and Dovecot (replaces vmm's set-permissions.py)
-- ---------------------------------------------------------------------------

-- The role a service connects as, by the settings vmm_upgrade.dovecot_role
-- and vmm_upgrade.postfix_role (service 'dovecot' or 'postfix'); an unset or
-- empty setting means the service's own name, the default.
CREATE FUNCTION vmm_upgrade._configured_role(service text)
RETURNS name
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RETURN coalesce(nullif(current_setting('vmm_upgrade.' || service || '_role', true), ''), service)::name;
END
$fn$;

-- Refuses client roles that would break the mail system, before anything is
-- granted: the owner of the mail tables named as the Dovecot or the Postfix
-- role (_grant would begin by revoking the owner's own privileges on the
-- tables, and vmm could no longer add accounts).  One role for both
-- services is allowed, with a WARNING: Postfix then reads the passwords
-- (Dovecot's privileges include users.passwd), so _grant's password check is
-- not made for it.  dovecot or postfix may be NULL (nothing granted to it).
-- from_settings: the roles come from vmm_upgrade.dovecot_role and
-- vmm_upgrade.postfix_role (the update), not from arguments (set_permissions);
-- it decides what the HINTs tell to type.
CREATE FUNCTION vmm_upgrade._check_client_roles(mail_schema name, dovecot name, postfix name,
                                                from_settings boolean)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    owner   name := vmm_upgrade._users_owner(mail_schema);
    service text;
BEGIN
    service := CASE WHEN owner = dovecot AND owner = postfix THEN 'Dovecot and Postfix'
                    WHEN owner = dovecot THEN 'Dovecot'
                    WHEN owner = postfix THEN 'Postfix' END;
    IF service IS NOT NULL THEN
        RAISE EXCEPTION 'role "%" owns the mail tables and cannot be the role % connect% as',
                        owner, service, CASE WHEN owner = dovecot AND owner = postfix THEN '' ELSE 's' END
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Granting it the privileges of %s would first revoke its own privileges on the tables of schema "%s", and vmm could no longer add accounts. Nothing was changed.',
                                  service, mail_schema),
                  HINT = CASE WHEN from_settings
                         THEN format('Set %s to the role%s %s connect%s as (the user in dovecot-sql.conf.ext and in the pgsql-*.cf files), then run the update again: %sALTER EXTENSION vmm_upgrade UPDATE;',
                                     concat_ws(' and ', CASE WHEN owner = dovecot THEN 'vmm_upgrade.dovecot_role' END,
                                                        CASE WHEN owner = postfix THEN 'vmm_upgrade.postfix_role' END),
                                     CASE WHEN owner = dovecot AND owner = postfix THEN 's' ELSE '' END, service,
                                     CASE WHEN owner = dovecot AND owner = postfix THEN '' ELSE 's' END,
                                     concat(CASE WHEN owner = dovecot THEN 'SET vmm_upgrade.dovecot_role = ''<the role Dovecot connects as>''; ' END,
                                            CASE WHEN owner = postfix THEN 'SET vmm_upgrade.postfix_role = ''<the role Postfix connects as>''; ' END))
                         ELSE format('Name the roles Dovecot and Postfix connect as (the user in dovecot-sql.conf.ext and in the pgsql-*.cf files), not the owner of the mail tables: SELECT * FROM vmm_upgrade.set_permissions(%s, %s);',
                                     CASE WHEN owner = dovecot THEN '''<the role Dovecot connects as>''' ELSE quote_literal(dovecot) END,
                                     CASE WHEN owner = postfix THEN '''<the role Postfix connects as>''' ELSE quote_literal(postfix) END)
                         END;
    END IF;
    IF dovecot = postfix THEN
        RAISE WARNING 'role "%" is both the Dovecot and the Postfix role, so Postfix can read the passwords', dovecot
            USING DETAIL = format('Dovecot needs column passwd of table %I.users, and a role shared with Postfix gives it to Postfix as well.', mail_schema),
                  HINT = format('Give Postfix a role of its own (CREATE ROLE ... LOGIN PASSWORD ...), make it the user in the pgsql-*.cf files and run: SELECT * FROM vmm_upgrade.set_permissions(%L, ''<the role Postfix connects as>'');',
                                dovecot);
    END IF;
END
$fn$;

-- Every way the role reader (Postfix's) can read a password column of the
-- mail schema, after the grants: one row per way, with a sentence saying
-- which privilege gives it away (detail) and the statement that takes it
-- away (fix), in a stable order.  The ways: a SELECT grant on the table or
-- on the column, made to PUBLIC, to reader itself (a grant the revocation
-- by the owner did not take back) or to a role reader is a member of
-- (inheriting it, or able to SET ROLE to it); being, or being a member of,
-- a superuser, the table's owner or pg_read_all_data.  A grant to the
-- Dovecot role (dovecot) that reader gets through membership is taken away
-- by ending the membership, not the grant Dovecot needs.  Memberships are
-- followed through pg_auth_members, not pg_has_role (which makes a
-- superuser a member of every role).
CREATE FUNCTION vmm_upgrade._password_readers(mail_schema name, reader name, dovecot name)
RETURNS TABLE (detail text, fix text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    -- every column of vmm's layouts that holds a password
    password_columns CONSTANT text[] := ARRAY['users.passwd', 'dovecot_password.password'];
    s text := quote_ident(mail_schema);
BEGIN
    RETURN QUERY
    WITH RECURSIVE
    member_of(roleid, via) AS (
        -- reader itself (via NULL), then every role it is a member of,
        -- directly or not, with the direct membership that leads there
        SELECT r.oid, NULL::oid FROM pg_roles r WHERE r.rolname = reader
        UNION
        SELECT m.roleid, coalesce(mo.via, m.roleid)
          FROM pg_auth_members m JOIN member_of mo ON m.member = mo.roleid
    ),
    roles AS (
        SELECT mo.roleid, mo.via, r.rolname, r.rolsuper, v.rolname AS via_name
          FROM member_of mo
          JOIN pg_roles r ON r.oid = mo.roleid
          LEFT JOIN pg_roles v ON v.oid = mo.via
    ),
    cols AS (
        SELECT c.oid AS relid, c.relname, c.relowner, c.relacl, a.attname, a.attacl, p.ord
          FROM unnest(password_columns) WITH ORDINALITY AS p(col, ord)
          JOIN pg_class c ON c.relname = split_part(p.col, '.', 1)
                         AND c.relnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = mail_schema)
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = split_part(p.col, '.', 2)
                             AND NOT a.attisdropped
    ),
    grants AS (
        -- who holds SELECT on the table, or on the password column
        SELECT DISTINCT cols.ord, cols.relid, cols.relname, cols.relowner, cols.attname, 1 AS level, e.grantee
          FROM cols, aclexplode(cols.relacl) e
         WHERE e.privilege_type = 'SELECT'
        UNION
        SELECT DISTINCT cols.ord, cols.relid, cols.relname, cols.relowner, cols.attname, 2, e.grantee
          FROM cols, aclexplode(cols.attacl) e
         WHERE e.privilege_type = 'SELECT'
    ),
    ways AS (
        -- PUBLIC's grants
        SELECT g.ord, g.level, 0 AS kind, ''::text AS who,
               format('PUBLIC holds SELECT on %s.',
                      CASE g.level WHEN 1 THEN format('table %s.%I', s, g.relname)
                                   ELSE format('column %I of table %s.%I', g.attname, s, g.relname) END) AS detail,
               CASE g.level WHEN 1 THEN format('REVOKE SELECT ON TABLE %s.%I FROM PUBLIC;', s, g.relname)
                            ELSE format('REVOKE SELECT (%I) ON TABLE %s.%I FROM PUBLIC;', g.attname, s, g.relname) END AS fix
          FROM grants g WHERE g.grantee = 0
        UNION ALL
        -- grants to reader or to a role it is a member of (not the owner's
        -- own entry: ownership is a way of its own, below)
        SELECT g.ord, g.level, 1, r.rolname::text,
               CASE WHEN r.via IS NULL
                    THEN format('Role "%s" holds SELECT on %s.', reader, what)
                    ELSE format('Role "%s" is a member of role "%s", which holds SELECT on %s.', reader, r.rolname, what) END,
               CASE WHEN r.via IS NOT NULL AND r.rolname = dovecot
                    THEN format('REVOKE %I FROM %I;', r.via_name, reader)
                    WHEN g.level = 1 THEN format('REVOKE SELECT ON TABLE %s.%I FROM %I;', s, g.relname, r.rolname)
                    ELSE format('REVOKE SELECT (%I) ON TABLE %s.%I FROM %I;', g.attname, s, g.relname, r.rolname) END
          FROM grants g
          JOIN roles r ON r.roleid = g.grantee AND g.grantee <> g.relowner
          CROSS JOIN LATERAL (SELECT CASE g.level WHEN 1 THEN format('table %s.%I', s, g.relname)
                                     ELSE format('column %I of table %s.%I', g.attname, s, g.relname) END AS what) w
        UNION ALL
        -- superusers, the owner, pg_read_all_data
        SELECT c.ord, 0, 2, r.rolname::text,
               CASE WHEN r.rolsuper
                    THEN CASE WHEN r.via IS NULL THEN format('Role "%s" is a superuser.', reader)
                              ELSE format('Role "%s" is a member of role "%s", a superuser.', reader, r.rolname) END
                    WHEN r.roleid = c.relowner
                    THEN CASE WHEN r.via IS NULL THEN format('Role "%s" owns table %s.%I.', reader, s, c.relname)
                              ELSE format('Role "%s" is a member of role "%s", which owns table %s.%I.', reader, r.rolname, s, c.relname) END
                    ELSE format('Role "%s" is a member of role "%s", which may read every table.', reader, r.rolname) END,
               CASE WHEN r.via IS NOT NULL THEN format('REVOKE %I FROM %I;', r.via_name, reader)
                    WHEN r.rolsuper THEN format('ALTER ROLE %I NOSUPERUSER;', reader) END
          FROM cols c
          JOIN roles r ON r.rolsuper OR r.roleid = c.relowner
                       OR r.rolname = 'pg_read_all_data' AND r.via IS NOT NULL
    )
    SELECT w.detail, w.fix FROM ways w ORDER BY w.ord, w.kind, w.who, w.level;
    -- What has_column_privilege() says is the last word: a way it knows
    -- and the catalogs above do not still makes the password readable.
    IF NOT FOUND THEN
        RETURN QUERY
        SELECT format('Role "%s" can read column %I of table %s.%I.', reader, a.attname, s, c.relname),
               NULL::text
          FROM unnest(password_columns) AS p(col)
          JOIN pg_class c ON c.relname = split_part(p.col, '.', 1)
                         AND c.relnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = mail_schema)
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = split_part(p.col, '.', 2)
                             AND NOT a.attisdropped
         WHERE has_column_privilege(reader, c.oid, a.attname, 'SELECT');
    END IF;
END
$fn$;

-- Grants the privilege sets (README "Privileges: what is checked") on the 0.6 layout in <mail_schema>; dovecot or
-- postfix may be NULL to leave that role alone.  First revokes every table
-- privilege (and so every column privilege) the roles hold on vmm's tables and
-- views, and CREATE on the mail schema where they hold it (with it, Postfix
-- could plant a dovecotpassword(text, text) that Dovecot's query would call
-- instead of vmm's), so the result is exactly those sets whatever was
-- granted before, and running it twice changes nothing.  A role without
-- USAGE on the mail schema gets it (the public schema has it for everyone),
-- without which no grant helps.
-- Then checks what the roles' names alone do not decide:
--  * Postfix must not be able to read a password by any way (a grant to
--    PUBLIC, to a role Postfix is a member of, a superuser, ...): if it can,
--    ERROR naming each way and the statements that close them, and nothing
--    is changed.  Not for one role serving both services, which
--    _check_client_roles has warned about: Dovecot's privileges include
--    users.passwd.
--  * PUBLIC, or a role a client role is a member of, holding CREATE on the
--    mail schema: a WARNING each, with the REVOKE to type (not done here:
--    other roles may rely on it).
-- Returns the statements it ran.
CREATE FUNCTION vmm_upgrade._grant(mail_schema name, dovecot name, postfix name)
RETURNS SETOF text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s       text := quote_ident(mail_schema);
    ns      oid := (SELECT n.oid FROM pg_namespace n WHERE n.nspname = mail_schema);
    quota   text;
    stmts   text[] := '{}';
    stmt    text;
    rel     text;
    role    name;
    details text[] := '{}';
    fixes   text[] := '{}';
    w       record;
    vmm_relations CONSTANT text[] := ARRAY['alias', 'catchall', 'domain_data', 'domain_name',
        'mailboxformat', 'maillocation', 'postfix_gid', 'quotalimit', 'relocated',
        'service_set', 'transport', 'userquota', 'userquota_11', 'users', 'vmm_domain_info'];
    -- the compatibility views, where present (vmm_upgrade.compatibility_views)
    compat  text[] := ARRAY(SELECT c.view FROM vmm_upgrade._compatibility_view_definitions(mail_schema, '1.2') AS c
                             WHERE vmm_upgrade._has_relation(mail_schema, c.view));
BEGIN
    quota := CASE WHEN vmm_upgrade._has_relation(mail_schema, 'userquota') THEN 'userquota'
                  WHEN vmm_upgrade._has_relation(mail_schema, 'userquota_11') THEN 'userquota_11' END;
    IF quota IS NULL OR NOT vmm_upgrade._has_relation(mail_schema, 'service_set') THEN
        RAISE EXCEPTION 'schema "%" does not hold a vmm 0.6 layout', mail_schema
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'See SELECT * FROM vmm_upgrade.detect_layout(); a 0.5.2 layout is upgraded by ALTER EXTENSION vmm_upgrade UPDATE.';
    END IF;
    -- (one role for both services: its statements once)
    FOREACH role IN ARRAY CASE WHEN dovecot = postfix THEN ARRAY[dovecot] ELSE ARRAY[dovecot, postfix] END LOOP
        CONTINUE WHEN role IS NULL;
        IF NOT has_schema_privilege(role, mail_schema, 'USAGE') THEN
            stmts := stmts || format('GRANT USAGE ON SCHEMA %s TO %I', s, role);
        END IF;
        IF EXISTS (SELECT FROM pg_namespace n, aclexplode(n.nspacl) e
                    WHERE n.oid = ns AND e.privilege_type = 'CREATE'
                      AND e.grantee = (SELECT r.oid FROM pg_roles r WHERE r.rolname = role)) THEN
            stmts := stmts || format('REVOKE CREATE ON SCHEMA %s FROM %I', s, role);
        END IF;
        FOREACH rel IN ARRAY vmm_relations || compat LOOP
            IF vmm_upgrade._has_relation(mail_schema, rel) THEN
                stmts := stmts || format('REVOKE ALL ON TABLE %s.%I FROM %I', s, rel, role);
            END IF;
        END LOOP;
    END LOOP;
    IF dovecot IS NOT NULL THEN
        stmts := stmts || ARRAY[
            format('GRANT SELECT ON TABLE %1$s.mailboxformat, %1$s.maillocation, %1$s.service_set, %1$s.quotalimit TO %2$I', s, dovecot),
            format('GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE %s.%I TO %I', s, quota, dovecot),
            format('GRANT SELECT (domaindir, gid, qid, ssid) ON TABLE %s.domain_data TO %I', s, dovecot),
            format('GRANT SELECT (domainname, gid) ON TABLE %s.domain_name TO %I', s, dovecot),
            format('GRANT SELECT (gid, local_part, mid, passwd, qid, ssid, uid) ON TABLE %s.users TO %I', s, dovecot)];
        -- as 0.5.2's set-permissions.py: the Dovecot views to Dovecot
        FOREACH rel IN ARRAY compat LOOP
            IF rel IN (SELECT v.view FROM vmm_upgrade._client_views_0_5_2() AS v WHERE v.service = 'dovecot') THEN
                stmts := stmts || format('GRANT SELECT ON TABLE %s.%I TO %I', s, rel, dovecot);
            END IF;
        END LOOP;
    END IF;
    IF postfix IS NOT NULL THEN
        stmts := stmts || ARRAY[
            format('GRANT SELECT ON TABLE %1$s.alias, %1$s.catchall, %1$s.postfix_gid, %1$s.relocated, %1$s.transport TO %2$I', s, postfix),
            format('GRANT SELECT (domaindir, gid, tid) ON TABLE %s.domain_data TO %I', s, postfix),
            format('GRANT SELECT (domainname, gid) ON TABLE %s.domain_name TO %I', s, postfix),
            format('GRANT SELECT (directory, mid) ON TABLE %s.maillocation TO %I', s, postfix),
            format('GRANT SELECT (gid, local_part, mid, tid, uid) ON TABLE %s.users TO %I', s, postfix)];
        -- the Postfix views (postfix_gid, part of 0.6, above) to Postfix
        FOREACH rel IN ARRAY compat LOOP
            IF rel IN (SELECT v.view FROM vmm_upgrade._client_views_0_5_2() AS v WHERE v.service = 'postfix') THEN
                stmts := stmts || format('GRANT SELECT ON TABLE %s.%I TO %I', s, rel, postfix);
            END IF;
        END LOOP;
    END IF;
    FOREACH stmt IN ARRAY stmts LOOP
        EXECUTE stmt;
        RETURN NEXT stmt;
    END LOOP;

    -- Postfix must not read a password, by any way.
    IF postfix IS NOT NULL AND postfix IS DISTINCT FROM dovecot THEN
        FOR w IN SELECT * FROM vmm_upgrade._password_readers(mail_schema, postfix, dovecot) LOOP
            IF NOT w.detail = ANY (details) THEN
                details := details || w.detail;
            END IF;
            IF w.fix IS NOT NULL AND NOT w.fix = ANY (fixes) THEN
                fixes := fixes || w.fix;
            END IF;
        END LOOP;
        IF cardinality(details) > 0 THEN
            RAISE EXCEPTION 'role "%" (Postfix) could still read the passwords in schema "%"', postfix, mail_schema
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = array_to_string(details, ' ') || ' Nothing was changed.',
                      HINT = CASE WHEN cardinality(fixes) = 0
                                  THEN 'Take that privilege away from it, then run the command again.'
                                  ELSE format('Take %s away, then run the command again: %s',
                                              CASE WHEN cardinality(fixes) = 1 THEN 'that privilege' ELSE 'those privileges' END,
                                              array_to_string(fixes, ' ')) END;
        END IF;
    END IF;

    -- Who else may create objects in the mail schema, where the lookup
    -- functions live.
    IF EXISTS (SELECT FROM pg_namespace n, aclexplode(n.nspacl) e
                WHERE n.oid = ns AND e.grantee = 0 AND e.privilege_type = 'CREATE') THEN
        RAISE WARNING 'every role may create objects in schema "%"', mail_schema
            USING DETAIL = format('PUBLIC holds CREATE on schema %s (the default for schema public before PostgreSQL 15), so Postfix could create a function dovecotpassword(text, text) that Dovecot''s password_query would call instead of vmm''s.', s),
                  HINT = format('Unless other roles must create objects there, run: REVOKE CREATE ON SCHEMA %s FROM PUBLIC;', s);
    END IF;
    FOR w IN
        WITH RECURSIVE member_of(roleid, client) AS (
            SELECT r.oid, r.rolname FROM pg_roles r WHERE r.rolname IN (dovecot, postfix)
            UNION
            SELECT m.roleid, mo.client FROM pg_auth_members m JOIN member_of mo ON m.member = mo.roleid
        )
        SELECT g.rolname, array_agg(DISTINCT mo.client ORDER BY mo.client) AS clients
          FROM member_of mo
          JOIN pg_roles g ON g.oid = mo.roleid AND g.rolname <> mo.client
          JOIN pg_namespace n ON n.oid = ns
          CROSS JOIN LATERAL aclexplode(n.nspacl) e
         WHERE e.grantee = g.oid AND e.privilege_type = 'CREATE'
         GROUP BY g.rolname ORDER BY g.rolname
    LOOP
        RAISE WARNING 'members of role "%" may create objects in schema "%"', w.rolname, mail_schema
            USING DETAIL = format('Role "%s" holds CREATE on schema %s, and %s %s of it, so %s could create functions that would be called instead of vmm''s lookup functions.',
                                  w.rolname, s,
                                  CASE WHEN cardinality(w.clients) = 1 THEN format('role "%s"', w.clients[1])
                                       ELSE format('roles "%s" and "%s"', w.clients[1], w.clients[2]) END,
                                  CASE WHEN cardinality(w.clients) = 1 THEN 'is a member' ELSE 'are members' END,
                                  CASE WHEN cardinality(w.clients) = 2 THEN 'Dovecot and Postfix'
                                       WHEN w.clients[1] = dovecot THEN 'Dovecot' ELSE 'Postfix' END),
                  HINT = format('Unless its members must create objects there, run: REVOKE CREATE ON SCHEMA %s FROM %I;', s, w.rolname);
    END LOOP;

    -- Grants run inside an extension script must not count as the
    -- objects' initial privileges, or pg_dump would leave them out.
    PERFORM vmm_upgrade._forget_initial_privs(mail_schema);
END
$fn$;

-- Public API: grant the Dovecot and Postfix database roles what they need
-- on the 0.6 layout in the mail schema (GUC vmm_upgrade.schema, default
-- public): the privilege sets of the README, column-level where it says so, nothing
-- more; CREATE on the mail schema taken from them.  A NULL role (the
-- default) means the one named by the setting vmm_upgrade.dovecot_role or
-- vmm_upgrade.postfix_role (defaults dovecot and postfix), as for the
-- update.  Idempotent.  Both roles must exist, neither may be the owner of
-- the mail tables, and Postfix must not be able to read a password
-- afterwards by any way (see _grant).  Returns the statements it ran.
--   SELECT * FROM vmm_upgrade.set_permissions();
--   SELECT * FROM vmm_upgrade.set_permissions('dovecot', 'postfix');
CREATE FUNCTION vmm_upgrade.set_permissions(dovecot name DEFAULT NULL, postfix name DEFAULT NULL)
RETURNS SETOF text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    role name;
BEGIN
    dovecot := coalesce(dovecot, vmm_upgrade._configured_role('dovecot'));
    postfix := coalesce(postfix, vmm_upgrade._configured_role('postfix'));
    FOREACH role IN ARRAY ARRAY[dovecot, postfix] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles r WHERE r.rolname = role) THEN
            RAISE EXCEPTION 'role "%" does not exist', role
                USING ERRCODE = 'undefined_object',
                      HINT = format('Create it first (CREATE ROLE %I LOGIN PASSWORD ...), or name the role that %s connects as.',
                                    role, CASE role WHEN dovecot THEN 'Dovecot' ELSE 'Postfix' END);
        END IF;
    END LOOP;
    PERFORM vmm_upgrade._check_client_roles(vmm_upgrade.mail_schema(), dovecot, postfix, false);
    RETURN QUERY SELECT * FROM vmm_upgrade._grant(vmm_upgrade.mail_schema(), dovecot, postfix);
END
$fn$;

-- Used by the update script: grants to the roles named by the GUCs
-- vmm_upgrade.dovecot_role and vmm_upgrade.postfix_role (defaults dovecot,
-- postfix) those of them that exist, with the checks of set_permissions
-- (ERRORs roll the whole update back); for each missing one, a WARNING says
-- what to run once it exists.  Returns {"dovecot": name|null, "postfix":
-- name|null} (the roles granted).
CREATE FUNCTION vmm_upgrade._grant_configured_roles(mail_schema name)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    dovecot name := vmm_upgrade._configured_role('dovecot');
    postfix name := vmm_upgrade._configured_role('postfix');
    have_dovecot boolean := EXISTS (SELECT FROM pg_roles r WHERE r.rolname = dovecot);
    have_postfix boolean := EXISTS (SELECT FROM pg_roles r WHERE r.rolname = postfix);
    service text;
BEGIN
    PERFORM vmm_upgrade._check_client_roles(mail_schema,
                                            CASE WHEN have_dovecot THEN dovecot END,
                                            CASE WHEN have_postfix THEN postfix END, true);
    PERFORM FROM vmm_upgrade._grant(mail_schema,
                                    CASE WHEN have_dovecot THEN dovecot END,
                                    CASE WHEN have_postfix THEN postfix END);
    FOREACH service IN ARRAY ARRAY['Dovecot', 'Postfix'] LOOP
        CONTINUE WHEN CASE service WHEN 'Dovecot' THEN have_dovecot ELSE have_postfix END;
        RAISE WARNING 'role "%" does not exist, so % was granted nothing',
                      CASE service WHEN 'Dovecot' THEN dovecot ELSE postfix END, service
            USING DETAIL = format('%s connects as the role named by the setting vmm_upgrade.%s_role (default %s).',
                                  service, lower(service), lower(service)),
                  HINT = format('Create it (CREATE ROLE %I LOGIN PASSWORD ...), or name the role %s connects as instead, then run: SELECT * FROM vmm_upgrade.set_permissions(%L, %L);',
                                CASE service WHEN 'Dovecot' THEN dovecot ELSE postfix END, service,
                                dovecot, postfix);
    END LOOP;
    RETURN jsonb_build_object('dovecot', CASE WHEN have_dovecot THEN dovecot END,
                              'postfix', CASE WHEN have_postfix THEN postfix END);
END
$fn$;

-- set_permissions() runs with its caller's rights and calls _configured_role,
-- _check_client_roles, _grant (which calls _password_readers) and
-- _forget_initial_privs, so those stay executable for the owner of the mail
-- tables who is not a superuser (tested in sql/permissions_owner.sql).
-- The internal functions are for the scripts and the public functions,
-- not for everyone: they run with the caller's rights anyway, but nobody
-- else has a reason to call them.
REVOKE EXECUTE ON FUNCTION
    vmm_upgrade._grant_configured_roles(name)
FROM PUBLIC;
