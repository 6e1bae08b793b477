-- Casts. Float arrays quantize per vector (min/max) on assignment, so INSERTs of arrays
-- into int8vec columns just work; numeric[] goes through double precision[].

CREATE FUNCTION int8vec_from_numeric(numeric[], integer, boolean) RETURNS int8vec
    AS 'SELECT int8vec_from_float8($1::double precision[], $2, $3)'
    LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;

CREATE CAST (real[] AS int8vec) WITH FUNCTION int8vec_from_real(real[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (double precision[] AS int8vec) WITH FUNCTION int8vec_from_float8(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (numeric[] AS int8vec) WITH FUNCTION int8vec_from_numeric(numeric[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (int8vec AS real[]) WITH FUNCTION int8vec_to_real(int8vec);

CREATE CAST (int8vec AS bitvec) WITH FUNCTION bitvec_from_int8vec(int8vec);
CREATE CAST (real[] AS bitvec) WITH FUNCTION bitvec_from_real(real[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (varbit AS bitvec) WITH FUNCTION bitvec_from_varbit(varbit, integer, boolean) AS ASSIGNMENT;
CREATE CAST (bit AS bitvec) WITH FUNCTION bitvec_from_varbit(varbit, integer, boolean) AS ASSIGNMENT;
CREATE CAST (bitvec AS varbit) WITH FUNCTION bitvec_to_varbit(bitvec) AS ASSIGNMENT;
CREATE CAST (bitvec AS bit) WITH FUNCTION bitvec_to_varbit(bitvec) AS ASSIGNMENT;

-- Quantization with calibrated parameters (see int8vec_calibrate) and from int2 codes.
CREATE FUNCTION int8vec_quantize(real[], int8vec_params) RETURNS int8vec
    AS 'SELECT int8vec_quantize($1, ($2).scale, ($2).zero_point)'
    LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION int8vec_from_codes(smallint[], real, integer) RETURNS int8vec
    AS 'SELECT int8vec_from_codes($1::integer[], $2, $3)'
    LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;

-- int4vec: the same casts as int8vec, plus exact int4vec -> int8vec (same codes and
-- parameters) and int8vec -> int4vec (requantized per vector, so explicit only).
CREATE FUNCTION int4vec_from_numeric(numeric[], integer, boolean) RETURNS int4vec
    AS 'SELECT int4vec_from_float8($1::double precision[], $2, $3)'
    LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;

CREATE CAST (real[] AS int4vec) WITH FUNCTION int4vec_from_real(real[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (double precision[] AS int4vec) WITH FUNCTION int4vec_from_float8(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (numeric[] AS int4vec) WITH FUNCTION int4vec_from_numeric(numeric[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (int4vec AS real[]) WITH FUNCTION int4vec_to_real(int4vec);
CREATE CAST (int4vec AS int8vec) WITH FUNCTION int8vec_from_int4vec(int4vec) AS ASSIGNMENT;
CREATE CAST (int8vec AS int4vec) WITH FUNCTION int4vec_from_int8vec(int8vec, integer, boolean);
CREATE CAST (int4vec AS bitvec) WITH FUNCTION bitvec_from_int4vec(int4vec);

CREATE FUNCTION int4vec_quantize(real[], int4vec_params) RETURNS int4vec
    AS 'SELECT int4vec_quantize($1, ($2).scale, ($2).zero_point)'
    LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION int4vec_from_codes(smallint[], real, integer) RETURNS int4vec
    AS 'SELECT int4vec_from_codes($1::integer[], $2, $3)'
    LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;
