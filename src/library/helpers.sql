-- helpers.sql: small helpers every step uses (the owner of the mail tables,
-- the Dovecot variant, handing objects over), the refusals of what must not
-- be on the mail tables before a step changes them, and the up-front locks.
--
-- Every function pins search_path to pg_catalog, pg_temp and names each mail
-- object through its schema; existing mail tables are changed only through
-- vmm_upgrade._as_owner; what is created in the mail schema is handed over
-- to the owner of users (src/library/README.md).

-- ---------------------------------------------------------------------------
-- Small helpers
-- ---------------------------------------------------------------------------

-- The owner of <mail_schema>.users: every object we create there gets it.
CREATE FUNCTION vmm_upgrade._users_owner(mail_schema name)
RETURNS name
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT pg_catalog.pg_get_userbyid(c.relowner)
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
     WHERE n.nspname OPERATOR(pg_catalog.=) mail_schema
       AND c.relname OPERATOR(pg_catalog.=) 'users'::pg_catalog.name
       AND c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p']::pg_catalog."char"[]);
END;

-- Does <mail_schema>.<rel> exist (any relation kind)?
CREATE FUNCTION vmm_upgrade._has_relation(mail_schema name, rel name)
RETURNS boolean
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT EXISTS (SELECT FROM pg_catalog.pg_class c
                     JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
                    WHERE n.nspname OPERATOR(pg_catalog.=) mail_schema
                      AND c.relname OPERATOR(pg_catalog.=) rel);
END;

-- Which Dovecot variant a layout has: '1.2' when the service flag is "sieve",
-- '1.1' when it is "managesieve" (in users for 0.5.2, service_set for 0.6).
CREATE FUNCTION vmm_upgrade._variant_of(mail_schema name, rel name)
RETURNS text
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT CASE WHEN pg_catalog.bool_or(a.attname OPERATOR(pg_catalog.=) 'sieve'::pg_catalog.name) THEN '1.2'
                WHEN pg_catalog.bool_or(a.attname OPERATOR(pg_catalog.=) 'managesieve'::pg_catalog.name) THEN '1.1'
           END
      FROM pg_catalog.pg_attribute a
      JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) a.attrelid
      JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
     WHERE n.nspname OPERATOR(pg_catalog.=) mail_schema
       AND c.relname OPERATOR(pg_catalog.=) rel
       AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
END;

-- The name of the sieve service flag in a Dovecot variant: managesieve in
-- '1.1' (Dovecot < 1.2), sieve in '1.2'; any other variant is an ERROR.
-- Not revoked from PUBLIC: set_permissions() reads it through
-- _compatibility_view_definitions.
CREATE FUNCTION vmm_upgrade._sieve_flag(dovecot text)
RETURNS name
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF dovecot IS NULL OR dovecot NOT IN ('1.1', '1.2') THEN
        RAISE EXCEPTION 'unknown Dovecot variant "%"', dovecot
            USING ERRCODE = 'invalid_parameter_value', DETAIL = 'Known variants are 1.1 and 1.2.';
    END IF;
    RETURN CASE dovecot WHEN '1.2' THEN 'sieve' ELSE 'managesieve' END;
END
$fn$;

-- The Dovecot variant an upgrade produces: the source's, unless the GUC
-- vmm_upgrade.dovecot_version names the Dovecot that will read the database
-- (a version >= 1.2 gives the 1.2 variant).  Going back from 1.2 to 1.1 is
-- refused: no Dovecot downgrade needs it.
CREATE FUNCTION vmm_upgrade._target_dovecot(source_dovecot text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    setting text := nullif(btrim(current_setting('vmm_upgrade.dovecot_version', true)), '');
    target  text;
BEGIN
    IF setting IS NULL THEN
        RETURN source_dovecot;
    END IF;
    target := vmm_upgrade._dovecot_variant(setting);
    IF source_dovecot = '1.2' AND target = '1.1' THEN
        RAISE EXCEPTION 'vmm_upgrade.dovecot_version = % asks for the Dovecot < 1.2 variant, but the database already has the Dovecot >= 1.2 variant', setting
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'No step goes back from the Dovecot >= 1.2 variant to the Dovecot < 1.2 one. Nothing was changed.',
                  HINT = 'Reset the setting (or set it to the installed Dovecot version), then run the update again: RESET vmm_upgrade.dovecot_version; ALTER EXTENSION vmm_upgrade UPDATE;';
    END IF;
    RETURN target;
END
$fn$;

-- Hand an object we created in the mail schema over to the mail system:
-- owned by the owner of users, and no longer a member of this extension (so
-- pg_dump dumps it and DROP EXTENSION leaves it alone).
-- kind: TABLE, SEQUENCE, VIEW, TYPE or FUNCTION; object: its qualified name
-- (with the argument list for a function).
CREATE FUNCTION vmm_upgrade._hand_over(kind text, object text, owner name)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    obj_class oid;
    obj_id    oid;
BEGIN
    CASE kind
        WHEN 'TABLE', 'SEQUENCE', 'VIEW' THEN
            obj_class := 'pg_class'::regclass;  obj_id := object::regclass;
        WHEN 'TYPE' THEN
            obj_class := 'pg_type'::regclass;   obj_id := object::regtype;
        WHEN 'FUNCTION' THEN
            obj_class := 'pg_proc'::regclass;   obj_id := object::regprocedure;
        ELSE
            RAISE EXCEPTION 'unknown kind of object "%" to hand over', kind
                USING ERRCODE = 'internal_error';
    END CASE;
    EXECUTE format('ALTER %s %s OWNER TO %I', kind, object, owner);
    IF EXISTS (SELECT FROM pg_depend d
                 JOIN pg_extension e ON e.oid = d.refobjid
                WHERE d.refclassid = 'pg_extension'::regclass
                  AND d.classid = obj_class AND d.objid = obj_id
                  AND d.deptype = 'e' AND e.extname = 'vmm_upgrade') THEN
        EXECUTE format('ALTER EXTENSION vmm_upgrade DROP %s %s', kind, object);
    END IF;
END
$fn$;

-- ---------------------------------------------------------------------------
-- What must not be on the mail tables before a step changes them
-- ---------------------------------------------------------------------------

-- Refuse, before anything is changed, what would make a step unsafe or
-- wrong on the tables of <mail_schema> (every table there: the vmm tables
-- and the DBA's own that reference them):
--  * rules: a DO ALSO / INSTEAD rule rewrites our UPDATE into something
--    else (and breaks the data pass with "DO ALSO rules are not supported
--    for data-modifying statements in WITH");
--  * row-level security: policies would hide rows from the data pass, which
--    then leaves them unconverted;
--  * logical replication: DDL does not travel through it, so subscribers
--    would stay on the old layout while rows keep flowing into changed
--    tables;
--  * when a table's owner is a superuser, code that another role owns
--    attached to it (a trigger function, or a function used by a CHECK
--    constraint, an index, a default or a trigger): the statements run as
--    the owner (vmm_upgrade._as_owner), here with superuser rights.
-- what: the step, for the message.
CREATE FUNCTION vmm_upgrade._require_safe_tables(mail_schema name, what text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    ns      oid := (SELECT n.oid FROM pg_namespace n WHERE n.nspname = mail_schema);
    offending text[];
BEGIN
    -- Rules and policies.
    offending := ARRAY(
        SELECT format('rule %I on table %I', r.rulename, c.relname)
          FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
         WHERE c.relnamespace = ns AND c.relkind IN ('r', 'p')
        UNION ALL
        SELECT format('policy %I on table %I', p.polname, c.relname)
          FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
         WHERE c.relnamespace = ns
        UNION ALL
        SELECT format('row-level security enabled on table %I', c.relname)
          FROM pg_class c
         WHERE c.relnamespace = ns AND c.relkind IN ('r', 'p') AND c.relrowsecurity);
    IF cardinality(offending) > 0 THEN
        RAISE EXCEPTION 'rules or row-level security on the tables of schema "%"', mail_schema
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format(E'The step %s must change every row of these tables as they are, which rules rewrite and row-level security hides:\n%s\nNothing was changed.',
                                  what, vmm_upgrade._list(offending)),
                  HINT = 'Save the definitions (pg_dump --schema-only), drop the rules and policies and disable row-level security (ALTER TABLE ... DISABLE ROW LEVEL SECURITY), run the step, then re-create them for the new layout.';
    END IF;

    -- Logical replication, either direction.
    offending := ARRAY(
        SELECT DISTINCT format('publication %I publishes table %I', p.pubname, c.relname)
          FROM pg_class c
          JOIN pg_publication p
            ON p.puballtables
            OR EXISTS (SELECT FROM pg_publication_rel pr
                        WHERE pr.prpubid = p.oid AND pr.prrelid = c.oid)
            OR EXISTS (SELECT FROM pg_publication_namespace pn
                        WHERE pn.pnpubid = p.oid AND pn.pnnspid = ns)
         WHERE c.relnamespace = ns AND c.relkind IN ('r', 'p')
        UNION
        SELECT format('subscription %I receives table %I', sub.subname, c.relname)
          FROM pg_subscription_rel sr
          JOIN pg_subscription sub ON sub.oid = sr.srsubid
          JOIN pg_class c ON c.oid = sr.srrelid
         WHERE c.relnamespace = ns);
    IF cardinality(offending) > 0 THEN
        RAISE EXCEPTION 'the tables of schema "%" are logically replicated', mail_schema
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format(E'Logical replication does not carry DDL: the other side would keep the old layout while rows flow into the changed tables.\n%s\nNothing was changed.',
                                  vmm_upgrade._list(offending)),
                  HINT = 'Stop the writers, wait until every subscriber has caught up, drop the subscriptions on the subscribers (and remove the mail tables from the publications), run the same step on every node, publisher first, then subscribers, and re-create the subscriptions with copy_data = false.';
    END IF;

    -- Code of other roles on tables a superuser owns.
    offending := ARRAY(
        SELECT DISTINCT format('%s uses function %s, owned by %I',
                               pg_describe_object(d.classid, d.objid, d.objsubid),
                               f.oid::regprocedure, pg_get_userbyid(f.proowner))
          FROM pg_class c
          JOIN pg_roles o ON o.oid = c.relowner AND o.rolsuper
          -- what hangs on the table: triggers, constraints, defaults,
          -- policies, indexes ...
          JOIN pg_depend t ON t.refclassid = 'pg_class'::regclass AND t.refobjid = c.oid
                          AND (t.classid = ANY (ARRAY['pg_trigger', 'pg_constraint',
                                                      'pg_attrdef', 'pg_policy']::regclass[])
                               OR t.classid = 'pg_class'::regclass
                                  AND EXISTS (SELECT FROM pg_index i WHERE i.indexrelid = t.objid))
          -- ... and the functions it calls
          JOIN pg_depend d ON d.classid = t.classid AND d.objid = t.objid
                          AND d.refclassid = 'pg_proc'::regclass
          JOIN pg_proc f ON f.oid = d.refobjid
          JOIN pg_roles fo ON fo.oid = f.proowner AND NOT fo.rolsuper
         WHERE c.relnamespace = ns AND c.relkind IN ('r', 'p'));
    IF cardinality(offending) > 0 THEN
        RAISE EXCEPTION 'the mail tables in schema "%" are owned by a superuser and run code of other roles', mail_schema
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format(E'The step %s changes these tables as their owner, so this code would run with superuser rights:\n%s\nNothing was changed.',
                                  what, vmm_upgrade._list(offending)),
                  HINT = 'Give the mail tables to the role vmm connects as (ALTER TABLE ... OWNER TO vmm), or have a superuser take over or drop those functions and triggers, then run the step again.';
    END IF;
END
$fn$;


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
        RAISE EXCEPTION 'objects of the database depend on what the step must drop'
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = format(E'%s must drop what these objects depend on:\n%s\nNothing was changed.',
                                  upper(left(what, 1)) || substr(what, 2), listing),
                  HINT = 'Drop those objects (save their definitions to re-create them afterwards), then run the step again.';
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
-- Locks: taken once, up front, in an order no lookup or vmm writer crosses
-- ---------------------------------------------------------------------------

-- Locks every relation of rels (names in mail_schema), in that order, in
-- bounded attempts: ACCESS EXCLUSIVE when exclusive, else EXCLUSIVE, which
-- makes vmm's writers wait but lets every reader (Postfix's and Dovecot's
-- lookups) through; a view is always locked ACCESS EXCLUSIVE (it is locked
-- to be dropped).  The order is the caller's: views first (a lookup locks
-- the view it reads, then the tables under it), then the tables in the
-- order vmm's writers lock them (a table before the tables its foreign keys
-- reference: users, then domain_data and maillocation), so that no lookup
-- or writer holds one of them while waiting for another one we hold.  An
-- attempt waits at most vmm_upgrade.lock_wait_attempt for all its locks
-- together (below deadlock_timeout, so that a cycle we are part of ends by
-- our timeout, never by aborting a lookup or a writer, and the lookups that
-- queue behind an attempt wait no longer than it); a failed attempt lets go
-- of everything it got (what the transaction held before stays) and
-- pauses, so that those lookups go through.  Past
-- vmm_upgrade.lock_wait_total in all: ERROR naming the sessions that hold
-- locks on those relations (the caller's transaction, the whole step, is
-- rolled back).  Returns {"lock_attempts": n, "lock_wait_ms": m}.
CREATE FUNCTION vmm_upgrade._lock_attempts(mail_schema name, rels text[], exclusive boolean, context text)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    total_ms   float8 := extract(epoch FROM current_setting('vmm_upgrade.lock_wait_total')::interval) * 1000;
    attempt_ms float8 := extract(epoch FROM current_setting('vmm_upgrade.lock_wait_attempt')::interval) * 1000;
    old_lt     text := current_setting('lock_timeout');
    started    timestamptz := clock_timestamp();
    attempt_started timestamptz;
    oids       oid[];
    rel        regclass;
    attempts   integer := 0;
    waited_ms  float8;
    holders    text;
    n_holders  integer;
BEGIN
    oids := ARRAY(SELECT format('%I.%I', mail_schema, u.r)::regclass::oid FROM unnest(rels) AS u(r));
    LOOP
        attempts := attempts + 1;
        attempt_started := clock_timestamp();
        BEGIN
            FOREACH rel IN ARRAY oids::regclass[] LOOP
                waited_ms := extract(epoch FROM clock_timestamp() - started) * 1000;
                PERFORM set_config('lock_timeout',
                                   greatest(1, least(attempt_ms - extract(epoch FROM clock_timestamp() - attempt_started) * 1000,
                                                     total_ms - waited_ms))::bigint::text || 'ms', true);
                IF exclusive OR (SELECT c.relkind FROM pg_class c WHERE c.oid = rel) NOT IN ('r', 'p') THEN
                    PERFORM vmm_upgrade._lock_relation(rel);
                ELSE
                    EXECUTE format('LOCK TABLE ONLY %s IN EXCLUSIVE MODE', rel);
                END IF;
            END LOOP;
            PERFORM set_config('lock_timeout', old_lt, true);
            RETURN jsonb_build_object('lock_attempts', attempts,
                                      'lock_wait_ms', round(extract(epoch FROM clock_timestamp() - started) * 1000));
        EXCEPTION WHEN lock_not_available THEN
            NULL;  -- what this attempt got is let go with it
        END;
        waited_ms := extract(epoch FROM clock_timestamp() - started) * 1000;
        EXIT WHEN waited_ms >= total_ms;
        -- let the lookups queued behind the attempt through
        PERFORM pg_sleep(greatest(0, least(attempt_ms, total_ms - waited_ms)) / 2000.0);
    END LOOP;
    PERFORM set_config('lock_timeout', old_lt, true);
    SELECT count(*), string_agg(format('PID %s (role %s, %s%s, holding %s on %s)',
                                       h.pid, coalesce(a.usename::text, 'unknown'), coalesce(a.state, 'unknown state'),
                                       CASE WHEN a.xact_start IS NOT NULL
                                            THEN format(', transaction started %s', to_char(a.xact_start, 'YYYY-MM-DD HH24:MI:SS TZ')) END,
                                       h.modes, h.rels), '; ' ORDER BY h.pid)
      INTO n_holders, holders
      FROM (SELECT l.pid,
                   string_agg(DISTINCT l.mode, ', ') AS modes,
                   string_agg(DISTINCT c.relname::text, ', ') AS rels
              FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
             WHERE l.locktype = 'relation' AND l.granted AND l.relation = ANY (oids)
               AND l.pid <> pg_backend_pid()
             GROUP BY l.pid) AS h
      LEFT JOIN pg_stat_activity a ON a.pid = h.pid;
    RAISE EXCEPTION 'could not lock the mail tables of schema "%" within vmm_upgrade.lock_wait_total (%)',
                    mail_schema, current_setting('vmm_upgrade.lock_wait_total')
        USING ERRCODE = 'lock_not_available',
              DETAIL = CASE WHEN n_holders > 0
                            THEN format('The step %s made %s attempts; %s: %s. Nothing was changed.', context, attempts,
                                        CASE WHEN n_holders = 1 THEN 'this session holds a lock on them'
                                             ELSE format('these %s sessions hold locks on them', n_holders) END,
                                        holders)
                            ELSE format('The step %s made %s attempts; the sessions in the way have ended since. Nothing was changed.', context, attempts) END,
              HINT = 'End those sessions'' transactions (or SELECT pg_terminate_backend(pid)), or raise vmm_upgrade.lock_wait_total, then run the update again.';
END
$fn$;

-- The locks a step takes up front, before it changes anything (the relation
-- names of rels in mail_schema, in that order; _lock_attempts).  When rels
-- names tables, the step builds what is new beside them and changes them
-- only in a short exclusive part at its end: up front its tables get
-- EXCLUSIVE (vmm's writers wait for the step, lookups do not), its views
-- nothing (the exclusive part locks them, and the tables, ACCESS EXCLUSIVE
-- through _lock_exclusive, in the same order).  A list of views alone (as
-- drop_compatibility_views gives) gets ACCESS EXCLUSIVE at once.
CREATE FUNCTION vmm_upgrade._lock_for_update(mail_schema name, rels text[], context text)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    tables text[] := ARRAY(SELECT u.r FROM unnest(rels) WITH ORDINALITY AS u(r, k)
                             JOIN pg_class c ON c.oid = format('%I.%I', mail_schema, u.r)::regclass
                            WHERE c.relkind IN ('r', 'p') ORDER BY u.k);
BEGIN
    IF cardinality(tables) = 0 THEN
        RETURN vmm_upgrade._lock_attempts(mail_schema, rels, true, context);
    END IF;
    RETURN vmm_upgrade._lock_attempts(mail_schema, tables, false, context)
           || jsonb_build_object('lock_mode', 'EXCLUSIVE');
END
$fn$;

-- The short exclusive part of a step: ACCESS EXCLUSIVE on every relation of
-- rels (views first, then tables, as _lock_for_update orders them), in the
-- same bounded attempts; lookups queue behind it from here to the commit.
CREATE FUNCTION vmm_upgrade._lock_exclusive(mail_schema name, rels text[], context text)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RETURN vmm_upgrade._lock_attempts(mail_schema, rels, true, context);
END
$fn$;

-- The internal functions are for the scripts and the public functions,
-- not for everyone: they run with the caller's rights anyway, but nobody
-- else has a reason to call them.
REVOKE EXECUTE ON FUNCTION
    vmm_upgrade._lock_attempts(name, text[], boolean, text),
    vmm_upgrade._lock_for_update(name, text[], text),
    vmm_upgrade._lock_exclusive(name, text[], text),
    vmm_upgrade._target_dovecot(text),
    vmm_upgrade._require_safe_tables(name, text),
    vmm_upgrade._hand_over(text, text, name),
    vmm_upgrade._restore_acl(text, text, aclitem[], oid),
    vmm_upgrade._require_no_dependents(regclass[], oid[], text, integer[])
FROM PUBLIC;
