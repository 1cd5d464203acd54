-- step-0.4-0.5.2.sql: the step from vmm's 0.4 layout to 0.5.2 (doc/layouts.md,
-- README "Starting at vmm 0.4"), which src/scripts/update-0.4--0.5.2.sql calls;
-- the 0.5.2 -> 0.6 step (step-0.5.2-0.6.sql) follows it when the update goes on.
--
-- Every function pins search_path to pg_catalog, pg_temp and names each mail
-- object through its schema; existing mail tables are changed only through
-- vmm_upgrade._as_owner; what is created is created by us (no code of anyone
-- runs then) and handed to the owner of users before the owner's statements
-- use it (src/library/README.md).

-- ---------------------------------------------------------------------------
-- Preflight
-- ---------------------------------------------------------------------------

-- vmm 0.4 kept an alias address in varchar(256), 0.5.2 in varchar(64).  vmm
-- stored only the local part there, so real data fits; a longer address
-- cannot be carried, and the update refuses before it changes anything,
-- naming the rows (the first 10).
CREATE FUNCTION vmm_upgrade._require_aliases_fit_0_5_2(mail_schema name)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s       text := quote_ident(mail_schema);
    shown   CONSTANT integer := 10;
    n       bigint;
    listing text;
BEGIN
    EXECUTE format($q$
        SELECT pg_catalog.count(*),
               pg_catalog.string_agg(x.line, E'\n' ORDER BY x.k) FILTER (WHERE x.k OPERATOR(pg_catalog.<=) %2$s)
          FROM (SELECT pg_catalog.format('gid %%s (%%s), address %%L (%%s characters) -> %%s',
                                         a.gid, d.domainname, a.address,
                                         pg_catalog.length(a.address), a.destination) AS line,
                       pg_catalog.row_number() OVER (ORDER BY d.domainname, a.address, a.destination) AS k
                  FROM %1$s.alias AS a
                  LEFT JOIN %1$s.domains AS d ON d.gid OPERATOR(pg_catalog.=) a.gid
                 WHERE pg_catalog.length(a.address) OPERATOR(pg_catalog.>) 64) AS x$q$, s, shown)
       INTO n, listing;
    IF n > 0 THEN
        RAISE EXCEPTION '% alias address% in schema "%" % longer than 64 characters',
            n, CASE WHEN n = 1 THEN '' ELSE 'es' END, mail_schema, CASE WHEN n = 1 THEN 'is' ELSE 'are' END
            USING ERRCODE = 'string_data_right_truncation',
                  DETAIL = format(E'The vmm 0.5.2 layout keeps at most 64 characters of an alias address (its local part), so %s cannot be carried%s:\n%s\nNothing was changed.',
                                  CASE WHEN n = 1 THEN 'this row' ELSE 'these rows' END,
                                  CASE WHEN n > shown THEN format(' (the first %s of %s)', shown, n) ELSE '' END,
                                  listing),
                  HINT = format('Shorten or remove those aliases, then run the update again; to list them: SELECT * FROM %s.alias WHERE length(address) > 64;', s);
    END IF;
END
$fn$;

-- ---------------------------------------------------------------------------
-- The 0.4 -> 0.5.2 transformation
-- ---------------------------------------------------------------------------

-- Transforms the 0.4 layout (either form) in <mail_schema> into the 0.5.2
-- layout of the Dovecot variant target_dovecot ('1.1', or '1.2' when
-- vmm_upgrade.dovecot_version says so), data included.  Expects an exact
-- 0.4 layout whose alias addresses fit (the caller checks both) and runs
-- inside the caller's transaction: any error undoes all.  Returns what it
-- did, as jsonb (stored in the history by the update script).
--   * domains splits into domain_data (gid, tid, domaindir) and domain_name
--     (every domain keeps its gid and gets its old name as primary name);
--     the sequence domains_gid becomes domain_gid;
--   * users' primary key gets its 0.5.2 name, the foreign keys to domains
--     point to domain_data under their 0.5.2 names;
--   * alias.address narrows to varchar(64);
--   * vmm 0.4 as released: users.smpt becomes users.smtp;
--   * every view is made anew over domain_data / domain_name (the view
--     dovecot_password also where 0.4 as released lacked it; no
--     vmm_alias_count), with domain_primary_trigger() and its two triggers;
--   * passwords, uids, gids, service flags, transports, mail locations,
--     aliases and relocated addresses: unchanged.
CREATE FUNCTION vmm_upgrade._upgrade_0_4_to_0_5_2(mail_schema name, target_dovecot text)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s         text := quote_ident(mail_schema);
    owner     name := vmm_upgrade._users_owner(mail_schema);
    form      text := vmm_upgrade._form_0_4(mail_schema);
    sieve     text;
    dovecot   name := vmm_upgrade._configured_role('dovecot');
    postfix   name := vmm_upgrade._configured_role('postfix');
    n_domains bigint;
    n_aliases bigint;
    name      text;
    obj       text[];
    not_carried jsonb;
    old_views CONSTANT text[] := ARRAY['vmm_domain_info', 'vmm_alias_count', 'dovecot_password',
        'dovecot_user', 'postfix_alias', 'postfix_gid', 'postfix_maildir', 'postfix_relocated',
        'postfix_transport', 'postfix_uid'];
    d         record;
    old_keys  CONSTANT text[] := ARRAY['users.fkey_users_gid_domains', 'alias.fkey_alias_gid_domains',
        'relocated.fkey_relocated_gid_domains'];
BEGIN
    -- The runner's preflight (src/library/runner.sql) has made sure of the
    -- exact 0.4 layout (so form is 'release' or 'r41') and of the target
    -- variant (1.1 or 1.2).
    sieve := vmm_upgrade._sieve_flag(target_dovecot);

    -- 1. Nothing of the DBA's may depend on what goes: the 0.4 views, the
    --    table domains and the foreign keys to it, or on the column whose
    --    type narrows (alias.address).  No CASCADE anywhere below.
    PERFORM vmm_upgrade._require_no_dependents(
        array_agg(o.cls), array_agg(o.id),
        format('upgrading schema "%s" from vmm 0.4 to 0.5.2', mail_schema),
        array_agg(o.sub))
      FROM (SELECT 'pg_class'::regclass AS cls, c.oid AS id, 0 AS sub
              FROM pg_class c
             WHERE c.relnamespace = s::regnamespace
               AND c.relname = ANY (old_views || 'domains'::text)
            UNION ALL
            SELECT 'pg_constraint'::regclass, k.oid, 0
              FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
             WHERE c.relnamespace = s::regnamespace
               AND c.relname || '.' || k.conname = ANY (old_keys)
            UNION ALL
            SELECT 'pg_class'::regclass, a.attrelid, a.attnum
              FROM pg_attribute a
             WHERE a.attrelid = (s || '.alias')::regclass AND a.attname = 'address') AS o;

    -- 2. Who held privileges on the 0.4 views that the 0.5.2 ones will not
    --    give them (step 13 grants SELECT to the Dovecot and Postfix roles
    --    only): reported, not carried.
    SELECT jsonb_agg(jsonb_build_object('view', x.relname, 'role', x.grantee, 'privilege', x.privilege_type)
                     ORDER BY x.relname, x.grantee, x.privilege_type)
      INTO not_carried
      FROM (SELECT c.relname::text AS relname,
                   CASE WHEN e.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(e.grantee)::text END AS grantee,
                   e.privilege_type
              FROM pg_class c, aclexplode(c.relacl) AS e
             WHERE c.relnamespace = s::regnamespace AND c.relkind = 'v'
               AND c.relname = ANY (old_views)
               AND e.grantee <> c.relowner
               AND NOT (e.privilege_type = 'SELECT'
                        AND EXISTS (SELECT FROM vmm_upgrade._client_views_0_5_2() AS v
                                     JOIN pg_roles r ON r.rolname = CASE v.service WHEN 'dovecot' THEN dovecot
                                                                                   ELSE postfix END
                                    WHERE v.view = c.relname AND r.oid = e.grantee))) AS x;

    -- 3. The 0.4 views go: they all read domains.
    FOREACH name IN ARRAY old_views LOOP
        IF vmm_upgrade._has_relation(mail_schema, name) THEN
            EXECUTE format('DROP VIEW %s.%I', s, name);
        END IF;
    END LOOP;

    -- 4. domain_data and domain_name, empty, with the primary-name trigger
    --    (at most one primary name per domain) and a temporary index on
    --    domain_name (gid) that keeps the trigger's lookup fast while the
    --    names go in.  The sequence of the gids gets its 0.5.2 name first
    --    (by its owner); it stands alone, as in vmm.
    PERFORM vmm_upgrade._as_owner(format('%s.domains_gid', s)::regclass,
        format('ALTER SEQUENCE %s.domains_gid OWNED BY NONE', s));
    PERFORM vmm_upgrade._as_owner(format('%s.domains_gid', s)::regclass,
        format('ALTER SEQUENCE %s.domains_gid RENAME TO domain_gid', s));
    EXECUTE format($q$
        CREATE TABLE %1$s.domain_data (
            gid       bigint NOT NULL DEFAULT pg_catalog.nextval(%2$L::pg_catalog.regclass),
            tid       bigint NOT NULL DEFAULT 1,
            domaindir varchar(40) NOT NULL,
            CONSTRAINT pkey_domain_data PRIMARY KEY (gid),
            CONSTRAINT fkey_domain_data_tid_transport FOREIGN KEY (tid)
                REFERENCES %1$s.transport (tid))$q$, s, s || '.domain_gid');
    EXECUTE format($q$
        CREATE TABLE %1$s.domain_name (
            domainname varchar(255) NOT NULL,
            gid        bigint NOT NULL,
            is_primary boolean NOT NULL,
            CONSTRAINT pkey_domain_name PRIMARY KEY (domainname),
            CONSTRAINT fkey_domain_name_gid_domain_data FOREIGN KEY (gid)
                REFERENCES %1$s.domain_data (gid))$q$, s);
    EXECUTE format('CREATE INDEX vmm_upgrade_domain_name_gid ON %s.domain_name (gid)', s);
    -- Checked before a name is added and after a name is changed.  VOLATILE,
    -- so that it sees the rows an INSERT of many names added before.
    EXECUTE format($q$
        CREATE FUNCTION %1$s.domain_primary_trigger() RETURNS trigger
        LANGUAGE plpgsql SECURITY INVOKER
        AS $body$
        DECLARE
            primaries bigint;
        BEGIN
            -- before an insert the new row is not counted yet, after an
            -- update it is
            SELECT pg_catalog.count(*) INTO primaries
              FROM %1$s.domain_name AS n
             WHERE n.gid OPERATOR(pg_catalog.=) NEW.gid AND n.is_primary;
            IF TG_OP OPERATOR(pg_catalog.=) 'INSERT' AND NEW.is_primary THEN
                primaries := primaries OPERATOR(pg_catalog.+) 1;
            END IF;
            IF primaries OPERATOR(pg_catalog.>) 1 THEN
                RAISE EXCEPTION 'domain %% would have %% primary names, but a domain has one', NEW.gid, primaries
                    USING ERRCODE = 'unique_violation';
            END IF;
            RETURN NEW;
        END
        $body$$q$, s);
    EXECUTE format($q$CREATE TRIGGER primary_count_ins BEFORE INSERT ON %1$s.domain_name
                     FOR EACH ROW EXECUTE FUNCTION %1$s.domain_primary_trigger()$q$, s);
    EXECUTE format($q$CREATE TRIGGER primary_count_upd AFTER UPDATE ON %1$s.domain_name
                     FOR EACH ROW EXECUTE FUNCTION %1$s.domain_primary_trigger()$q$, s);
    FOREACH obj SLICE 1 IN ARRAY ARRAY[
            ['TABLE', 'domain_data'], ['TABLE', 'domain_name'],
            ['FUNCTION', 'domain_primary_trigger()']] LOOP
        PERFORM vmm_upgrade._hand_over(obj[1], s || '.' || obj[2], owner);
    END LOOP;

    -- From here on the owner of the vmm tables makes every change, in a
    -- security-restricted context (vmm_upgrade._as_owner): its triggers,
    -- CHECK constraints and index expressions, and the primary-name
    -- trigger, run as that owner, never with our rights.

    -- 5. The domains: every one keeps its gid, transport and directory, and
    --    its name becomes its primary name (through the trigger).
    SELECT (r->>'n')::bigint INTO n_domains
      FROM vmm_upgrade._as_owner(format('%s.domain_data', s)::regclass, format($q$
        WITH moved AS (
            INSERT INTO %1$s.domain_data (gid, tid, domaindir)
            SELECT d.gid, d.tid, d.domaindir FROM %1$s.domains AS d ORDER BY d.gid
            RETURNING gid)
        SELECT pg_catalog.jsonb_build_object('n', pg_catalog.count(*)) FROM moved$q$, s)) AS r;
    PERFORM vmm_upgrade._as_owner(format('%s.domain_name', s)::regclass, format($q$
        INSERT INTO %1$s.domain_name (domainname, gid, is_primary)
        SELECT d.domainname, d.gid, true FROM %1$s.domains AS d ORDER BY d.gid$q$, s));
    EXECUTE format('DROP INDEX %s.vmm_upgrade_domain_name_gid', s);

    -- 6. users: the 0.5.2 name of the primary key (a rename: its index stays),
    --    the domain's foreign key to domain_data; vmm 0.4 as released: the
    --    SMTP flag gets its right name; Dovecot >= 1.2: the sieve flag its
    --    new one.
    PERFORM vmm_upgrade._as_owner(format('%s.users', s)::regclass,
        format('ALTER TABLE %s.users RENAME CONSTRAINT pkye_users TO pkey_users', s));
    PERFORM vmm_upgrade._as_owner(format('%s.users', s)::regclass, format($q$
        ALTER TABLE %1$s.users
            DROP CONSTRAINT fkey_users_gid_domains,
            ADD CONSTRAINT fkey_users_gid_domain_data FOREIGN KEY (gid)
                REFERENCES %1$s.domain_data (gid)$q$, s));
    IF form = 'release' THEN
        PERFORM vmm_upgrade._as_owner(format('%s.users', s)::regclass,
            format('ALTER TABLE %s.users RENAME COLUMN smpt TO smtp', s));
    END IF;
    IF sieve = 'sieve' THEN
        PERFORM vmm_upgrade._as_owner(format('%s.users', s)::regclass,
            format('ALTER TABLE %s.users RENAME COLUMN managesieve TO sieve', s));
    END IF;

    -- 7. alias: the address narrows to 64 characters (its primary key is
    --    rebuilt with it), the domain's foreign key to domain_data.
    PERFORM vmm_upgrade._as_owner(format('%s.alias', s)::regclass, format($q$
        ALTER TABLE %1$s.alias
            DROP CONSTRAINT fkey_alias_gid_domains,
            ALTER COLUMN address TYPE varchar(64),
            ADD CONSTRAINT fkey_alias_gid_domain_data FOREIGN KEY (gid)
                REFERENCES %1$s.domain_data (gid)$q$, s));
    EXECUTE format('SELECT pg_catalog.count(*) FROM %s.alias', s) INTO n_aliases;

    -- 8. relocated: the domain's foreign key to domain_data.
    PERFORM vmm_upgrade._as_owner(format('%s.relocated', s)::regclass, format($q$
        ALTER TABLE %1$s.relocated
            DROP CONSTRAINT fkey_relocated_gid_domains,
            ADD CONSTRAINT fkey_relocated_gid_domain_data FOREIGN KEY (gid)
                REFERENCES %1$s.domain_data (gid)$q$, s));

    -- 9. domains goes; nothing refers to it any more.
    PERFORM vmm_upgrade._as_owner(format('%s.domains', s)::regclass,
        format('DROP TABLE %s.domains', s));

    -- 10. The 0.5.2 views for Dovecot and Postfix (_definitions_0_5_2):
    --     every address view joins domain_name, so an address answers under
    --     every name of its domain.
    FOR d IN SELECT * FROM vmm_upgrade._definitions_0_5_2(mail_schema, target_dovecot, false) LOOP
        EXECUTE d.statement;
        PERFORM vmm_upgrade._hand_over(d.kind, s || '.' || d.object, owner);
    END LOOP;

    RETURN jsonb_build_object(
        'mail_schema', mail_schema,
        'form', form,
        'from_dovecot', '1.1',
        'to_dovecot', target_dovecot,
        'domains', n_domains,
        'aliases', n_aliases,
        'smpt_renamed', form = 'release',
        'dovecot_password_created', form = 'release',
        'view_privileges_not_carried', coalesce(not_carried, '[]'));
END
$fn$;

-- ---------------------------------------------------------------------------
-- The 0.5.2 views, the optional 0.5.2 lookup functions and their grants
-- (this step and the way back, step-0.6-0.5.2.sql)
-- ---------------------------------------------------------------------------

-- The 0.5.2 views Postfix and Dovecot read, with the service that reads
-- each (granted SELECT on it: _grant_0_5_2; the compatibility views keep
-- these names and services).  Not revoked from PUBLIC: set_permissions()
-- reads it through _compatibility_view_definitions.
CREATE FUNCTION vmm_upgrade._client_views_0_5_2(OUT view name, OUT service text)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT v.view::pg_catalog.name, v.service
      FROM (VALUES ('dovecot_password', 'dovecot'), ('dovecot_user', 'dovecot'),
                   ('postfix_alias', 'postfix'), ('postfix_gid', 'postfix'),
                   ('postfix_maildir', 'postfix'), ('postfix_relocated', 'postfix'),
                   ('postfix_transport', 'postfix'), ('postfix_uid', 'postfix')) AS v(view, service)
$fn$;

-- The 0.5.2 views and optional lookup objects, one row per object in
-- creation order: kind (VIEW, TYPE or FUNCTION), object (with the argument
-- list for a function) and the statement creating it in <mail_schema>
-- (the definitions of test/fixtures/vmm-0.5.2.sql, tables named through
-- the schema in the views; function bodies as vmm's name them, without).
-- The views are those of layout 0.5.2, the types and functions those of
-- 0.5.2+lookups in src/layouts.tsv (test/pgtap/layout_0_5_2.sql checks it).
-- kept: the 0.6 layout has the object as it is (postfix_gid), so the way
-- back keeps it.
CREATE FUNCTION vmm_upgrade._definitions_0_5_2(mail_schema name, dovecot text, lookups boolean,
                                               OUT kind text, OUT object text, OUT statement text,
                                               OUT kept boolean)
RETURNS SETOF record
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    sieve name := vmm_upgrade._sieve_flag(dovecot);
    obj   text[];
    views CONSTANT text[] := ARRAY[
    ['VIEW', 'dovecot_password', $q$
CREATE VIEW @s@.dovecot_password AS
SELECT users.local_part || '@' || domain_name.domainname AS "user",
       users.passwd AS password,
       users.smtp, users.pop3, users.imap, users.@sieve@
  FROM @s@.users LEFT JOIN @s@.domain_name USING (gid)$q$],
    ['VIEW', 'dovecot_user', $q$
CREATE VIEW @s@.dovecot_user AS
SELECT users.local_part || '@' || domain_name.domainname AS userid,
       users.uid, users.gid,
       domain_data.domaindir || '/' || users.uid AS home,
       '~/' || maillocation.maillocation AS mail
  FROM @s@.users
  LEFT JOIN @s@.domain_data USING (gid)
  LEFT JOIN @s@.domain_name USING (gid)
  LEFT JOIN @s@.maillocation USING (mid)$q$],
    ['VIEW', 'postfix_gid', $q$
CREATE VIEW @s@.postfix_gid AS
SELECT domain_name.gid, domain_name.domainname FROM @s@.domain_name$q$],
    ['VIEW', 'postfix_uid', $q$
CREATE VIEW @s@.postfix_uid AS
SELECT users.local_part || '@' || domain_name.domainname AS address, users.uid
  FROM @s@.users LEFT JOIN @s@.domain_name USING (gid)$q$],
    ['VIEW', 'postfix_maildir', $q$
CREATE VIEW @s@.postfix_maildir AS
SELECT users.local_part || '@' || domain_name.domainname AS address,
       domain_data.domaindir || '/' || users.uid || '/' || maillocation.maillocation || '/' AS maildir
  FROM @s@.users
  LEFT JOIN @s@.domain_data USING (gid)
  LEFT JOIN @s@.domain_name USING (gid)
  LEFT JOIN @s@.maillocation USING (mid)$q$],
    ['VIEW', 'postfix_relocated', $q$
CREATE VIEW @s@.postfix_relocated AS
SELECT relocated.address || '@' || domain_name.domainname AS address, relocated.destination
  FROM @s@.relocated LEFT JOIN @s@.domain_name USING (gid)$q$],
    ['VIEW', 'postfix_alias', $q$
CREATE VIEW @s@.postfix_alias AS
SELECT alias.address || '@' || domain_name.domainname AS address, alias.destination, alias.gid
  FROM @s@.alias LEFT JOIN @s@.domain_name USING (gid)$q$],
    ['VIEW', 'postfix_transport', $q$
CREATE VIEW @s@.postfix_transport AS
SELECT users.local_part || '@' || domain_name.domainname AS address, transport.transport
  FROM @s@.users
  LEFT JOIN @s@.transport USING (tid)
  LEFT JOIN @s@.domain_name USING (gid)$q$],
    ['VIEW', 'vmm_domain_info', $q$
CREATE VIEW @s@.vmm_domain_info AS
SELECT gid, domainname, transport, domaindir,
       count(uid) AS accounts,
       (SELECT count(DISTINCT address) FROM @s@.alias
         WHERE alias.gid = domain_data.gid) AS aliases,
       (SELECT count(gid) FROM @s@.relocated
         WHERE relocated.gid = domain_data.gid) AS relocated,
       (SELECT count(gid) FROM @s@.domain_name
         WHERE domain_name.gid = domain_data.gid
           AND NOT domain_name.is_primary) AS aliasdomains
  FROM @s@.domain_data
  LEFT JOIN @s@.domain_name USING (gid)
  LEFT JOIN @s@.transport USING (tid)
  LEFT JOIN @s@.users USING (gid)
 WHERE domain_name.is_primary
 GROUP BY gid, domainname, transport, domaindir$q$]];
    types CONSTANT text[] := ARRAY[
    ['TYPE', 'address_maildir', $q$CREATE TYPE @s@.address_maildir AS (address varchar(320), maildir text)$q$],
    ['TYPE', 'dovecotpassword', $q$CREATE TYPE @s@.dovecotpassword AS (
    userid varchar(320), password varchar(74),
    smtp boolean, pop3 boolean, imap boolean, @sieve@ boolean
)$q$],
    ['TYPE', 'dovecotuser', $q$CREATE TYPE @s@.dovecotuser AS (
    userid varchar(320), uid bigint, gid bigint, home text, mail text
)$q$],
    ['TYPE', 'recipient_destination', $q$CREATE TYPE @s@.recipient_destination AS (recipient varchar(320), destination text)$q$],
    ['TYPE', 'recipient_transport', $q$CREATE TYPE @s@.recipient_transport AS (recipient varchar(320), transport text)$q$],
    ['TYPE', 'recipient_uid', $q$CREATE TYPE @s@.recipient_uid AS (recipient varchar(320), uid bigint)$q$],
    ['TYPE', 'sender_login', $q$CREATE TYPE @s@.sender_login AS (sender varchar(320), login text)$q$]];
    -- Every lookup function but postfix_smtpd_sender_login_map is one query
    -- for the address localpart@the_domain: (name, result type, the columns
    -- after the address, the joins after domain_name, the column matched
    -- with the local part); postfix_smtpd_sender_login_map (no columns) is
    -- sender_login below.
    lookup_template CONSTANT text := $q$
CREATE FUNCTION @s@.%1$s(localpart varchar, the_domain varchar)
RETURNS SETOF @s@.%2$s
LANGUAGE plpgsql STABLE STRICT AS $body$
BEGIN
    RETURN QUERY
    SELECT (localpart || '@' || the_domain)::varchar(320),%3$s
      FROM domain_name AS n
      %4$s
     WHERE n.domainname = the_domain
       AND %5$s = localpart;
END
$body$$q$;
    users_by_name CONSTANT text := 'JOIN users AS u ON u.gid = n.gid';
    maildir_joins CONSTANT text := concat_ws(E'\n      ', 'JOIN domain_data AS d ON d.gid = n.gid',
                                             users_by_name, 'JOIN maillocation AS l ON l.mid = u.mid');
    lookup_functions CONSTANT text[] := ARRAY[
    ['dovecotpassword', 'dovecotpassword', E'\n           u.passwd, u.smtp, u.pop3, u.imap, u.@sieve@',
     users_by_name, 'u.local_part'],
    ['dovecotuser', 'dovecotuser',
     E'\n           u.uid, u.gid,\n           d.domaindir || ''/'' || u.uid,\n           ''~/'' || l.maillocation',
     maildir_joins, 'u.local_part'],
    ['postfix_relocated_map', 'recipient_destination', ' r.destination::text',
     'JOIN relocated AS r ON r.gid = n.gid', 'r.address'],
    ['postfix_smtpd_sender_login_map', 'sender_login', NULL, NULL, NULL],
    ['postfix_transport_map', 'recipient_transport', ' t.transport::text',
     users_by_name || E'\n      JOIN transport AS t ON t.tid = u.tid', 'u.local_part'],
    ['postfix_virtual_alias_map', 'recipient_destination', ' a.destination::text',
     'JOIN alias AS a ON a.gid = n.gid', 'a.address'],
    ['postfix_virtual_mailbox_map', 'address_maildir',
     E'\n           d.domaindir || ''/'' || u.uid || ''/'' || l.maillocation || ''/''',
     maildir_joins, 'u.local_part'],
    ['postfix_virtual_uid_map', 'recipient_uid', ' u.uid', users_by_name, 'u.local_part']];
    sender_login CONSTANT text := $q$
CREATE FUNCTION @s@.postfix_smtpd_sender_login_map(localpart varchar, the_domain varchar)
RETURNS SETOF @s@.sender_login
LANGUAGE plpgsql STABLE STRICT AS $body$
DECLARE
    sender text := localpart || '@' || the_domain;
BEGIN
    RETURN QUERY
    SELECT sender::varchar(320), u.local_part || '@' || other.domainname
      FROM domain_name AS n
      JOIN users AS u ON u.gid = n.gid
      JOIN domain_name AS other ON other.gid = n.gid
     WHERE n.domainname = the_domain
       AND u.local_part = localpart
     ORDER BY other.is_primary DESC, other.domainname;
    IF FOUND THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT DISTINCT sender::varchar(320), a.destination::text
      FROM domain_name AS n
      JOIN alias AS a ON a.gid = n.gid
     WHERE n.domainname = the_domain
       AND a.address = localpart;
END
$body$$q$;
    f     text[];
    all_objects text[] := views;
BEGIN
    IF lookups THEN
        all_objects := all_objects || types;
        FOREACH f SLICE 1 IN ARRAY lookup_functions LOOP
            all_objects := all_objects || ARRAY['FUNCTION', f[1] || '(pg_catalog.varchar, pg_catalog.varchar)',
                CASE WHEN f[3] IS NULL THEN sender_login
                     ELSE format(lookup_template, f[1], f[2], f[3], f[4], f[5]) END];
        END LOOP;
    END IF;
    FOREACH obj SLICE 1 IN ARRAY all_objects LOOP
        kind := obj[1];
        object := obj[2];
        statement := replace(replace(obj[3], '@s@', quote_ident(mail_schema)), '@sieve@', quote_ident(sieve));
        kept := object = 'postfix_gid';
        RETURN NEXT;
    END LOOP;
END
$fn$;

-- What a vmm 0.5.2 installation grants (its INSTALL notes), for both steps
-- into 0.5.2: SELECT on the two dovecot_* views to the role Dovecot
-- connects as and on the six postfix_* views to Postfix's
-- (_client_views_0_5_2), nothing more; the views read the tables
-- with their owner's rights.  The roles are those the settings
-- vmm_upgrade.dovecot_role and vmm_upgrade.postfix_role name (defaults
-- dovecot, postfix); a role without USAGE on the mail schema gets it,
-- without which no grant helps.  WARNINGs: for each role that does not
-- exist (with the GRANT to run once it does), for one role serving both
-- services (it reads the passwords), and for privileges the 0.4 views had
-- that the new ones do not give (result of the 0.4 transformation, "not
-- carried"; NULL on the way back).  Returns {"dovecot": name|null, "postfix": name|null,
-- "statements": [...]}.
CREATE FUNCTION vmm_upgrade._grant_0_5_2(mail_schema name, not_carried jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s        text := quote_ident(mail_schema);
    dovecot  name := vmm_upgrade._configured_role('dovecot');
    postfix  name := vmm_upgrade._configured_role('postfix');
    granted  jsonb := '{}';
    stmts    text[] := '{}';
    stmt     text;
    service  text;
    role     name;
    on_views text;
    regrant  text;
BEGIN
    FOREACH service IN ARRAY ARRAY['dovecot', 'postfix'] LOOP
        role := CASE service WHEN 'dovecot' THEN dovecot ELSE postfix END;
        on_views := (SELECT string_agg(s || '.' || quote_ident(v.view), ', ' ORDER BY v.view)
                       FROM vmm_upgrade._client_views_0_5_2() AS v(view, svc) WHERE v.svc = service);
        IF NOT EXISTS (SELECT FROM pg_roles r WHERE r.rolname = role) THEN
            granted := granted || jsonb_build_object(service, NULL);
            RAISE WARNING 'role "%" does not exist, so % was granted nothing', role, initcap(service)
                USING DETAIL = format('%s connects as the role named by the setting vmm_upgrade.%s_role (default %s).',
                                      initcap(service), service, service),
                      HINT = format('Create it (CREATE ROLE %I LOGIN PASSWORD ...), or name the role %s connects as instead, then run: GRANT SELECT ON %s TO %I;',
                                    role, initcap(service), on_views, role);
            CONTINUE;
        END IF;
        IF NOT has_schema_privilege(role, mail_schema, 'USAGE') THEN
            stmts := stmts || format('GRANT USAGE ON SCHEMA %s TO %I', s, role);
        END IF;
        stmts := stmts || format('GRANT SELECT ON TABLE %s TO %I', on_views, role);
        granted := granted || jsonb_build_object(service, role);
    END LOOP;
    FOREACH stmt IN ARRAY stmts LOOP
        EXECUTE stmt;
    END LOOP;
    IF dovecot = postfix AND granted ->> 'dovecot' IS NOT NULL THEN
        RAISE WARNING 'role "%" is both the Dovecot and the Postfix role, so Postfix can read the passwords', dovecot
            USING DETAIL = format('Dovecot reads view %s.dovecot_password, and a role shared with Postfix gives it to Postfix as well.', s),
                  HINT = 'Give Postfix a role of its own (CREATE ROLE ... LOGIN PASSWORD ...), make it the user in the pgsql-*.cf files and set vmm_upgrade.postfix_role to it before the update to 0.6.';
    END IF;

    -- The 0.4 views' privileges that were not carried over; the statements
    -- to grant them again, where the view is still there (not
    -- vmm_alias_count) and does not hold passwords (not dovecot_password).
    IF jsonb_array_length(coalesce(not_carried, '[]')) > 0 THEN
        SELECT string_agg(format('GRANT %s ON TABLE %s.%I TO %s;', x->>'privilege', s, x->>'view',
                                 CASE WHEN x->>'role' = 'PUBLIC' THEN 'PUBLIC' ELSE quote_ident(x->>'role') END),
                          ' ' ORDER BY x->>'view', x->>'role', x->>'privilege')
                 FILTER (WHERE x->>'view' NOT IN ('vmm_alias_count', 'dovecot_password'))
          INTO regrant
          FROM jsonb_array_elements(not_carried) AS x;
        RAISE WARNING 'the privileges of other roles on the vmm 0.4 views of schema "%" were not carried over', mail_schema
            USING DETAIL = format(E'The vmm 0.5.2 views grant SELECT to the Dovecot role (%s) and the Postfix role (%s) only; these were dropped with the 0.4 views:\n%s',
                                  dovecot, postfix,
                                  (SELECT string_agg(format('  %s on view %s to %s', x->>'privilege', x->>'view', x->>'role'),
                                                     E'\n' ORDER BY x->>'view', x->>'role', x->>'privilege')
                                     FROM jsonb_array_elements(not_carried) AS x)),
                  HINT = CASE WHEN regrant IS NULL
                              THEN 'Nothing of it is to be granted again: vmm_alias_count is gone, and dovecot_password holds the passwords.'
                              ELSE 'Grant again what is still needed: ' || regrant END;
    END IF;

    -- Grants run inside an extension script must not count as the
    -- objects' initial privileges, or pg_dump would leave them out.
    PERFORM vmm_upgrade._forget_initial_privs(mail_schema);
    RETURN granted || jsonb_build_object('statements', to_jsonb(stmts));
END
$fn$;

-- ---------------------------------------------------------------------------
-- What the DBA must do after the update
-- ---------------------------------------------------------------------------

-- The WARNING that ends the 0.4 -> 0.5.2 update: Postfix and Dovecot keep
-- their queries (the views have the same names and columns); what changed
-- for them, and what comes next.
CREATE FUNCTION vmm_upgrade._warn_next_steps_0_5_2(result jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RAISE WARNING 'schema "%" now holds the vmm 0.5.2 layout (Dovecot % variant); Postfix and Dovecot keep their queries',
        result->>'mail_schema', result->>'to_dovecot'
        USING DETAIL = concat_ws(E'\n',
            'The views keep their names and columns; each address view now also answers under the alias domain names vmm 0.5.2 can add.',
            CASE WHEN result->>'form' = 'release'
                 THEN 'For vmm 0.4 as released: the column users.smpt is now users.smtp, and the view dovecot_password, which it lacked, is there for Dovecot''s password_query.' END,
            CASE WHEN result->>'to_dovecot' = '1.2'
                 THEN 'Dovecot >= 1.2: the sieve flag is users.sieve (and dovecot_password.sieve), the name Dovecot gives the service in %Ls.' END),
              HINT = 'If the database stays at 0.5.2 for now, update vmm.cfg for vmm 0.5 (maildir.folder is now maildir.name); to take it on to vmm 0.6: ALTER EXTENSION vmm_upgrade UPDATE;';
END
$fn$;

-- The internal functions are for the scripts and the public functions,
-- not for everyone: they run with the caller's rights anyway, but nobody
-- else has a reason to call them.
REVOKE EXECUTE ON FUNCTION
    vmm_upgrade._require_aliases_fit_0_5_2(name),
    vmm_upgrade._upgrade_0_4_to_0_5_2(name, text),
    vmm_upgrade._definitions_0_5_2(name, text, boolean),
    vmm_upgrade._grant_0_5_2(name, jsonb),
    vmm_upgrade._warn_next_steps_0_5_2(jsonb)
FROM PUBLIC;
