//! What an index stores about itself: the metapage and the per-list directory entries,
//! as bytes (the Postgres glue decides which pages they go to).

use super::Metric;
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
    /// Changes with every build, so that caches of an older build are not used.
    pub build_id: u64,
    pub rows_at_build: u64,
}

impl Meta {
    pub const LEN: usize = 52;

    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[0..4].copy_from_slice(&MAGIC.to_ne_bytes());
        out[4..8].copy_from_slice(&VERSION.to_ne_bytes());
        out[8] = self.metric as u8;
        out[9] = u8::from(self.residual);
        let words = [self.dims, self.lists, self.centroid_start, self.centroid_pages, self.directory_start, self.directory_pages];
        for (i, w) in words.iter().enumerate() {
            out[12 + 4 * i..16 + 4 * i].copy_from_slice(&w.to_ne_bytes());
        }
        out[36..44].copy_from_slice(&self.build_id.to_ne_bytes());
        out[44..52].copy_from_slice(&self.rows_at_build.to_ne_bytes());
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
            bail!(
                DataException,
                "quantvec index has page format version {}, but this build of quantvec reads version {VERSION}; run REINDEX",
                word(4)
            );
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
            build_id: u64::from_ne_bytes(bytes[36..44].try_into().expect("8 bytes")),
            rows_at_build: u64::from_ne_bytes(bytes[44..52].try_into().expect("8 bytes")),
        })
    }
}

/// Where a list's pages are. Heads never change after a build; insert pages move forward
/// as pages fill, and back when vacuum frees space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListEntry {
    pub code_head: u32,
    pub code_insert: u32,
    pub vector_head: u32,
    pub vector_insert: u32,
}

impl ListEntry {
    pub const LEN: usize = 16;

    pub fn to_bytes(self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        for (i, w) in [self.code_head, self.code_insert, self.vector_head, self.vector_insert].iter().enumerate() {
            out[4 * i..4 * i + 4].copy_from_slice(&w.to_ne_bytes());
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> ListEntry {
        let word = |i: usize| u32::from_ne_bytes(bytes[4 * i..4 * i + 4].try_into().expect("4 bytes"));
        ListEntry { code_head: word(0), code_insert: word(1), vector_head: word(2), vector_insert: word(3) }
    }
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
            build_id: 0xdead_beef_0123,
            rows_at_build: 100_000,
        };
        assert_eq!(Meta::from_bytes(&meta.to_bytes()).unwrap(), meta);
        let mut other = meta.to_bytes();
        other[4..8].copy_from_slice(&2u32.to_ne_bytes());
        let err = Meta::from_bytes(&other).unwrap_err();
        assert!(err.message.contains("version 2") && err.message.contains("REINDEX"), "{}", err.message);
        assert!(Meta::from_bytes(&[0u8; 52]).unwrap_err().message.contains("not a quantvec index"));
        let entry = ListEntry { code_head: 5, code_insert: 9, vector_head: 6, vector_insert: 12 };
        assert_eq!(ListEntry::from_bytes(&entry.to_bytes()), entry);
    }
}
