//! quantvec-core: quantization, SIMD distance kernels and search for the quantvec
//! PostgreSQL extension. Nothing here depends on PostgreSQL, so all of it is tested and
//! benchmarked with plain `cargo test` / `cargo bench`.

pub mod bits;
pub mod calibrate;
pub mod datasets;
pub mod error;
pub mod eval;
pub mod floats;
pub mod int4;
pub mod int8;
pub mod ivf;
pub mod kernels;
pub mod npy;
pub mod pgvector;
pub mod quality;

pub use error::{Error, ErrorKind, Result};
