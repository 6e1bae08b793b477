//! An index held in memory: the same algorithm as the Postgres access method without its
//! pages, for tests, recall tuning and benchmarks.

use std::sync::Arc;

use rayon::prelude::*;

use super::kmeans::{self, KMeans};
use super::search::Lists;
use super::{block, BuildOptions, EncodedRow, ItemPointer, Layout, Metric};
use crate::bits::BitVector;
use crate::error::Result;
use crate::int8::Int8Vector;
use crate::kernels::Kernels;

pub struct MemoryIndex {
    pub layout: Arc<Layout>,
    /// Per list, its blocks.
    pub lists: Vec<Vec<Vec<u8>>>,
    /// Vector items, addressed by `ItemPointer { block: index, offset: 0 }`.
    pub vectors: Vec<Vec<u8>>,
}

impl MemoryIndex {
    /// Builds an index over int8 rows; row i gets heap tid (i, 1).
    pub fn build_int8(k: &'static Kernels, metric: Metric, rows: &[Int8Vector], options: &BuildOptions, residual: bool) -> Result<Self> {
        let floats: Vec<Vec<f32>> = rows.iter().map(Int8Vector::dequantize).collect();
        let layout = Self::train(k, metric, &floats, options, residual)?;
        let encoded: Vec<EncodedRow> = rows
            .par_iter()
            .enumerate()
            .map(|(i, row)| layout.encode_int8(k, ItemPointer { block: i as u32, offset: 1 }, &row.view()))
            .collect::<Result<_>>()?;
        Ok(Self::assemble(layout, encoded))
    }

    /// Builds a Hamming index over bit rows; row i gets heap tid (i, 1).
    pub fn build_bits(k: &'static Kernels, rows: &[BitVector], options: &BuildOptions) -> Result<Self> {
        let floats: Vec<Vec<f32>> = rows.iter().map(|r| super::signs(&r.view())).collect();
        let layout = Self::train(k, Metric::Hamming, &floats, options, false)?;
        let encoded: Vec<EncodedRow> = rows.par_iter().map(|row| layout.encode_bits(k, &row.view())).collect::<Result<_>>()?;
        Ok(Self::assemble(layout, encoded))
    }

    /// k-means on the first `sample_rows` rows (the data sets used here come shuffled).
    fn train(k: &'static Kernels, metric: Metric, floats: &[Vec<f32>], options: &BuildOptions, residual: bool) -> Result<Layout> {
        let dims = floats.first().map_or(1, Vec::len);
        let sample: Vec<f32> = floats.iter().take(options.sample_rows).flatten().copied().collect();
        let kmeans = KMeans { clusters: options.lists, iterations: options.iterations, spherical: metric.spherical(), seed: 42 };
        let pool = rayon::ThreadPoolBuilder::new().build().expect("a thread pool");
        let centroids = kmeans::train(k, &pool, &sample, dims, &kmeans, &mut |_| Ok(()))?;
        Layout::new(k, metric, dims, residual, centroids)
    }

    fn assemble(layout: Layout, encoded: Vec<EncodedRow>) -> Self {
        let mut index = MemoryIndex { lists: vec![Vec::new(); layout.lists()], vectors: Vec::new(), layout: Arc::new(layout) };
        for (i, row) in encoded.into_iter().enumerate() {
            index.insert(row, ItemPointer { block: i as u32, offset: 1 });
        }
        index
    }

    /// Adds an encoded row (heap tid `tid`) to its list.
    pub fn insert(&mut self, mut row: EncodedRow, tid: ItemPointer) {
        let target = if self.layout.has_vectors() {
            self.vectors.push(std::mem::take(&mut row.vector));
            ItemPointer { block: (self.vectors.len() - 1) as u32, offset: 0 }
        } else {
            tid
        };
        let layout = &self.layout;
        let blocks = &mut self.lists[row.list];
        let slot = blocks.last().and_then(|b| block::free_slot(layout, b));
        let slot = slot.unwrap_or_else(|| {
            blocks.push(block::empty(layout));
            0
        });
        block::write_row(layout, blocks.last_mut().expect("a block"), slot, &row, target);
    }
}

impl Lists for MemoryIndex {
    fn scan_list(&self, list: u32, visit: &mut dyn FnMut(&[u8])) {
        for block in &self.lists[list as usize] {
            visit(block);
        }
    }

    fn read_vector(&self, slot: ItemPointer, visit: &mut dyn FnMut(&[u8])) {
        if let Some(vector) = self.vectors.get(slot.block as usize) {
            visit(vector);
        }
    }
}
