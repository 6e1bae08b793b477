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
pub fn len(quantizer: &Quantizer) -> usize {
    pointers_at(quantizer) + ItemPointer::LEN * ROWS
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
}

/// Empties `slot`.
pub fn clear_row(quantizer: &Quantizer, block: &mut [u8], slot: usize) {
    set_pointer(quantizer, block, slot, ItemPointer::NONE);
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
}
