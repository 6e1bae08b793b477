//! Tests of the glue inside a running server: values through the SQL types' I/O functions,
//! casts and operators, compared with the pure layer's results.

use pgrx::prelude::*;

#[pg_schema]
mod tests {
    use pgrx::prelude::*;
    use quantvec_core::int8::Int8Vector;
    use quantvec_core::kernels;

    fn one<T: IntoDatum + FromDatum>(query: &str) -> T {
        Spi::get_one::<T>(query).expect("query runs").expect("not NULL")
    }

    fn array_literal(values: &[f32]) -> String {
        let items: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
        format!("'{{{}}}'::real[]", items.join(","))
    }

    /// A deterministic, varied vector (no RNG crate in the glue).
    fn sample_vector(seed: u32, dims: usize) -> Vec<f32> {
        (0..dims).map(|i| ((seed as f32 * 12.9898 + i as f32 * 78.233).sin() * 43758.547).fract() - 0.5).collect()
    }

    #[pg_test]
    fn text_and_binary_round_trips_are_byte_identical() {
        for (seed, dims) in [(1, 1), (2, 7), (3, 384), (4, 1536), (5, 16_000)] {
            let v = array_literal(&sample_vector(seed, dims));
            let same_text: bool = one(&format!("SELECT int8vec_send(x::text::int8vec) = int8vec_send(x) FROM (SELECT {v}::int8vec x) s"));
            assert!(same_text, "text round trip at {dims} dims");
            let same_bits: bool = one(&format!("SELECT bitvec_send(x::text::bitvec) = bitvec_send(x) FROM (SELECT bitvec_quantize({v}) x) s"));
            assert!(same_bits, "bitvec text round trip at {dims} dims");
        }
    }

    #[pg_test]
    fn sql_quantization_matches_the_core() {
        let values = sample_vector(9, 384);
        let text: String = one(&format!("SELECT ({}::int8vec)::text", array_literal(&values)));
        assert_eq!(text, Int8Vector::quantize_minmax(&values).unwrap().view().to_text());
    }

    #[pg_test]
    fn distances_agree_between_kernel_sets() {
        let (a, b) = (array_literal(&sample_vector(1, 1000)), array_literal(&sample_vector(2, 1000)));
        // Integer-domain distances only: L1 between vectors of different scales is a float
        // kernel, whose summation order differs between kernel sets.
        let query = format!(
            "SELECT ARRAY[{a}::int8vec <-> {b}::int8vec, {a}::int8vec <#> {b}::int8vec, {a}::int8vec <=> {b}::int8vec,
                          int8vec_quantize({a}, 0.01, 0) <+> int8vec_quantize({b}, 0.01, 0),
                          bitvec_quantize({a}) <~> bitvec_quantize({b}), bitvec_quantize({a}) <%> bitvec_quantize({b})]::float8[]"
        );
        Spi::run("SET quantvec.simd = 'scalar'").unwrap();
        assert_eq!(one::<String>("SELECT quantvec_simd()"), "scalar");
        let scalar: Vec<f64> = one::<Vec<f64>>(&query);
        Spi::run("SET quantvec.simd = 'auto'").unwrap();
        assert_eq!(one::<String>("SELECT quantvec_simd()"), kernels::default_isa().name());
        let best: Vec<f64> = one::<Vec<f64>>(&query);
        // Integer-domain kernels are exact, so every kernel set gives the same bits.
        assert_eq!(scalar, best);
    }

    #[cfg(target_arch = "x86_64")]
    #[pg_test(error = "invalid value for parameter \"quantvec.simd\": \"neon\"")]
    fn unsupported_kernel_sets_are_refused() {
        Spi::run("SET quantvec.simd = 'neon'").unwrap();
    }

    #[pg_test(error = "expected 3 dimensions for int8vec, not 2")]
    fn typmod_is_enforced_on_cast() {
        Spi::run("SELECT '{1,2}'::real[]::int8vec(3)").unwrap();
    }

    #[pg_test(error = "NaN not allowed in int8vec (element 2)")]
    fn nan_is_rejected() {
        Spi::run("SELECT '{1,NaN}'::real[]::int8vec").unwrap();
    }
}
