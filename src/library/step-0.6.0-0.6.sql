-- step-0.6.0-0.6.sql: the vmm 0.6.0 defects (README "vmm 0.6.0"):
-- detection (check_0_6_0_defects) and the fix applied by
-- src/scripts/update-0.6.0--0.6.sql.
--
-- Every function pins search_path to pg_catalog, pg_temp and names each mail
-- object through its schema; existing mail tables are changed only through
-- vmm_upgrade._as_owner; what is created in the mail schema is handed over
-- to the owner of users (src/library/README.md).

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
    layout  record;
    n       bigint;
    verdict text;
BEGIN
    mail_schema := vmm_upgrade.mail_schema(mail_schema);
    SELECT * INTO layout FROM vmm_upgrade.detect_layout(mail_schema);
    IF layout.version IS DISTINCT FROM '0.6' THEN
        RAISE EXCEPTION 'schema "%" does not hold the vmm 0.6 layout (it holds: %)', mail_schema, layout.version
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Run SELECT * FROM vmm_upgrade.check_layout(''0.6'', NULL, %L) to see why.', mail_schema);
    END IF;
    n := vmm_upgrade._domain_transport_users(mail_schema);
    defect := 'users with transport "domain"';
    present := n > 0 AND vmm_upgrade._transport_domain_choice() <> 'keep';
    detail := format('%s account%s %s the transport row named "domain" as %s transport%s',
                     n, CASE WHEN n = 1 THEN '' ELSE 's' END, CASE WHEN n = 1 THEN 'has' ELSE 'have' END,
                     CASE WHEN n = 1 THEN 'its' ELSE 'their' END,
                     CASE WHEN n > 0 AND NOT present THEN ' (a real transport: vmm_upgrade.transport_domain = keep)'
                          ELSE '' END);
    RETURN NEXT;
    verdict := vmm_upgrade._dovecotpassword_defect(mail_schema);
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

-- The internal functions are for the scripts and the public functions,
-- not for everyone: they run with the caller's rights anyway, but nobody
-- else has a reason to call them.
REVOKE EXECUTE ON FUNCTION
    vmm_upgrade._domain_transport_users(name),
    vmm_upgrade._dovecotpassword_defect(name),
    vmm_upgrade._refuse_transport_domain(name, bigint, text),
    vmm_upgrade._fix_0_6_0(name),
    vmm_upgrade._warn_0_6_0_fixed(jsonb)
FROM PUBLIC;
