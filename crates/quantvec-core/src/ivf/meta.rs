//! What an index stores about itself: the metapage and the per-list directory entries,
//! as bytes (the Postgres glue decides which pages they go to).

use super::{ItemPointer, Metric};
use crate::error::{bail, Result};

/// "QVIV" in the first word of the metapage.
pub const MAGIC: u32 = 0x5156_4956;
/// The page format this build writes and reads.
pub const VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    pub metric: Metric,
    pub residual: bool,
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
    /// Changes with every build, so that caches of an older build are not used.
    pub build_id: u64,
    pub rows_at_build: u64,
}

impl Meta {
    pub const LEN: usize = 64;

    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[0..4].copy_from_slice(&MAGIC.to_ne_bytes());
        out[4..8].copy_from_slice(&VERSION.to_ne_bytes());
        out[8] = self.metric as u8;
        out[9] = u8::from(self.residual);
        let words = [
            self.dims,
            self.lists,
            self.centroid_start,
            self.centroid_pages,
            self.directory_start,
            self.directory_pages,
            self.vector_head,
            self.vector_insert,
            self.code_tail,
        ];
        for (i, w) in words.iter().enumerate() {
            out[12 + 4 * i..16 + 4 * i].copy_from_slice(&w.to_ne_bytes());
        }
        out[48..56].copy_from_slice(&self.build_id.to_ne_bytes());
        out[56..64].copy_from_slice(&self.rows_at_build.to_ne_bytes());
        out
    }

    /// Reads a metapage, refusing anything this build cannot read with a message that
    /// says what to do.
    pub fn from_bytes(bytes: &[u8]) -> Result<Meta> {
        let word = |i: usize| u32::from_ne_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
        if bytes.len() < Self::LEN || word(0) != MAGIC {
            bail!(DataException, "not a quantvec index: its metapage has no quantvec signature");
        }
        if word(4) != VERSION {
            bail!(DataException, "quantvec index has page format version {}, but this build of quantvec reads version {VERSION}; run REINDEX", word(4));
        }
        let Some(metric) = Metric::from_u8(bytes[8]) else {
            bail!(DataException, "quantvec index metapage names unknown metric {}", bytes[8]);
        };
        Ok(Meta {
            metric,
            residual: bytes[9] != 0,
            dims: word(12),
            lists: word(16),
            centroid_start: word(20),
            centroid_pages: word(24),
            directory_start: word(28),
            directory_pages: word(32),
            vector_head: word(36),
            vector_insert: word(40),
            code_tail: word(44),
            build_id: u64::from_ne_bytes(bytes[48..56].try_into().expect("8 bytes")),
            rows_at_build: u64::from_ne_bytes(bytes[56..64].try_into().expect("8 bytes")),
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

impl ListEntry {
    pub const LEN: usize = 3 * ItemPointer::LEN;

    pub fn to_bytes(self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        for (i, p) in [self.head, self.insert, self.tail].iter().enumerate() {
            p.write(&mut out[ItemPointer::LEN * i..]);
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> ListEntry {
        let at = |i: usize| ItemPointer::read(&bytes[ItemPointer::LEN * i..]);
        ListEntry { head: at(0), insert: at(1), tail: at(2) }
    }
}

/// Centroids are stored as float16: half the pages of float32, and list ranking does not
/// need more. A build rounds them before it encodes any row, so that rows are encoded
/// against exactly the centroids that scans read back.
pub fn round_centroids(centroids: &mut [f32]) {
    for c in centroids {
        *c = half::f16::from_f32(*c).to_f32();
    }
}

pub fn centroids_to_bytes(centroids: &[f32]) -> Vec<u8> {
    centroids.iter().flat_map(|&c| half::f16::from_f32(c).to_ne_bytes()).collect()
}

pub fn centroids_from_bytes(bytes: &[u8]) -> impl Iterator<Item = f32> + '_ {
    bytes.chunks_exact(2).map(|b| half::f16::from_ne_bytes([b[0], b[1]]).to_f32())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_versions() {
        let meta = Meta {
            metric: Metric::Cosine,
            residual: true,
            dims: 384,
            lists: 632,
            centroid_start: 1,
            centroid_pages: 120,
            directory_start: 121,
            directory_pages: 2,
            vector_head: 130,
            vector_insert: 5000,
            code_tail: 4999,
            build_id: 0xdead_beef_0123,
            rows_at_build: 100_000,
        };
        assert_eq!(Meta::from_bytes(&meta.to_bytes()).unwrap(), meta);
        let mut other = meta.to_bytes();
        other[4..8].copy_from_slice(&2u32.to_ne_bytes());
        let err = Meta::from_bytes(&other).unwrap_err();
        assert!(err.message.contains("version 2") && err.message.contains("REINDEX"), "{}", err.message);
        assert!(Meta::from_bytes(&[0u8; 64]).unwrap_err().message.contains("not a quantvec index"));
        let p = |block, offset| ItemPointer { block, offset };
        let entry = ListEntry { head: p(5, 0), insert: p(9, 2), tail: p(12, 3) };
        assert_eq!(ListEntry::from_bytes(&entry.to_bytes()), entry);
    }

    #[test]
    fn rounded_centroids_survive_storage() {
        let mut centroids = vec![0.1f32, -0.33333, 1.5, 1e-3];
        round_centroids(&mut centroids);
        let back: Vec<f32> = centroids_from_bytes(&centroids_to_bytes(&centroids)).collect();
        assert_eq!(back, centroids);
        assert!((back[1] + 0.33333).abs() < 1e-3);
    }
}
