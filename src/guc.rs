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
}

/// The kernel set in use.
#[pg_extern(stable, parallel_safe)]
fn quantvec_simd() -> &'static str {
    kernels::active().isa.name()
}
