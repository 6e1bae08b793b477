//! Settings (GUCs).

use std::ffi::{c_int, c_void, CString};

use pgrx::prelude::*;
use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting, PostgresGucEnum};
use quantvec_core::kernels::{self, Isa};

/// `quantvec.simd`: which kernel set distance functions use. `auto` picks the best this CPU
/// supports (or the one named by the QUANTVEC_SIMD environment variable); naming a set the
/// CPU lacks is refused.
#[derive(PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Simd {
    #[name = c"auto"]
    Auto,
    #[name = c"scalar"]
    Scalar,
    #[name = c"avx2"]
    Avx2,
    #[name = c"avx512"]
    Avx512,
    #[name = c"neon"]
    Neon,
}

impl Simd {
    const ALL: [Simd; 5] = [Simd::Auto, Simd::Scalar, Simd::Avx2, Simd::Avx512, Simd::Neon];

    fn isa(self) -> Isa {
        match self {
            Simd::Auto => kernels::default_isa(),
            Simd::Scalar => Isa::Scalar,
            Simd::Avx2 => Isa::Avx2,
            Simd::Avx512 => Isa::Avx512,
            Simd::Neon => Isa::Neon,
        }
    }

    fn from_ordinal(ordinal: c_int) -> Simd {
        Simd::ALL[ordinal as usize]
    }
}

static SIMD: GucSetting<Simd> = GucSetting::<Simd>::new(Simd::Auto);

/// `quantvec.probes`: lists an index scan probes first (0: 3·√lists); more lists follow
/// only when a query asks for more rows than they hold.
static PROBES: GucSetting<i32> = GucSetting::<i32>::new(0);

/// `quantvec.rescore_factor`: before returning its n-th row, an index scan has rescored
/// `rescore_factor × max(n, 10)` first-pass candidates with their int8 codes.
static RESCORE_FACTOR: GucSetting<f64> = GucSetting::<f64>::new(DEFAULT_RESCORE_FACTOR);

const DEFAULT_RESCORE_FACTOR: f64 = 8.0;

/// The search GUCs: (probes, 0 for automatic; rescore factor).
fn search_settings() -> (i32, f64) {
    (PROBES.get(), RESCORE_FACTOR.get())
}

/// The probes and rescore factor a query on an index of `lists` lists uses now.
pub fn effective_search_settings(lists: usize) -> (usize, f64) {
    let (probes, rescore_factor) = search_settings();
    let probes = if probes > 0 { (probes as usize).min(lists.max(1)) } else { auto_probes(lists) };
    (probes, rescore_factor)
}

/// Probes when `quantvec.probes` is 0: 3·√lists (all of them for up to 9 lists). With
/// the default 2·√rows lists a query reads a shrinking share of a growing table
/// (rows^0.75 rows), which keeps recall@10 near 0.96 from 20k to 100k rows.
pub fn auto_probes(lists: usize) -> usize {
    ((3.0 * (lists as f64).sqrt()).ceil() as usize).clamp(1, lists.max(1))
}

#[pg_guard]
unsafe extern "C-unwind" fn check_simd(newval: *mut c_int, _extra: *mut *mut c_void, _source: pg_sys::GucSource::Type) -> bool {
    // SAFETY: Postgres passes a valid pointer to the proposed ordinal.
    let isa = Simd::from_ordinal(unsafe { *newval }).isa();
    if isa.is_supported() {
        return true;
    }
    let detail = CString::new(format!("This CPU does not support the {} kernels.", isa.name())).expect("no NUL");
    // SAFETY: Postgres reads GUC_check_errdetail_string after a failed check; it must be
    // palloc'd, which pstrdup does.
    unsafe { pg_sys::GUC_check_errdetail_string = pg_sys::pstrdup(detail.as_ptr()) };
    false
}

#[pg_guard]
unsafe extern "C-unwind" fn assign_simd(newval: c_int, _extra: *mut c_void) {
    // The check hook accepted this value, so the tier is supported.
    let _ = kernels::select(Simd::from_ordinal(newval).isa());
}

pub fn init() {
    // SAFETY: called once from _PG_init with static names and a static setting.
    unsafe {
        GucRegistry::define_enum_guc_with_hooks(
            c"quantvec.simd",
            c"SIMD kernel set for quantvec distances.",
            c"auto picks the best one this CPU supports; scalar forces the portable reference kernels.",
            &SIMD,
            GucContext::Userset,
            GucFlags::default(),
            Some(check_simd),
            Some(assign_simd),
            None,
        );
    }
    GucRegistry::define_int_guc(
        c"quantvec.probes",
        c"Lists a quantvec index scan probes first (0: three times the square root of the number of lists).",
        c"More probes find more of the true neighbours and take longer; a scan probes further lists by itself when a filter leaves it short of rows.",
        &PROBES,
        0,
        i32::MAX,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_float_guc(
        c"quantvec.rescore_factor",
        c"First-pass candidates a quantvec index scan rescores with int8 codes, per row returned (at least 10 rows' worth).",
        c"A LIMIT k query has the best k × rescore_factor binary-code candidates rescored.",
        &RESCORE_FACTOR,
        1.0,
        1_000_000.0,
        GucContext::Userset,
        GucFlags::default(),
    );
}

/// The kernel set in use.
#[pg_extern(stable, parallel_safe)]
fn quantvec_simd() -> &'static str {
    kernels::active().isa.name()
}
