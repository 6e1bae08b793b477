//! Settings (GUCs).

use std::cell::Cell;
use std::ffi::{c_int, c_void, CString};

use pgrx::prelude::*;
use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting, PostgresGucEnum};
use quantvec_core::ivf::recall::Calibration;
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

/// `quantvec.target_recall`: the recall@10 an index scan aims for, with the probes and
/// rescore factor its build measured to reach it most cheaply.
static TARGET_RECALL: GucSetting<f64> = GucSetting::<f64>::new(0.95);

/// `quantvec.probes`: lists an index scan probes first (0: as the target recall needs);
/// more lists follow only when a query asks for more rows than they hold.
static PROBES: GucSetting<i32> = GucSetting::<i32>::new(0);

/// `quantvec.rescore_factor`: before returning its n-th row, an index scan has rescored
/// `rescore_factor × max(n, 10)` first-pass candidates with their int8 codes (0: as the
/// target recall needs).
static RESCORE_FACTOR: GucSetting<f64> = GucSetting::<f64>::new(0.0);

/// The rescore factor of an index without a calibration (built by quantvec before 0.5.0).
const UNCALIBRATED_RESCORE_FACTOR: f64 = 8.0;

/// The settings a query on an index uses now.
#[derive(Clone, Copy, Debug)]
pub struct SearchSettings {
    pub probes: usize,
    pub rescore_factor: f64,
    /// The recall@10 the build measured at (or just below) these settings; None for an
    /// index without a calibration.
    pub expected_recall: Option<f64>,
}

/// The probes and rescore factor a query on an index of `lists` lists uses now: those set
/// explicitly, the others the cheapest the index's calibration says reach
/// `quantvec.target_recall`.
pub fn effective_search_settings(lists: usize, calibration: &Calibration) -> SearchSettings {
    let probes = usize::try_from(PROBES.get()).ok().filter(|&p| p > 0).map(|p| p.min(lists.max(1)));
    let rescore_factor = Some(RESCORE_FACTOR.get()).filter(|&r| r > 0.0).map(|r| r.max(1.0));
    match calibration.choose(TARGET_RECALL.get(), probes, rescore_factor) {
        Some(choice) => SearchSettings { probes: choice.probes.min(lists.max(1)), rescore_factor: choice.rescore_factor, expected_recall: Some(choice.recall) },
        None => SearchSettings {
            probes: probes.unwrap_or_else(|| auto_probes(lists)),
            rescore_factor: rescore_factor.unwrap_or(UNCALIBRATED_RESCORE_FACTOR),
            expected_recall: None,
        },
    }
}

/// An index's search settings in this backend, kept for the GUCs they were chosen under:
/// choosing reads the calibration's whole grid (7% of a query at the default target on
/// 100k rows), where the GUCs rarely change between queries.
#[derive(Default)]
pub struct SettingsMemo(Cell<Option<(SettingsKey, SearchSettings)>>);

/// `quantvec.probes`, `quantvec.rescore_factor` and `quantvec.target_recall` as set now.
type SettingsKey = (i32, u64, u64);

impl SettingsMemo {
    /// [`effective_search_settings`] for the index whose lists and calibration these are
    /// (always the same ones for one memo).
    pub fn get(&self, lists: usize, calibration: &Calibration) -> SearchSettings {
        let key = (PROBES.get(), RESCORE_FACTOR.get().to_bits(), TARGET_RECALL.get().to_bits());
        match self.0.get() {
            Some((kept, settings)) if kept == key => settings,
            _ => {
                let settings = effective_search_settings(lists, calibration);
                self.0.set(Some((key, settings)));
                settings
            }
        }
    }
}

/// Probes of an index without a calibration when `quantvec.probes` is 0: 3·√lists (all
/// of them for up to 9 lists). With the default 2·√rows lists a query reads a shrinking
/// share of a growing table (rows^0.75 rows), which kept recall@10 near 0.96 from 20k to
/// 100k rows on the shared set.
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
    GucRegistry::define_float_guc(
        c"quantvec.target_recall",
        c"The recall@10 quantvec index scans aim for.",
        c"Each index measures at build time which probes and rescore factor reach which recall, with rows of its table as queries; scans use the cheapest setting that reaches this target. quantvec.probes and quantvec.rescore_factor, when set, override it.",
        &TARGET_RECALL,
        0.0,
        1.0,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"quantvec.probes",
        c"Lists a quantvec index scan probes first (0: as many as quantvec.target_recall needs).",
        c"More probes find more of the true neighbours and take longer; a scan probes further lists by itself when a filter leaves it short of rows.",
        &PROBES,
        0,
        i32::MAX,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_float_guc(
        c"quantvec.rescore_factor",
        c"First-pass candidates a quantvec index scan rescores with int8 codes, per row returned (at least 10 rows' worth; 0: as many as quantvec.target_recall needs).",
        c"A LIMIT k query has the best k × rescore_factor binary-code candidates rescored; values between 0 and 1 count as 1.",
        &RESCORE_FACTOR,
        0.0,
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
