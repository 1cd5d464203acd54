-- dovecot-switch.sql: upgrade_dovecot_layout(), the Dovecot < 1.2 -> >= 1.2
-- switch within 0.6, carrying the quota usage over.  One statement: it
-- checks the layout before and after and records itself in the history.
--
-- Every function pins search_path to pg_catalog, pg_temp and names each mail
-- object through its schema; existing mail tables are changed only through
-- vmm_upgrade._as_owner; what is created in the mail schema is handed over
-- to the owner of users (src/library/README.md).

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
-- changing nothing.  Atomic, checked after, recorded in vmm_upgrade.history:
-- one step of the runner (src/library/runner.sql).
--   SELECT vmm_upgrade.upgrade_dovecot_layout();
CREATE FUNCTION vmm_upgrade.upgrade_dovecot_layout()
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r jsonb := vmm_upgrade._run_step('upgrade_dovecot_layout');
    accounts bigint := (r->>'quota_accounts_carried')::bigint;
BEGIN
    RETURN format('switched schema "%s" to the Dovecot >= 1.2 variant: quota usage of %s account%s carried (%s bytes, %s messages), %s lookup functions and types rebuilt',
                  r->>'mail_schema', accounts, CASE WHEN accounts = 1 THEN '' ELSE 's' END,
                  r->>'quota_bytes_carried', r->>'quota_messages_carried', r->>'objects_replaced');
END
$fn$;

-- The work of upgrade_dovecot_layout() on <mail_schema> (the runner has
-- checked that it holds exactly the 0.6 layout of the Dovecot < 1.2
-- variant).  Returns what it did: the quota usage carried (the history's
-- details), the paths not carried and whether privileges were (for the
-- WARNING), the objects replaced.
CREATE FUNCTION vmm_upgrade._switch_dovecot_1_2(mail_schema name)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s        text := quote_ident(mail_schema);
    owner    name := vmm_upgrade._users_owner(mail_schema);
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
    -- Dovecot must not add to userquota_11 while its rows are carried over.
    EXECUTE format('LOCK TABLE %s.userquota_11 IN ACCESS EXCLUSIVE MODE', s);
    SELECT c.relacl, c.relowner INTO q_acl, q_owner
      FROM pg_class c WHERE c.oid = (s || '.userquota_11')::regclass;

    -- Nothing of the DBA's may depend on what goes (no CASCADE).
    PERFORM vmm_upgrade._require_no_dependents(
        ARRAY['pg_class', 'pg_proc']::regclass[],
        ARRAY[(s || '.userquota_11')::regclass::oid, (s || '.merge_userquota_11()')::regprocedure::oid],
        format('switching schema "%s" to the Dovecot >= 1.2 variant', mail_schema));

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
    --    0.5.2 -> 0.6 upgrade (step-0.5.2-0.6.sql): an insert for a uid that has a
    --    row adds bytes and messages to it.
    PERFORM vmm_upgrade._create_userquota_trigger(s);
    PERFORM vmm_upgrade._hand_over('TABLE', s || '.userquota', owner);
    PERFORM vmm_upgrade._hand_over('FUNCTION', s || '.merge_userquota()', owner);
    -- Whoever could use userquota_11 (Dovecot) can use userquota.
    PERFORM vmm_upgrade._restore_acl('TABLE', s || '.userquota', q_acl, q_owner);

    -- 5. The dovecotpassword type (sieve) and the lookup functions, ours.
    replaced := vmm_upgrade._replace_lookups(mail_schema, '1.2');

    RETURN jsonb_build_object('mail_schema', mail_schema,
                              'quota_accounts_carried', accounts,
                              'quota_bytes_carried', bytes,
                              'quota_messages_carried', messages,
                              'quota_rows_not_carried', skipped,
                              'quota_paths_not_carried', skipped_paths,
                              'acl_carried', q_acl IS NOT NULL,
                              'objects_replaced', replaced);
END
$fn$;

-- The WARNING that ends the switch: what was carried, and what Dovecot needs.
CREATE FUNCTION vmm_upgrade._warn_dovecot_switched(result jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    accounts bigint := (result->>'quota_accounts_carried')::bigint;
    skipped  bigint := (result->>'quota_rows_not_carried')::bigint;
BEGIN
    RAISE WARNING 'schema "%" now holds the Dovecot >= 1.2 variant; the quota usage of % account% was carried from userquota_11 to userquota: % bytes, % messages in all',
        result->>'mail_schema', accounts, CASE WHEN accounts = 1 THEN '' ELSE 's' END,
        result->>'quota_bytes_carried', result->>'quota_messages_carried'
        USING DETAIL = CASE WHEN skipped > 0
                            THEN format('%s userquota_11 row%s with other paths (%s) %s not carried: Dovecot >= 1.2 keeps only bytes and messages.',
                                        skipped, CASE WHEN skipped = 1 THEN '' ELSE 's' END,
                                        result->>'quota_paths_not_carried',
                                        CASE WHEN skipped = 1 THEN 'was' ELSE 'were' END)
                            ELSE 'Every userquota_11 row was carried (paths quota/storage and quota/messages).' END,
              HINT = format('Point Dovecot''s dict quota map at table userquota (fields bytes and messages, key uid%s) and make sure its role may write it: SELECT * FROM vmm_upgrade.set_permissions(%L, %L);',
                            CASE WHEN (result->>'acl_carried')::boolean THEN '; the privileges on userquota_11 were carried over to it' ELSE '' END,
                            vmm_upgrade._configured_role('dovecot'), vmm_upgrade._configured_role('postfix'));
END
$fn$;

REVOKE EXECUTE ON FUNCTION
    vmm_upgrade._switch_dovecot_1_2(name),
    vmm_upgrade._warn_dovecot_switched(jsonb)
FROM PUBLIC;
