-- runner.sql: the one runner of every step.  Every update script
-- (src/scripts/update-S--T.sql) and every public step function
-- (upgrade_dovecot_layout(), replace_lookup_functions(),
-- drop_compatibility_views()) is one call of vmm_upgrade._run_step(step),
-- which does, in this order and nowhere else:
--
--   1. the preflight (_step_preflight, also what preview() runs): the source
--      layout exactly (require_layout), nothing on the mail tables that
--      makes the step unsafe (_require_safe_tables), the step's own
--      refusals; an ERROR here changes nothing;
--   2. the step's locks, up front (_lock_for_update);
--   3. the work (the step's function, returning what it did as jsonb);
--   4. the grants;
--   5. the postflight: the target layout exactly, or the whole step rolls
--      back;
--   6. the history row (vmm_upgrade._record, its one writer; README "The
--      history" says what each column means);
--   7. the WARNINGs that tell the DBA what is left to do.
--
-- A new step is one row of _steps() and one branch per phase below, plus its
-- work function in the step's own file.
--
-- Every function pins search_path to pg_catalog, pg_temp and names each mail
-- object through its schema (src/library/README.md).

-- ---------------------------------------------------------------------------
-- The steps
-- ---------------------------------------------------------------------------

-- One row per step: its name (the update script's versions, or the public
-- function's name), the layouts it goes from and to, as the history records
-- them (NULL: the layout the installed version names; the step changes the
-- Dovecot variant or the code, not the layout), and the command that runs
-- it, as the messages name it.
CREATE FUNCTION vmm_upgrade._steps(OUT name text, OUT from_version text, OUT to_version text,
                                   OUT what text)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
    VALUES ('0.4--0.5.2',               '0.4',        '0.5.2', 'ALTER EXTENSION vmm_upgrade UPDATE TO ''0.5.2'''),
           ('0.5.2--0.6',               '0.5.2',      '0.6',   'ALTER EXTENSION vmm_upgrade UPDATE TO ''0.6'''),
           ('0.6.0--0.6',               '0.6.0',      '0.6',   'ALTER EXTENSION vmm_upgrade UPDATE TO ''0.6'''),
           ('0.6--0.5.2',               '0.6',        '0.5.2', 'ALTER EXTENSION vmm_upgrade UPDATE TO ''0.5.2'''),
           ('upgrade_dovecot_layout',   NULL,         NULL,    'vmm_upgrade.upgrade_dovecot_layout()'),
           ('replace_lookup_functions', NULL,         NULL,    'vmm_upgrade.replace_lookup_functions()'),
           ('drop_compatibility_views', '0.6+compat', '0.6',   'vmm_upgrade.drop_compatibility_views()')
$fn$;

-- ---------------------------------------------------------------------------
-- 1. The preflight (also preview()'s): changes nothing, takes no lock
--    stronger than a read
-- ---------------------------------------------------------------------------

-- Refuses, with nothing changed, what the step must not run on.  Returns
-- what it found for the later phases: mail_schema, from_dovecot (the
-- variant found), to_dovecot (the variant the step makes), lookups, and for
-- the downgrade discarded (the counts of what it will lose).
CREATE FUNCTION vmm_upgrade._step_preflight(step text, mail_schema name)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    what      text := (SELECT st.what FROM vmm_upgrade._steps() AS st WHERE st.name = step);
    layout    record;
    target    text;
    discarded jsonb;
BEGIN
    IF what IS NULL THEN
        RAISE EXCEPTION 'unknown step "%"', step
            USING ERRCODE = 'internal_error';
    END IF;
    SELECT * INTO layout FROM vmm_upgrade.detect_layout(mail_schema);
    CASE step
    WHEN '0.4--0.5.2' THEN
        -- The mail schema holds exactly the 0.4 layout, of either form (0.4
        -- as released, or 0.4-r41); a bad vmm_upgrade.dovecot_version stops
        -- us now; rules, row-level security, logical replication or other
        -- roles' code on tables a superuser owns make the update unsafe; an
        -- alias address longer than 0.5.2 keeps cannot be carried (the rows
        -- are named).
        PERFORM vmm_upgrade.require_layout('0.4', NULL, mail_schema, 'the preflight of ' || what);
        target := vmm_upgrade._target_dovecot('1.1');
        PERFORM vmm_upgrade._require_safe_tables(mail_schema, what);
        PERFORM vmm_upgrade._require_aliases_fit_0_5_2(mail_schema);
    WHEN '0.5.2--0.6' THEN
        -- Exactly the 0.5.2 layout (either Dovecot variant, with or without
        -- the optional lookups): 0.6 already, a half-applied upgrade, a
        -- dropped column, ... are an ERROR listing the deviations.  The
        -- target variant is checked here too, and what would make the
        -- update unsafe on the mail tables.
        PERFORM vmm_upgrade.require_layout('0.5.2', NULL, mail_schema, 'the preflight of ' || what);
        target := vmm_upgrade._target_dovecot(layout.dovecot);
        PERFORM vmm_upgrade._require_safe_tables(mail_schema, what);
        -- The compatibility views (vmm_upgrade.compatibility_views) cannot
        -- come with a switch of the variant: Dovecot's 0.5.2 password_query
        -- names the sieve flag as the source variant does, and a view with
        -- the target's name would not answer it.
        IF vmm_upgrade._compatibility_views_wanted() AND layout.dovecot <> target THEN
            RAISE EXCEPTION 'cannot keep the 0.5.2 views while switching to the Dovecot % variant', target
                USING ERRCODE = 'feature_not_supported',
                      DETAIL = format('Dovecot''s 0.5.2 password_query reads column %s of view dovecot_password, which the Dovecot %s variant calls %s. Nothing was changed.',
                                      CASE layout.dovecot WHEN '1.2' THEN 'sieve' ELSE 'managesieve' END, target,
                                      CASE target WHEN '1.2' THEN 'sieve' ELSE 'managesieve' END),
                      HINT = 'Update with the variant kept, and switch it once the 0.5.2 views are dropped: RESET vmm_upgrade.dovecot_version; ALTER EXTENSION vmm_upgrade UPDATE; then, once Postfix and Dovecot run the 0.6 queries, SELECT vmm_upgrade.drop_compatibility_views(); SELECT vmm_upgrade.upgrade_dovecot_layout();';
        END IF;
    WHEN '0.6.0--0.6' THEN
        -- Exactly the 0.6 layout (either variant; the 0.6.0 defects are not
        -- deviations of it), and safe tables.
        PERFORM vmm_upgrade.require_layout('0.6', NULL, mail_schema, 'the preflight of ' || what);
        PERFORM vmm_upgrade._require_safe_tables(mail_schema, what);
        target := layout.dovecot;
    WHEN '0.6--0.5.2' THEN
        -- Exactly the 0.6 layout (either variant), safe tables, and no data
        -- 0.5.2 cannot hold, unless the DBA accepts to lose it
        -- (vmm_upgrade.downgrade_discard): the counts of what goes are kept
        -- for the history.
        PERFORM vmm_upgrade.require_layout('0.6', NULL, mail_schema, 'the preflight of ' || what);
        PERFORM vmm_upgrade._require_safe_tables(mail_schema, what);
        discarded := vmm_upgrade._require_downgradable(mail_schema, vmm_upgrade._downgrade_discard_setting(), what);
        target := layout.dovecot;
    WHEN 'upgrade_dovecot_layout' THEN
        -- Exactly the 0.6 layout of the Dovecot < 1.2 variant; the two
        -- usual mistakes get their own message.
        IF layout.version = '0.6' AND layout.dovecot = '1.2' THEN
            RAISE EXCEPTION 'schema "%" already holds the Dovecot >= 1.2 variant of the vmm 0.6 layout', mail_schema
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'There is nothing to switch: service_set has the column sieve and the quota table is userquota. Nothing was changed.';
        END IF;
        IF layout.version = '0.5.2' THEN
            RAISE EXCEPTION 'schema "%" holds the vmm 0.5.2 layout, not 0.6', mail_schema
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'Nothing was changed.',
                      HINT = 'Upgrade to 0.6 and to the Dovecot >= 1.2 variant in one step: SET vmm_upgrade.dovecot_version = ''<the first word of dovecot --version>''; ALTER EXTENSION vmm_upgrade UPDATE;';
        END IF;
        PERFORM vmm_upgrade.require_layout('0.6', '1.1', mail_schema, 'the preflight of ' || what);
        PERFORM vmm_upgrade._require_safe_tables(mail_schema, what);
        target := '1.2';
    WHEN 'replace_lookup_functions' THEN
        -- Exactly the 0.6 layout (either variant); only functions and types
        -- are replaced, no table is changed.
        PERFORM vmm_upgrade.require_layout('0.6', NULL, mail_schema, 'the preflight of ' || what);
        target := layout.dovecot;
    WHEN 'drop_compatibility_views' THEN
        -- Exactly 0.6 with the compatibility views (layout 0.6+compat).
        PERFORM vmm_upgrade.require_layout('0.6+compat', NULL, mail_schema, 'the preflight of ' || what);
        target := layout.dovecot;
    END CASE;
    RETURN jsonb_build_object('mail_schema', mail_schema, 'from_dovecot', layout.dovecot,
                              'to_dovecot', target, 'lookups', layout.lookups)
           || CASE WHEN discarded IS NULL THEN '{}'::jsonb
                   ELSE jsonb_build_object('discarded', discarded) END;
END
$fn$;

-- ---------------------------------------------------------------------------
-- The runner
-- ---------------------------------------------------------------------------

-- Runs one step (a name of _steps()) on the mail schema (setting
-- vmm_upgrade.schema, default public) and returns what its work did (jsonb,
-- with "granted" for a step that grants).  One transaction with its caller:
-- an ERROR in any phase leaves nothing changed.
CREATE FUNCTION vmm_upgrade._run_step(step text)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    mail_schema name := vmm_upgrade.mail_schema();
    st       record;
    started  timestamptz;
    pre      jsonb;
    r        jsonb;
    users    bigint;
    domains  bigint;
    details  jsonb;
BEGIN
    SELECT * INTO st FROM vmm_upgrade._steps() AS x WHERE x.name = step;
    -- An ALTER EXTENSION step starts with the statement (both steps of a
    -- 0.4 -> 0.6 update share it); a function's with its call.
    started := CASE WHEN st.what LIKE 'ALTER EXTENSION %' THEN statement_timestamp()
                    ELSE clock_timestamp() END;

    -- 0. READ COMMITTED only: at REPEATABLE READ or SERIALIZABLE the
    --    transaction's snapshot is taken before the step has its locks, so
    --    what a vmm writer commits while the step waits for them would not
    --    be seen by the step's one pass over the data, and would be lost
    --    (the 0.5.2 -> 0.6 step drops the old users after copying it).
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'the transaction isolation level must be READ COMMITTED'
            USING ERRCODE = 'invalid_transaction_state',
                  DETAIL = format('%s runs at isolation level %s, whose snapshot is taken before the step has its locks: a write committed while it waits for them would be lost. Nothing was changed.',
                                  st.what, upper(current_setting('transaction_isolation'))),
                  HINT = 'Run the step outside an explicit transaction, or in one begun with: BEGIN ISOLATION LEVEL READ COMMITTED;';
    END IF;

    -- 1. Preflight.
    pre := vmm_upgrade._step_preflight(step, mail_schema);

    -- 2. Locks, up front and once, in short attempts
    --    (vmm_upgrade.lock_wait_attempt) so that lookups never queue long
    --    behind the step; past vmm_upgrade.lock_wait_total an ERROR names
    --    the sessions in the way, and nothing is changed.
    CASE step
    WHEN '0.5.2--0.6' THEN
        -- users, domain_data and maillocation, EXCLUSIVE, in the order
        -- vmm's writers lock them (a table, then what its foreign keys
        -- reference): writers wait, lookups go on, while the step builds
        -- the 0.6 users beside the old one.  The 0.5.2 views and these
        -- tables get ACCESS EXCLUSIVE only in the step's short exclusive
        -- part at its end (_lock_exclusive); postfix_gid stays and reads
        -- domain_name only, which is never locked.
        PERFORM vmm_upgrade._lock_for_update(mail_schema,
            ARRAY['users', 'domain_data', 'maillocation'], st.what);
    WHEN 'drop_compatibility_views' THEN
        -- The views it drops, as the update took them.
        PERFORM vmm_upgrade._lock_for_update(mail_schema,
            ARRAY(SELECT c.view::text
                    FROM vmm_upgrade._compatibility_view_definitions(mail_schema, pre->>'from_dovecot') AS c),
            st.what);
    ELSE
        NULL;	-- the other steps take their locks as they change a table
    END CASE;

    -- 3. The work.  Everything created in the mail schema is owned by the
    --    owner of users and belongs to the mail system, not to this
    --    extension.
    CASE step
    -- vmm's update_tables_0.4.x-0.5.pgsql (and its Dovecot 1.2 file when
    -- vmm_upgrade.dovecot_version says so): domains splits into domain_data
    -- and domain_name, the keys get their 0.5.2 names, alias addresses
    -- narrow to 64 characters, users.smpt of 0.4 as released becomes smtp,
    -- the views are made anew (with dovecot_password, without
    -- vmm_alias_count), and the primary-name trigger arrives.
    WHEN '0.4--0.5.2' THEN
        r := vmm_upgrade._upgrade_0_4_to_0_5_2(mail_schema, pre->>'to_dovecot');
    -- vmm's update_tables_0.5.x-0.6*.pgsql: service flags become service
    -- sets, transports equal to the domain's are inherited, maillocation
    -- becomes directory + mailbox format, quota limits, catch-all, notes,
    -- the 0.5.2 views and optional lookups replaced by the 0.6 types and
    -- lookup functions; a Dovecot < 1.2 database moves to the 1.2 variant in
    -- the same step when vmm_upgrade.dovecot_version says so.
    WHEN '0.5.2--0.6' THEN
        r := vmm_upgrade._upgrade_0_5_2_to_0_6(mail_schema, pre->>'to_dovecot');
    -- The fixes of vmm 0.6.1 for the defects of vmm 0.6.0: accounts on the
    -- transport row named "domain" inherit their domain's transport, and
    -- dovecotpassword() (with every other lookup function) is ours.
    WHEN '0.6.0--0.6' THEN
        r := vmm_upgrade._fix_0_6_0(mail_schema);
    -- Every account gets its effective services and transport, the 0.6
    -- tables, columns, types and functions go, the 0.5.2 views (and, when
    -- asked or had before, the optional lookup functions) come back.
    WHEN '0.6--0.5.2' THEN
        r := vmm_upgrade._downgrade_0_6_to_0_5_2(mail_schema, vmm_upgrade._downgrade_lookups(mail_schema));
    -- managesieve becomes sieve, userquota_11 gives way to userquota (the
    -- usage carried over), the lookup functions are rebuilt.
    WHEN 'upgrade_dovecot_layout' THEN
        r := vmm_upgrade._switch_dovecot_1_2(mail_schema);
    -- Our bodies for the lookup functions and types.
    WHEN 'replace_lookup_functions' THEN
        r := jsonb_build_object('mail_schema', mail_schema, 'dovecot', pre->>'from_dovecot',
                                'dovecotpassword_before', vmm_upgrade._dovecotpassword_defect(mail_schema));
        r := r || jsonb_build_object('objects_replaced',
                                     vmm_upgrade._replace_lookups(mail_schema, pre->>'from_dovecot'));
    -- The compatibility views go (no CASCADE).
    WHEN 'drop_compatibility_views' THEN
        r := vmm_upgrade._drop_compatibility_views(mail_schema, pre->>'from_dovecot');
    END CASE;

    -- 4. The grants.  A role that does not exist gets a WARNING with what to
    --    run once it does.
    CASE step
    WHEN '0.4--0.5.2' THEN
        -- As vmm 0.5.2 has them: SELECT on the dovecot_* views for
        -- vmm_upgrade.dovecot_role and on the postfix_* views for
        -- vmm_upgrade.postfix_role, nothing more; privileges of other roles
        -- on the 0.4 views are not carried over (a WARNING lists them).
        r := r || jsonb_build_object('granted',
                      vmm_upgrade._grant_0_5_2(mail_schema, r->'view_privileges_not_carried'));
    WHEN '0.5.2--0.6' THEN
        -- vmm's set-permissions.py: the two roles get exactly what they
        -- need, column by column, and lose CREATE on the mail schema.  An
        -- ERROR when a setting names the owner of the mail tables, or when
        -- Postfix could still read a password by any way (a grant to PUBLIC
        -- or to a group role of 0.5.2 times, ...).
        r := r || jsonb_build_object('granted', vmm_upgrade._grant_configured_roles(mail_schema));
    WHEN '0.6--0.5.2' THEN
        -- The grants of vmm 0.5.2: SELECT on the views, the 0.6 grants taken
        -- back.
        r := r || jsonb_build_object('granted', to_jsonb(vmm_upgrade._downgrade_grants(mail_schema)));
    ELSE
        NULL;	-- the privileges of what is replaced are carried by the work
    END CASE;

    -- 5. Postflight: exactly the target layout of the target variant, or
    --    the whole step is rolled back.
    CASE step
    WHEN '0.4--0.5.2', '0.6--0.5.2' THEN
        PERFORM vmm_upgrade.require_layout('0.5.2', r->>'to_dovecot', mail_schema, 'the postflight of ' || st.what);
    WHEN '0.5.2--0.6' THEN
        -- With vmm_upgrade.compatibility_views on: 0.6 plus the 0.5.2 views.
        PERFORM vmm_upgrade.require_layout(
            CASE WHEN r ? 'compatibility_views' THEN '0.6+compat' ELSE '0.6' END,
            r->>'to_dovecot', mail_schema, 'the postflight of ' || st.what);
    WHEN '0.6.0--0.6', 'upgrade_dovecot_layout', 'replace_lookup_functions' THEN
        -- and the lookup functions are ours (dovecotpassword() gives an
        -- account with a NULL ssid its domain's services).
        PERFORM vmm_upgrade._require_lookups_ok(mail_schema, pre->>'to_dovecot', 'the postflight of ' || st.what);
    WHEN 'drop_compatibility_views' THEN
        PERFORM vmm_upgrade.require_layout('0.6', pre->>'to_dovecot', mail_schema, 'the postflight of ' || st.what);
    END CASE;

    -- 6. The history row: what the step changed (users_changed,
    --    domains_changed) and what it found or did (details, "step" naming
    --    the kind of step).
    CASE step
    WHEN '0.4--0.5.2' THEN
        -- No account changes; every domain does.
        users := 0;
        domains := (r->>'domains')::bigint;
        details := r || jsonb_build_object('step', 'update');
    WHEN '0.5.2--0.6' THEN
        users := (r->>'users')::bigint;
        domains := (r->>'domains')::bigint;
        details := r || jsonb_build_object('step', 'update');
    WHEN '0.6.0--0.6' THEN
        users := (r->>'users_transport_domain_fixed')::bigint;
        domains := 0;
        details := r || jsonb_build_object('step', 'update');
    WHEN '0.6--0.5.2' THEN
        users := (r->>'users')::bigint;
        domains := (r->>'domains')::bigint;
        details := r || jsonb_build_object('step', 'downgrade', 'discarded', pre->'discarded');
    WHEN 'upgrade_dovecot_layout' THEN
        users := (r->>'quota_accounts_carried')::bigint;
        domains := 0;
        details := jsonb_build_object('step', step) || (r - 'mail_schema' - 'quota_paths_not_carried' - 'acl_carried');
    WHEN 'replace_lookup_functions' THEN
        users := 0;
        domains := 0;
        details := jsonb_build_object('step', step) || (r - 'mail_schema' - 'dovecot');
    WHEN 'drop_compatibility_views' THEN
        details := jsonb_build_object('step', step) || (r - 'mail_schema');
    END CASE;
    PERFORM vmm_upgrade._record(mail_schema,
        coalesce(st.from_version, vmm_upgrade._installed_version()),
        coalesce(st.to_version, vmm_upgrade._installed_version()),
        coalesce(r->>'from_dovecot', pre->>'from_dovecot'), coalesce(r->>'to_dovecot', pre->>'to_dovecot'),
        started, users, domains, details);

    -- 7. What is left for the DBA to do.
    CASE step
    WHEN '0.4--0.5.2' THEN
        PERFORM vmm_upgrade._warn_next_steps_0_5_2(r);
    WHEN '0.5.2--0.6' THEN
        -- Postfix and Dovecot switch to the 0.6 queries before the services
        -- start again.
        PERFORM vmm_upgrade._warn_next_steps(mail_schema);
    WHEN '0.6.0--0.6' THEN
        PERFORM vmm_upgrade._warn_0_6_0_fixed(r);
    WHEN '0.6--0.5.2' THEN
        -- The 0.5.2 queries for Postfix and Dovecot.
        PERFORM vmm_upgrade._warn_downgrade_next_steps(mail_schema, r);
    WHEN 'upgrade_dovecot_layout' THEN
        PERFORM vmm_upgrade._warn_dovecot_switched(r);
    WHEN 'drop_compatibility_views' THEN
        PERFORM vmm_upgrade._warn_compatibility_sessions(r);
    ELSE
        NULL;
    END CASE;
    RETURN r;
END
$fn$;

REVOKE EXECUTE ON FUNCTION
    vmm_upgrade._steps(),
    vmm_upgrade._step_preflight(text, name),
    vmm_upgrade._run_step(text)
FROM PUBLIC;
