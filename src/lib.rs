//! quantvec: quantized embedding search for PostgreSQL. This crate is the pgrx glue;
//! quantization, kernels and search live in `quantvec-core`, which has no PostgreSQL
//! dependency.

use pgrx::prelude::*;

::pgrx::pg_module_magic!();

mod arrays;
mod calibrate;
mod casts;
mod compat;
mod distances;
mod error;
mod guc;
mod index;
mod memory;
mod pgvector;
mod report;
mod types;
mod varlena;

pgrx::extension_sql_file!("../sql/bootstrap.sql", name = "shell_types", bootstrap);

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    guc::init();
    index::init();
}

#[pg_extern(immutable, parallel_safe)]
fn quantvec_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[cfg(any(test, feature = "pg_test"))]
mod pg_tests;

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
