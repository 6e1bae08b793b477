//! The index on pages: how it lays its lists out on fixed-size pages, and how it builds,
//! inserts, vacuums and searches them, over any [`Store`] (PostgreSQL's buffers in the
//! glue, [`memory::MemoryStore`] here).
//!
//! Block 0 is the metapage. A build then writes the centroid pages (the centroids as one
//! float16 stream), the directory pages (one `ListEntry` per list), code pages and vector
//! pages. Code pages hold stored FastScan blocks, each preceded by a link to the next block
//! of its list ([`chain`]). Vector pages hold fixed-size vector items of every list,
//! chained through their special space.

pub mod build;
pub mod chain;
pub mod directory;
pub mod insert;
pub mod lists;
pub mod memory;
pub mod page;
pub mod recalibrate;
pub mod store;
pub mod vacuum;

pub use directory::{open, Opened};
pub use page::{Kind, Page, PageMut, CAPACITY, META_BLOCK, NO_BLOCK, PAGE_SIZE};
pub use store::{Lock, Locked, Store};

#[cfg(test)]
mod tests;
