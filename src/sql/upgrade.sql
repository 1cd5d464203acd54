-- upgrade.sql: the functions that upgrade a vmm mail schema from layout 0.5.2
-- to 0.6, create the 0.6 lookup functions and grant Postfix and Dovecot what
-- they need.  Part of every install script (common.sql + upgrade.sql +
-- adopt-V.sql), so every version of the extension carries the same functions;
-- the update script vmm_upgrade--0.5.2--0.6.sql only calls them.
--
-- Rules kept throughout:
--  * every internal function pins search_path to pg_catalog, pg_temp, and every
--    mail object is named through format('%I.%I', mail_schema, name);
--  * the lookup functions created in the mail schema name every table, type,
--    operator and function with its schema (OPERATOR(pg_catalog.=), pg_catalog.
--    types), so a caller's search_path cannot redirect them;
--  * whatever is created in the mail schema is handed over: owned by the owner
--    of the users table and removed from the extension, so pg_dump keeps it and
--    DROP EXTENSION leaves the mail system working.

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
                  HINT = 'Reset vmm_upgrade.dovecot_version (or set it to the installed Dovecot version) and run the update again.';
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
            RAISE EXCEPTION 'vmm_upgrade._hand_over: unknown object kind %', kind;
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
    found   text[];
BEGIN
    -- Rules and policies.
    found := ARRAY(
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
    IF cardinality(found) > 0 THEN
        RAISE EXCEPTION 'rules or row-level security on the tables of schema "%"', mail_schema
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format(E'%s must change every row of these tables as they are, which rules rewrite and row-level security hides:\n%s\nNothing was changed.',
                                  what, vmm_upgrade._list(found)),
                  HINT = 'Save the definitions (pg_dump --schema-only), drop the rules and policies and disable row-level security (ALTER TABLE ... DISABLE ROW LEVEL SECURITY), run the step, then re-create them for the new layout.';
    END IF;

    -- Logical replication, either direction.
    found := ARRAY(
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
    IF cardinality(found) > 0 THEN
        RAISE EXCEPTION 'the tables of schema "%" are logically replicated', mail_schema
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format(E'Logical replication does not carry DDL: the other side would keep the old layout while rows flow into the changed tables.\n%s\nNothing was changed.',
                                  vmm_upgrade._list(found)),
                  HINT = 'Stop the writers, wait until every subscriber has caught up, drop the subscriptions on the subscribers (and remove the mail tables from the publications), run the same step on every node, publisher first, then subscribers, and re-create the subscriptions with copy_data = false.';
    END IF;

    -- Code of other roles on tables a superuser owns.
    found := ARRAY(
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
    IF cardinality(found) > 0 THEN
        RAISE EXCEPTION 'the mail tables in schema "%" are owned by a superuser and run code of other roles', mail_schema
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format(E'%s changes these tables as their owner, so this code would run with superuser rights:\n%s\nNothing was changed.',
                                  what, vmm_upgrade._list(found)),
                  HINT = 'Give the mail tables to the role vmm connects as (ALTER TABLE ... OWNER TO vmm), or have a superuser take over or drop those functions and triggers, then run the step again.';
    END IF;
END
$fn$;

-- ---------------------------------------------------------------------------
-- The 0.6 lookup types and functions
-- ---------------------------------------------------------------------------

-- Creates in <mail_schema> the composite types and functions through which
-- Postfix and Dovecot read a 0.6 layout (README "The lookup functions"), for
-- the given Dovecot variant ('1.1': the service flag is named managesieve).
-- None of them may exist yet.  Each function:
--   * is plpgsql with one or a few RETURN QUERY / EXISTS statements, whose
--     plans plpgsql keeps for the life of the session (Postfix and Dovecot use
--     persistent connections); the domain name is resolved by a sub-select
--     (an InitPlan, run once) that the account's primary key is then looked
--     up with, which measured 10-15% faster than joining domain_name;
--   * names every table with the mail schema, every operator as
--     OPERATOR(pg_catalog.x) and every type as pg_catalog.x, so that nothing a
--     caller puts on its search_path (or plants in the mail schema) can stand
--     in for them, without the per-call cost of a SET search_path clause;
--   * is STABLE, STRICT (NULL in, no rows out) and SECURITY INVOKER, so Postfix
--     and Dovecot need their privileges (see set_permissions).
-- One row per object, in creation order: kind (TYPE or FUNCTION), object
-- (its name, with the argument list for a function, without the schema) and
-- the statement that creates it in <mail_schema>.  _create_lookups_0_6 runs
-- them; _lookups_are_ours compares the functions found with them.
CREATE FUNCTION vmm_upgrade._lookup_definitions(mail_schema name, dovecot text,
                                                OUT kind text, OUT object text, OUT statement text)
RETURNS SETOF record
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    sieve name;
    obj   text[];
    -- (kind, name, definition); @s@ is the quoted mail schema, @sieve@ the
    -- name of the sieve service flag.
    objects CONSTANT text[] := ARRAY[
    -- Types ------------------------------------------------------------------
    ['TYPE', 'address_maildir', $q$
        CREATE TYPE @s@.address_maildir AS (
            address pg_catalog.varchar(320),
            maildir pg_catalog.text)$q$],
    ['TYPE', 'dovecotpassword', $q$
        CREATE TYPE @s@.dovecotpassword AS (
            userid   pg_catalog.varchar(320),
            password pg_catalog.varchar(270),
            smtp     pg_catalog.bool,
            pop3     pg_catalog.bool,
            imap     pg_catalog.bool,
            @sieve@  pg_catalog.bool)$q$],
    ['TYPE', 'dovecotquotauser', $q$
        CREATE TYPE @s@.dovecotquotauser AS (
            userid     pg_catalog.varchar(320),
            uid        pg_catalog.int8,
            gid        pg_catalog.int8,
            home       pg_catalog.text,
            mail       pg_catalog.text,
            quota_rule pg_catalog.text)$q$],
    ['TYPE', 'dovecotuser', $q$
        CREATE TYPE @s@.dovecotuser AS (
            userid pg_catalog.varchar(320),
            uid    pg_catalog.int8,
            gid    pg_catalog.int8,
            home   pg_catalog.text,
            mail   pg_catalog.text)$q$],
    ['TYPE', 'recipient_destination', $q$
        CREATE TYPE @s@.recipient_destination AS (
            recipient   pg_catalog.varchar(320),
            destination pg_catalog.text)$q$],
    ['TYPE', 'recipient_transport', $q$
        CREATE TYPE @s@.recipient_transport AS (
            recipient pg_catalog.varchar(320),
            transport pg_catalog.text)$q$],
    ['TYPE', 'recipient_uid', $q$
        CREATE TYPE @s@.recipient_uid AS (
            recipient pg_catalog.varchar(320),
            uid       pg_catalog.int8)$q$],
    ['TYPE', 'sender_login', $q$
        CREATE TYPE @s@.sender_login AS (
            sender pg_catalog.varchar(320),
            login  pg_catalog.text)$q$],

    -- %n, %d and %= in an alias or catch-all destination: an SQL expression
    -- of strict built-ins, so the planner inlines it into the lookup query.
    ['FUNCTION', '_interpolate_destination(pg_catalog.varchar, pg_catalog.varchar, pg_catalog.varchar)', $q$
        CREATE FUNCTION @s@._interpolate_destination(
            destination pg_catalog.varchar, localpart pg_catalog.varchar,
            the_domain pg_catalog.varchar)
        RETURNS pg_catalog.varchar
        LANGUAGE sql IMMUTABLE STRICT SECURITY INVOKER
        RETURN pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
                   destination, '%n', localpart),
                   '%d', the_domain),
                   '%=', localpart OPERATOR(pg_catalog.||) '=' OPERATOR(pg_catalog.||) the_domain
               )::pg_catalog.varchar$q$],

    -- Dovecot passdb: the password and the services of the user's service
    -- set, or of the domain's when the user inherits (ssid NULL).
    ['FUNCTION', 'dovecotpassword(pg_catalog.varchar, pg_catalog.varchar)', $q$
        CREATE FUNCTION @s@.dovecotpassword(localpart pg_catalog.varchar, the_domain pg_catalog.varchar)
        RETURNS SETOF @s@.dovecotpassword
        LANGUAGE plpgsql STABLE STRICT SECURITY INVOKER
        AS $body$
        BEGIN
            RETURN QUERY
            SELECT (localpart OPERATOR(pg_catalog.||) '@' OPERATOR(pg_catalog.||) the_domain)::pg_catalog.varchar(320),
                   u.passwd, ss.smtp, ss.pop3, ss.imap, ss.@sieve@
              FROM @s@.users u
              JOIN @s@.domain_data d ON d.gid OPERATOR(pg_catalog.=) u.gid
              JOIN @s@.service_set ss ON ss.ssid OPERATOR(pg_catalog.=) COALESCE(u.ssid, d.ssid)
             WHERE u.gid OPERATOR(pg_catalog.=) (SELECT n.gid FROM @s@.domain_name n
                                                  WHERE n.domainname OPERATOR(pg_catalog.=) the_domain)
               AND u.local_part OPERATOR(pg_catalog.=) localpart;
        END
        $body$$q$],

    -- Dovecot userdb: uid, the domain's gid, home domaindir/uid and mail
    -- format:~/directory.
    ['FUNCTION', 'dovecotuser(pg_catalog.varchar, pg_catalog.varchar)', $q$
        CREATE FUNCTION @s@.dovecotuser(localpart pg_catalog.varchar, the_domain pg_catalog.varchar)
        RETURNS SETOF @s@.dovecotuser
        LANGUAGE plpgsql STABLE STRICT SECURITY INVOKER
        AS $body$
        BEGIN
            RETURN QUERY
            SELECT (localpart OPERATOR(pg_catalog.||) '@' OPERATOR(pg_catalog.||) the_domain)::pg_catalog.varchar(320),
                   u.uid, u.gid,
                   d.domaindir OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) u.uid::pg_catalog.text,
                   f.format OPERATOR(pg_catalog.||) ':~/' OPERATOR(pg_catalog.||) l.directory
              FROM @s@.users u
              JOIN @s@.domain_data d ON d.gid OPERATOR(pg_catalog.=) u.gid
              JOIN @s@.maillocation l ON l.mid OPERATOR(pg_catalog.=) u.mid
              JOIN @s@.mailboxformat f ON f.fid OPERATOR(pg_catalog.=) l.fid
             WHERE u.gid OPERATOR(pg_catalog.=) (SELECT n.gid FROM @s@.domain_name n
                                                  WHERE n.domainname OPERATOR(pg_catalog.=) the_domain)
               AND u.local_part OPERATOR(pg_catalog.=) localpart;
        END
        $body$$q$],

    -- The same plus the quota rule of the user's quota limit, or the
    -- domain's when the user inherits (qid NULL).
    ['FUNCTION', 'dovecotquotauser(pg_catalog.varchar, pg_catalog.varchar)', $q$
        CREATE FUNCTION @s@.dovecotquotauser(localpart pg_catalog.varchar, the_domain pg_catalog.varchar)
        RETURNS SETOF @s@.dovecotquotauser
        LANGUAGE plpgsql STABLE STRICT SECURITY INVOKER
        AS $body$
        BEGIN
            RETURN QUERY
            SELECT (localpart OPERATOR(pg_catalog.||) '@' OPERATOR(pg_catalog.||) the_domain)::pg_catalog.varchar(320),
                   u.uid, u.gid,
                   d.domaindir OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) u.uid::pg_catalog.text,
                   f.format OPERATOR(pg_catalog.||) ':~/' OPERATOR(pg_catalog.||) l.directory,
                   '*:bytes=' OPERATOR(pg_catalog.||) q.bytes::pg_catalog.text
                       OPERATOR(pg_catalog.||) ':messages=' OPERATOR(pg_catalog.||) q.messages::pg_catalog.text
              FROM @s@.users u
              JOIN @s@.domain_data d ON d.gid OPERATOR(pg_catalog.=) u.gid
              JOIN @s@.maillocation l ON l.mid OPERATOR(pg_catalog.=) u.mid
              JOIN @s@.mailboxformat f ON f.fid OPERATOR(pg_catalog.=) l.fid
              JOIN @s@.quotalimit q ON q.qid OPERATOR(pg_catalog.=) COALESCE(u.qid, d.qid)
             WHERE u.gid OPERATOR(pg_catalog.=) (SELECT n.gid FROM @s@.domain_name n
                                                  WHERE n.domainname OPERATOR(pg_catalog.=) the_domain)
               AND u.local_part OPERATOR(pg_catalog.=) localpart;
        END
        $body$$q$],

    -- Postfix relocated_maps.
    ['FUNCTION', 'postfix_relocated_map(pg_catalog.varchar, pg_catalog.varchar)', $q$
        CREATE FUNCTION @s@.postfix_relocated_map(localpart pg_catalog.varchar, the_domain pg_catalog.varchar)
        RETURNS SETOF @s@.recipient_destination
        LANGUAGE plpgsql STABLE STRICT SECURITY INVOKER
        AS $body$
        BEGIN
            RETURN QUERY
            SELECT (localpart OPERATOR(pg_catalog.||) '@' OPERATOR(pg_catalog.||) the_domain)::pg_catalog.varchar(320),
                   r.destination::pg_catalog.text
              FROM @s@.relocated r
             WHERE r.gid OPERATOR(pg_catalog.=) (SELECT n.gid FROM @s@.domain_name n
                                                  WHERE n.domainname OPERATOR(pg_catalog.=) the_domain)
               AND r.address OPERATOR(pg_catalog.=) localpart;
        END
        $body$$q$],

    -- Postfix smtpd_sender_login_maps: an account may send as itself under
    -- every name of its domain; an alias address by its destinations.
    ['FUNCTION', 'postfix_smtpd_sender_login_map(pg_catalog.varchar, pg_catalog.varchar)', $q$
        CREATE FUNCTION @s@.postfix_smtpd_sender_login_map(localpart pg_catalog.varchar, the_domain pg_catalog.varchar)
        RETURNS SETOF @s@.sender_login
        LANGUAGE plpgsql STABLE STRICT SECURITY INVOKER
        AS $body$
        BEGIN
            RETURN QUERY
            SELECT (localpart OPERATOR(pg_catalog.||) '@' OPERATOR(pg_catalog.||) the_domain)::pg_catalog.varchar(320),
                   u.local_part OPERATOR(pg_catalog.||) '@' OPERATOR(pg_catalog.||) o.domainname
              FROM @s@.domain_name n
              JOIN @s@.users u ON u.gid OPERATOR(pg_catalog.=) n.gid
                              AND u.local_part OPERATOR(pg_catalog.=) localpart
              JOIN @s@.domain_name o ON o.gid OPERATOR(pg_catalog.=) n.gid
             WHERE n.domainname OPERATOR(pg_catalog.=) the_domain;
            IF FOUND THEN
                RETURN;
            END IF;
            RETURN QUERY
            SELECT DISTINCT
                   (localpart OPERATOR(pg_catalog.||) '@' OPERATOR(pg_catalog.||) the_domain)::pg_catalog.varchar(320),
                   a.destination::pg_catalog.text
              FROM @s@.domain_name n
              JOIN @s@.alias a ON a.gid OPERATOR(pg_catalog.=) n.gid
                              AND a.address OPERATOR(pg_catalog.=) localpart
             WHERE n.domainname OPERATOR(pg_catalog.=) the_domain;
        END
        $body$$q$],

    -- Postfix transport_maps: the user's transport, else the domain's (also
    -- for an address of the domain that has no account).
    ['FUNCTION', 'postfix_transport_map(pg_catalog.varchar, pg_catalog.varchar)', $q$
        CREATE FUNCTION @s@.postfix_transport_map(localpart pg_catalog.varchar, the_domain pg_catalog.varchar)
        RETURNS SETOF @s@.recipient_transport
        LANGUAGE plpgsql STABLE STRICT SECURITY INVOKER
        AS $body$
        BEGIN
            RETURN QUERY
            SELECT (localpart OPERATOR(pg_catalog.||) '@' OPERATOR(pg_catalog.||) the_domain)::pg_catalog.varchar(320),
                   t.transport::pg_catalog.text
              FROM @s@.domain_data d
              LEFT JOIN @s@.users u ON u.gid OPERATOR(pg_catalog.=) d.gid
                                   AND u.local_part OPERATOR(pg_catalog.=) localpart
              JOIN @s@.transport t ON t.tid OPERATOR(pg_catalog.=) COALESCE(u.tid, d.tid)
             WHERE d.gid OPERATOR(pg_catalog.=) (SELECT n.gid FROM @s@.domain_name n
                                                  WHERE n.domainname OPERATOR(pg_catalog.=) the_domain);
        END
        $body$$q$],

    -- Postfix virtual_alias_maps: the alias destinations; without an alias
    -- but with a catch-all for the domain, the address itself when it is an
    -- account or relocated (they keep precedence), else the catch-all
    -- destinations.  %n, %d and %= are substituted in both.
    ['FUNCTION', 'postfix_virtual_alias_map(pg_catalog.varchar, pg_catalog.varchar)', $q$
        CREATE FUNCTION @s@.postfix_virtual_alias_map(localpart pg_catalog.varchar, the_domain pg_catalog.varchar)
        RETURNS SETOF @s@.recipient_destination
        LANGUAGE plpgsql STABLE STRICT SECURITY INVOKER
        AS $body$
        DECLARE
            did       pg_catalog.int8;
            recipient pg_catalog.varchar(320);
            self      @s@.recipient_destination;
        BEGIN
            SELECT n.gid INTO did
              FROM @s@.domain_name n
             WHERE n.domainname OPERATOR(pg_catalog.=) the_domain;
            IF did IS NULL THEN
                RETURN;
            END IF;
            recipient := localpart OPERATOR(pg_catalog.||) '@' OPERATOR(pg_catalog.||) the_domain;
            RETURN QUERY
            SELECT recipient,
                   @s@._interpolate_destination(a.destination, localpart, the_domain)::pg_catalog.text
              FROM @s@.alias a
             WHERE a.gid OPERATOR(pg_catalog.=) did
               AND a.address OPERATOR(pg_catalog.=) localpart;
            IF FOUND OR NOT EXISTS (SELECT FROM @s@.catchall c
                                     WHERE c.gid OPERATOR(pg_catalog.=) did) THEN
                RETURN;
            END IF;
            IF EXISTS (SELECT FROM @s@.users u
                        WHERE u.gid OPERATOR(pg_catalog.=) did
                          AND u.local_part OPERATOR(pg_catalog.=) localpart)
               OR EXISTS (SELECT FROM @s@.relocated r
                           WHERE r.gid OPERATOR(pg_catalog.=) did
                             AND r.address OPERATOR(pg_catalog.=) localpart) THEN
                self.recipient := recipient;
                self.destination := recipient;
                RETURN NEXT self;
                RETURN;
            END IF;
            RETURN QUERY
            SELECT recipient,
                   @s@._interpolate_destination(c.destination, localpart, the_domain)::pg_catalog.text
              FROM @s@.catchall c
             WHERE c.gid OPERATOR(pg_catalog.=) did;
        END
        $body$$q$],

    -- Postfix virtual_mailbox_maps: domaindir/uid/directory/.
    ['FUNCTION', 'postfix_virtual_mailbox_map(pg_catalog.varchar, pg_catalog.varchar)', $q$
        CREATE FUNCTION @s@.postfix_virtual_mailbox_map(localpart pg_catalog.varchar, the_domain pg_catalog.varchar)
        RETURNS SETOF @s@.address_maildir
        LANGUAGE plpgsql STABLE STRICT SECURITY INVOKER
        AS $body$
        BEGIN
            RETURN QUERY
            SELECT (localpart OPERATOR(pg_catalog.||) '@' OPERATOR(pg_catalog.||) the_domain)::pg_catalog.varchar(320),
                   d.domaindir OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) u.uid::pg_catalog.text
                       OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) l.directory
                       OPERATOR(pg_catalog.||) '/'
              FROM @s@.users u
              JOIN @s@.domain_data d ON d.gid OPERATOR(pg_catalog.=) u.gid
              JOIN @s@.maillocation l ON l.mid OPERATOR(pg_catalog.=) u.mid
             WHERE u.gid OPERATOR(pg_catalog.=) (SELECT n.gid FROM @s@.domain_name n
                                                  WHERE n.domainname OPERATOR(pg_catalog.=) the_domain)
               AND u.local_part OPERATOR(pg_catalog.=) localpart;
        END
        $body$$q$],

    -- Postfix virtual_uid_maps.
    ['FUNCTION', 'postfix_virtual_uid_map(pg_catalog.varchar, pg_catalog.varchar)', $q$
        CREATE FUNCTION @s@.postfix_virtual_uid_map(localpart pg_catalog.varchar, the_domain pg_catalog.varchar)
        RETURNS SETOF @s@.recipient_uid
        LANGUAGE plpgsql STABLE STRICT SECURITY INVOKER
        AS $body$
        BEGIN
            RETURN QUERY
            SELECT (localpart OPERATOR(pg_catalog.||) '@' OPERATOR(pg_catalog.||) the_domain)::pg_catalog.varchar(320),
                   u.uid
              FROM @s@.users u
             WHERE u.gid OPERATOR(pg_catalog.=) (SELECT n.gid FROM @s@.domain_name n
                                                  WHERE n.domainname OPERATOR(pg_catalog.=) the_domain)
               AND u.local_part OPERATOR(pg_catalog.=) localpart;
        END
        $body$$q$]
    ];
BEGIN
    IF dovecot IS NULL OR dovecot NOT IN ('1.1', '1.2') THEN
        RAISE EXCEPTION 'unknown Dovecot variant "%"', dovecot
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Known variants: 1.1, 1.2.';
    END IF;
    sieve := CASE dovecot WHEN '1.2' THEN 'sieve' ELSE 'managesieve' END;
    FOREACH obj SLICE 1 IN ARRAY objects LOOP
        kind := obj[1];
        object := obj[2];
        statement := replace(replace(obj[3], '@s@', quote_ident(mail_schema)), '@sieve@', quote_ident(sieve));
        RETURN NEXT;
    END LOOP;
END
$fn$;

-- Creates the lookup objects (_lookup_definitions) in <mail_schema>; none
-- of them may exist yet.  Everything created is handed over to the owner of
-- users.
CREATE FUNCTION vmm_upgrade._create_lookups_0_6(mail_schema name, dovecot text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    owner name := vmm_upgrade._users_owner(mail_schema);
    d     record;
BEGIN
    FOR d IN SELECT * FROM vmm_upgrade._lookup_definitions(mail_schema, dovecot) LOOP
        EXECUTE d.statement;
        PERFORM vmm_upgrade._hand_over(d.kind, format('%I.', mail_schema) || d.object, owner);
    END LOOP;
END
$fn$;

-- Are the lookup functions of <mail_schema> exactly those vmm_upgrade makes
-- for the variant (every body as _lookup_definitions writes it)?  Read from
-- the definitions, never by calling them: they belong to the owner of the
-- mail tables.
CREATE FUNCTION vmm_upgrade._lookups_are_ours(mail_schema name, dovecot text)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT pg_catalog.bool_and(p.prosrc IS NOT NULL
                               AND pg_catalog.strpos(d.statement, p.prosrc) OPERATOR(pg_catalog.>) 0)
      FROM vmm_upgrade._lookup_definitions(mail_schema, dovecot) AS d
      LEFT JOIN pg_catalog.pg_proc p
        ON p.oid OPERATOR(pg_catalog.=)
           pg_catalog.to_regprocedure(pg_catalog.quote_ident(mail_schema) OPERATOR(pg_catalog.||) '.'
                                      OPERATOR(pg_catalog.||) d.object)
     WHERE d.kind OPERATOR(pg_catalog.=) 'FUNCTION'
$fn$;

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
-- Dovecot >= 1.2's quota usage table
-- ---------------------------------------------------------------------------

-- Creates userquota in schema s (already quoted), empty and without its merge
-- trigger, so that a caller can fill it first.  The 0.5.2 -> 0.6 upgrade and
-- the Dovecot 1.1 -> 1.2 switch (lib-0.6.sql) both use it, so they make the
-- same table.
CREATE FUNCTION vmm_upgrade._create_userquota_table(s text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    EXECUTE format($q$
        CREATE TABLE %1$s.userquota (
            uid      bigint NOT NULL,
            bytes    bigint NOT NULL DEFAULT 0,
            messages integer NOT NULL DEFAULT 0,
            CONSTRAINT pkey_userquota PRIMARY KEY (uid),
            CONSTRAINT fkey_userquota_uid_users FOREIGN KEY (uid)
                REFERENCES %1$s.users (uid) ON DELETE CASCADE)$q$, s);
END
$fn$;

-- Creates userquota's merge function and trigger in schema s (already
-- quoted), as the 1.2 variant of the 0.6 layout has them.
CREATE FUNCTION vmm_upgrade._create_userquota_trigger(s text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    -- An insert for a uid that has a row adds to it.  The row is written
    -- by INSERT ... ON CONFLICT from within the trigger, marked by a
    -- negated (or NULL for 0) messages count, which the trigger undoes.
    -- A uid without an account counts nothing.  (No check of users
    -- beforehand: a restore loads userquota before users, with the
    -- foreign key added afterwards.)
    EXECUTE format($q$
        CREATE FUNCTION %1$s.merge_userquota() RETURNS trigger
        LANGUAGE plpgsql SECURITY INVOKER
        AS $body$
        BEGIN
            IF NEW.messages IS NULL OR NEW.messages OPERATOR(pg_catalog.<) 0 THEN
                NEW.messages := COALESCE(OPERATOR(pg_catalog.-) NEW.messages, 0);
                RETURN NEW;
            END IF;
            BEGIN
                INSERT INTO %1$s.userquota AS q (uid, bytes, messages)
                VALUES (NEW.uid, NEW.bytes,
                        CASE WHEN NEW.messages OPERATOR(pg_catalog.=) 0 THEN NULL
                             ELSE OPERATOR(pg_catalog.-) NEW.messages END)
                ON CONFLICT (uid) DO UPDATE
                   SET bytes = q.bytes OPERATOR(pg_catalog.+) EXCLUDED.bytes,
                       messages = q.messages OPERATOR(pg_catalog.+) EXCLUDED.messages;
            EXCEPTION WHEN foreign_key_violation THEN
                NULL;  -- no such account: nothing to count
            END;
            RETURN NULL;
        END
        $body$$q$, s);
    EXECUTE format($q$CREATE TRIGGER mergeuserquota BEFORE INSERT ON %s.userquota
                     FOR EACH ROW EXECUTE FUNCTION %s.merge_userquota()$q$, s, s);
END
$fn$;

-- ---------------------------------------------------------------------------
-- Locks: taken once, up front, in an order no lookup or vmm writer crosses
-- ---------------------------------------------------------------------------

-- Takes ACCESS EXCLUSIVE on every relation of rels (names in mail_schema),
-- in that order, before the update changes anything.  The order is the
-- caller's: views first (a lookup locks the view it reads, then the tables
-- under it), then the tables in the order vmm's writers lock them (a table
-- before the tables its foreign keys reference: users, then domain_data and
-- maillocation), so that no lookup or writer holds one of them while
-- waiting for another one we hold.  Each attempt waits at most
-- vmm_upgrade.lock_wait_attempt per lock (below deadlock_timeout, so that a
-- cycle we are part of ends by our timeout, never by aborting a lookup or a
-- writer); a failed attempt lets go of everything it got and pauses, so that
-- the lookups queued behind it go through.  Past vmm_upgrade.lock_wait_total
-- in all: ERROR naming the sessions that hold locks on those relations (the
-- caller's transaction, the whole update, is rolled back).
-- Returns {"lock_attempts": n, "lock_wait_ms": m}.
CREATE FUNCTION vmm_upgrade._lock_for_update(mail_schema name, rels text[], context text)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    total_ms   float8 := extract(epoch FROM current_setting('vmm_upgrade.lock_wait_total')::interval) * 1000;
    attempt_ms float8 := extract(epoch FROM current_setting('vmm_upgrade.lock_wait_attempt')::interval) * 1000;
    old_lt     text := current_setting('lock_timeout');
    started    timestamptz := clock_timestamp();
    oids       oid[];
    rel        text;
    attempts   integer := 0;
    waited_ms  float8;
    holders    text;
    n_holders  integer;
BEGIN
    oids := ARRAY(SELECT format('%I.%I', mail_schema, u.r)::regclass::oid FROM unnest(rels) AS u(r));
    LOOP
        attempts := attempts + 1;
        waited_ms := extract(epoch FROM clock_timestamp() - started) * 1000;
        BEGIN
            PERFORM set_config('lock_timeout',
                               greatest(1, least(attempt_ms, total_ms - waited_ms))::bigint::text || 'ms', true);
            FOREACH rel IN ARRAY rels LOOP
                PERFORM vmm_upgrade._lock_relation(format('%I.%I', mail_schema, rel)::regclass);
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
    RAISE EXCEPTION '%: could not lock the mail tables of schema "%" within vmm_upgrade.lock_wait_total (%)',
                    context, mail_schema, current_setting('vmm_upgrade.lock_wait_total')
        USING ERRCODE = 'lock_not_available',
              DETAIL = CASE WHEN n_holders > 0
                            THEN format('%s attempts; %s: %s. Nothing was changed.', attempts,
                                        CASE WHEN n_holders = 1 THEN 'this session holds a lock on them'
                                             ELSE format('these %s sessions hold locks on them', n_holders) END,
                                        holders)
                            ELSE format('%s attempts; the sessions in the way have ended since. Nothing was changed.', attempts) END,
              HINT = 'End those sessions'' transactions (or SELECT pg_terminate_backend(pid)), or raise vmm_upgrade.lock_wait_total, then run the update again.';
END
$fn$;

-- ---------------------------------------------------------------------------
-- The 0.5.2 views over the 0.6 tables (vmm_upgrade.compatibility_views)
-- ---------------------------------------------------------------------------

-- The views Postfix and Dovecot query in 0.5.2, by name and column, written
-- over the 0.6 tables, as (view, role, definition): role is the service
-- granted SELECT on it.  Every address of the 0.5.2 database answers what
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
    SELECT v.name::pg_catalog.name, v.service,
           pg_catalog.replace(pg_catalog.replace(v.statement, '@s@', pg_catalog.quote_ident(mail_schema)),
                              '@sieve@', CASE dovecot WHEN '1.1' THEN 'managesieve' ELSE 'sieve' END)
      FROM (VALUES
        (1, 'dovecot_password', 'dovecot', $q$
            CREATE VIEW @s@.dovecot_password AS
            SELECT (users.local_part::text || '@'::text) || domain_name.domainname::text AS "user",
                   users.passwd AS password, service_set.smtp, service_set.pop3,
                   service_set.imap, service_set.@sieve@
              FROM @s@.users
              LEFT JOIN @s@.domain_data USING (gid)
              LEFT JOIN @s@.service_set ON service_set.ssid = COALESCE(users.ssid, domain_data.ssid)
              LEFT JOIN @s@.domain_name USING (gid)$q$),
        (2, 'dovecot_user', 'dovecot', $q$
            CREATE VIEW @s@.dovecot_user AS
            SELECT (users.local_part::text || '@'::text) || domain_name.domainname::text AS userid,
                   users.uid, users.gid,
                   (domain_data.domaindir::text || '/'::text) || users.uid AS home,
                   '~/'::text || maillocation.directory::text AS mail
              FROM @s@.users
              LEFT JOIN @s@.domain_data USING (gid)
              LEFT JOIN @s@.domain_name USING (gid)
              LEFT JOIN @s@.maillocation USING (mid)$q$),
        (3, 'postfix_alias', 'postfix', $q$
            CREATE VIEW @s@.postfix_alias AS
            SELECT (alias.address::text || '@'::text) || domain_name.domainname::text AS address,
                   alias.destination, alias.gid
              FROM @s@.alias
              LEFT JOIN @s@.domain_name USING (gid)$q$),
        (4, 'postfix_maildir', 'postfix', $q$
            CREATE VIEW @s@.postfix_maildir AS
            SELECT (users.local_part::text || '@'::text) || domain_name.domainname::text AS address,
                   ((((domain_data.domaindir::text || '/'::text) || users.uid) || '/'::text)
                     || maillocation.directory::text) || '/'::text AS maildir
              FROM @s@.users
              LEFT JOIN @s@.domain_data USING (gid)
              LEFT JOIN @s@.domain_name USING (gid)
              LEFT JOIN @s@.maillocation USING (mid)$q$),
        (5, 'postfix_relocated', 'postfix', $q$
            CREATE VIEW @s@.postfix_relocated AS
            SELECT (relocated.address::text || '@'::text) || domain_name.domainname::text AS address,
                   relocated.destination
              FROM @s@.relocated
              LEFT JOIN @s@.domain_name USING (gid)$q$),
        (6, 'postfix_transport', 'postfix', $q$
            CREATE VIEW @s@.postfix_transport AS
            SELECT (users.local_part::text || '@'::text) || domain_name.domainname::text AS address,
                   transport.transport
              FROM @s@.users
              LEFT JOIN @s@.domain_data USING (gid)
              LEFT JOIN @s@.transport ON transport.tid = COALESCE(users.tid, domain_data.tid)
              LEFT JOIN @s@.domain_name USING (gid)$q$),
        (7, 'postfix_uid', 'postfix', $q$
            CREATE VIEW @s@.postfix_uid AS
            SELECT (users.local_part::text || '@'::text) || domain_name.domainname::text AS address,
                   users.uid
              FROM @s@.users
              LEFT JOIN @s@.domain_name USING (gid)$q$)) AS v(ord, name, service, statement)
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
-- 0.5.2 queries, and will fail on their next lookup through a view.
--   SELECT vmm_upgrade.drop_compatibility_views();
CREATE FUNCTION vmm_upgrade.drop_compatibility_views()
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    ms          name := vmm_upgrade.mail_schema();
    started     timestamptz := clock_timestamp();
    layout      record;
    updated_at  timestamptz;
    readers     oid[];
    sessions    jsonb;
    dropped     text[] := '{}';
    d           record;
BEGIN
    PERFORM vmm_upgrade.require_layout('0.6+compat', NULL, ms,
                                       'vmm_upgrade.drop_compatibility_views()');
    SELECT * INTO layout FROM vmm_upgrade.detect_layout(ms);
    -- Who may read the views, before they go.
    readers := ARRAY(SELECT DISTINCT e.grantee
                       FROM vmm_upgrade._compatibility_view_definitions(ms, layout.dovecot) AS c
                       JOIN pg_class r ON r.relname = c.view
                                      AND r.relnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = ms)
                      CROSS JOIN LATERAL aclexplode(r.relacl) AS e
                      WHERE e.grantee <> r.relowner);
    -- The views' locks as the update takes them: in short attempts, within
    -- vmm_upgrade.lock_wait_total, or an ERROR naming who is in the way.
    PERFORM vmm_upgrade._lock_for_update(ms,
                ARRAY(SELECT c.view::text FROM vmm_upgrade._compatibility_view_definitions(ms, layout.dovecot) AS c),
                'vmm_upgrade.drop_compatibility_views()');
    PERFORM vmm_upgrade._history_table();
    SELECT max(h.started_at) INTO updated_at
      FROM vmm_upgrade.history h
     WHERE h.mail_schema = ms
       AND h.from_version = '0.5.2' AND h.to_version = '0.6';
    FOR d IN SELECT * FROM vmm_upgrade._compatibility_view_definitions(ms, layout.dovecot) LOOP
        EXECUTE format('DROP VIEW %I.%I', ms, d.view);
        dropped := dropped || d.view::text;
    END LOOP;
    PERFORM vmm_upgrade.require_layout('0.6', layout.dovecot, ms,
                                       'vmm_upgrade.drop_compatibility_views() (postflight)');
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
    IF jsonb_array_length(sessions) > 0 THEN
        RAISE WARNING 'vmm_upgrade: % session% of Postfix or Dovecot connected before the update still run%',
            jsonb_array_length(sessions), CASE WHEN jsonb_array_length(sessions) = 1 THEN '' ELSE 's' END,
            CASE WHEN jsonb_array_length(sessions) = 1 THEN 's' ELSE '' END
            USING DETAIL = 'They may still query the 0.5.2 views, which are gone now: their next such lookup fails.',
                  HINT = 'Reload the service they belong to ("postfix reload", "doveadm reload").';
    END IF;
    PERFORM vmm_upgrade._record(ms, '0.6+compat', '0.6', layout.dovecot, layout.dovecot,
                                started, NULL, NULL,
                                jsonb_build_object('step', 'drop_compatibility_views',
                                                   'dropped', to_jsonb(dropped),
                                                   'update_started_at', updated_at,
                                                   'sessions_from_before_the_update', sessions));
    RETURN jsonb_build_object('mail_schema', ms,
                              'dropped', to_jsonb(dropped),
                              'update_started_at', updated_at,
                              'sessions_from_before_the_update', sessions);
END
$fn$;

REVOKE EXECUTE ON FUNCTION vmm_upgrade.drop_compatibility_views() FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- The 0.5.2 -> 0.6 transformation
-- ---------------------------------------------------------------------------

-- Transforms the 0.5.2 layout in <mail_schema> into the 0.6 layout of the
-- Dovecot variant target_dovecot ('1.1' or '1.2'), data included (README
-- "What the update does, in order").  Expects an exact 0.5.2 layout (the caller
-- checks it) and runs inside the caller's transaction: any error undoes all.
-- Speed: the users table is read and written exactly once (step 9); adding
-- nullable columns, dropping columns and widening passwd do not rewrite it.
-- Returns what it did, as jsonb (stored in the history by the update script).
CREATE FUNCTION vmm_upgrade._upgrade_0_5_2_to_0_6(mail_schema name, target_dovecot text)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s         text := quote_ident(mail_schema);
    owner     name := vmm_upgrade._users_owner(mail_schema);
    source    text := vmm_upgrade._variant_of(mail_schema, 'users');
    src_sieve text;
    dst_sieve text;
    lookups   boolean;
    n_users   bigint;
    n_domains bigint;
    n_inherit bigint;
    n_locations bigint;
    name      text;
    created   text[] := '{}';
    obj       text[];
    n_placeholders bigint;
    placeholders   jsonb;
    compat    boolean := vmm_upgrade._compatibility_views_wanted();
    old_views CONSTANT text[] := ARRAY['dovecot_password', 'dovecot_user', 'postfix_alias',
        'postfix_maildir', 'postfix_relocated', 'postfix_transport', 'postfix_uid',
        'vmm_domain_info'];
    old_functions CONSTANT text[] := ARRAY['dovecotpassword', 'dovecotuser',
        'postfix_relocated_map', 'postfix_smtpd_sender_login_map', 'postfix_transport_map',
        'postfix_virtual_alias_map', 'postfix_virtual_mailbox_map', 'postfix_virtual_uid_map'];
    old_types CONSTANT text[] := ARRAY['address_maildir', 'dovecotpassword', 'dovecotuser',
        'recipient_destination', 'recipient_transport', 'recipient_uid', 'sender_login'];
BEGIN
    IF owner IS NULL THEN
        RAISE EXCEPTION 'there is no table "users" in schema "%"', mail_schema
            USING ERRCODE = 'undefined_table';
    END IF;
    IF source IS NULL THEN
        RAISE EXCEPTION 'table %.users has neither a sieve nor a managesieve column', s
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF target_dovecot IS NULL OR target_dovecot NOT IN ('1.1', '1.2') THEN
        RAISE EXCEPTION 'unknown Dovecot variant "%"', target_dovecot
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Known variants: 1.1, 1.2.';
    END IF;
    IF source = '1.2' AND target_dovecot = '1.1' THEN
        RAISE EXCEPTION 'cannot turn the Dovecot >= 1.2 variant into the Dovecot < 1.2 variant'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Dovecot's 0.5.2 password_query names the sieve flag as the source
    -- variant does; a view with the target's name would not answer it.
    IF compat AND source <> target_dovecot THEN
        RAISE EXCEPTION 'cannot keep the 0.5.2 views while switching to the Dovecot % variant', target_dovecot
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = format('Dovecot''s 0.5.2 password_query reads column %s of view dovecot_password, which the Dovecot %s variant calls %s. Nothing was changed.',
                                  CASE source WHEN '1.2' THEN 'sieve' ELSE 'managesieve' END, target_dovecot,
                                  CASE target_dovecot WHEN '1.2' THEN 'sieve' ELSE 'managesieve' END),
                  HINT = 'Update with vmm_upgrade.dovecot_version unset (the variant stays), then switch the variant after dropping the views: SELECT vmm_upgrade.drop_compatibility_views();';
    END IF;
    src_sieve := CASE source WHEN '1.2' THEN 'sieve' ELSE 'managesieve' END;
    dst_sieve := CASE target_dovecot WHEN '1.2' THEN 'sieve' ELSE 'managesieve' END;
    lookups := EXISTS (SELECT FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname = mail_schema AND p.proname = ANY (old_functions));

    -- 0. Alias destinations with %n, %d or %=: plain text in 0.5.2, which
    --    vmm 0.6 expands (local part, domain, local=domain).  They are kept
    --    as they are; the DBA is told which (WARNING below, and the history).
    EXECUTE format($q$
        SELECT pg_catalog.count(*),
               pg_catalog.jsonb_agg(x.line ORDER BY x.line) FILTER (WHERE x.k OPERATOR(pg_catalog.<=) 10)
          FROM (SELECT pg_catalog.format('%%s@%%s -> %%s', a.address, n.domainname, a.destination) AS line,
                       pg_catalog.row_number() OVER (ORDER BY n.domainname, a.address, a.destination) AS k
                  FROM %1$s.alias AS a
                  JOIN %1$s.domain_name AS n ON n.gid OPERATOR(pg_catalog.=) a.gid AND n.is_primary
                 WHERE pg_catalog.strpos(a.destination, '%%n') OPERATOR(pg_catalog.>) 0
                    OR pg_catalog.strpos(a.destination, '%%d') OPERATOR(pg_catalog.>) 0
                    OR pg_catalog.strpos(a.destination, '%%=') OPERATOR(pg_catalog.>) 0) AS x$q$, s)
       INTO n_placeholders, placeholders;
    IF n_placeholders > 0 THEN
        RAISE WARNING 'vmm_upgrade: % alias destination% in schema "%" contain% %%n, %%d or %%=, which vmm 0.6 replaces by the local part, the domain or local=domain',
            n_placeholders, CASE WHEN n_placeholders = 1 THEN '' ELSE 's' END, mail_schema,
            CASE WHEN n_placeholders = 1 THEN 's' ELSE '' END
            USING DETAIL = format(E'In vmm 0.5.2 they were delivered to literally; after the upgrade Postfix gets the expanded address.%s\n%s',
                                  CASE WHEN n_placeholders > 10 THEN format(' The first 10 of %s:', n_placeholders) ELSE '' END,
                                  (SELECT string_agg(l, E'\n') FROM jsonb_array_elements_text(placeholders) AS l)),
                  HINT = 'Check these aliases after the upgrade; vmm_upgrade.history lists them too.';
    END IF;

    -- 1. The 0.5.2 views go (Postfix and Dovecot read functions in 0.6);
    --    postfix_gid stays, vmm_domain_info comes back with its 0.6 definition
    --    in step 13.  No CASCADE: a view of the DBA's built on them stops the
    --    upgrade instead of vanishing.
    FOREACH name IN ARRAY old_views LOOP
        EXECUTE format('DROP VIEW %s.%I', s, name);
    END LOOP;

    -- 2. The optional 0.5.2 lookup functions and their types go, where
    --    present; step 14 creates the 0.6 ones.
    IF lookups THEN
        FOREACH name IN ARRAY old_functions LOOP
            EXECUTE format('DROP FUNCTION %s.%I(pg_catalog.varchar, pg_catalog.varchar)', s, name);
        END LOOP;
        FOREACH name IN ARRAY old_types LOOP
            EXECUTE format('DROP TYPE %s.%I', s, name);
        END LOOP;
    END IF;

    -- 3. service_set: all 16 combinations of the four services, numbered
    --    ssid = 1 + (not smtp) + 2*(not pop3) + 4*(not imap) + 8*(not sieve).
    EXECUTE format('CREATE SEQUENCE %s.service_set_id', s);
    EXECUTE format($q$
        CREATE TABLE %1$s.service_set (
            ssid  bigint NOT NULL DEFAULT pg_catalog.nextval(%2$L::pg_catalog.regclass),
            smtp  boolean NOT NULL DEFAULT true,
            pop3  boolean NOT NULL DEFAULT true,
            imap  boolean NOT NULL DEFAULT true,
            %3$I  boolean NOT NULL DEFAULT true,
            CONSTRAINT pkey_service_set PRIMARY KEY (ssid),
            CONSTRAINT ukey_service_set UNIQUE (smtp, pop3, imap, %3$I))$q$,
        s, s || '.service_set_id', dst_sieve);
    EXECUTE format($q$
        INSERT INTO %s.service_set (ssid, smtp, pop3, imap, %I)
        SELECT i + 1, i & 1 = 0, i & 2 = 0, i & 4 = 0, i & 8 = 0
          FROM pg_catalog.generate_series(0, 15) AS i$q$, s, dst_sieve);
    PERFORM setval(format('%s.service_set_id', s)::regclass, 16);

    -- 4. mailboxformat: 1 maildir, 2 mdbox, 3 sdbox.
    EXECUTE format('CREATE SEQUENCE %s.mailboxformat_id', s);
    EXECUTE format($q$
        CREATE TABLE %1$s.mailboxformat (
            fid    bigint NOT NULL DEFAULT pg_catalog.nextval(%2$L::pg_catalog.regclass),
            format varchar(20) NOT NULL,
            CONSTRAINT pkey_mailboxformat PRIMARY KEY (fid),
            CONSTRAINT ukey_mailboxformat UNIQUE (format))$q$,
        s, s || '.mailboxformat_id');
    EXECUTE format($q$INSERT INTO %s.mailboxformat (fid, format)
                     VALUES (1, 'maildir'), (2, 'mdbox'), (3, 'sdbox')$q$, s);
    PERFORM setval(format('%s.mailboxformat_id', s)::regclass, 3);

    -- 5. quotalimit: row 1 is (0, 0), "no limit"; nothing else migrates.
    EXECUTE format('CREATE SEQUENCE %s.quotalimit_id', s);
    EXECUTE format($q$
        CREATE TABLE %1$s.quotalimit (
            qid      bigint NOT NULL DEFAULT pg_catalog.nextval(%2$L::pg_catalog.regclass),
            bytes    bigint NOT NULL,
            messages integer NOT NULL DEFAULT 0,
            CONSTRAINT pkey_quotalimit PRIMARY KEY (qid),
            CONSTRAINT ukey_quotalimit UNIQUE (bytes, messages))$q$,
        s, s || '.quotalimit_id');
    EXECUTE format('INSERT INTO %s.quotalimit (qid, bytes, messages) VALUES (1, 0, 0)', s);
    PERFORM setval(format('%s.quotalimit_id', s)::regclass, 1);

    -- The three new tables go to the mail system now: the changes below are
    -- made as the owner of the vmm tables, whose foreign keys reference them.
    FOREACH obj SLICE 1 IN ARRAY ARRAY[
            ['SEQUENCE', 'service_set_id'], ['TABLE', 'service_set'],
            ['SEQUENCE', 'mailboxformat_id'], ['TABLE', 'mailboxformat'],
            ['SEQUENCE', 'quotalimit_id'], ['TABLE', 'quotalimit']] LOOP
        PERFORM vmm_upgrade._hand_over(obj[1], s || '.' || obj[2], owner);
    END LOOP;

    -- From here on every change to an existing vmm table is made by its
    -- owner, in a security-restricted context (vmm_upgrade._as_owner): the
    -- owner's triggers, CHECK constraints and index expressions on these
    -- tables run as that owner, never with our rights.

    -- 6. maillocation: the name becomes a directory, every location is a
    --    maildir (fid 1, a constant default: no rewrite), room for extra
    --    options; the directory no longer has to be unique.
    PERFORM vmm_upgrade._as_owner(format('%s.maillocation', s)::regclass, format($q$
        ALTER TABLE %1$s.maillocation
            DROP CONSTRAINT ukey_maillocation,
            ADD COLUMN fid bigint NOT NULL DEFAULT 1,
            ADD COLUMN extra varchar(1024),
            ADD CONSTRAINT fkey_maillocation_fid_mailboxformat FOREIGN KEY (fid)
                REFERENCES %1$s.mailboxformat (fid)$q$, s));
    PERFORM vmm_upgrade._as_owner(format('%s.maillocation', s)::regclass,
        format('ALTER TABLE %s.maillocation RENAME COLUMN maillocation TO directory', s));
    EXECUTE format('SELECT pg_catalog.count(*) FROM %s.maillocation', s) INTO n_locations;

    -- 7. domain_data: every domain gets quota limit 1 and service set 1
    --    (constant defaults: no rewrite) and a note.
    PERFORM vmm_upgrade._as_owner(format('%s.domain_data', s)::regclass, format($q$
        ALTER TABLE %1$s.domain_data
            ADD COLUMN qid bigint NOT NULL DEFAULT 1,
            ADD COLUMN ssid bigint NOT NULL DEFAULT 1,
            ADD COLUMN note text,
            ADD CONSTRAINT fkey_domain_data_qid_quotalimit FOREIGN KEY (qid)
                REFERENCES %1$s.quotalimit (qid),
            ADD CONSTRAINT fkey_domain_data_ssid_service_set FOREIGN KEY (ssid)
                REFERENCES %1$s.service_set (ssid)$q$, s));
    EXECUTE format('SELECT pg_catalog.count(*) FROM %s.domain_data', s) INTO n_domains;

    -- 8. users, structure: longer password hashes, NULL-able columns meaning
    --    "inherit the domain's" (ssid, qid, tid), a note.  Catalog-only
    --    changes: varchar widening and nullable columns do not rewrite (but
    --    the widening re-checks the table's CHECK constraints: as the owner).
    PERFORM vmm_upgrade._as_owner(format('%s.users', s)::regclass, format($q$
        ALTER TABLE %1$s.users
            ALTER COLUMN passwd TYPE varchar(270),
            ALTER COLUMN tid DROP NOT NULL,
            ALTER COLUMN tid DROP DEFAULT,
            ADD COLUMN qid bigint,
            ADD COLUMN ssid bigint,
            ADD COLUMN note text,
            ADD CONSTRAINT fkey_users_qid_quotalimit FOREIGN KEY (qid)
                REFERENCES %1$s.quotalimit (qid)$q$, s));

    -- 9. users, data, in one pass over the table: the service flags become
    --    the ssid of their combination, and a tid equal to the domain's
    --    becomes NULL (inherit), so every user keeps its services and its
    --    effective transport.
    SELECT (r->>'users')::bigint, (r->>'inherit')::bigint INTO n_users, n_inherit
      FROM vmm_upgrade._as_owner(format('%s.users', s)::regclass, format($q$
        WITH changed AS (
            UPDATE %1$s.users AS u
               -- (OPERATOR() syntax has one precedence: every product is
               -- in parentheses)
               SET ssid = 1 OPERATOR(pg_catalog.+) (NOT u.smtp)::pg_catalog.int4
                            OPERATOR(pg_catalog.+) (2 OPERATOR(pg_catalog.*) (NOT u.pop3)::pg_catalog.int4)
                            OPERATOR(pg_catalog.+) (4 OPERATOR(pg_catalog.*) (NOT u.imap)::pg_catalog.int4)
                            OPERATOR(pg_catalog.+) (8 OPERATOR(pg_catalog.*) (NOT u.%2$I)::pg_catalog.int4),
                   tid = CASE WHEN u.tid OPERATOR(pg_catalog.=) d.tid THEN NULL ELSE u.tid END
              FROM %1$s.domain_data AS d
             WHERE d.gid OPERATOR(pg_catalog.=) u.gid
            RETURNING u.tid IS NULL AS inherits)
        SELECT pg_catalog.jsonb_build_object(
                   'users', pg_catalog.count(*),
                   'inherit', pg_catalog.count(*) FILTER (WHERE inherits))
          FROM changed$q$, s, src_sieve)) AS r;

    -- 10. users: the flag columns go (no rewrite); the ssid foreign key.
    PERFORM vmm_upgrade._as_owner(format('%s.users', s)::regclass, format($q$
        ALTER TABLE %1$s.users
            DROP COLUMN smtp, DROP COLUMN pop3, DROP COLUMN imap, DROP COLUMN %2$I,
            ADD CONSTRAINT fkey_users_ssid_service_set FOREIGN KEY (ssid)
                REFERENCES %1$s.service_set (ssid)$q$, s, src_sieve));

    -- 11. Dovecot's quota usage table and its merge trigger (variant).
    IF target_dovecot = '1.2' THEN
        PERFORM vmm_upgrade._create_userquota_table(s);
        PERFORM vmm_upgrade._create_userquota_trigger(s);
        created := created || ARRAY[['TABLE', 'userquota'], ['FUNCTION', 'merge_userquota()']];
    ELSE
        EXECUTE format($q$
            CREATE TABLE %1$s.userquota_11 (
                uid     bigint NOT NULL,
                path    varchar(16) NOT NULL,
                current bigint NOT NULL DEFAULT 0,
                CONSTRAINT pkey_userquota_11 PRIMARY KEY (uid, path),
                CONSTRAINT fkey_userquota_11_uid_users FOREIGN KEY (uid)
                    REFERENCES %1$s.users (uid) ON DELETE CASCADE)$q$, s);
        -- An insert for an existing (uid, path) adds to its current value.
        EXECUTE format($q$
            CREATE FUNCTION %1$s.merge_userquota_11() RETURNS trigger
            LANGUAGE plpgsql SECURITY INVOKER
            AS $body$
            BEGIN
                UPDATE %1$s.userquota_11 AS q
                   SET current = q.current OPERATOR(pg_catalog.+) NEW.current
                 WHERE q.uid OPERATOR(pg_catalog.=) NEW.uid
                   AND q.path OPERATOR(pg_catalog.=) NEW.path;
                IF FOUND THEN
                    RETURN NULL;
                END IF;
                RETURN NEW;
            END
            $body$$q$, s);
        EXECUTE format($q$CREATE TRIGGER mergeuserquota_11 BEFORE INSERT ON %s.userquota_11
                         FOR EACH ROW EXECUTE FUNCTION %s.merge_userquota_11()$q$, s, s);
        created := created || ARRAY[['TABLE', 'userquota_11'], ['FUNCTION', 'merge_userquota_11()']];
    END IF;

    -- 12. catchall: per-domain catch-all destinations (none yet).
    EXECUTE format($q$
        CREATE TABLE %1$s.catchall (
            gid         bigint NOT NULL,
            destination varchar(320) NOT NULL,
            CONSTRAINT pkey_catchall PRIMARY KEY (gid, destination),
            CONSTRAINT fkey_catchall_gid_domain_data FOREIGN KEY (gid)
                REFERENCES %1$s.domain_data (gid))$q$, s);
    created := created || ARRAY[['TABLE', 'catchall']];

    -- 13. vmm_domain_info, 0.6 definition: per primary domain, the number of
    --     accounts, alias addresses, relocated, alias domains and catch-alls.
    EXECUTE format($q$
        CREATE VIEW %1$s.vmm_domain_info AS
        SELECT domain_data.gid, pg_catalog.count(users.uid) AS accounts,
               (SELECT pg_catalog.count(DISTINCT alias.address) FROM %1$s.alias
                 WHERE alias.gid = domain_data.gid) AS aliases,
               (SELECT pg_catalog.count(relocated.gid) FROM %1$s.relocated
                 WHERE relocated.gid = domain_data.gid) AS relocated,
               (SELECT pg_catalog.count(domain_name.gid) FROM %1$s.domain_name
                 WHERE domain_name.gid = domain_data.gid AND NOT domain_name.is_primary) AS aliasdomains,
               (SELECT pg_catalog.count(catchall.gid) FROM %1$s.catchall
                 WHERE catchall.gid = domain_data.gid) AS catchall
          FROM %1$s.domain_data
          LEFT JOIN %1$s.domain_name USING (gid)
          LEFT JOIN %1$s.users USING (gid)
         WHERE domain_name.is_primary
         GROUP BY domain_data.gid$q$, s);
    created := created || ARRAY[['VIEW', 'vmm_domain_info']];

    -- 14. The 0.6 lookup types and functions (handed over by themselves).
    PERFORM vmm_upgrade._create_lookups_0_6(mail_schema, target_dovecot);

    -- 15. Hand everything else created here over to the mail system.
    FOREACH obj SLICE 1 IN ARRAY created LOOP
        PERFORM vmm_upgrade._hand_over(obj[1], s || '.' || obj[2], owner);
    END LOOP;

    -- 16. With vmm_upgrade.compatibility_views on: the 0.5.2 views again,
    --     over the 0.6 tables, so that Postfix and Dovecot with their 0.5.2
    --     queries keep answering until they switch (drop_compatibility_views
    --     removes them).  The optional 0.5.2 lookup functions cannot come
    --     back: their 0.6 successors have the same names and argument types,
    --     and answer the 0.5.2 calls (same result columns).
    IF compat THEN
        PERFORM vmm_upgrade._create_compatibility_views(mail_schema, target_dovecot);
    END IF;

    RETURN CASE WHEN compat THEN jsonb_build_object('compatibility_views', true) ELSE '{}' END || jsonb_build_object(
        'mail_schema', mail_schema,
        'from_dovecot', source,
        'to_dovecot', target_dovecot,
        'lookups_replaced', lookups,
        'users', n_users,
        'users_transport_inherited', n_inherit,
        'domains', n_domains,
        'maillocations', n_locations,
        'aliases_with_placeholders', n_placeholders,
        'aliases_with_placeholders_first', coalesce(placeholders, '[]'));
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
        -- as 0.5.2's set-permissions.py: the dovecot_* views to Dovecot
        FOREACH rel IN ARRAY compat LOOP
            IF rel LIKE 'dovecot\_%' THEN
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
        -- the postfix_* views (postfix_gid, part of 0.6, above) to Postfix
        FOREACH rel IN ARRAY compat LOOP
            IF rel LIKE 'postfix\_%' THEN
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

-- ---------------------------------------------------------------------------
-- What the DBA must do after the update
-- ---------------------------------------------------------------------------

-- The WARNINGs that end the update: the 0.5.2 views are gone, so Postfix and
-- Dovecot must be switched to the 0.6 lookup functions before they start
-- again.  The queries are those of _client_queries() (src/client_queries.tsv,
-- which vmm-cfg-upgrade writes into the files too); they name the functions
-- with the mail schema unless it is public.
CREATE FUNCTION vmm_upgrade._warn_next_steps(mail_schema name)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    -- Postfix and Dovecot both expand % in a query: a % of the schema name
    -- is written %%.
    p text := CASE WHEN mail_schema = 'public' THEN ''
                   ELSE replace(quote_ident(mail_schema), '%', '%%') || '.' END;
    compat boolean := vmm_upgrade._has_relation(mail_schema, 'postfix_maildir');
    postfix text;
    dovecot text;
BEGIN
    -- One line per query: a Postfix file (with its vmm 0.5.2 name where
    -- vmm 0.6 renamed it) padded so that the queries line up; a Dovecot
    -- setting, the quota plugin's variant in parentheses.
    SELECT string_agg(format('  %-30s query = %s',
                             CASE WHEN q.old_name IS NULL THEN q.setting
                                  ELSE format('%s, renamed %s (and in main.cf)', q.old_name, q.setting)
                             END || ':',
                             replace(q.query, '@p@', p)),
                      E'\n' ORDER BY q.n) FILTER (WHERE q.client = 'postfix'),
           string_agg(CASE WHEN q.variant = 'quota'
                           THEN format('  (with the quota plugin: %s = %s)', q.setting, replace(q.query, '@p@', p))
                           ELSE format('  %s = %s', q.setting, replace(q.query, '@p@', p))
                      END,
                      E'\n' ORDER BY q.n) FILTER (WHERE q.client = 'dovecot')
      INTO postfix, dovecot
      FROM vmm_upgrade._client_queries() AS q;
    postfix := concat_ws(E'\n',
            'In the pgsql-*.cf files (hosts, user, password and dbname stay):',
            postfix,
            '  pgsql-virtual_gid_maps.cf and pgsql-virtual_mailbox_domains.cf keep querying postfix_gid.');

    IF compat THEN
        RAISE WARNING 'vmm_upgrade: schema "%" now holds the vmm 0.6 layout and, until they are dropped, the 0.5.2 views: change the Postfix maps while Postfix runs', mail_schema
            USING DETAIL = postfix,
                  HINT = 'Then run "postfix reload"; once Postfix and Dovecot run the 0.6 queries: SELECT vmm_upgrade.drop_compatibility_views();';
    ELSE
        RAISE WARNING 'vmm_upgrade: schema "%" now holds the vmm 0.6 layout; the 0.5.2 views are gone: change the Postfix maps before starting Postfix', mail_schema
            USING DETAIL = postfix,
                  HINT = 'Then run "postfix reload" (or start Postfix).';
    END IF;
    RAISE WARNING 'vmm_upgrade: change the Dovecot SQL queries %',
                  CASE WHEN compat THEN 'while Dovecot runs' ELSE 'before starting Dovecot' END
        USING DETAIL = concat_ws(E'\n',
            'In dovecot-sql.conf(.ext):',
            dovecot,
            'The mail field now carries the mailbox format itself (maildir:~/Maildir): drop any ''maildir:'' prefix from user_query.'),
              HINT = CASE WHEN compat THEN 'Also update vmm.cfg for vmm 0.6, then run "doveadm reload".'
                          ELSE 'Also update vmm.cfg for vmm 0.6, then start Dovecot and Postfix.' END;
END
$fn$;

-- set_permissions() runs with its caller's rights and calls _configured_role,
-- _check_client_roles, _grant (which calls _password_readers) and
-- _forget_initial_privs, so those stay executable for the owner of the mail
-- tables who is not a superuser (tested in sql/permissions_owner.sql).
-- The internal steps are for the update script (run by a superuser), not for
-- everyone: they run with the caller's rights anyway, but nobody else has a
-- reason to call them.
REVOKE EXECUTE ON FUNCTION
    vmm_upgrade._lock_for_update(name, text[], text),
    vmm_upgrade._target_dovecot(text),
    vmm_upgrade._require_safe_tables(name, text),
    vmm_upgrade._hand_over(text, text, name),
    vmm_upgrade._create_lookups_0_6(name, text),
    vmm_upgrade._lookup_definitions(name, text),
    vmm_upgrade._lookups_are_ours(name, text),
    vmm_upgrade._create_userquota_table(text),
    vmm_upgrade._create_userquota_trigger(text),
    vmm_upgrade._upgrade_0_5_2_to_0_6(name, text),
    vmm_upgrade._grant_configured_roles(name),
    vmm_upgrade._client_queries(),
    vmm_upgrade._warn_next_steps(name)
FROM PUBLIC;
