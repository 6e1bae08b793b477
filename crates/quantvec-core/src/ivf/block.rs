//! FastScan blocks: 32 rows of one list with their codes transposed, so that one SIMD
//! table lookup scores all 32 rows for one code byte.
//!
//! Layout, with B code bytes per row:
//!
//! | bytes            | content                                                    |
//! |------------------|------------------------------------------------------------|
//! | 32·B             | codes: code byte p of row r at 32·p + r                    |
//! | 32·4 + 32·4      | α and β per row, f32 (int8 indexes only)                   |
//! | 32·6             | per row, its vector's slot (int8) or heap tid (Hamming); `ItemPointer::NONE` marks an empty row |
//! | 32·4 + 4         | labels (indexes with a label column only): i32 per row, then a mask of the rows whose label is not NULL |
//!
//! A search through a label filter compares a block's labels (128 bytes: two or three
//! cache lines) before it estimates any of its rows, and skips blocks where none matches.

use super::{EncodedRow, ItemPointer, Quantizer};

pub const ROWS: usize = 32;

#[inline]
fn factors_len(quantizer: &Quantizer) -> usize {
    if quantizer.has_vectors() {
        2 * 4 * ROWS
    } else {
        0
    }
}

#[inline]
fn pointers_at(quantizer: &Quantizer) -> usize {
    ROWS * quantizer.code_len() + factors_len(quantizer)
}

#[inline]
fn labels_at(quantizer: &Quantizer) -> usize {
    pointers_at(quantizer) + ItemPointer::LEN * ROWS
}

/// Bytes of the labels and their mask.
const LABELS_LEN: usize = 4 * ROWS + 4;

#[inline]
pub fn len(quantizer: &Quantizer) -> usize {
    labels_at(quantizer) + if quantizer.labels { LABELS_LEN } else { 0 }
}

fn labelled_mask(quantizer: &Quantizer, block: &[u8]) -> u32 {
    let at = labels_at(quantizer) + 4 * ROWS;
    u32::from_ne_bytes(block[at..at + 4].try_into().expect("4 bytes"))
}

/// The label of the row in `slot` (None where it is NULL, the row is empty, or the index
/// has no labels).
pub fn label(quantizer: &Quantizer, block: &[u8], slot: usize) -> Option<i32> {
    if !quantizer.labels || labelled_mask(quantizer, block) & 1 << slot == 0 {
        return None;
    }
    let at = labels_at(quantizer) + 4 * slot;
    Some(i32::from_ne_bytes(block[at..at + 4].try_into().expect("4 bytes")))
}

/// The label values a filter keeps, as blocks' labels are compared with them.
#[derive(Clone, Debug)]
pub struct LabelFilter {
    /// Sorted, without duplicates.
    values: Vec<i32>,
    /// For more than `COMPARED_AT_ONCE` values: a bit per hash of a label, set for the
    /// values' hashes (a one-hash Bloom filter, 16 bits a value), so that most rows are
    /// rejected by one bit test before a search of `values`.
    hashed: Vec<u64>,
    /// The hash's width in bits: `hashed` holds 2^hash_bits bits.
    hash_bits: u32,
}

/// Values up to which each is compared with all of a block's labels at once (SIMD, a few
/// instructions a value); a longer list goes through the Bloom filter, which costs the
/// same for any length (a filter on `= ANY` of thousands of values was thousands of
/// times dearer a block than on one).
const COMPARED_AT_ONCE: usize = 16;

impl LabelFilter {
    pub fn new(mut values: Vec<i32>) -> LabelFilter {
        values.sort_unstable();
        values.dedup();
        let (mut hashed, mut hash_bits) = (Vec::new(), 0);
        if values.len() > COMPARED_AT_ONCE {
            hash_bits = (16 * values.len()).next_power_of_two().trailing_zeros().clamp(6, 30);
            hashed = vec![0u64; 1 << (hash_bits - 6)];
            for &value in &values {
                let bit = label_hash(value, hash_bits);
                hashed[bit / 64] |= 1 << (bit % 64);
            }
        }
        LabelFilter { values, hashed, hash_bits }
    }

    /// The rows of `block` whose label is one of the values, as a bit mask (bit r: row r).
    /// An index without labels matches none.
    #[inline]
    pub fn matching(&self, quantizer: &Quantizer, block: &[u8]) -> u32 {
        if !quantizer.labels {
            return 0;
        }
        let at = labels_at(quantizer);
        let labels: &[u8; 4 * ROWS] = block[at..at + 4 * ROWS].try_into().expect("a block's labels");
        let labelled = labelled_mask(quantizer, block);
        if self.hashed.is_empty() {
            return self.values.iter().fold(0, |matching, &value| matching | equal_labels(labels, value)) & labelled;
        }
        let label = |slot: usize| i32::from_ne_bytes(labels[4 * slot..4 * slot + 4].try_into().expect("4 bytes"));
        let mut candidates = 0u32;
        for slot in 0..ROWS {
            let bit = label_hash(label(slot), self.hash_bits);
            candidates |= u32::from(self.hashed[bit / 64] >> (bit % 64) & 1 == 1) << slot;
        }
        candidates &= labelled;
        let mut matching = 0;
        while candidates != 0 {
            let slot = candidates.trailing_zeros() as usize;
            candidates &= candidates - 1;
            matching |= u32::from(self.values.binary_search(&label(slot)).is_ok()) << slot;
        }
        matching
    }
}

/// A label's bit among 2^bits (Fibonacci hashing: the top bits of a multiplication).
#[inline]
fn label_hash(label: i32, bits: u32) -> usize {
    ((label as u32).wrapping_mul(0x9E37_79B9) >> (32 - bits)) as usize
}

/// The rows whose label is `value`: one comparison per row, in a form the compiler turns
/// into SIMD compares and mask extraction.
#[inline]
fn equal_labels(labels: &[u8; 4 * ROWS], value: i32) -> u32 {
    let mut equal = [false; ROWS];
    for (flag, label) in equal.iter_mut().zip(labels.chunks_exact(4)) {
        *flag = i32::from_ne_bytes(label.try_into().expect("4 bytes")) == value;
    }
    equal.iter().enumerate().fold(0, |mask, (slot, &flag)| mask | u32::from(flag) << slot)
}

fn set_label(quantizer: &Quantizer, block: &mut [u8], slot: usize, label: Option<i32>) {
    if !quantizer.labels {
        return;
    }
    let at = labels_at(quantizer);
    block[at + 4 * slot..at + 4 * slot + 4].copy_from_slice(&label.unwrap_or(0).to_ne_bytes());
    let mask = labelled_mask(quantizer, block) & !(1 << slot) | u32::from(label.is_some()) << slot;
    block[at + 4 * ROWS..at + 4 * ROWS + 4].copy_from_slice(&mask.to_ne_bytes());
}

/// A block with every row empty.
pub fn empty(quantizer: &Quantizer) -> Vec<u8> {
    let mut block = vec![0u8; len(quantizer)];
    for slot in 0..ROWS {
        set_pointer(quantizer, &mut block, slot, ItemPointer::NONE);
    }
    block
}

pub fn codes<'b>(quantizer: &Quantizer, block: &'b [u8]) -> &'b [u8] {
    &block[..ROWS * quantizer.code_len()]
}

/// The α and β arrays (32 f32 each, native-endian bytes).
pub fn factors<'b>(quantizer: &Quantizer, block: &'b [u8]) -> (&'b [u8], &'b [u8]) {
    let at = ROWS * quantizer.code_len();
    (&block[at..at + 4 * ROWS], &block[at + 4 * ROWS..at + 8 * ROWS])
}

pub fn pointer(quantizer: &Quantizer, block: &[u8], slot: usize) -> ItemPointer {
    ItemPointer::read(&block[pointers_at(quantizer) + ItemPointer::LEN * slot..])
}

fn set_pointer(quantizer: &Quantizer, block: &mut [u8], slot: usize, pointer: ItemPointer) {
    pointer.write(&mut block[pointers_at(quantizer) + ItemPointer::LEN * slot..]);
}

/// The first empty row, if any.
pub fn free_slot(quantizer: &Quantizer, block: &[u8]) -> Option<usize> {
    (0..ROWS).find(|&slot| pointer(quantizer, block, slot) == ItemPointer::NONE)
}

/// Puts a row into `slot`, pointing at its vector (or heap tuple).
pub fn write_row(quantizer: &Quantizer, block: &mut [u8], slot: usize, row: &EncodedRow, target: ItemPointer) {
    for (p, &byte) in row.code.iter().enumerate() {
        block[ROWS * p + slot] = byte;
    }
    if quantizer.has_vectors() {
        let at = ROWS * quantizer.code_len();
        block[at + 4 * slot..at + 4 * slot + 4].copy_from_slice(&row.alpha.to_ne_bytes());
        block[at + 4 * (ROWS + slot)..at + 4 * (ROWS + slot) + 4].copy_from_slice(&row.beta.to_ne_bytes());
    }
    set_pointer(quantizer, block, slot, target);
    set_label(quantizer, block, slot, row.label);
}

/// Empties `slot`.
pub fn clear_row(quantizer: &Quantizer, block: &mut [u8], slot: usize) {
    set_pointer(quantizer, block, slot, ItemPointer::NONE);
    set_label(quantizer, block, slot, None);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::int8::Int8Vector;
    use crate::ivf::Metric;
    use crate::kernels;

    #[test]
    fn rows_round_trip_through_a_block() {
        let k = kernels::active();
        let quantizer = Quantizer::new(k, Metric::Cosine, 12, true, vec![0.5; 12]).unwrap();
        let mut block = empty(&quantizer);
        assert_eq!(block.len(), 32 * 2 + 256 + 192);
        assert_eq!(free_slot(&quantizer, &block), Some(0));
        let v = Int8Vector::quantize_minmax(&[1.0, -1.0, 0.5, 0.25, -0.5, 2.0, 0.0, 1.0, -2.0, 0.1, 0.2, 0.3]).unwrap();
        let row = quantizer.encode_int8(k, ItemPointer { block: 7, offset: 3 }, &v.view()).unwrap();
        write_row(&quantizer, &mut block, 0, &row, ItemPointer { block: 1, offset: 2 });
        assert_eq!(pointer(&quantizer, &block, 0), ItemPointer { block: 1, offset: 2 });
        assert_eq!(free_slot(&quantizer, &block), Some(1));
        let transposed: Vec<u8> = (0..2).map(|p| block[32 * p]).collect();
        assert_eq!(transposed, row.code);
        let (alphas, betas) = factors(&quantizer, &block);
        assert_eq!(alphas[..4], row.alpha.to_ne_bytes());
        assert_eq!(betas[..4], row.beta.to_ne_bytes());
        clear_row(&quantizer, &mut block, 0);
        assert_eq!(free_slot(&quantizer, &block), Some(0));
    }

    #[test]
    fn labels_round_trip_and_filter_a_block() {
        let k = kernels::active();
        let plain = Quantizer::new(k, Metric::Cosine, 12, true, vec![0.5; 12]).unwrap();
        let quantizer = plain.clone().with_labels(true);
        assert_eq!(len(&quantizer), len(&plain) + 4 * 32 + 4);
        let mut block = empty(&quantizer);
        let v = Int8Vector::quantize_minmax(&[1.0, -1.0, 0.5, 0.25, -0.5, 2.0, 0.0, 1.0, -2.0, 0.1, 0.2, 0.3]).unwrap();
        let mut row = quantizer.encode_int8(k, ItemPointer { block: 7, offset: 3 }, &v.view()).unwrap();
        // Rows 0-3 labelled 5, -1, NULL, 5; the rest empty.
        for (slot, label) in [Some(5), Some(-1), None, Some(5)].into_iter().enumerate() {
            row.label = label;
            write_row(&quantizer, &mut block, slot, &row, ItemPointer { block: 1, offset: slot as u16 });
        }
        assert_eq!((0..4).map(|s| label(&quantizer, &block, s)).collect::<Vec<_>>(), [Some(5), Some(-1), None, Some(5)]);
        assert_eq!(LabelFilter::new(vec![5]).matching(&quantizer, &block), 0b1001);
        assert_eq!(LabelFilter::new(vec![5, -1]).matching(&quantizer, &block), 0b1011);
        // NULL labels and empty rows are stored as 0 but match no filter.
        assert_eq!(LabelFilter::new(vec![0]).matching(&quantizer, &block), 0);
        assert_eq!(LabelFilter::new(vec![]).matching(&quantizer, &block), 0);
        // Long lists go through their Bloom filter: the same rows match.
        let long = |extra: &[i32]| LabelFilter::new((100..300).chain([i32::MIN, i32::MAX]).chain(extra.iter().copied()).collect());
        assert_eq!(long(&[5]).matching(&quantizer, &block), 0b1001);
        assert_eq!(long(&[5, -1, 5]).matching(&quantizer, &block), 0b1011);
        assert_eq!(long(&[0]).matching(&quantizer, &block), 0);
        assert_eq!(long(&[]).matching(&quantizer, &block), 0);
        clear_row(&quantizer, &mut block, 3);
        assert_eq!(LabelFilter::new(vec![5]).matching(&quantizer, &block), 0b0001);
        assert_eq!(label(&quantizer, &block, 3), None);
        // The codes, factors and pointers sit where they do without labels.
        assert_eq!(pointer(&quantizer, &block, 1), ItemPointer { block: 1, offset: 1 });
        assert_eq!(LabelFilter::new(vec![5]).matching(&plain, &block[..len(&plain)]), 0);
    }
}
