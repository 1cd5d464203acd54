-- lib-0.6.sql: steps for databases that are already on the vmm 0.6 layout.
-- Part of every install script (common.sql + upgrade.sql + lib-*.sql +
-- adopt-V.sql), so every version of the extension carries them.
--
--  * the vmm 0.6.0 defects (README "vmm 0.6.0"): detection
--    (check_0_6_0_defects) and the fix applied by vmm_upgrade--0.6.0--0.6.sql;
--  * replace_lookup_functions(): our bodies for the 0.6 lookup functions;
--  * upgrade_dovecot_layout(): the Dovecot < 1.2 -> >= 1.2 switch within 0.6,
--    carrying the quota usage over.
--
-- Every function pins search_path to pg_catalog, pg_temp and names each mail
-- object through its schema; whatever is created in the mail schema is owned
-- by the owner of users and is not a member of this extension.  Each public
-- step checks the layout before and after (require_layout) and records itself
-- in vmm_upgrade.history; it is one statement, so any error undoes all of it.

-- ---------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------

-- The lookup functions and types of the 0.6 layout (those that
-- _create_lookups_0_6 creates), with their argument lists.
CREATE FUNCTION vmm_upgrade._lookup_objects_0_6(OUT kind text, OUT object text)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT d.kind, d.object
      FROM vmm_upgrade._lookup_definitions('vmm_upgrade', '1.2') AS d
     ORDER BY d.kind, d.object
$fn$;

-- Re-apply a saved access control list to a re-created object (kind
-- FUNCTION, TYPE or TABLE; object its qualified name).  A NULL list means the
-- object had the default privileges, which the new object has already.  The
-- old owner's own entries are implicit and skipped.
CREATE FUNCTION vmm_upgrade._restore_acl(kind text, object text, acl aclitem[], old_owner oid)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    e record;
BEGIN
    IF acl IS NULL THEN
        RETURN;
    END IF;
    EXECUTE format('REVOKE ALL ON %s %s FROM PUBLIC', kind, object);
    FOR e IN SELECT a.grantee, a.privilege_type, a.is_grantable
               FROM aclexplode(acl) AS a
              WHERE a.grantee <> old_owner
              ORDER BY a.grantee, a.privilege_type LOOP
        EXECUTE format('GRANT %s ON %s %s TO %s%s', e.privilege_type, kind, object,
                       CASE WHEN e.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(e.grantee)) END,
                       CASE WHEN e.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$fn$;

-- Stop, before anything is dropped, when objects outside the given set
-- (a DBA's view, function or column) depend on one of the objects in it:
-- DROP without CASCADE would stop the step anyway, with a HINT to CASCADE
-- that must not be followed.  objects: (class, oid) pairs as regclass[] and
-- oid[]; subids, where given and not 0, narrows a relation of the set to
-- one of its columns whose type changes: then the constraints, indexes,
-- defaults and statistics on it do not count (ALTER COLUMN ... TYPE
-- carries them), the views and triggers that use it do.  what: the step,
-- for the message.  The rules of views in the set and the triggers on its
-- tables that call its functions are part of it.
CREATE FUNCTION vmm_upgrade._require_no_dependents(classes regclass[], oids oid[], what text,
                                                   subids integer[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    n integer;
    listing text;
BEGIN
    SELECT count(*), string_agg(x.line, E'\n' ORDER BY x.line)
      INTO n, listing
      FROM (SELECT DISTINCT format('%s depends on %s',
                                   pg_describe_object(d.classid, d.objid, d.objsubid),
                                   pg_describe_object(d.refclassid, d.refobjid, coalesce(r.sub, 0))) AS line
      FROM pg_depend d
      JOIN unnest(classes, oids, subids) AS r(cls, id, sub)
        ON d.refclassid = r.cls AND d.refobjid = r.id
       AND (coalesce(r.sub, 0) = 0
            OR d.refobjsubid = r.sub
               AND d.classid <> ALL (ARRAY['pg_constraint', 'pg_attrdef', 'pg_statistic_ext']::regclass[])
               AND NOT (d.classid = 'pg_class'::regclass
                        AND EXISTS (SELECT FROM pg_index i WHERE i.indexrelid = d.objid)))
     WHERE d.deptype = 'n'
       AND NOT EXISTS (SELECT FROM unnest(classes, oids) AS o(cls, id)
                        WHERE o.cls = d.classid AND o.id = d.objid)
       -- a trigger on a table of the set, calling a function of the set
       AND NOT (d.classid = 'pg_trigger'::regclass
                AND EXISTS (SELECT FROM pg_trigger tg
                              JOIN unnest(classes, oids) AS o(cls, id)
                                ON o.cls = 'pg_class'::regclass AND o.id = tg.tgrelid
                             WHERE tg.oid = d.objid))
       -- the rule that makes a view of the set
       AND NOT (d.classid = 'pg_rewrite'::regclass
                AND EXISTS (SELECT FROM pg_rewrite rw
                              JOIN unnest(classes, oids) AS o(cls, id)
                                ON o.cls = 'pg_class'::regclass AND o.id = rw.ev_class
                             WHERE rw.oid = d.objid))) AS x;
    IF n > 0 THEN
        RAISE EXCEPTION '% objects of the database depend on what this step must drop', what
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = listing,
                  HINT = 'Nothing was changed. Drop those objects (save their definitions to re-create them afterwards), then run the step again.';
    END IF;
END
$fn$;

-- The layout the installed version of this extension names (0.6 for 0.6
-- and 0.6+release; NULL while it is being created), for the history.
CREATE FUNCTION vmm_upgrade._installed_version()
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT vmm_upgrade._layout_of(e.extversion) FROM pg_catalog.pg_extension e
     WHERE e.extname OPERATOR(pg_catalog.=) 'vmm_upgrade'::pg_catalog.name
$fn$;

-- ---------------------------------------------------------------------------
-- The vmm 0.6.0 defects: detection
-- ---------------------------------------------------------------------------

-- Defect 1: the number of accounts whose tid is the transport row named
-- 'domain' (vmm 0.6.0's usertransport stored it by mistake).
CREATE FUNCTION vmm_upgrade._domain_transport_users(mail_schema name)
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    n bigint;
BEGIN
    EXECUTE format($q$
        SELECT pg_catalog.count(*)
          FROM %1$I.users AS u
          JOIN %1$I.transport AS t ON t.tid OPERATOR(pg_catalog.=) u.tid
         WHERE t.transport OPERATOR(pg_catalog.=) 'domain'$q$, mail_schema)
       INTO n;
    RETURN n;
END
$fn$;

-- Defect 2, read from the definition: does <mail_schema>.dovecotpassword()
-- match the service set on users.ssid outside the CASE or COALESCE that lets
-- a NULL ssid fall back to the domain's?  vmm 0.6.0's Dovecot < 1.2 body did
-- (a plain "service_set.ssid = users.ssid" among its WHERE conditions), so
-- an account with a NULL ssid got no row and could not log in.  The body is
-- only read: the function belongs to the owner of the mail tables and is
-- never called here.  Comments, quotes, CASE ... END and COALESCE(...) are
-- taken out, then the two columns are looked for under any alias.
-- Returns 'missing', 'defective' or 'no defect found'.
CREATE FUNCTION vmm_upgrade._dovecotpassword_defect(mail_schema name)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    fn     regprocedure := to_regprocedure(format('%I.dovecotpassword(pg_catalog.varchar, pg_catalog.varchar)', mail_schema));
    body   text;
    prev   text;
    sets   text[];
    users  text[];
    keywords CONSTANT text[] := ARRAY['where', 'join', 'on', 'inner', 'left', 'right', 'full',
        'cross', 'natural', 'using', 'and', 'or', 'group', 'order', 'limit', 'union', 'loop',
        'window', 'having', 'offset', 'fetch', 'for', 'returning', 'set', 'into'];
BEGIN
    IF fn IS NULL THEN
        RETURN 'missing';
    END IF;
    SELECT lower(p.prosrc) INTO body FROM pg_proc p WHERE p.oid = fn;
    body := regexp_replace(body, '--[^\n]*', ' ', 'g');
    body := regexp_replace(body, '/\*.*?\*/', ' ', 'g');
    body := regexp_replace(replace(body, '"', ''), '\s+', ' ', 'g');
    LOOP
        prev := body;
        body := regexp_replace(body, '\mcase\M(?:(?!\mcase\M).)*?\mend\M', ' ', 'g');
        body := regexp_replace(body, '\mcoalesce\s*\([^()]*\)', ' ', 'g');
        EXIT WHEN body = prev;
    END LOOP;
    SELECT array_agg(DISTINCT a) FILTER (WHERE a IS NOT NULL AND a <> ALL (keywords))
      INTO sets
      FROM regexp_matches(body, '\mservice_set\M(?: (?:as )?([a-z_][a-z0-9_$]*))?', 'g') AS m(r),
           LATERAL unnest(ARRAY['service_set', m.r[1]]) AS a;
    SELECT array_agg(DISTINCT a) FILTER (WHERE a IS NOT NULL AND a <> ALL (keywords))
      INTO users
      FROM regexp_matches(body, '\musers\M(?: (?:as )?([a-z_][a-z0-9_$]*))?', 'g') AS m(r),
           LATERAL unnest(ARRAY['users', m.r[1]]) AS a;
    IF EXISTS (SELECT FROM unnest(sets) AS x, unnest(users) AS y
                WHERE body ~ format('\m%1$s\.ssid ?(?:=|operator ?\( ?pg_catalog\.= ?\)) ?%2$s\.ssid\M|\m%2$s\.ssid ?(?:=|operator ?\( ?pg_catalog\.= ?\)) ?%1$s\.ssid\M',
                                    x, y)) THEN
        RETURN 'defective';
    END IF;
    RETURN 'no defect found';
END
$fn$;

-- How accounts on the transport row named 'domain' are to be read, from the
-- setting vmm_upgrade.transport_domain: 'inherit' (vmm 0.6.0's usertransport
-- put them there by mistake: they inherit their domain's transport), 'keep'
-- (a real transport of that name) or 'ask' (the default: refuse and say
-- both).  The data cannot tell the two apart.
CREATE FUNCTION vmm_upgrade._transport_domain_choice()
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
RETURN coalesce(nullif(pg_catalog.current_setting('vmm_upgrade.transport_domain', true), ''), 'ask');

-- The refusal when accounts are on the transport named 'domain' and the DBA
-- has not said what that transport is.
CREATE FUNCTION vmm_upgrade._refuse_transport_domain(mail_schema name, n bigint, then_type text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RAISE EXCEPTION '% account% in schema "%" use% the transport named "domain"', n,
        CASE WHEN n = 1 THEN '' ELSE 's' END, mail_schema, CASE WHEN n = 1 THEN 's' ELSE '' END
        USING ERRCODE = 'object_not_in_prerequisite_state',
              DETAIL = 'vmm 0.6.0 put accounts on a transport row named "domain" by mistake (its usertransport command); a real Postfix transport may also have that name. The database cannot tell which this is. Nothing was changed.',
              HINT = format('If vmm 0.6.0 put them there, they are to inherit their domain''s transport: SET vmm_upgrade.transport_domain = ''inherit''; %s If "domain" is a transport of yours, keep it: SET vmm_upgrade.transport_domain = ''keep''; and run the command again.',
                            then_type);
END
$fn$;

-- Public API: which of the two vmm 0.6.0 defects the 0.6 layout in the mail
-- schema (default: setting vmm_upgrade.schema, else public) still has.
-- One row per defect; present is NULL when it could not be told.
--   SELECT * FROM vmm_upgrade.check_0_6_0_defects();
CREATE FUNCTION vmm_upgrade.check_0_6_0_defects(
    mail_schema name DEFAULT NULL,
    OUT defect text,
    OUT present boolean,
    OUT detail text)
RETURNS SETOF record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s       name := vmm_upgrade.mail_schema(mail_schema);
    found   record;
    n       bigint;
    verdict text;
BEGIN
    SELECT * INTO found FROM vmm_upgrade.detect_layout(s);
    IF found.version IS DISTINCT FROM '0.6' THEN
        RAISE EXCEPTION 'schema "%" does not hold the vmm 0.6 layout (it holds: %)', s, found.version
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Run SELECT * FROM vmm_upgrade.check_layout(''0.6'', NULL, %L) to see why.', s);
    END IF;
    n := vmm_upgrade._domain_transport_users(s);
    defect := 'users with transport "domain"';
    present := n > 0 AND vmm_upgrade._transport_domain_choice() <> 'keep';
    detail := format('%s account%s %s the transport row named "domain" as %s transport%s',
                     n, CASE WHEN n = 1 THEN '' ELSE 's' END, CASE WHEN n = 1 THEN 'has' ELSE 'have' END,
                     CASE WHEN n = 1 THEN 'its' ELSE 'their' END,
                     CASE WHEN n > 0 AND NOT present THEN ' (a real transport: vmm_upgrade.transport_domain = keep)'
                          ELSE '' END);
    RETURN NEXT;
    verdict := vmm_upgrade._dovecotpassword_defect(s);
    defect := 'dovecotpassword() and NULL ssid';
    present := verdict <> 'no defect found';
    detail := CASE verdict
                   WHEN 'no defect found'
                   THEN 'dovecotpassword() lets an account with a NULL ssid fall back to its domain''s services'
                   WHEN 'missing'
                   THEN 'dovecotpassword() does not exist'
                   ELSE 'dovecotpassword() also matches the service set on users.ssid, so an account with a NULL ssid gets no row' END;
    RETURN NEXT;
END
$fn$;

-- ---------------------------------------------------------------------------
-- Our lookup functions in place of the ones the database has
-- ---------------------------------------------------------------------------

-- Drops the 0.6 lookup functions and types of <mail_schema> and creates ours
-- (upgrade.sql's _create_lookups_0_6) for the Dovecot variant given, keeping
-- any privileges granted or revoked on the old ones.  No CASCADE: an object
-- of the DBA's that depends on one of them stops the step.  The caller
-- checks the layout before and after.  Returns how many objects it replaced.
CREATE FUNCTION vmm_upgrade._replace_lookups(mail_schema name, dovecot text)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s     text := quote_ident(mail_schema);
    o     record;
    saved jsonb := '[]';
    n     integer := 0;
BEGIN
    -- Nothing outside the set may depend on it.
    PERFORM vmm_upgrade._require_no_dependents(
        array_agg(CASE l.kind WHEN 'FUNCTION' THEN 'pg_proc'::regclass ELSE 'pg_type'::regclass END),
        array_agg(CASE l.kind WHEN 'FUNCTION' THEN (s || '.' || l.object)::regprocedure::oid
                              ELSE (s || '.' || quote_ident(l.object))::regtype::oid END),
        format('replacing the lookup functions of schema "%s":', mail_schema))
      FROM vmm_upgrade._lookup_objects_0_6() AS l;
    -- Remember the privileges, then drop the functions before the types.
    FOR o IN SELECT l.kind, l.object FROM vmm_upgrade._lookup_objects_0_6() AS l
              ORDER BY l.kind, l.object LOOP
        saved := saved || CASE o.kind
            WHEN 'FUNCTION' THEN
                (SELECT jsonb_build_object('kind', o.kind, 'object', s || '.' || o.object,
                                           'acl', p.proacl::text[], 'owner', p.proowner)
                   FROM pg_proc p WHERE p.oid = (s || '.' || o.object)::regprocedure)
            ELSE
                (SELECT jsonb_build_object('kind', o.kind, 'object', s || '.' || quote_ident(o.object),
                                           'acl', t.typacl::text[], 'owner', t.typowner)
                   FROM pg_type t WHERE t.oid = (s || '.' || quote_ident(o.object))::regtype)
            END;
        EXECUTE format('DROP %s %s', o.kind,
                       CASE o.kind WHEN 'FUNCTION' THEN s || '.' || o.object
                                   ELSE s || '.' || quote_ident(o.object) END);
        n := n + 1;
    END LOOP;

    PERFORM vmm_upgrade._create_lookups_0_6(mail_schema, dovecot);

    FOR o IN SELECT x->>'kind' AS kind, x->>'object' AS object,
                    (SELECT array_agg(a)::aclitem[] FROM jsonb_array_elements_text(x->'acl') AS a) AS acl,
                    (x->>'owner')::oid AS owner
               FROM jsonb_array_elements(saved) AS x
              WHERE jsonb_typeof(x->'acl') = 'array' LOOP
        PERFORM vmm_upgrade._restore_acl(o.kind, o.object, o.acl, o.owner);
    END LOOP;
    RETURN n;
END
$fn$;

-- Public API: replace the 0.6 lookup functions of the mail schema (setting
-- vmm_upgrade.schema, default public) with ours: the same names, arguments,
-- result types and contracts (README "The lookup functions"), our bodies
-- (every name qualified, plans cached per session).  Atomic; the layout must
-- be exactly 0.6 before and after, and the new dovecotpassword() must give an
-- account with a NULL ssid its domain's services.  Privileges on the old
-- functions are kept.  Recorded in vmm_upgrade.history.
--   SELECT vmm_upgrade.replace_lookup_functions();
CREATE FUNCTION vmm_upgrade.replace_lookup_functions()
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s       name := vmm_upgrade.mail_schema();
    started timestamptz := clock_timestamp();
    variant text;
    before  text;
    n       integer;
    version text := vmm_upgrade._installed_version();
BEGIN
    PERFORM vmm_upgrade.require_layout('0.6', NULL, s, 'vmm_upgrade.replace_lookup_functions() (preflight)');
    variant := (SELECT d.dovecot FROM vmm_upgrade.detect_layout(s) AS d);
    before := vmm_upgrade._dovecotpassword_defect(s);
    n := vmm_upgrade._replace_lookups(s, variant);
    PERFORM vmm_upgrade._require_lookups_ok(s, variant, 'vmm_upgrade.replace_lookup_functions() (postflight)');
    PERFORM vmm_upgrade._record(s, version, version, variant, variant, started, 0, 0,
        jsonb_build_object('step', 'replace_lookup_functions', 'objects_replaced', n,
                           'dovecotpassword_before', before));
    RETURN format('replaced the %s lookup functions and types of schema "%s" (Dovecot %s variant) with vmm_upgrade''s',
                  n, s, variant);
END
$fn$;

-- Postflight of every step that creates lookup functions: the layout is
-- exactly 0.6 of the variant, and the lookup functions are ours (read from
-- their definitions, never called).
CREATE FUNCTION vmm_upgrade._require_lookups_ok(mail_schema name, dovecot text, context text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM vmm_upgrade.require_layout('0.6', dovecot, mail_schema, context);
    IF NOT vmm_upgrade._lookups_are_ours(mail_schema, dovecot) THEN
        RAISE EXCEPTION '%: the lookup functions in schema "%" are not those vmm_upgrade made', context, mail_schema
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'A function body differs from the one just created. Nothing was changed.';
    END IF;
END
$fn$;

-- ---------------------------------------------------------------------------
-- The vmm 0.6.0 fixes (vmm_upgrade--0.6.0--0.6.sql)
-- ---------------------------------------------------------------------------

-- Applies the fixes of the 0.6.0 defects (README "vmm 0.6.0") to the exact 0.6 layout in
-- <mail_schema> (the caller checks it): accounts whose tid is the transport
-- row named 'domain' inherit their domain's transport (tid NULL; the row
-- itself stays), and the lookup functions are replaced by ours (in both
-- variants), which fixes dovecotpassword() for accounts with a NULL ssid.
-- Harmless when there is nothing to fix.  Returns what it did.
CREATE FUNCTION vmm_upgrade._fix_0_6_0(mail_schema name)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s        text := quote_ident(mail_schema);
    variant  text := (SELECT d.dovecot FROM vmm_upgrade.detect_layout(mail_schema) AS d);
    before   text;
    fixed    bigint;
    kept     bigint := 0;
    choice   text;
    tids     bigint[];
    replaced integer;
BEGIN
    before := vmm_upgrade._dovecotpassword_defect(mail_schema);
    -- Defect 1, in one pass over the affected rows, made by the owner of
    -- users in a security-restricted context (its triggers, CHECK and index
    -- expressions run with its rights), and only when the DBA has said that
    -- the transport named 'domain' is vmm 0.6.0's mistake.
    fixed := vmm_upgrade._domain_transport_users(mail_schema);
    choice := vmm_upgrade._transport_domain_choice();
    IF fixed > 0 AND choice = 'ask' THEN
        PERFORM vmm_upgrade._refuse_transport_domain(mail_schema, fixed, 'ALTER EXTENSION vmm_upgrade UPDATE;');
    END IF;
    IF choice = 'keep' THEN
        kept := fixed;
        fixed := 0;
    ELSE
        SELECT (r->>'fixed')::bigint, ARRAY(SELECT jsonb_array_elements_text(r->'tids'))::bigint[]
          INTO fixed, tids
          FROM vmm_upgrade._as_owner(format('%s.users', s)::regclass, format($q$
            WITH fixed AS (
                UPDATE %1$s.users AS u
                   SET tid = NULL
                  FROM %1$s.transport AS t
                 WHERE t.tid OPERATOR(pg_catalog.=) u.tid
                   AND t.transport OPERATOR(pg_catalog.=) 'domain'
                RETURNING t.tid)
            SELECT pg_catalog.jsonb_build_object(
                       'fixed', pg_catalog.count(*),
                       'tids', COALESCE(pg_catalog.jsonb_agg(DISTINCT tid), '[]'))
              FROM fixed$q$, s)) AS r;
    END IF;
    -- Defect 2 (and our bodies for every 0.6 database).
    replaced := vmm_upgrade._replace_lookups(mail_schema, variant);
    PERFORM vmm_upgrade._forget_initial_privs(mail_schema);
    RETURN jsonb_build_object('mail_schema', mail_schema, 'dovecot', variant,
                              'users_transport_domain_fixed', fixed,
                              'users_transport_domain_kept', kept,
                              'transport_domain', choice,
                              'domain_transport_tid', to_jsonb(tids),
                              'dovecotpassword_before', before,
                              'dovecotpassword_defective', before <> 'no defect found',
                              'objects_replaced', replaced);
END
$fn$;

-- The WARNING that ends the 0.6.0 -> 0.6 update: what was fixed.
CREATE FUNCTION vmm_upgrade._warn_0_6_0_fixed(result jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    fixed bigint := (result->>'users_transport_domain_fixed')::bigint;
BEGIN
    RAISE WARNING 'vmm_upgrade: fixed the vmm 0.6.0 defects in schema "%": % account% on the transport "domain" now inherit% the domain''s transport; dovecotpassword() was %',
        result->>'mail_schema', fixed, CASE WHEN fixed = 1 THEN '' ELSE 's' END,
        CASE WHEN fixed = 1 THEN 's' ELSE '' END,
        CASE WHEN (result->>'dovecotpassword_defective')::boolean
             THEN 'defective (an account with a NULL ssid got no row) and has been replaced'
             ELSE 'without the defect and has been replaced by vmm_upgrade''s' END
        USING DETAIL = 'Accounts without a service set of their own (ssid NULL) get their domain''s services from dovecotpassword() and can log in. The transport row named "domain" itself was left alone.',
              HINT = CASE WHEN result->>'dovecot' = '1.1'
                          THEN 'Once Dovecot is 1.2 or later, run SELECT vmm_upgrade.upgrade_dovecot_layout(); to switch to its layout.'
                          ELSE 'Nothing else to do: Postfix and Dovecot keep their queries.' END;
END
$fn$;

-- ---------------------------------------------------------------------------
-- The Dovecot < 1.2 -> >= 1.2 switch within 0.6
-- ---------------------------------------------------------------------------

-- Public API: switch the 0.6 layout of the mail schema (setting
-- vmm_upgrade.schema, default public) from the Dovecot < 1.2 variant to the
-- Dovecot >= 1.2 variant (README "The Dovecot 1.1 variant"):
--   * service_set.managesieve becomes sieve (its unique constraint follows);
--   * userquota_11 with its trigger and function gives way to userquota with
--     its own; the quota usage is carried over: per uid, path quota/storage
--     becomes bytes and quota/messages becomes messages (a WARNING says what
--     was carried and what was not); privileges on userquota_11 pass to
--     userquota;
--   * type dovecotpassword and the lookup functions are rebuilt (ours).
-- Refuses anything but the exact 0.6 layout of the Dovecot < 1.2 variant,
-- changing nothing.  Atomic, checked after, recorded in vmm_upgrade.history.
--   SELECT vmm_upgrade.upgrade_dovecot_layout();
CREATE FUNCTION vmm_upgrade.upgrade_dovecot_layout()
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    mail_schema name := vmm_upgrade.mail_schema();
    s        text := quote_ident(mail_schema);
    started  timestamptz := clock_timestamp();
    version  text := vmm_upgrade._installed_version();
    found    record;
    owner    name;
    q_acl    aclitem[];
    q_owner  oid;
    accounts bigint;
    bytes    numeric;
    messages numeric;
    too_many bigint;
    skipped  bigint;
    skipped_paths text;
    replaced integer;
BEGIN
    SELECT * INTO found FROM vmm_upgrade.detect_layout(mail_schema);
    IF found.version = '0.6' AND found.dovecot = '1.2' THEN
        RAISE EXCEPTION 'schema "%" already holds the Dovecot >= 1.2 variant of the vmm 0.6 layout', mail_schema
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Nothing was changed.',
                  HINT = 'There is nothing to switch: service_set has the column sieve and the quota table is userquota.';
    END IF;
    IF found.version = '0.5.2' THEN
        RAISE EXCEPTION 'schema "%" holds the vmm 0.5.2 layout, not 0.6', mail_schema
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Nothing was changed.',
                  HINT = 'Upgrade to 0.6 and to the Dovecot >= 1.2 variant in one step: SET vmm_upgrade.dovecot_version = ''<the first word of dovecot --version>''; ALTER EXTENSION vmm_upgrade UPDATE;';
    END IF;
    PERFORM vmm_upgrade.require_layout('0.6', '1.1', mail_schema,
                                       'vmm_upgrade.upgrade_dovecot_layout() (preflight)');
    PERFORM vmm_upgrade._require_safe_tables(mail_schema, 'vmm_upgrade.upgrade_dovecot_layout()');
    owner := vmm_upgrade._users_owner(mail_schema);

    -- Dovecot must not add to userquota_11 while its rows are carried over.
    EXECUTE format('LOCK TABLE %s.userquota_11 IN ACCESS EXCLUSIVE MODE', s);
    SELECT c.relacl, c.relowner INTO q_acl, q_owner
      FROM pg_class c WHERE c.oid = (s || '.userquota_11')::regclass;

    -- Nothing of the DBA's may depend on what goes (no CASCADE).
    PERFORM vmm_upgrade._require_no_dependents(
        ARRAY['pg_class', 'pg_proc']::regclass[],
        ARRAY[(s || '.userquota_11')::regclass::oid, (s || '.merge_userquota_11()')::regprocedure::oid],
        format('switching schema "%s" to the Dovecot >= 1.2 variant:', mail_schema));

    -- 1. The sieve service flag gets its Dovecot >= 1.2 name; the unique
    --    constraint on the four flags follows the column.
    PERFORM vmm_upgrade._as_owner(format('%s.service_set', s)::regclass,
        format('ALTER TABLE %s.service_set RENAME COLUMN managesieve TO sieve', s));

    -- 2. userquota, filled from userquota_11 before its merge trigger exists.
    EXECUTE format($q$
        SELECT pg_catalog.count(*) FILTER (WHERE path NOT IN ('quota/storage', 'quota/messages')),
               pg_catalog.string_agg(DISTINCT path, ', ' ORDER BY path)
                   FILTER (WHERE path NOT IN ('quota/storage', 'quota/messages'))
          FROM %s.userquota_11$q$, s) INTO skipped, skipped_paths;
    EXECUTE format($q$
        SELECT pg_catalog.count(*) FROM (
            SELECT uid FROM %s.userquota_11
             WHERE path = 'quota/messages'
             GROUP BY uid
            HAVING pg_catalog.sum(current) NOT BETWEEN -2147483648 AND 2147483647) AS x$q$, s)
       INTO too_many;
    IF too_many > 0 THEN
        RAISE EXCEPTION 'userquota_11 in schema "%" counts more messages than userquota.messages (integer) can hold for % account%', mail_schema, too_many, CASE WHEN too_many = 1 THEN '' ELSE 's' END
            USING ERRCODE = 'numeric_value_out_of_range',
                  DETAIL = 'Nothing was changed.',
                  HINT = 'Correct or delete those userquota_11 rows (path quota/messages); Dovecot recounts the usage.';
    END IF;
    PERFORM vmm_upgrade._create_userquota_table(s);
    EXECUTE format($q$
        WITH carried AS (
            INSERT INTO %1$s.userquota (uid, bytes, messages)
            SELECT uid,
                   coalesce(pg_catalog.sum(current) FILTER (WHERE path = 'quota/storage'), 0),
                   coalesce(pg_catalog.sum(current) FILTER (WHERE path = 'quota/messages'), 0)
              FROM %1$s.userquota_11
             WHERE path IN ('quota/storage', 'quota/messages')
             GROUP BY uid
            RETURNING bytes, messages)
        SELECT pg_catalog.count(*), coalesce(pg_catalog.sum(bytes), 0), coalesce(pg_catalog.sum(messages), 0)
          FROM carried$q$, s)
       INTO accounts, bytes, messages;

    -- 3. userquota_11, its trigger and its function go.  No CASCADE: an
    --    object of the DBA's built on them stops the switch.
    EXECUTE format('DROP TRIGGER mergeuserquota_11 ON %s.userquota_11', s);
    EXECUTE format('DROP FUNCTION %s.merge_userquota_11()', s);
    EXECUTE format('DROP TABLE %s.userquota_11', s);

    -- 4. userquota's merge trigger, made by the same function as in the
    --    0.5.2 -> 0.6 upgrade (upgrade.sql): an insert for a uid that has a
    --    row adds bytes and messages to it.
    PERFORM vmm_upgrade._create_userquota_trigger(s);
    PERFORM vmm_upgrade._hand_over('TABLE', s || '.userquota', owner);
    PERFORM vmm_upgrade._hand_over('FUNCTION', s || '.merge_userquota()', owner);
    -- Whoever could use userquota_11 (Dovecot) can use userquota.
    PERFORM vmm_upgrade._restore_acl('TABLE', s || '.userquota', q_acl, q_owner);

    -- 5. The dovecotpassword type (sieve) and the lookup functions, ours.
    replaced := vmm_upgrade._replace_lookups(mail_schema, '1.2');

    -- 6. Postflight: exactly the 0.6 layout of the Dovecot >= 1.2 variant.
    PERFORM vmm_upgrade._require_lookups_ok(mail_schema, '1.2',
                                            'vmm_upgrade.upgrade_dovecot_layout() (postflight)');

    PERFORM vmm_upgrade._record(mail_schema, version, version, '1.1', '1.2', started, accounts, 0,
        jsonb_build_object('step', 'upgrade_dovecot_layout',
                           'quota_accounts_carried', accounts,
                           'quota_bytes_carried', bytes,
                           'quota_messages_carried', messages,
                           'quota_rows_not_carried', skipped,
                           'objects_replaced', replaced));

    RAISE WARNING 'vmm_upgrade: schema "%" now holds the Dovecot >= 1.2 variant; the quota usage of % account% was carried from userquota_11 to userquota: % bytes, % messages in all',
        mail_schema, accounts, CASE WHEN accounts = 1 THEN '' ELSE 's' END, bytes, messages
        USING DETAIL = CASE WHEN skipped > 0
                            THEN format('%s userquota_11 row%s with other paths (%s) %s not carried: Dovecot >= 1.2 keeps only bytes and messages.',
                                        skipped, CASE WHEN skipped = 1 THEN '' ELSE 's' END, skipped_paths,
                                        CASE WHEN skipped = 1 THEN 'was' ELSE 'were' END)
                            ELSE 'Every userquota_11 row was carried (paths quota/storage and quota/messages).' END,
              HINT = format('Point Dovecot''s dict quota map at table userquota (fields bytes and messages, key uid) and make sure its role may write it: SELECT * FROM vmm_upgrade.set_permissions(%L, %L);%s',
                            vmm_upgrade._configured_role('dovecot'), vmm_upgrade._configured_role('postfix'),
                            CASE WHEN q_acl IS NOT NULL THEN ' (the privileges on userquota_11 were carried over).' ELSE '' END);

    RETURN format('switched schema "%s" to the Dovecot >= 1.2 variant: quota usage of %s account%s carried (%s bytes, %s messages), %s lookup functions and types rebuilt',
                  mail_schema, accounts, CASE WHEN accounts = 1 THEN '' ELSE 's' END, bytes, messages, replaced);
END
$fn$;

-- The internal steps are for the scripts and the public functions above, not
-- for everyone: they run with the caller's rights anyway, but nobody else has
-- a reason to call them.
REVOKE EXECUTE ON FUNCTION
    vmm_upgrade._restore_acl(text, text, aclitem[], oid),
    vmm_upgrade._require_no_dependents(regclass[], oid[], text, integer[]),
    vmm_upgrade._domain_transport_users(name),
    vmm_upgrade._dovecotpassword_defect(name),
    vmm_upgrade._refuse_transport_domain(name, bigint, text),
    vmm_upgrade._replace_lookups(name, text),
    vmm_upgrade._require_lookups_ok(name, text, text),
    vmm_upgrade._fix_0_6_0(name),
    vmm_upgrade._warn_0_6_0_fixed(jsonb)
FROM PUBLIC;
