-- The index access method and its operator classes: L2, inner product and cosine on
-- int8vec (queried with an int8vec or a real[]) and on int4vec (with an int4vec or a
-- real[]; rescored from the 4-bit codes), Hamming on bitvec, and labels on int4, int8, text
-- and uuid. L2 and
-- Hamming are the defaults, as in pgvector.
CREATE ACCESS METHOD quantvec TYPE INDEX HANDLER quantvec_amhandler;
COMMENT ON ACCESS METHOD quantvec IS 'inverted lists over binary codes with int8 rescoring';

CREATE OPERATOR CLASS int8vec_l2_ops DEFAULT FOR TYPE int8vec USING quantvec AS
    OPERATOR 1 <-> (int8vec, int8vec) FOR ORDER BY float_ops,
    OPERATOR 2 <-> (int8vec, real[]) FOR ORDER BY float_ops,
    FUNCTION 1 (int8vec, int8vec) quantvec_metric_l2();

CREATE OPERATOR CLASS int8vec_ip_ops FOR TYPE int8vec USING quantvec AS
    OPERATOR 1 <#> (int8vec, int8vec) FOR ORDER BY float_ops,
    OPERATOR 2 <#> (int8vec, real[]) FOR ORDER BY float_ops,
    FUNCTION 1 (int8vec, int8vec) quantvec_metric_inner_product();

CREATE OPERATOR CLASS int8vec_cosine_ops FOR TYPE int8vec USING quantvec AS
    OPERATOR 1 <=> (int8vec, int8vec) FOR ORDER BY float_ops,
    OPERATOR 2 <=> (int8vec, real[]) FOR ORDER BY float_ops,
    FUNCTION 1 (int8vec, int8vec) quantvec_metric_cosine();

CREATE OPERATOR CLASS int4vec_l2_ops DEFAULT FOR TYPE int4vec USING quantvec AS
    OPERATOR 1 <-> (int4vec, int4vec) FOR ORDER BY float_ops,
    OPERATOR 2 <-> (int4vec, real[]) FOR ORDER BY float_ops,
    FUNCTION 1 (int4vec, int4vec) quantvec_metric_int4vec_l2();

CREATE OPERATOR CLASS int4vec_ip_ops FOR TYPE int4vec USING quantvec AS
    OPERATOR 1 <#> (int4vec, int4vec) FOR ORDER BY float_ops,
    OPERATOR 2 <#> (int4vec, real[]) FOR ORDER BY float_ops,
    FUNCTION 1 (int4vec, int4vec) quantvec_metric_int4vec_inner_product();

CREATE OPERATOR CLASS int4vec_cosine_ops FOR TYPE int4vec USING quantvec AS
    OPERATOR 1 <=> (int4vec, int4vec) FOR ORDER BY float_ops,
    OPERATOR 2 <=> (int4vec, real[]) FOR ORDER BY float_ops,
    FUNCTION 1 (int4vec, int4vec) quantvec_metric_int4vec_cosine();

CREATE OPERATOR CLASS bitvec_hamming_ops DEFAULT FOR TYPE bitvec USING quantvec AS
    OPERATOR 1 <~> (bitvec, bitvec) FOR ORDER BY float_ops,
    FUNCTION 1 (bitvec, bitvec) quantvec_metric_hamming();

-- A label column after the vector, (e, label): `WHERE label = v` (or `= ANY(...)`, with an
-- int4, int2 or int8 v) filters inside the scan, before a row is estimated.
CREATE OPERATOR CLASS int4_label_ops DEFAULT FOR TYPE int4 USING quantvec AS
    OPERATOR 1 = (int4, int4),
    OPERATOR 2 = (int4, int2),
    OPERATOR 3 = (int4, int8),
    FUNCTION 1 (int4, int4) quantvec_label_int4();

-- Labels of other types are stored as their 32-bit hash under the type's hash function
-- (FUNCTION 2, one per right-hand type); rows whose value merely shares the hash are
-- dropped by the executor's recheck.
CREATE OPERATOR CLASS int8_label_ops DEFAULT FOR TYPE int8 USING quantvec AS
    OPERATOR 1 = (int8, int8),
    OPERATOR 2 = (int8, int4),
    OPERATOR 3 = (int8, int2),
    FUNCTION 1 (int8, int8) quantvec_label_hashed(),
    FUNCTION 2 (int8, int8) hashint8(int8),
    FUNCTION 2 (int8, int4) hashint4(int4),
    FUNCTION 2 (int8, int2) hashint2(int2);

CREATE OPERATOR CLASS text_label_ops DEFAULT FOR TYPE text USING quantvec AS
    OPERATOR 1 = (text, text),
    FUNCTION 1 (text, text) quantvec_label_hashed(),
    FUNCTION 2 (text, text) hashtext(text);

CREATE OPERATOR CLASS uuid_label_ops DEFAULT FOR TYPE uuid USING quantvec AS
    OPERATOR 1 = (uuid, uuid),
    FUNCTION 1 (uuid, uuid) quantvec_label_hashed(),
    FUNCTION 2 (uuid, uuid) uuid_hash(uuid);

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
