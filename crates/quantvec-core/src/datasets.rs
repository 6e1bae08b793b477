//! The embedding sets used by tests, benchmarks and the demo.
//!
//! - `wordnet-minilm-384` (100k base, 1k queries, exact top-100): beside the repository
//!   in `../shared/data`, or wherever `QUANTVEC_DATA_DIR` points.
//! - `wordnet-minilm-384-sample` (5k base, 100 queries): shipped in the repository's `data/`
//!   for the demo.

use std::path::{Path, PathBuf};

use crate::error::{bail, Result};
use crate::npy::{self, Matrix};

/// Root of the repository (this crate lives in `crates/quantvec-core`).
pub fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where the shared data sets live.
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("QUANTVEC_DATA_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => repository_root().join("../shared/data"),
    }
}

pub struct Embeddings {
    pub base: Matrix<f32>,
    pub queries: Matrix<f32>,
}

impl Embeddings {
    /// Reads `base_f16.npy` and `queries_f16.npy` from `dir`, keeping at most the first
    /// `max_base` and `max_queries` rows.
    pub fn load(dir: &Path, max_base: usize, max_queries: usize) -> Result<Embeddings> {
        if !dir.is_dir() {
            bail!(InvalidParameter, "embedding set {} not found (set QUANTVEC_DATA_DIR)", dir.display());
        }
        let mut base = npy::read_f32(&dir.join("base_f16.npy"))?;
        let mut queries = npy::read_f32(&dir.join("queries_f16.npy"))?;
        truncate(&mut base, max_base);
        truncate(&mut queries, max_queries);
        Ok(Embeddings { base, queries })
    }

    pub fn wordnet(max_base: usize, max_queries: usize) -> Result<Embeddings> {
        Self::load(&shared_dir().join("wordnet-minilm-384"), max_base, max_queries)
    }
}

fn truncate(m: &mut Matrix<f32>, rows: usize) {
    m.rows = m.rows.min(rows);
    m.data.truncate(m.rows * m.cols);
}
