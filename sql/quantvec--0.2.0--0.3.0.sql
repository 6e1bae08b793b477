-- quantvec 0.2.0 -> 0.3.0: online migration that never fails the application's writes
-- (values it cannot convert leave the new column NULL and are counted in
-- quantvec_migrations.unconverted), checks everything before it changes anything, and
-- qualifies what it looks up with the extension's schema. Index pages are unchanged
-- (format version 1; the metapage's centroid exponent is 0 in indexes built before).
-- A migration in flight keeps its 0.2.0 trigger (which fails writes it cannot convert)
-- until quantvec_migrate is CALLed again: objects made by this script would belong to the
-- extension.
\echo Use "ALTER EXTENSION quantvec UPDATE TO '0.3.0'" to load this file. \quit

ALTER TABLE quantvec_migrations ADD COLUMN unconverted bigint NOT NULL DEFAULT 0;
COMMENT ON COLUMN quantvec_migrations.unconverted IS 'rows whose source value could not be converted (their target is NULL), as of the last fill or swap';

-- The conversion function and trigger of a migration, (re)created at each CALL in the
-- extension's schema: the function returns NULL for a value it cannot convert.
CREATE FUNCTION quantvec_migrate_prepare(job @extschema@.quantvec_migrations) RETURNS void
LANGUAGE plpgsql AS $function$
DECLARE
    base text := pg_catalog.btrim(pg_catalog.lower(pg_catalog.split_part(job.target_type, '(', 1)));
    source_type text;
    convert_function name := pg_catalog.format('quantvec_migrate_%s_%s_convert', job.relation::oid, job.target);
    trigger_function name := pg_catalog.format('quantvec_migrate_%s_%s', job.relation::oid, job.target);
    conversion text;
    old_trigger_function regprocedure;
BEGIN
    SELECT pg_catalog.format_type(a.atttypid, NULL) INTO source_type
      FROM pg_catalog.pg_attribute a WHERE a.attrelid = job.relation AND a.attname = job.source AND NOT a.attisdropped;
    conversion := CASE base WHEN 'bitvec' THEN '@extschema@.bitvec_quantize(($1)::real[])::@extschema@.' || job.target_type
                            ELSE '(($1)::real[])::@extschema@.' || job.target_type END;
    EXECUTE pg_catalog.format($f$CREATE OR REPLACE FUNCTION @extschema@.%I(%s) RETURNS @extschema@.%s
        LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $body$
        BEGIN
            RETURN %s;
        EXCEPTION WHEN data_exception OR program_limit_exceeded THEN
            RETURN NULL;
        END
        $body$$f$, convert_function, source_type, job.target_type, conversion);
    EXECUTE pg_catalog.format($f$CREATE OR REPLACE FUNCTION @extschema@.%I() RETURNS trigger
        LANGUAGE plpgsql AS $body$
        BEGIN
            NEW.%I := @extschema@.%I(NEW.%I);
            RETURN NEW;
        END
        $body$$f$, trigger_function, job.target, convert_function, job.source);
    -- A migration started by an earlier version may have its trigger function elsewhere.
    SELECT t.tgfoid::regprocedure INTO old_trigger_function
      FROM pg_catalog.pg_trigger t WHERE t.tgrelid = job.relation AND t.tgname = trigger_function;
    EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS %I ON %s', trigger_function, job.relation);
    IF old_trigger_function IS NOT NULL AND old_trigger_function <> pg_catalog.format('@extschema@.%I()', trigger_function)::regprocedure THEN
        EXECUTE pg_catalog.format('DROP FUNCTION %s', old_trigger_function);
    END IF;
    EXECUTE pg_catalog.format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE OF %I ON %s FOR EACH ROW EXECUTE FUNCTION @extschema@.%I()',
                              trigger_function, job.source, job.relation, trigger_function);
END
$function$;
COMMENT ON FUNCTION quantvec_migrate_prepare IS 'internal to quantvec_migrate';

CREATE OR REPLACE PROCEDURE quantvec_migrate(
    relation regclass,
    source name,
    target name,
    target_type text DEFAULT NULL,
    batch_blocks integer DEFAULT 1000,
    index_ops text DEFAULT NULL,
    swap boolean DEFAULT false
) LANGUAGE plpgsql AS $procedure$
DECLARE
    job @extschema@.quantvec_migrations;
    parsed text[];
    dims integer;
    source_dims integer;
    done bigint;
    failed bigint;
    batch_end bigint;
    convert_function name := pg_catalog.format('quantvec_migrate_%s_%s_convert', relation::oid, target);
    trigger_function name := pg_catalog.format('quantvec_migrate_%s_%s', relation::oid, target);
    unconverted_rows text;
BEGIN
    IF batch_blocks IS NULL OR batch_blocks < 1 THEN
        RAISE EXCEPTION 'batch_blocks must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF index_ops IS NOT NULL AND NOT EXISTS (SELECT FROM pg_catalog.pg_opclass c JOIN pg_catalog.pg_am a ON a.oid = c.opcmethod
                                              WHERE a.amname = 'quantvec' AND c.opcname = index_ops) THEN
        RAISE EXCEPTION 'index_ops must name a quantvec operator class, not %', index_ops USING ERRCODE = 'invalid_parameter_value',
            HINT = 'one of: ' || (SELECT string_agg(c.opcname, ', ' ORDER BY c.opcname) FROM pg_catalog.pg_opclass c
                                    JOIN pg_catalog.pg_am a ON a.oid = c.opcmethod WHERE a.amname = 'quantvec');
    END IF;
    SELECT * INTO job FROM @extschema@.quantvec_migrations m WHERE m.relation = quantvec_migrate.relation AND m.target = quantvec_migrate.target;
    IF NOT FOUND THEN
        -- Start. Everything is checked before anything changes; then the column, the
        -- trigger that keeps rows written from now on converted, and the progress row are
        -- made in one transaction (adding the column waits for writers that began before,
        -- so none can slip past the trigger).
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = relation AND a.attname = source AND a.attnum > 0 AND NOT a.attisdropped) THEN
            RAISE EXCEPTION 'column % of % does not exist', pg_catalog.quote_ident(source), relation USING ERRCODE = 'undefined_column';
        END IF;
        IF EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = relation AND a.attname = target AND a.attnum > 0 AND NOT a.attisdropped) THEN
            RAISE EXCEPTION 'column % of % already exists', pg_catalog.quote_ident(target), relation USING ERRCODE = 'duplicate_column';
        END IF;
        EXECUTE pg_catalog.format('SELECT pg_catalog.cardinality((%I)::real[]) FROM %s WHERE %I IS NOT NULL LIMIT 1', source, relation, source) INTO source_dims;
        parsed := pg_catalog.regexp_match(coalesce(target_type, 'int8vec'), '^\s*(int8vec|bitvec)\s*(?:\(\s*(\d{1,5})\s*\))?\s*$', 'i');
        IF parsed IS NULL THEN
            RAISE EXCEPTION 'target_type must be int8vec(n) or bitvec(n), not %', target_type USING ERRCODE = 'invalid_parameter_value';
        END IF;
        dims := coalesce(parsed[2]::integer, source_dims);
        IF dims IS NULL THEN
            RAISE EXCEPTION 'column % of % has no vectors to take dimensions from; pass target_type', pg_catalog.quote_ident(source), relation
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF source_dims IS NOT NULL AND source_dims <> dims THEN
            RAISE EXCEPTION 'column % of % holds vectors of % dimensions, but target_type has %', pg_catalog.quote_ident(source), relation, source_dims, dims
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        target_type := pg_catalog.format('%s(%s)', pg_catalog.lower(parsed[1]), dims);
        EXECUTE pg_catalog.format('ALTER TABLE %s ADD COLUMN %I @extschema@.%s', relation, target, target_type);
        INSERT INTO @extschema@.quantvec_migrations (relation, source, target, target_type, total_blocks)
        VALUES (relation, source, target, target_type, pg_catalog.pg_relation_size(relation) / current_setting('block_size')::bigint)
        RETURNING * INTO job;
        PERFORM @extschema@.quantvec_migrate_prepare(job);
        RAISE NOTICE 'quantvec_migrate: converting %.% to % in %, % blocks', relation, source, target_type, target, job.total_blocks;
        COMMIT;
    ELSIF job.state <> 'swapped' THEN
        -- Resume, with this version's conversion and trigger.
        PERFORM @extschema@.quantvec_migrate_prepare(job);
        COMMIT;
    END IF;

    WHILE job.state = 'filling' AND job.next_block < job.total_blocks LOOP
        batch_end := least(job.next_block + batch_blocks, job.total_blocks);
        EXECUTE pg_catalog.format('WITH batch AS (UPDATE %s SET %I = @extschema@.%I(%I) WHERE ctid >= %L::tid AND ctid < %L::tid AND %I IS NULL AND %I IS NOT NULL RETURNING %I)
                                   SELECT count(*), count(*) FILTER (WHERE %I IS NULL) FROM batch',
                                  job.relation, job.target, convert_function, job.source,
                                  pg_catalog.format('(%s,0)', job.next_block), pg_catalog.format('(%s,0)', batch_end), job.target, job.source, job.target, job.target)
            INTO done, failed;
        UPDATE @extschema@.quantvec_migrations m SET next_block = batch_end, converted = m.converted + done - failed, updated = now()
         WHERE m.relation = job.relation AND m.target = job.target RETURNING * INTO job;
        RAISE NOTICE 'quantvec_migrate: % of % blocks, % rows converted', job.next_block, job.total_blocks, job.converted;
        COMMIT;
    END LOOP;

    IF job.state = 'filling' THEN
        -- Rows that moved behind the scan (updated before the trigger saw them) get a last
        -- pass; what still cannot be converted is counted.
        EXECUTE pg_catalog.format('WITH batch AS (UPDATE %s SET %I = @extschema@.%I(%I) WHERE %I IS NULL AND %I IS NOT NULL RETURNING %I)
                                   SELECT count(*), count(*) FILTER (WHERE %I IS NULL) FROM batch',
                                  job.relation, job.target, convert_function, job.source, job.target, job.source, job.target, job.target)
            INTO done, failed;
        UPDATE @extschema@.quantvec_migrations m SET state = 'filled', converted = m.converted + done - failed, unconverted = failed, updated = now()
         WHERE m.relation = job.relation AND m.target = job.target RETURNING * INTO job;
        RAISE NOTICE 'quantvec_migrate: filled, % rows converted, % could not be', job.converted, job.unconverted;
        COMMIT;
    END IF;

    IF index_ops IS NOT NULL THEN
        EXECUTE pg_catalog.format('CREATE INDEX IF NOT EXISTS %I ON %s USING quantvec (%I @extschema@.%I)',
                                  pg_catalog.format('%s_%s_idx', (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = job.relation), job.target),
                                  job.relation, job.target, index_ops);
        RAISE NOTICE 'quantvec_migrate: index built';
        COMMIT;
    END IF;

    IF swap AND job.state = 'filled' THEN
        -- The converted column takes the float column's name; the float column is kept as
        -- <name>_float until you drop it. Rows whose value could not be converted are
        -- reported (their converted column is NULL).
        EXECUTE pg_catalog.format('SELECT count(*), string_agg(ctid::text, '' '') FILTER (WHERE n <= 10)
                                     FROM (SELECT ctid, row_number() OVER () AS n FROM %s WHERE %I IS NULL AND %I IS NOT NULL) u',
                                  job.relation, job.target, job.source)
            INTO failed, unconverted_rows;
        IF failed > 0 THEN
            RAISE WARNING 'quantvec_migrate: % rows of % could not be converted; their % is NULL', failed, job.relation, pg_catalog.quote_ident(job.source)
                USING DETAIL = 'rows (ctid): ' || unconverted_rows || CASE WHEN failed > 10 THEN ' ...' ELSE '' END,
                      HINT = pg_catalog.format('SELECT * FROM %s WHERE %I IS NULL AND %I IS NOT NULL lists them after the swap',
                                               job.relation, job.source, job.source || '_float');
        END IF;
        EXECUTE pg_catalog.format('DROP TRIGGER %I ON %s', trigger_function, job.relation);
        EXECUTE pg_catalog.format('DROP FUNCTION @extschema@.%I()', trigger_function);
        EXECUTE pg_catalog.format('ALTER TABLE %s RENAME COLUMN %I TO %I', job.relation, job.source, job.source || '_float');
        EXECUTE pg_catalog.format('ALTER TABLE %s RENAME COLUMN %I TO %I', job.relation, job.target, job.source);
        EXECUTE pg_catalog.format('DROP FUNCTION @extschema@.%I', convert_function);
        UPDATE @extschema@.quantvec_migrations m SET state = 'swapped', unconverted = failed, updated = now()
         WHERE m.relation = job.relation AND m.target = job.target;
        RAISE NOTICE 'quantvec_migrate: % is now the converted column; the floats are in %', job.source, job.source || '_float';
        COMMIT;
    END IF;
END
$procedure$;
COMMENT ON PROCEDURE quantvec_migrate IS 'convert a float column to int8vec or bitvec in committed batches; CALL again to resume';


-- A quantvec index needs its column's dimensions: ALTER COLUMN ... TYPE int8vec (without
-- them) would keep the index and leave it impossible to rebuild on an empty table, so it is
-- refused, with what to do instead.
CREATE FUNCTION quantvec_check_dimensions() RETURNS event_trigger
LANGUAGE plpgsql AS $function$
DECLARE
    refused record;
BEGIN
    FOR refused IN
        SELECT DISTINCT i.indexrelid::regclass AS index, a.attname, i.indrelid::regclass AS tab
          FROM pg_catalog.pg_event_trigger_ddl_commands() c
          JOIN pg_catalog.pg_index i ON i.indrelid = c.objid
          JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
          JOIN pg_catalog.pg_am am ON am.oid = ic.relam AND am.amname = 'quantvec'
          JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
         WHERE c.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND a.atttypmod < 0
    LOOP
        RAISE EXCEPTION 'column % of % would have no dimensions, which its quantvec index % needs', pg_catalog.quote_ident(refused.attname), refused.tab, refused.index
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'keep them (e.g. TYPE int8vec(384)), or drop the index first';
    END LOOP;
END
$function$;
COMMENT ON FUNCTION quantvec_check_dimensions() IS 'refuses ALTER TABLE that leaves a quantvec index on a column without dimensions';
CREATE EVENT TRIGGER quantvec_check_dimensions ON ddl_command_end WHEN TAG IN ('ALTER TABLE')
    EXECUTE FUNCTION quantvec_check_dimensions();
