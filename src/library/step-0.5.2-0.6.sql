-- step-0.5.2-0.6.sql: the 0.5.2 -> 0.6 transformation
-- (src/scripts/update-0.5.2--0.6.sql), Dovecot >= 1.2's quota usage table
-- (also used by the Dovecot switch), and the WARNINGs that end the step.
--
-- Every function pins search_path to pg_catalog, pg_temp and names each mail
-- object through its schema; existing mail tables are changed only through
-- vmm_upgrade._as_owner; what is created in the mail schema is handed over
-- to the owner of users (src/library/README.md).

-- ---------------------------------------------------------------------------
-- Dovecot >= 1.2's quota usage table
-- ---------------------------------------------------------------------------

-- Creates userquota in schema s (already quoted), empty and without its merge
-- trigger, so that a caller can fill it first.  The 0.5.2 -> 0.6 upgrade and
-- the Dovecot 1.1 -> 1.2 switch (dovecot-switch.sql) both use it, so they make the
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
    -- The runner's preflight (src/library/runner.sql) has made sure of the
    -- exact 0.5.2 layout, of a target variant that is no step back, and that
    -- the compatibility views do not come with a switch of the variant.
    src_sieve := CASE source WHEN '1.2' THEN 'sieve' ELSE 'managesieve' END;
    dst_sieve := CASE target_dovecot WHEN '1.2' THEN 'sieve' ELSE 'managesieve' END;
    lookups := EXISTS (SELECT FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname = mail_schema AND p.proname = ANY (old_functions));

    -- 0. Alias destinations with %n, %d or %=: plain text in 0.5.2, which
    --    vmm 0.6 expands (local part, domain, local=domain).  They are kept
    --    as they are; the DBA is told which (WARNING below, and the history).
    SELECT count(*), jsonb_agg(x.line ORDER BY x.line) FILTER (WHERE x.k <= 10)
      INTO n_placeholders, placeholders
      FROM (SELECT p.line, row_number() OVER (ORDER BY p.domainname, p.address, p.destination) AS k
              FROM vmm_upgrade._alias_placeholders(mail_schema) AS p) AS x;
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

-- The internal functions are for the scripts and the public functions,
-- not for everyone: they run with the caller's rights anyway, but nobody
-- else has a reason to call them.
REVOKE EXECUTE ON FUNCTION
    vmm_upgrade._create_userquota_table(text),
    vmm_upgrade._create_userquota_trigger(text),
    vmm_upgrade._upgrade_0_5_2_to_0_6(name, text),
    vmm_upgrade._client_queries(),
    vmm_upgrade._warn_next_steps(name)
FROM PUBLIC;
