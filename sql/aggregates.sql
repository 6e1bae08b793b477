-- Column-level calibration and per-dimension means.

CREATE AGGREGATE int8vec_calibrate(real[]) (
    SFUNC = int8vec_calibrate_minmax_step,
    STYPE = internal,
    FINALFUNC = int8vec_calibrate_minmax_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE int8vec_calibrate(real[]) IS 'shared int8vec parameters from the min and max of every component';

CREATE AGGREGATE int8vec_calibrate(real[], double precision, double precision) (
    SFUNC = int8vec_calibrate_quantile_step,
    STYPE = internal,
    FINALFUNC = int8vec_calibrate_quantile_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE int8vec_calibrate(real[], double precision, double precision) IS 'shared int8vec parameters from two quantiles of the components (outliers clipped)';

CREATE AGGREGATE dimension_means(real[]) (
    SFUNC = dimension_means_step,
    STYPE = internal,
    FINALFUNC = dimension_means_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE dimension_means(real[]) IS 'per-dimension mean of float vectors, e.g. thresholds for bitvec_quantize';

-- The same states, finished into 4-bit parameters.
CREATE AGGREGATE int4vec_calibrate(real[]) (
    SFUNC = int8vec_calibrate_minmax_step,
    STYPE = internal,
    FINALFUNC = int4vec_calibrate_minmax_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE int4vec_calibrate(real[]) IS 'shared int4vec parameters from the min and max of every component';

CREATE AGGREGATE int4vec_calibrate(real[], double precision, double precision) (
    SFUNC = int8vec_calibrate_quantile_step,
    STYPE = internal,
    FINALFUNC = int4vec_calibrate_quantile_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE int4vec_calibrate(real[], double precision, double precision) IS 'shared int4vec parameters from two quantiles of the components (outliers clipped)';
