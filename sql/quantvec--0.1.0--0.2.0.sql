-- quantvec 0.1.0 -> 0.2.0: equality and hash support for int8vec and bitvec, the quality
-- report, and online migration. Index pages are unchanged (format version 1).
\echo Use "ALTER EXTENSION quantvec UPDATE TO '0.2.0'" to load this file. \quit

CREATE  FUNCTION "int8vec_eq"(
	"a" int8vec, /* Int8VecInput */
	"b" int8vec /* Int8VecInput */
) RETURNS bool /* bool */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int8vec_eq_wrapper';

CREATE  FUNCTION "int8vec_ne"(
	"a" int8vec, /* Int8VecInput */
	"b" int8vec /* Int8VecInput */
) RETURNS bool /* bool */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int8vec_ne_wrapper';

CREATE  FUNCTION "int8vec_hash"(
	"a" int8vec /* Int8VecInput */
) RETURNS INT /* i32 */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'int8vec_hash_wrapper';

CREATE  FUNCTION "bitvec_eq"(
	"a" bitvec, /* BitVecInput */
	"b" bitvec /* BitVecInput */
) RETURNS bool /* bool */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'bitvec_eq_wrapper';

CREATE  FUNCTION "bitvec_ne"(
	"a" bitvec, /* BitVecInput */
	"b" bitvec /* BitVecInput */
) RETURNS bool /* bool */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'bitvec_ne_wrapper';

CREATE  FUNCTION "bitvec_hash"(
	"a" bitvec /* BitVecInput */
) RETURNS INT /* i32 */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'bitvec_hash_wrapper';

CREATE  FUNCTION "quantvec_quality_report"(
	"table" regclass, /* pgrx :: PgRelation */
	"column" TEXT, /* & str */
	"sample_rows" INT DEFAULT 2000, /* i32 */
	"queries" INT DEFAULT 100, /* i32 */
	"distance" TEXT DEFAULT 'cosine' /* & str */
) RETURNS TABLE (
	"representation" TEXT,  /* String */
	"candidates" INT,  /* Option < i32 > */
	"recall_at_10" double precision,  /* f64 */
	"bytes_per_vector" INT,  /* i32 */
	"estimated_table_bytes" bigint,  /* i64 */
	"estimated_index_bytes" bigint  /* Option < i64 > */
)
STRICT VOLATILE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'quantvec_quality_report_wrapper';

CREATE OPERATOR = (LEFTARG = int8vec, RIGHTARG = int8vec, FUNCTION = int8vec_eq, COMMUTATOR = '=', NEGATOR = '<>',
                   RESTRICT = eqsel, JOIN = eqjoinsel, HASHES);
CREATE OPERATOR <> (LEFTARG = int8vec, RIGHTARG = int8vec, FUNCTION = int8vec_ne, COMMUTATOR = '<>', NEGATOR = '=',
                    RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR CLASS int8vec_hash_ops DEFAULT FOR TYPE int8vec USING hash AS
    OPERATOR 1 = (int8vec, int8vec), FUNCTION 1 int8vec_hash(int8vec);
CREATE OPERATOR = (LEFTARG = bitvec, RIGHTARG = bitvec, FUNCTION = bitvec_eq, COMMUTATOR = '=', NEGATOR = '<>',
                   RESTRICT = eqsel, JOIN = eqjoinsel, HASHES);
CREATE OPERATOR <> (LEFTARG = bitvec, RIGHTARG = bitvec, FUNCTION = bitvec_ne, COMMUTATOR = '<>', NEGATOR = '=',
                    RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR CLASS bitvec_hash_ops DEFAULT FOR TYPE bitvec USING hash AS
    OPERATOR 1 = (bitvec, bitvec), FUNCTION 1 bitvec_hash(bitvec);

-- Online migration of a float column (real[], float8[], numeric[] or pgvector's vector) to
-- int8vec or bitvec: a new column filled in batches that each commit, so no lock is held
-- for long; a trigger converts rows written meanwhile; progress in quantvec_migrations;
-- interrupt it at any point (cancel, crash) and CALL it again to resume.

CREATE TABLE quantvec_migrations (
    relation regclass NOT NULL,
    source name NOT NULL,
    target name NOT NULL,
    target_type text NOT NULL,
    total_blocks bigint NOT NULL,
    next_block bigint NOT NULL DEFAULT 0,
    converted bigint NOT NULL DEFAULT 0,
    state text NOT NULL DEFAULT 'filling' CHECK (state IN ('filling', 'filled', 'swapped')),
    started timestamptz NOT NULL DEFAULT now(),
    updated timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (relation, target)
);
COMMENT ON TABLE quantvec_migrations IS 'progress of quantvec_migrate: one row per column being converted';
SELECT pg_catalog.pg_extension_config_dump('quantvec_migrations', '');

CREATE PROCEDURE quantvec_migrate(
    relation regclass,
    source name,
    target name,
    target_type text DEFAULT NULL,
    batch_blocks integer DEFAULT 1000,
    index_ops text DEFAULT NULL,
    swap boolean DEFAULT false
) LANGUAGE plpgsql AS $procedure$
DECLARE
    job quantvec_migrations;
    conversion text;
    trigger_function text;
    dims integer;
    done bigint;
    batch_end bigint;
BEGIN
    IF batch_blocks < 1 THEN
        RAISE EXCEPTION 'batch_blocks must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO job FROM quantvec_migrations m WHERE m.relation = quantvec_migrate.relation AND m.target = quantvec_migrate.target;
    IF NOT FOUND THEN
        -- Start: the column, the trigger that keeps rows written from now on converted, and
        -- the progress row, in one transaction (adding the column waits for writers that
        -- began before, so none can slip past the trigger).
        IF target_type IS NULL THEN
            EXECUTE format('SELECT cardinality((%I)::real[]) FROM %s WHERE %I IS NOT NULL LIMIT 1', source, relation, source) INTO dims;
            IF dims IS NULL THEN
                RAISE EXCEPTION 'column % of % has no vectors to take dimensions from; pass target_type', source, relation
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            target_type := format('int8vec(%s)', dims);
        END IF;
        IF target_type NOT LIKE 'int8vec%' AND target_type NOT LIKE 'bitvec%' THEN
            RAISE EXCEPTION 'target_type must be int8vec(n) or bitvec(n), not %', target_type USING ERRCODE = 'invalid_parameter_value';
        END IF;
        EXECUTE format('ALTER TABLE %s ADD COLUMN %I %s', relation, target, target_type);
        trigger_function := format('quantvec_migrate_%s_%s', relation::oid, target);
        conversion := CASE WHEN target_type LIKE 'bitvec%'
                           THEN format('bitvec_quantize((NEW.%I)::real[])::%s', source, target_type)
                           ELSE format('(NEW.%I)::real[]::%s', source, target_type) END;
        EXECUTE format($f$CREATE FUNCTION %I() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN NEW.%I := %s; RETURN NEW; END'$f$,
                       trigger_function, target, replace(conversion, '''', ''''''));
        EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE OF %I ON %s FOR EACH ROW EXECUTE FUNCTION %I()',
                       trigger_function, source, relation, trigger_function);
        INSERT INTO quantvec_migrations (relation, source, target, target_type, total_blocks)
        VALUES (relation, source, target, target_type, pg_relation_size(relation) / current_setting('block_size')::bigint)
        RETURNING * INTO job;
        RAISE NOTICE 'quantvec_migrate: converting %.% to % in %, % blocks', relation, source, target_type, target, job.total_blocks;
        COMMIT;
    END IF;

    conversion := CASE WHEN job.target_type LIKE 'bitvec%'
                       THEN format('bitvec_quantize((%I)::real[])::%s', job.source, job.target_type)
                       ELSE format('(%I)::real[]::%s', job.source, job.target_type) END;
    WHILE job.state = 'filling' AND job.next_block < job.total_blocks LOOP
        batch_end := least(job.next_block + batch_blocks, job.total_blocks);
        EXECUTE format('UPDATE %s SET %I = %s WHERE ctid >= %L::tid AND ctid < %L::tid AND %I IS NULL AND %I IS NOT NULL',
                       job.relation, job.target, conversion,
                       format('(%s,0)', job.next_block), format('(%s,0)', batch_end), job.target, job.source);
        GET DIAGNOSTICS done = ROW_COUNT;
        UPDATE quantvec_migrations m SET next_block = batch_end, converted = m.converted + done, updated = now()
         WHERE m.relation = job.relation AND m.target = job.target RETURNING * INTO job;
        RAISE NOTICE 'quantvec_migrate: % of % blocks, % rows converted', job.next_block, job.total_blocks, job.converted;
        COMMIT;
    END LOOP;

    IF job.state = 'filling' THEN
        -- Rows that moved behind the scan (updated before the trigger saw them) get a last pass.
        EXECUTE format('UPDATE %s SET %I = %s WHERE %I IS NULL AND %I IS NOT NULL',
                       job.relation, job.target, conversion, job.target, job.source);
        GET DIAGNOSTICS done = ROW_COUNT;
        UPDATE quantvec_migrations m SET state = 'filled', converted = m.converted + done, updated = now()
         WHERE m.relation = job.relation AND m.target = job.target RETURNING * INTO job;
        RAISE NOTICE 'quantvec_migrate: filled, % rows converted', job.converted;
        COMMIT;
    END IF;

    IF index_ops IS NOT NULL THEN
        EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING quantvec (%I %s)',
                       format('%s_%s_idx', (SELECT relname FROM pg_class WHERE oid = job.relation), job.target), job.relation, job.target, index_ops);
        RAISE NOTICE 'quantvec_migrate: index built';
        COMMIT;
    END IF;

    IF swap AND job.state = 'filled' THEN
        -- The converted column takes the float column's name; the float column is kept as
        -- <name>_float until you drop it.
        trigger_function := format('quantvec_migrate_%s_%s', job.relation::oid, job.target);
        EXECUTE format('DROP TRIGGER %I ON %s', trigger_function, job.relation);
        EXECUTE format('DROP FUNCTION %I()', trigger_function);
        EXECUTE format('ALTER TABLE %s RENAME COLUMN %I TO %I', job.relation, job.source, job.source || '_float');
        EXECUTE format('ALTER TABLE %s RENAME COLUMN %I TO %I', job.relation, job.target, job.source);
        UPDATE quantvec_migrations m SET state = 'swapped', updated = now()
         WHERE m.relation = job.relation AND m.target = job.target;
        RAISE NOTICE 'quantvec_migrate: % is now the converted column; the floats are in %', job.source, job.source || '_float';
        COMMIT;
    END IF;
END
$procedure$;
COMMENT ON PROCEDURE quantvec_migrate IS 'convert a float column to int8vec or bitvec in committed batches; CALL again to resume';
