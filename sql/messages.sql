--
-- The message convention (HELPERS.md "Conventions for SQL messages",
-- issue 9; PostgreSQL's error message style guide), checked on every
-- PL/pgSQL body the extension installs (pg_proc of schema vmm_upgrade):
--
--   * every RAISE (EXCEPTION, WARNING, NOTICE): a primary message that
--     starts with no capital letter, ends with no period, and names no step
--     ("ALTER EXTENSION ...", "(preflight)") and no function of the
--     extension, with no "name: " prefix (no "vmm_upgrade: ..."); where the
--     step matters, DETAIL says it;
--   * every RAISE EXCEPTION has an ERRCODE;
--   * DETAIL and HINT start as sentences do (no lower-case first letter of
--     the literal, of its format() or of a branch of its CASE); a DETAIL or
--     HINT that is one literal ends with a period (a HINT may end with the
--     command to type: ";", or a shell command);
--   * "Nothing was changed." is never in a HINT, and it is in the DETAIL of
--     every RAISE EXCEPTION of a function that can change anything
--     (VOLATILE, and not one of the few that only read), but for the
--     can't-happen errors (ERRCODE internal_error).
--
-- The checker runs on the extension (no rows: every message keeps the
-- convention) and on a schema with one planted violation of each rule (a
-- row each: the checker finds them).  The C messages: test/c-messages.sh.
--
CREATE DATABASE vmm_t_messages;
\c vmm_t_messages
\set SHOW_CONTEXT never
SET client_min_messages = error;
CREATE EXTENSION vmm_upgrade;
RESET client_min_messages;

-- The RAISE statements of the PL/pgSQL functions of schema nsp, and what in
-- each breaks the convention (one row per function, message and problem).
CREATE FUNCTION pg_temp.message_violations(nsp name)
RETURNS TABLE (function text, message text, problem text)
LANGUAGE plpgsql
AS $fn$
DECLARE
    f        record;
    m        text[];
    primary_ text;
    tok      text;
    depth    integer;
    opt      text;
    ctx      text;
    body     text;
    tag      text;
    at       integer;
    upto     integer;
    opts     jsonb;        -- option name -> {"first": [literals], "all": [literals], "single": bool}
    firsts   text[];
    lit      text;
    fnames   text := (SELECT string_agg(p.proname, '|') FROM pg_proc p WHERE p.pronamespace = nsp::regnamespace);
    errcode_ text;
    -- VOLATILE by default, but they only read
    read_only CONSTANT text[] := ARRAY['vmm_upgrade.check_0_6_0_defects(name)'];
BEGIN
    FOR f IN SELECT p.oid::regprocedure::text AS name, p.prosrc, p.provolatile
               FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
              WHERE p.pronamespace = nsp::regnamespace AND l.lanname = 'plpgsql'
              ORDER BY 1
    LOOP
        -- Dollar-quoted strings in a body are dynamic SQL (the mail
        -- schema's own code, e.g. a trigger the step creates): left out.
        body := f.prosrc;
        LOOP
            tag := substring(body FROM '\$[A-Za-z_]*\$');
            EXIT WHEN tag IS NULL;
            at := strpos(body, tag);
            upto := strpos(substr(body, at + length(tag)), tag);
            EXIT WHEN upto = 0;
            body := left(body, at - 1) || ' ' || substr(body, at + length(tag) + upto - 1 + length(tag));
        END LOOP;
        FOR m IN SELECT regexp_matches(body,
                     $re$RAISE\s+(EXCEPTION|WARNING|NOTICE|INFO)\s+'((?:[^']|'')*)'((?:'(?:[^']|'')*'|[^';])*);$re$, 'gi')
        LOOP
            function := f.name;
            primary_ := replace(m[2], '''''', '''');
            message := primary_;
            IF primary_ ~ '^[A-Z][a-z]' THEN
                problem := 'primary starts with a capital letter'; RETURN NEXT;
            END IF;
            IF primary_ ~ '\.$' THEN
                problem := 'primary ends with a period'; RETURN NEXT;
            END IF;
            IF primary_ ~ 'ALTER EXTENSION|\((pre|post)flight\)' THEN
                problem := 'primary names a step'; RETURN NEXT;
            END IF;
            IF primary_ ~ '^(%|[a-z_][a-z0-9_.]*): ' THEN
                problem := 'primary starts with a prefix or a context'; RETURN NEXT;
            END IF;
            IF primary_ ~ ('vmm_upgrade\.(' || fnames || ')\M|\m(' || fnames || ')\(') THEN
                problem := 'primary names a function of the extension'; RETURN NEXT;
            END IF;
            -- The USING options: the literals of each, at paren depth 0 of
            -- the statement: the first literal of the option's expression,
            -- of its format() and of each THEN/ELSE branch ("first"), and
            -- whether the expression is one literal ("single").
            opts := '{}';
            opt := NULL;
            depth := 0;
            ctx := '';
            errcode_ := NULL;
            FOR tok IN SELECT t[1] FROM regexp_matches(m[3], $re$('(?:[^']|'')*'|[(),]|[^'(),]+)$re$, 'g') AS t
            LOOP
                IF tok ~ '^''' THEN
                    IF opt IS NOT NULL THEN
                        lit := replace(substr(tok, 2, length(tok) - 2), '''''', '''');
                        opts := jsonb_set(opts, ARRAY[opt, 'all'], (opts #> ARRAY[opt, 'all']) || to_jsonb(lit));
                        IF (depth = 0 AND ctx ~* '(\m(then|else)|=)\s*[Ee]?$')
                           OR (depth = 1 AND ctx ~* '\mformat\s*\(\s*[Ee]?$') THEN
                            opts := jsonb_set(opts, ARRAY[opt, 'first'], (opts #> ARRAY[opt, 'first']) || to_jsonb(lit));
                        END IF;
                        IF opt = 'ERRCODE' THEN
                            errcode_ := lit;
                        END IF;
                    END IF;
                    ctx := right(ctx || 'L', 40);
                    CONTINUE;
                END IF;
                IF tok = '(' THEN
                    depth := depth + 1;
                ELSIF tok = ')' THEN
                    depth := depth - 1;
                ELSIF tok = ',' AND depth = 0 THEN
                    ctx := '';
                    CONTINUE;
                ELSIF depth = 0 AND tok ~* '\m(ERRCODE|DETAIL|HINT|MESSAGE)\s*=' THEN
                    -- the last option named in this piece starts here
                    opt := upper((regexp_match(tok, '(?i).*\m(ERRCODE|DETAIL|HINT|MESSAGE)\s*='))[1]);
                    tok := regexp_replace(tok, '(?i).*\m(ERRCODE|DETAIL|HINT|MESSAGE)\s*=', '=');
                    opts := opts || jsonb_build_object(opt, jsonb_build_object('first', '[]'::jsonb, 'all', '[]'::jsonb,
                                                                               'single', tok ~ '^=\s*[Ee]?\s*$'));
                    ctx := tok;
                    CONTINUE;
                END IF;
                IF opt IS NOT NULL AND tok !~ '^\s*[Ee]?\s*$' THEN
                    opts := jsonb_set(opts, ARRAY[opt, 'single'], 'false');
                END IF;
                ctx := right(ctx || tok, 40);
            END LOOP;
            IF upper(m[1]) = 'EXCEPTION' AND NOT opts ? 'ERRCODE' THEN
                problem := 'RAISE EXCEPTION without ERRCODE'; RETURN NEXT;
            END IF;
            FOREACH opt IN ARRAY ARRAY['DETAIL', 'HINT'] LOOP
                CONTINUE WHEN NOT opts ? opt;
                firsts := ARRAY(SELECT jsonb_array_elements_text(opts #> ARRAY[opt, 'first']));
                IF EXISTS (SELECT FROM unnest(firsts) AS x WHERE x ~ '^[a-z]') THEN
                    problem := initcap(opt) || ' does not start as a sentence'; RETURN NEXT;
                END IF;
                -- (a HINT may end with the SQL command to type, or with a
                -- shell command)
                lit := CASE opt WHEN 'HINT' THEN '[.;]$|: (vmm-cfg-upgrade|postfix|doveadm) [^\n]*$' ELSE '\.$' END;
                IF (opts #>> ARRAY[opt, 'single'])::boolean
                   AND NOT (opts #>> ARRAY[opt, 'all', '0']) ~ lit THEN
                    problem := initcap(opt) || ' does not end with a period'; RETURN NEXT;
                END IF;
            END LOOP;
            IF (opts #>> '{HINT,all}') ~ 'Nothing was changed' THEN
                problem := 'HINT says "Nothing was changed"'; RETURN NEXT;
            END IF;
            IF upper(m[1]) = 'EXCEPTION' AND f.provolatile = 'v' AND f.name <> ALL (read_only)
               AND errcode_ IS DISTINCT FROM 'internal_error'
               AND coalesce((opts #>> '{DETAIL,all}') !~ 'Nothing was changed\.', true) THEN
                problem := 'refusal without "Nothing was changed." in DETAIL'; RETURN NEXT;
            END IF;
        END LOOP;
    END LOOP;
END
$fn$;

-- The extension: every message keeps the convention.
SELECT * FROM pg_temp.message_violations('vmm_upgrade');

-- The checker finds each kind of violation: one planted function per rule
-- (and one that keeps them all, which gives no row).
CREATE SCHEMA planted;
CREATE FUNCTION planted.capital() RETURNS void LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'Schema "%" is wrong', 'x' USING ERRCODE = 'data_exception', DETAIL = 'Nothing was changed.'; END $$;
CREATE FUNCTION planted.period() RETURNS void LANGUAGE plpgsql AS $$
BEGIN RAISE WARNING 'schema "%" is wrong.', 'x'; END $$;
CREATE FUNCTION planted.step() RETURNS void LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'ALTER EXTENSION vmm_upgrade UPDATE TO ''0.6'' (preflight): schema is wrong'
      USING ERRCODE = 'data_exception', DETAIL = 'Nothing was changed.'; END $$;
CREATE FUNCTION planted.prefix() RETURNS void LANGUAGE plpgsql AS $$
BEGIN RAISE WARNING 'vmm_upgrade: schema "%" is wrong', 'x'; END $$;
CREATE FUNCTION planted.named() RETURNS void LANGUAGE plpgsql AS $$
BEGIN RAISE WARNING 'schema is wrong, says named()'; END $$;
CREATE FUNCTION planted.no_errcode() RETURNS void LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'schema is wrong' USING DETAIL = 'Nothing was changed.'; END $$;
CREATE FUNCTION planted.lower_detail() RETURNS void LANGUAGE plpgsql AS $$
BEGIN RAISE WARNING 'schema is wrong' USING DETAIL = format('it is %s.', 'x'), HINT = 'Fix it.'; END $$;
CREATE FUNCTION planted.no_period() RETURNS void LANGUAGE plpgsql AS $$
BEGIN RAISE WARNING 'schema is wrong' USING DETAIL = 'It is wrong', HINT = 'Fix it: SELECT 1;'; END $$;
CREATE FUNCTION planted.hint_nothing() RETURNS void LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'schema is wrong' USING ERRCODE = 'data_exception', DETAIL = 'It is wrong. Nothing was changed.',
      HINT = CASE WHEN true THEN 'Nothing was changed. Fix it.' ELSE 'Fix it.' END; END $$;
CREATE FUNCTION planted.no_nothing() RETURNS void LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'schema is wrong' USING ERRCODE = 'data_exception', DETAIL = 'It is wrong.'; END $$;
CREATE FUNCTION planted.fine() RETURNS void LANGUAGE plpgsql STABLE AS $$
BEGIN
    RAISE EXCEPTION 'schema "%" is wrong', 'x'
        USING ERRCODE = 'data_exception',
              DETAIL = format(E'%s found it wrong (%s).\nIt stays so.', 'The preflight of ALTER EXTENSION vmm_upgrade UPDATE', 'x'),
              HINT = CASE WHEN true THEN 'Fix it, then run: SELECT planted.fine();' ELSE format('Fix %s.', 'it') END;
    RAISE EXCEPTION 'cannot happen' USING ERRCODE = 'internal_error';
END $$;
SELECT * FROM pg_temp.message_violations('planted');

\c postgres
DROP DATABASE vmm_t_messages;
