//! Aggregates over float vectors (declared in sql/aggregates.sql): shared int8 or int4
//! parameters for a column, and per-dimension means for bitvec thresholds.

use pgrx::datum::Internal;
use pgrx::prelude::*;
use pgrx::PgMemoryContexts;
use quantvec_core::bits;
use quantvec_core::calibrate::{Means, MinMax, Quantiles};
use quantvec_core::int4;
use quantvec_core::int8::Params;
use quantvec_core::ErrorKind;

use crate::arrays::RealArray;
use crate::error::{raise_with, OrRaise};

/// The state behind an aggregate's `internal` argument, created on the first row in the
/// aggregate's memory context (which outlives the per-row contexts and drops it at the end).
fn agg_state<T>(state: &mut Internal, fcinfo: pg_sys::FunctionCallInfo, init: impl FnOnce() -> T) -> &mut T {
    let mut context = std::ptr::null_mut();
    // SAFETY: fcinfo is this call's own; AggCheckCallContext only reads it.
    if unsafe { pg_sys::AggCheckCallContext(fcinfo, &mut context) } == 0 {
        raise_with(ErrorKind::InvalidParameter, "aggregate transition function called outside an aggregate");
    }
    // SAFETY: a non-NULL state of this transition function is always the T created below.
    if unsafe { state.get::<T>() }.is_none() {
        let created = PgMemoryContexts::For(context).leak_and_drop_on_delete(init());
        *state = Internal::from(Some(pg_sys::Datum::from(created)));
    }
    // SAFETY: as above; the state was just created if it was missing.
    unsafe { state.get_mut::<T>() }.expect("state exists")
}

/// Parameters as an `int8vec_params` or `int4vec_params` row (`type_name`): the type beside
/// the calling function, in the extension's schema, which need not be on the search_path.
fn params_tuple(type_name: &std::ffi::CStr, scale: f32, zero_point: i16, fcinfo: pg_sys::FunctionCallInfo) -> PgHeapTuple<'static, AllocatedByRust> {
    // SAFETY: fcinfo is this call's.
    let type_oid = sibling_type(unsafe { (*(*fcinfo).flinfo).fn_oid }, type_name);
    let mut tuple = PgHeapTuple::new_composite_type_by_oid(type_oid)
        .unwrap_or_else(|e| raise_with(ErrorKind::InvalidParameter, format!("{}: {e}", type_name.to_string_lossy())));
    tuple.set_by_name("scale", scale).expect("scale is a real");
    tuple.set_by_name("zero_point", zero_point).expect("zero_point is a smallint");
    tuple
}

fn int8_params(range: Option<(f32, f32)>, fcinfo: pg_sys::FunctionCallInfo) -> Option<pgrx::composite_type!('static, "int8vec_params")> {
    let params = Params::from_range(range?.0, range?.1);
    Some(params_tuple(c"int8vec_params", params.scale, i16::from(params.zero_point), fcinfo))
}

fn int4_params(range: Option<(f32, f32)>, fcinfo: pg_sys::FunctionCallInfo) -> Option<pgrx::composite_type!('static, "int4vec_params")> {
    let params = int4::Params::from_range(range?.0, range?.1);
    Some(params_tuple(c"int4vec_params", params.scale, i16::from(params.zero_point), fcinfo))
}

/// The type named `name` in the schema of function `function` (what
/// `get_function_sibling_type` does, which older minor releases such as 16.2 lack).
fn sibling_type(function: pg_sys::Oid, name: &std::ffi::CStr) -> pg_sys::Oid {
    // SAFETY: catalog lookups by value; both return InvalidOid when nothing is found.
    let type_oid = unsafe {
        let schema = pg_sys::get_func_namespace(function);
        pg_sys::GetSysCacheOid(
            pg_sys::SysCacheIdentifier::TYPENAMENSP as i32,
            pg_sys::Anum_pg_type_oid as pg_sys::AttrNumber,
            pg_sys::Datum::from(name.as_ptr()),
            pg_sys::Datum::from(schema),
            pg_sys::Datum::from(0),
            pg_sys::Datum::from(0),
        )
    };
    if type_oid == pg_sys::InvalidOid {
        raise_with(ErrorKind::InvalidParameter, format!("type {} is missing from the extension's schema", name.to_string_lossy()));
    }
    type_oid
}

#[pg_extern(immutable, parallel_safe)]
fn int8vec_calibrate_minmax_step(mut state: Internal, values: Option<RealArray>, fcinfo: pg_sys::FunctionCallInfo) -> Internal {
    let calibrator = agg_state(&mut state, fcinfo, MinMax::default);
    if let Some(values) = values {
        calibrator.add(values.0).or_raise();
    }
    state
}

#[pg_extern(immutable, parallel_safe)]
fn int8vec_calibrate_minmax_final(state: Internal, fcinfo: pg_sys::FunctionCallInfo) -> Option<pgrx::composite_type!('static, "int8vec_params")> {
    // SAFETY: the state, when present, is the MinMax its transition function created.
    int8_params(unsafe { state.get::<MinMax>() }?.range(), fcinfo)
}

/// The same aggregate state as `int8vec_calibrate`, finished into 4-bit parameters.
#[pg_extern(immutable, parallel_safe)]
fn int4vec_calibrate_minmax_final(state: Internal, fcinfo: pg_sys::FunctionCallInfo) -> Option<pgrx::composite_type!('static, "int4vec_params")> {
    // SAFETY: the state, when present, is the MinMax its transition function created.
    int4_params(unsafe { state.get::<MinMax>() }?.range(), fcinfo)
}

struct QuantileState {
    sample: Quantiles,
    lower: f64,
    upper: f64,
}

#[pg_extern(immutable, parallel_safe)]
fn int8vec_calibrate_quantile_step(
    mut state: Internal,
    values: Option<RealArray>,
    lower_quantile: Option<f64>,
    upper_quantile: Option<f64>,
    fcinfo: pg_sys::FunctionCallInfo,
) -> Internal {
    let (Some(lower), Some(upper)) = (lower_quantile, upper_quantile) else {
        raise_with(ErrorKind::NullValue, "quantiles must not be NULL");
    };
    quantvec_core::floats::check_quantiles(lower, upper).or_raise();
    let calibrator = agg_state(&mut state, fcinfo, || QuantileState { sample: Quantiles::new(Quantiles::DEFAULT_CAPACITY), lower, upper });
    if let Some(values) = values {
        calibrator.sample.add(values.0).or_raise();
    }
    state
}

#[pg_extern(immutable, parallel_safe)]
fn int8vec_calibrate_quantile_final(state: Internal, fcinfo: pg_sys::FunctionCallInfo) -> Option<pgrx::composite_type!('static, "int8vec_params")> {
    // SAFETY: the state, when present, is the QuantileState its transition function created.
    let calibrator = unsafe { state.get::<QuantileState>() }?;
    int8_params(calibrator.sample.range(calibrator.lower, calibrator.upper).or_raise(), fcinfo)
}

#[pg_extern(immutable, parallel_safe)]
fn int4vec_calibrate_quantile_final(state: Internal, fcinfo: pg_sys::FunctionCallInfo) -> Option<pgrx::composite_type!('static, "int4vec_params")> {
    // SAFETY: the state, when present, is the QuantileState its transition function created.
    let calibrator = unsafe { state.get::<QuantileState>() }?;
    int4_params(calibrator.sample.range(calibrator.lower, calibrator.upper).or_raise(), fcinfo)
}

#[pg_extern(immutable, parallel_safe)]
fn dimension_means_step(mut state: Internal, values: Option<RealArray>, fcinfo: pg_sys::FunctionCallInfo) -> Internal {
    let means = agg_state(&mut state, fcinfo, Means::default);
    if let Some(values) = values {
        means.add(values.0, "real[]", bits::MAX_DIMS).or_raise();
    }
    state
}

#[pg_extern(immutable, parallel_safe)]
fn dimension_means_final(state: Internal) -> Option<Vec<f32>> {
    // SAFETY: the state, when present, is the Means its transition function created.
    unsafe { state.get::<Means>() }?.mean()
}

pgrx::extension_sql_file!(
    "../sql/aggregates.sql",
    name = "aggregates",
    requires = [
        "shell_types",
        int8vec_calibrate_minmax_step,
        int8vec_calibrate_minmax_final,
        int8vec_calibrate_quantile_step,
        int8vec_calibrate_quantile_final,
        int4vec_calibrate_minmax_final,
        int4vec_calibrate_quantile_final,
        dimension_means_step,
        dimension_means_final
    ]
);
