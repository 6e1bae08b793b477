//! What an index stores about itself: the metapage and the per-list directory entries,
//! as bytes (the Postgres glue decides which pages they go to).

use super::{ItemPointer, Metric, StoredPointer};
use crate::error::{bail, Result};

/// "QVIV" in the first word of the metapage.
pub const MAGIC: u32 = 0x5156_4956;
/// The newest page format this build writes: 2 adds the recall calibration after the
/// metapage's fields (see `recall::Calibration`); 3 marks an index whose first-pass codes
/// have 4 bits per dimension (`code_bits`) or whose vectors are `int4vec` codes
/// (`vector_bits`), which a build that reads only 1-bit blocks and int8 vectors must
/// refuse; 4 an index whose blocks carry labels (`labels`: a label column). Other indexes
/// are still written as format 2.
pub const VERSION: u32 = 4;
/// The format of a new index with these first-pass codes and vectors, and labels or not.
pub fn format_for(code_bits: u8, vector_bits: u8, labels: bool) -> u32 {
    if labels {
        4
    } else if code_bits == 1 && vector_bits == 8 {
        2
    } else {
        3
    }
}
/// The oldest page format this build reads (1: the same pages without a calibration).
pub const OLDEST_READABLE: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    /// The page format the index was built with (kept when the metapage is updated).
    pub format: u32,
    pub metric: Metric,
    pub residual: bool,
    /// Bits per dimension of the first-pass codes (1 or 4).
    pub code_bits: u8,
    /// Bits per code of the vectors (8, or 4 for an `int4vec` column).
    pub vector_bits: u8,
    /// Whether blocks carry a label per row (an index with a label column).
    pub labels: bool,
    pub dims: u32,
    pub lists: u32,
    pub centroid_start: u32,
    pub centroid_pages: u32,
    pub directory_start: u32,
    pub directory_pages: u32,
    /// First page of the vector chain (all lists' vectors; none for Hamming indexes).
    pub vector_head: u32,
    /// Where inserts start looking for a free vector slot.
    pub vector_insert: u32,
    /// The code page new blocks are appended to.
    pub code_tail: u32,
    /// Centroids are stored divided by 2^centroid_exponent (see `round_centroids`).
    pub centroid_exponent: i16,
    /// Changes with every build and recalibration, so that caches of an older one are not
    /// used.
    pub build_id: u64,
    pub rows_at_build: u64,
}

/// The metapage's fields as stored, in native byte order (the calibration follows them).
#[repr(C)]
struct MetaRecord {
    magic: u32,
    format: u32,
    metric: u8,
    /// Bit 0: residual codes; bit 1: 4-bit vectors; bit 2: labels (format 4); the high
    /// nibble: code bits − 1 (all 0, as in every index before format 3, for 1-bit codes and
    /// int8 vectors).
    flags: u8,
    /// Zero in indexes built before it existed: their centroids are stored as they are.
    centroid_exponent: i16,
    dims: u32,
    lists: u32,
    centroid_start: u32,
    centroid_pages: u32,
    directory_start: u32,
    directory_pages: u32,
    vector_head: u32,
    vector_insert: u32,
    code_tail: u32,
    build_id: u64,
    rows_at_build: u64,
}

const _: () = assert!(std::mem::size_of::<MetaRecord>() == Meta::LEN, "no padding: the record is its fields");

/// The bytes of a record's field at `at`.
fn field<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    bytes[at..at + N].try_into().expect("a whole field")
}

fn put<const N: usize>(out: &mut [u8], at: usize, value: [u8; N]) {
    out[at..at + N].copy_from_slice(&value);
}

impl Meta {
    pub const LEN: usize = 64;

    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        use std::mem::offset_of;
        let mut out = [0u8; Self::LEN];
        put(&mut out, offset_of!(MetaRecord, magic), MAGIC.to_ne_bytes());
        put(&mut out, offset_of!(MetaRecord, format), self.format.to_ne_bytes());
        out[offset_of!(MetaRecord, metric)] = self.metric as u8;
        out[offset_of!(MetaRecord, flags)] =
            u8::from(self.residual) | u8::from(self.vector_bits == 4) << 1 | u8::from(self.labels) << 2 | (self.code_bits - 1) << 4;
        put(&mut out, offset_of!(MetaRecord, centroid_exponent), self.centroid_exponent.to_ne_bytes());
        let words = [
            (offset_of!(MetaRecord, dims), self.dims),
            (offset_of!(MetaRecord, lists), self.lists),
            (offset_of!(MetaRecord, centroid_start), self.centroid_start),
            (offset_of!(MetaRecord, centroid_pages), self.centroid_pages),
            (offset_of!(MetaRecord, directory_start), self.directory_start),
            (offset_of!(MetaRecord, directory_pages), self.directory_pages),
            (offset_of!(MetaRecord, vector_head), self.vector_head),
            (offset_of!(MetaRecord, vector_insert), self.vector_insert),
            (offset_of!(MetaRecord, code_tail), self.code_tail),
        ];
        for (at, word) in words {
            put(&mut out, at, word.to_ne_bytes());
        }
        put(&mut out, offset_of!(MetaRecord, build_id), self.build_id.to_ne_bytes());
        put(&mut out, offset_of!(MetaRecord, rows_at_build), self.rows_at_build.to_ne_bytes());
        out
    }

    /// Reads a metapage, refusing anything this build cannot read with a message that
    /// says what to do.
    pub fn from_bytes(bytes: &[u8]) -> Result<Meta> {
        use std::mem::offset_of;
        if bytes.len() < Self::LEN || u32::from_ne_bytes(field(bytes, offset_of!(MetaRecord, magic))) != MAGIC {
            bail!(DataException, "not a quantvec index: its metapage has no quantvec signature");
        }
        let word = |at: usize| u32::from_ne_bytes(field(bytes, at));
        let format = word(offset_of!(MetaRecord, format));
        if !(OLDEST_READABLE..=VERSION).contains(&format) {
            bail!(
                DataException,
                "quantvec index has page format version {format}, but this build of quantvec reads versions {OLDEST_READABLE} to {VERSION}; run REINDEX"
            );
        }
        let metric_byte = bytes[offset_of!(MetaRecord, metric)];
        let Some(metric) = Metric::from_u8(metric_byte) else {
            bail!(DataException, "quantvec index metapage names unknown metric {metric_byte}");
        };
        let flags = bytes[offset_of!(MetaRecord, flags)];
        let (code_bits, vector_bits) = (1 + (flags >> 4), if flags & 2 != 0 { 4 } else { 8 });
        let format_3 = code_bits == 4 || vector_bits == 4;
        let labels = flags & 4 != 0;
        if flags & 0x08 != 0 || !(code_bits == 1 || code_bits == 4) || format_3 && format < 3 || labels && format < 4 {
            bail!(DataException, "quantvec index metapage is corrupt: its code flags are {flags:#04x}");
        }
        Ok(Meta {
            format,
            metric,
            residual: flags & 1 != 0,
            code_bits,
            vector_bits,
            labels,
            centroid_exponent: i16::from_ne_bytes(field(bytes, offset_of!(MetaRecord, centroid_exponent))),
            dims: word(offset_of!(MetaRecord, dims)),
            lists: word(offset_of!(MetaRecord, lists)),
            centroid_start: word(offset_of!(MetaRecord, centroid_start)),
            centroid_pages: word(offset_of!(MetaRecord, centroid_pages)),
            directory_start: word(offset_of!(MetaRecord, directory_start)),
            directory_pages: word(offset_of!(MetaRecord, directory_pages)),
            vector_head: word(offset_of!(MetaRecord, vector_head)),
            vector_insert: word(offset_of!(MetaRecord, vector_insert)),
            code_tail: word(offset_of!(MetaRecord, code_tail)),
            build_id: u64::from_ne_bytes(field(bytes, offset_of!(MetaRecord, build_id))),
            rows_at_build: u64::from_ne_bytes(field(bytes, offset_of!(MetaRecord, rows_at_build))),
        })
    }
}

/// Where a list's FastScan blocks are: its blocks form a chain (each stored block names
/// the next), from `head` (fixed after the build) to `tail` (where new blocks are linked
/// in). Inserts look for a free row from `insert` on, which vacuum moves back when it
/// frees rows. A block is addressed by page and index within the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListEntry {
    pub head: ItemPointer,
    pub insert: ItemPointer,
    pub tail: ItemPointer,
}

/// A `ListEntry` as directory pages store it.
#[repr(C)]
struct ListEntryRecord {
    head: StoredPointer,
    insert: StoredPointer,
    tail: StoredPointer,
}

impl ListEntry {
    pub const LEN: usize = std::mem::size_of::<ListEntryRecord>();
    const FIELDS: [usize; 3] =
        [std::mem::offset_of!(ListEntryRecord, head), std::mem::offset_of!(ListEntryRecord, insert), std::mem::offset_of!(ListEntryRecord, tail)];

    pub fn to_bytes(self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        for (at, p) in Self::FIELDS.into_iter().zip([self.head, self.insert, self.tail]) {
            p.write(&mut out[at..]);
        }
        out
    }

    /// Reads an entry from at least `LEN` bytes (the glue slices whole entries); panics on
    /// fewer, like slice indexing. [`ListEntry::try_from_bytes`] checks the length instead.
    pub fn from_bytes(bytes: &[u8]) -> ListEntry {
        let [head, insert, tail] = Self::FIELDS.map(|at| ItemPointer::read(&bytes[at..]));
        ListEntry { head, insert, tail }
    }

    /// Reads an entry from exactly `LEN` bytes, or says the directory is corrupt.
    pub fn try_from_bytes(bytes: &[u8]) -> Result<ListEntry> {
        if bytes.len() != Self::LEN {
            bail!(DataException, "quantvec index directory entry is {} bytes, not {}; REINDEX the index", bytes.len(), Self::LEN);
        }
        Ok(Self::from_bytes(bytes))
    }
}

/// Centroids are stored as float16 times a power of two, 2^exponent (in the metapage):
/// half the pages of float32, and list ranking does not need more; the exponent (0 unless
/// a coordinate is large) keeps any finite centroid within float16's range. A build rounds
/// them before it encodes any row, so that rows are encoded against exactly the centroids
/// that scans read back. Returns the exponent.
pub fn round_centroids(centroids: &mut [f32]) -> i16 {
    let exponent = centroid_exponent(centroids);
    for c in centroids.iter_mut() {
        *c = from_stored(to_stored(*c, exponent), exponent);
    }
    exponent
}

/// Largest magnitude a centroid coordinate is stored at: float16 holds up to 65,504.
const STORED_MAX: f64 = 32768.0;

/// The smallest exponent ≥ 0 that brings every coordinate within `STORED_MAX`.
fn centroid_exponent(centroids: &[f32]) -> i16 {
    let max = centroids.iter().filter(|c| c.is_finite()).fold(0.0f64, |m, &c| m.max(f64::from(c).abs()));
    if max <= STORED_MAX {
        return 0;
    }
    (max / STORED_MAX).log2().ceil() as i16
}

fn to_stored(c: f32, exponent: i16) -> half::f16 {
    half::f16::from_f64(f64::from(c) * 2f64.powi(-i32::from(exponent)))
}

fn from_stored(stored: half::f16, exponent: i16) -> f32 {
    (f64::from(stored.to_f32()) * 2f64.powi(i32::from(exponent))).clamp(-f64::from(f32::MAX), f64::from(f32::MAX)) as f32
}

pub fn centroids_to_bytes(centroids: &[f32], exponent: i16) -> Vec<u8> {
    centroids.iter().flat_map(|&c| to_stored(c, exponent).to_ne_bytes()).collect()
}

pub fn centroids_from_bytes(bytes: &[u8], exponent: i16) -> impl Iterator<Item = f32> + '_ {
    bytes.chunks_exact(2).map(move |b| from_stored(half::f16::from_ne_bytes([b[0], b[1]]), exponent))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored bytes are those of every release since format 1: each field where it
    /// always was.
    #[test]
    fn the_metapage_layout_does_not_move() {
        let meta = Meta {
            format: 3,
            metric: Metric::InnerProduct,
            residual: true,
            code_bits: 4,
            vector_bits: 4,
            labels: false,
            dims: 101,
            lists: 102,
            centroid_start: 103,
            centroid_pages: 104,
            directory_start: 105,
            directory_pages: 106,
            vector_head: 107,
            vector_insert: 108,
            code_tail: 109,
            centroid_exponent: -3,
            build_id: 0x0102_0304_0506_0708,
            rows_at_build: 110,
        };
        let bytes = meta.to_bytes();
        let word = |at: usize| u32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap());
        assert_eq!((word(0), word(4), bytes[8], bytes[9]), (MAGIC, 3, 2, 0b0011_0011));
        assert_eq!(i16::from_ne_bytes([bytes[10], bytes[11]]), -3);
        assert_eq!((0..9).map(|i| word(12 + 4 * i)).collect::<Vec<_>>(), (101..110).collect::<Vec<_>>());
        assert_eq!(u64::from_ne_bytes(bytes[48..56].try_into().unwrap()), 0x0102_0304_0506_0708);
        assert_eq!(u64::from_ne_bytes(bytes[56..64].try_into().unwrap()), 110);
        assert_eq!(Meta::from_bytes(&bytes).unwrap(), meta);
    }

    #[test]
    fn round_trips_and_refuses_other_versions() {
        let meta = Meta {
            format: 2,
            metric: Metric::Cosine,
            residual: true,
            code_bits: 1,
            vector_bits: 8,
            labels: false,
            dims: 384,
            lists: 632,
            centroid_start: 1,
            centroid_pages: 120,
            directory_start: 121,
            directory_pages: 2,
            vector_head: 130,
            vector_insert: 5000,
            code_tail: 4999,
            centroid_exponent: -3,
            build_id: 0xdead_beef_0123,
            rows_at_build: 100_000,
        };
        assert_eq!(Meta::from_bytes(&meta.to_bytes()).unwrap(), meta);
        let mut other = meta.to_bytes();
        other[4..8].copy_from_slice(&5u32.to_ne_bytes());
        let err = Meta::from_bytes(&other).unwrap_err();
        assert!(err.message.contains("version 5") && err.message.contains("REINDEX"), "{}", err.message);
        // 4-bit codes are format 3, and only format 3 may say so; other flags are corrupt.
        let nibbles = Meta { format: format_for(4, 8, false), code_bits: 4, ..meta.clone() };
        assert_eq!((nibbles.format, Meta::from_bytes(&nibbles.to_bytes()).unwrap()), (3, nibbles.clone()));
        let int4 = Meta { format: format_for(1, 4, false), vector_bits: 4, ..meta.clone() };
        assert_eq!((int4.format, Meta::from_bytes(&int4.to_bytes()).unwrap()), (3, int4.clone()));
        let mut lying = int4.to_bytes();
        lying[4..8].copy_from_slice(&2u32.to_ne_bytes());
        assert!(Meta::from_bytes(&lying).unwrap_err().message.contains("code flags"));
        let mut lying = nibbles.to_bytes();
        lying[4..8].copy_from_slice(&2u32.to_ne_bytes());
        assert!(Meta::from_bytes(&lying).unwrap_err().message.contains("code flags"));
        for flags in [0x05, 0x09, 0x11, 0x21, 0xf1] {
            let mut bad = nibbles.to_bytes();
            bad[9] = flags;
            assert!(Meta::from_bytes(&bad).is_err(), "{flags:#x}");
        }
        assert_eq!(format_for(1, 8, false), 2);
        // Labels are format 4 (bit 2), which only format 4 may say.
        let labelled = Meta { format: format_for(1, 8, true), labels: true, ..meta.clone() };
        assert_eq!((labelled.format, labelled.to_bytes()[9]), (4, 0b101));
        assert_eq!(Meta::from_bytes(&labelled.to_bytes()).unwrap(), labelled);
        let mut lying = labelled.to_bytes();
        lying[4..8].copy_from_slice(&3u32.to_ne_bytes());
        assert!(Meta::from_bytes(&lying).unwrap_err().message.contains("code flags"));
        // Format 1 (before calibrations) is read, and stays format 1 when written back.
        let old = Meta { format: 1, ..meta.clone() };
        assert_eq!(Meta::from_bytes(&old.to_bytes()).unwrap().format, 1);
        other[4..8].copy_from_slice(&0u32.to_ne_bytes());
        assert!(Meta::from_bytes(&other).is_err());
        assert!(Meta::from_bytes(&[0u8; 64]).unwrap_err().message.contains("not a quantvec index"));
        let p = |block, offset| ItemPointer { block, offset };
        let entry = ListEntry { head: p(5, 0), insert: p(9, 2), tail: p(12, 3) };
        assert_eq!(ListEntry::from_bytes(&entry.to_bytes()), entry);
    }

    /// Found by tests/fuzz.rs: `from_bytes` indexes past the end of a short slice; the
    /// checked reader says the directory is corrupt instead.
    #[test]
    fn short_directory_entries_are_corrupt() {
        let p = |block, offset| ItemPointer { block, offset };
        let entry = ListEntry { head: p(1, 2), insert: p(3, 4), tail: ItemPointer::NONE };
        let bytes = entry.to_bytes();
        assert_eq!(ListEntry::try_from_bytes(&bytes), Ok(entry));
        for len in [0, 5, 6, ListEntry::LEN - 1, ListEntry::LEN + 1] {
            let mut b = bytes.to_vec();
            b.resize(len, 0);
            assert!(ListEntry::try_from_bytes(&b).unwrap_err().message.contains("directory entry"), "{len} bytes");
        }
        assert!(std::panic::catch_unwind(|| ListEntry::from_bytes(&bytes[..ListEntry::LEN - 1])).is_err());
    }

    #[test]
    fn rounded_centroids_survive_storage() {
        let mut centroids = vec![0.1f32, -0.33333, 1.5, 1e-3];
        round_centroids(&mut centroids);
        assert_eq!(round_centroids(&mut centroids.clone()), 0);
        let back: Vec<f32> = centroids_from_bytes(&centroids_to_bytes(&centroids, 0), 0).collect();
        assert_eq!(back, centroids);
        assert!((back[1] + 0.33333).abs() < 1e-3);
    }

    #[test]
    fn any_finite_centroid_survives_storage() {
        // Past float16's 65,504 the coordinates are stored scaled by a power of two, with
        // float16's relative precision.
        let mut centroids = vec![70_000.0f32, -1e20, 3.0, f32::MAX, -f32::MAX, 1e-3];
        let original = centroids.clone();
        let exponent = round_centroids(&mut centroids);
        assert!(exponent > 100, "{exponent}");
        assert!(centroids.iter().all(|c| c.is_finite()), "{centroids:?}");
        for (c, o) in centroids.iter().zip(&original).take(5) {
            assert!((f64::from(*c) - f64::from(*o)).abs() <= f64::from(o.abs()) / 1000.0 + 1e30, "{c} vs {o}");
        }
        let back: Vec<f32> = centroids_from_bytes(&centroids_to_bytes(&centroids, exponent), exponent).collect();
        assert_eq!(back, centroids, "rounded centroids are stored exactly");
        let mut moderate = vec![70_000.0f32, -123_456.0, 1.0];
        let exponent = round_centroids(&mut moderate);
        assert_eq!(exponent, 2);
        assert!((moderate[0] - 70_000.0).abs() <= 70.0 && (moderate[1] + 123_456.0).abs() <= 124.0, "{moderate:?}");
    }
}
