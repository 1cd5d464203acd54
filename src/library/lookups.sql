-- lookups.sql: the 0.6 lookup types and functions Postfix and Dovecot call
-- (created by the 0.5.2 -> 0.6 step, the 0.6.0 fix and the Dovecot switch),
-- the list of those objects, and replace_lookup_functions().
--
-- Every function pins search_path to pg_catalog, pg_temp and names each mail
-- object through its schema; existing mail tables are changed only through
-- vmm_upgrade._as_owner; what is created in the mail schema is handed over
-- to the owner of users (src/library/README.md).

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
    -- name of the sieve service flag, @recipient@ the address asked for
    -- (localpart@the_domain) and @domain_gid@ the sub-select of its
    -- domain's gid.
    -- @lookup name RETURNS type@: the head of a lookup function, named
    -- name(localpart, the_domain), with the result type @s@.type.
    head       CONSTANT text := $q$CREATE FUNCTION @s@.\1(localpart pg_catalog.varchar, the_domain pg_catalog.varchar)
        RETURNS SETOF @s@.\2
        LANGUAGE plpgsql STABLE STRICT SECURITY INVOKER
        AS $body$$q$;
    recipient  CONSTANT text := $q$(localpart OPERATOR(pg_catalog.||) '@' OPERATOR(pg_catalog.||) the_domain)::pg_catalog.varchar(320)$q$;
    domain_gid CONSTANT text := $q$(SELECT n.gid FROM @s@.domain_name n
                                                  WHERE n.domainname OPERATOR(pg_catalog.=) the_domain)$q$;
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
        @lookup dovecotpassword RETURNS dovecotpassword@
        BEGIN
            RETURN QUERY
            SELECT @recipient@,
                   u.passwd, ss.smtp, ss.pop3, ss.imap, ss.@sieve@
              FROM @s@.users u
              JOIN @s@.domain_data d ON d.gid OPERATOR(pg_catalog.=) u.gid
              JOIN @s@.service_set ss ON ss.ssid OPERATOR(pg_catalog.=) COALESCE(u.ssid, d.ssid)
             WHERE u.gid OPERATOR(pg_catalog.=) @domain_gid@
               AND u.local_part OPERATOR(pg_catalog.=) localpart;
        END
        $body$$q$],

    -- Dovecot userdb: uid, the domain's gid, home domaindir/uid and mail
    -- format:~/directory.
    ['FUNCTION', 'dovecotuser(pg_catalog.varchar, pg_catalog.varchar)', $q$
        @lookup dovecotuser RETURNS dovecotuser@
        BEGIN
            RETURN QUERY
            SELECT @recipient@,
                   u.uid, u.gid,
                   d.domaindir OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) u.uid::pg_catalog.text,
                   f.format OPERATOR(pg_catalog.||) ':~/' OPERATOR(pg_catalog.||) l.directory
              FROM @s@.users u
              JOIN @s@.domain_data d ON d.gid OPERATOR(pg_catalog.=) u.gid
              JOIN @s@.maillocation l ON l.mid OPERATOR(pg_catalog.=) u.mid
              JOIN @s@.mailboxformat f ON f.fid OPERATOR(pg_catalog.=) l.fid
             WHERE u.gid OPERATOR(pg_catalog.=) @domain_gid@
               AND u.local_part OPERATOR(pg_catalog.=) localpart;
        END
        $body$$q$],

    -- The same plus the quota rule of the user's quota limit, or the
    -- domain's when the user inherits (qid NULL).
    ['FUNCTION', 'dovecotquotauser(pg_catalog.varchar, pg_catalog.varchar)', $q$
        @lookup dovecotquotauser RETURNS dovecotquotauser@
        BEGIN
            RETURN QUERY
            SELECT @recipient@,
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
             WHERE u.gid OPERATOR(pg_catalog.=) @domain_gid@
               AND u.local_part OPERATOR(pg_catalog.=) localpart;
        END
        $body$$q$],

    -- Postfix relocated_maps.
    ['FUNCTION', 'postfix_relocated_map(pg_catalog.varchar, pg_catalog.varchar)', $q$
        @lookup postfix_relocated_map RETURNS recipient_destination@
        BEGIN
            RETURN QUERY
            SELECT @recipient@,
                   r.destination::pg_catalog.text
              FROM @s@.relocated r
             WHERE r.gid OPERATOR(pg_catalog.=) @domain_gid@
               AND r.address OPERATOR(pg_catalog.=) localpart;
        END
        $body$$q$],

    -- Postfix smtpd_sender_login_maps: an account may send as itself under
    -- every name of its domain; an alias address by its destinations.
    ['FUNCTION', 'postfix_smtpd_sender_login_map(pg_catalog.varchar, pg_catalog.varchar)', $q$
        @lookup postfix_smtpd_sender_login_map RETURNS sender_login@
        BEGIN
            RETURN QUERY
            SELECT @recipient@,
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
                   @recipient@,
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
        @lookup postfix_transport_map RETURNS recipient_transport@
        BEGIN
            RETURN QUERY
            SELECT @recipient@,
                   t.transport::pg_catalog.text
              FROM @s@.domain_data d
              LEFT JOIN @s@.users u ON u.gid OPERATOR(pg_catalog.=) d.gid
                                   AND u.local_part OPERATOR(pg_catalog.=) localpart
              JOIN @s@.transport t ON t.tid OPERATOR(pg_catalog.=) COALESCE(u.tid, d.tid)
             WHERE d.gid OPERATOR(pg_catalog.=) @domain_gid@;
        END
        $body$$q$],

    -- Postfix virtual_alias_maps: the alias destinations; without an alias
    -- but with a catch-all for the domain, the address itself when it is an
    -- account or relocated (they keep precedence), else the catch-all
    -- destinations.  %n, %d and %= are substituted in both.
    ['FUNCTION', 'postfix_virtual_alias_map(pg_catalog.varchar, pg_catalog.varchar)', $q$
        @lookup postfix_virtual_alias_map RETURNS recipient_destination@
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
        @lookup postfix_virtual_mailbox_map RETURNS address_maildir@
        BEGIN
            RETURN QUERY
            SELECT @recipient@,
                   d.domaindir OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) u.uid::pg_catalog.text
                       OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) l.directory
                       OPERATOR(pg_catalog.||) '/'
              FROM @s@.users u
              JOIN @s@.domain_data d ON d.gid OPERATOR(pg_catalog.=) u.gid
              JOIN @s@.maillocation l ON l.mid OPERATOR(pg_catalog.=) u.mid
             WHERE u.gid OPERATOR(pg_catalog.=) @domain_gid@
               AND u.local_part OPERATOR(pg_catalog.=) localpart;
        END
        $body$$q$],

    -- Postfix virtual_uid_maps.
    ['FUNCTION', 'postfix_virtual_uid_map(pg_catalog.varchar, pg_catalog.varchar)', $q$
        @lookup postfix_virtual_uid_map RETURNS recipient_uid@
        BEGIN
            RETURN QUERY
            SELECT @recipient@,
                   u.uid
              FROM @s@.users u
             WHERE u.gid OPERATOR(pg_catalog.=) @domain_gid@
               AND u.local_part OPERATOR(pg_catalog.=) localpart;
        END
        $body$$q$]
    ];
BEGIN
    sieve := vmm_upgrade._sieve_flag(dovecot);
    FOREACH obj SLICE 1 IN ARRAY objects LOOP
        kind := obj[1];
        object := obj[2];
        statement := replace(replace(replace(replace(
                         regexp_replace(obj[3], '@lookup ([a-z_]+) RETURNS ([a-z_]+)@', head),
                         '@recipient@', recipient), '@domain_gid@', domain_gid),
                         '@s@', quote_ident(mail_schema)), '@sieve@', quote_ident(sieve));
        RETURN NEXT;
    END LOOP;
END
$fn$;

-- The alias destinations of <mail_schema> (layout 0.5.2 or 0.6) with a
-- placeholder %n, %d or %=, which the 0.6 lookups expand
-- (_interpolate_destination above) and 0.5.2 delivers to literally: one row
-- each, under the domain's primary name, with the line that names it
-- ('address@domain -> destination').  The update to 0.6 warns of them, the
-- way back refuses them, the preview counts them.
CREATE FUNCTION vmm_upgrade._alias_placeholders(mail_schema name,
                                                OUT line text, OUT domainname text,
                                                OUT address text, OUT destination text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RETURN QUERY EXECUTE format($q$
        SELECT pg_catalog.format('%%s@%%s -> %%s', a.address, n.domainname, a.destination),
               n.domainname::pg_catalog.text, a.address::pg_catalog.text, a.destination::pg_catalog.text
          FROM %1$s.alias AS a
          JOIN %1$s.domain_name AS n ON n.gid OPERATOR(pg_catalog.=) a.gid AND n.is_primary
         WHERE pg_catalog.strpos(a.destination, '%%n') OPERATOR(pg_catalog.>) 0
            OR pg_catalog.strpos(a.destination, '%%d') OPERATOR(pg_catalog.>) 0
            OR pg_catalog.strpos(a.destination, '%%=') OPERATOR(pg_catalog.>) 0$q$, quote_ident(mail_schema));
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

-- ---------------------------------------------------------------------------
-- Our lookup functions in place of the ones the database has
-- ---------------------------------------------------------------------------

-- Drops the 0.6 lookup functions and types of <mail_schema> and creates ours
-- (_create_lookups_0_6, above) for the Dovecot variant given, keeping
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
        format('replacing the lookup functions of schema "%s"', mail_schema))
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
-- functions are kept.  Recorded in vmm_upgrade.history: one step of the
-- runner (src/library/runner.sql).
--   SELECT vmm_upgrade.replace_lookup_functions();
CREATE FUNCTION vmm_upgrade.replace_lookup_functions()
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r jsonb := vmm_upgrade._run_step('replace_lookup_functions');
BEGIN
    RETURN format('replaced the %s lookup functions and types of schema "%s" (Dovecot %s variant) with vmm_upgrade''s',
                  r->>'objects_replaced', r->>'mail_schema', r->>'dovecot');
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
        RAISE EXCEPTION 'the lookup functions in schema "%" are not those vmm_upgrade made', mail_schema
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('%s found a function body that differs from the one just created. Nothing was changed.',
                                  upper(left(coalesce(context, 'the check'), 1)) || substr(coalesce(context, 'the check'), 2));
    END IF;
END
$fn$;

-- The internal functions are for the scripts and the public functions,
-- not for everyone: they run with the caller's rights anyway, but nobody
-- else has a reason to call them.
REVOKE EXECUTE ON FUNCTION
    vmm_upgrade._alias_placeholders(name),
    vmm_upgrade._create_lookups_0_6(name, text),
    vmm_upgrade._lookup_definitions(name, text),
    vmm_upgrade._lookups_are_ours(name, text),
    vmm_upgrade._replace_lookups(name, text),
    vmm_upgrade._require_lookups_ok(name, text, text)
FROM PUBLIC;
