//! The page format every index page shares: PostgreSQL's page header, the data between it
//! and `pd_lower`, and an 8-byte special space (the next page of a chain, the page kind).
//! `pd_lower..pd_upper` stays empty, the standard layout that full-page images and generic
//! WAL rely on.

use std::mem::{offset_of, size_of};

use crate::error::{bail, Result};

/// PostgreSQL's block size (the glue asserts that the server's is the same).
pub const PAGE_SIZE: usize = 8192;

/// PostgreSQL's `PageHeaderData` up to its line-pointer array, which our pages leave empty.
#[repr(C)]
struct PageHeader {
    lsn: u64,
    checksum: u16,
    flags: u16,
    lower: u16,
    upper: u16,
    special: u16,
    size_version: u16,
    prune_xid: u32,
}

/// What the index keeps at the end of each page.
#[repr(C)]
struct Special {
    /// The next page of a chain (vector pages), or `NO_BLOCK`.
    next: u32,
    kind: u16,
    reserved: u16,
}

pub const HEADER: usize = size_of::<PageHeader>();
pub const SPECIAL: usize = size_of::<Special>();
const _: () = assert!(HEADER == 24 && SPECIAL == 8, "PostgreSQL's SizeOfPageHeaderData and a MAXALIGNed special space");
/// Bytes of data a page holds.
pub const CAPACITY: usize = PAGE_SIZE - HEADER - SPECIAL;
/// PostgreSQL's `PG_PAGE_LAYOUT_VERSION`, which `PageInit` stamps beside the page size.
const LAYOUT_VERSION: u16 = 4;
/// `InvalidBlockNumber`: the end of a chain.
pub const NO_BLOCK: u32 = u32::MAX;
/// The metapage's block.
pub const META_BLOCK: u32 = 0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum Kind {
    Meta = 1,
    Centroids = 2,
    Directory = 3,
    Codes = 4,
    Vectors = 5,
}

#[inline]
fn read_u16(page: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([page[at], page[at + 1]])
}

fn write_u16(page: &mut [u8], at: usize, value: u16) {
    page[at..at + 2].copy_from_slice(&value.to_ne_bytes());
}

const LOWER: usize = offset_of!(PageHeader, lower);
const NEXT: usize = PAGE_SIZE - SPECIAL + offset_of!(Special, next);
const KIND: usize = PAGE_SIZE - SPECIAL + offset_of!(Special, kind);

/// The used data of a page: between the header and pd_lower (clamped: a damaged pd_lower
/// reads as less data, never out of the page).
#[inline]
fn used(page: &[u8]) -> &[u8] {
    &page[HEADER..lower(page)]
}

#[inline]
fn lower(page: &[u8]) -> usize {
    usize::from(read_u16(page, LOWER)).clamp(HEADER, PAGE_SIZE - SPECIAL)
}

/// A whole page, to read.
#[derive(Clone, Copy)]
pub struct Page<'p>(&'p [u8]);

impl<'p> Page<'p> {
    /// A page of `PAGE_SIZE` bytes.
    #[inline]
    pub fn new(bytes: &'p [u8]) -> Page<'p> {
        assert_eq!(bytes.len(), PAGE_SIZE, "a whole page");
        Page(bytes)
    }

    #[inline]
    pub fn data(&self) -> &'p [u8] {
        used(self.0)
    }

    #[inline]
    pub fn next(&self) -> u32 {
        u32::from_ne_bytes(self.0[NEXT..NEXT + 4].try_into().expect("4 bytes"))
    }

    #[inline]
    pub fn kind(&self) -> u16 {
        read_u16(self.0, KIND)
    }
}

/// A whole page, to change (a page of a WAL record under construction, or of a build).
pub struct PageMut<'p>(&'p mut [u8]);

impl<'p> PageMut<'p> {
    pub fn new(bytes: &'p mut [u8]) -> PageMut<'p> {
        assert_eq!(bytes.len(), PAGE_SIZE, "a whole page");
        PageMut(bytes)
    }

    pub fn page(&self) -> Page<'_> {
        Page(self.0)
    }

    pub fn data(&self) -> &[u8] {
        used(self.0)
    }

    /// An empty page of `kind`, byte for byte what PostgreSQL's `PageInit` makes with an
    /// 8-byte special space, then our special fields.
    pub fn init(&mut self, kind: Kind) {
        self.0.fill(0);
        let boundary = (PAGE_SIZE - SPECIAL) as u16;
        write_u16(self.0, LOWER, HEADER as u16);
        write_u16(self.0, offset_of!(PageHeader, upper), boundary);
        write_u16(self.0, offset_of!(PageHeader, special), boundary);
        write_u16(self.0, offset_of!(PageHeader, size_version), PAGE_SIZE as u16 | LAYOUT_VERSION);
        self.set_next(NO_BLOCK);
        write_u16(self.0, KIND, kind as u16);
    }

    pub fn set_next(&mut self, block: u32) {
        self.0[NEXT..NEXT + 4].copy_from_slice(&block.to_ne_bytes());
    }

    /// Appends `bytes` to the used data; false when they do not fit. An all-zero page (never
    /// initialised) is an error: writing at its pd_lower would overwrite its header.
    pub fn append(&mut self, bytes: &[u8]) -> Result<bool> {
        let lower = usize::from(read_u16(self.0, LOWER));
        if lower < HEADER {
            bail!(DataException, "quantvec index page was never initialised; REINDEX the index");
        }
        if lower + bytes.len() > PAGE_SIZE - SPECIAL {
            return Ok(false);
        }
        self.0[lower..lower + bytes.len()].copy_from_slice(bytes);
        write_u16(self.0, LOWER, (lower + bytes.len()) as u16);
        Ok(true)
    }

    /// Keeps the first `len` bytes of the used data (tests: a page as older versions left it).
    pub fn truncate(&mut self, len: usize) {
        let kept = (HEADER + len).min(lower(self.0));
        write_u16(self.0, LOWER, kept as u16);
    }

    /// The used data, to change in place.
    pub fn data_mut(&mut self) -> &mut [u8] {
        let lower = lower(self.0);
        &mut self.0[HEADER..lower]
    }
}
