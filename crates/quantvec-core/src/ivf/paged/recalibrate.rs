//! Measuring an index's recall again after its rows changed (VACUUM): a build measures it
//! with sample rows of the table as queries, finding their true neighbours among the rows
//! it writes; here the queries are rows the index holds, drawn from its vector items, and
//! their neighbours are found among every vector item. The measurement itself is the
//! build's ([`crate::ivf::recall`]).

use std::collections::HashMap;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::error::Result;
use crate::ivf::recall::{Offered, Truths};
use crate::ivf::{vector_floats, vector_tid, ItemPointer};
use crate::kernels::Kernels;

use super::directory::{read_meta, Opened};
use super::lists::list_targets;
use super::page::{Kind, NO_BLOCK};
use super::store::{page_of, Lock, Steps, Store};

/// Rows offered to the queries at a time (each offer runs the queries in parallel).
const OFFER_ROWS: usize = 4096;

/// `queries` rows drawn uniformly from the index's live rows (with `seed`) as queries, and
/// their true neighbours among all of them, found on `pool`'s threads (the store is called
/// on this one only). One pass over the lists learns each row's list and draws the queries,
/// whose vector items are then read; one pass over the vector pages offers every row.
/// Concurrent inserts may or may not be seen, as a build's rows are.
pub fn truths<S: Store>(store: &S, opened: &Opened, k: &'static Kernels, pool: &rayon::ThreadPool, queries: usize, seed: u64) -> Result<Truths> {
    let quantizer = &opened.quantizer;
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut lists: HashMap<ItemPointer, u32> = HashMap::new();
    let mut drawn: Vec<ItemPointer> = Vec::with_capacity(queries);
    for list in 0..quantizer.lists() {
        for target in list_targets(store, opened, list)?.0 {
            lists.insert(target, list as u32);
            // A reservoir: each row seen so far is drawn with the same chance.
            if drawn.len() < queries {
                drawn.push(target);
            } else if let Some(slot) = drawn.get_mut(rng.random_range(0..lists.len())) {
                *slot = target;
            }
        }
        store.pause();
    }
    drawn.sort_unstable();
    let mut rows = Vec::with_capacity(drawn.len());
    store.read_items(&drawn, quantizer.vector_len(), Kind::Vectors, &mut |vector| {
        // A zero cosine row has no direction to search from.
        if let Some(floats) = vector_floats(k, quantizer, vector) {
            rows.push((vector_tid(vector), floats));
        }
    })?;

    let mut truths = Truths::new(quantizer, k, rows)?;
    each_vector_page(store, opened, &lists, |rows| {
        let offered: Vec<Offered> =
            rows.iter().map(|&((target, list), vector)| Offered { tid: vector_tid(vector), target, list: list as usize, vector }).collect();
        pool.install(|| truths.offer(&offered));
    })?;
    Ok(truths)
}

/// Calls `visit` with the live rows of the vector pages, about [`OFFER_ROWS`] at a time:
/// ((slot, list), vector item). Each page is copied under its share lock and visited
/// without it, so that inserts wait for a copy rather than for the work.
fn each_vector_page<S: Store>(
    store: &S,
    opened: &Opened,
    lists: &HashMap<ItemPointer, u32>,
    mut visit: impl FnMut(&[((ItemPointer, u32), &[u8])]),
) -> Result<()> {
    let len = opened.quantizer.vector_len();
    let mut copied: Vec<(u32, Vec<u8>)> = Vec::new();
    let mut flush = |copied: &mut Vec<(u32, Vec<u8>)>| {
        let rows: Vec<((ItemPointer, u32), &[u8])> = copied
            .iter()
            .flat_map(|(block, data)| {
                data.chunks_exact(len).enumerate().map(move |(slot, vector)| (ItemPointer { block: *block, offset: slot as u16 }, vector))
            })
            // A slot no list points at is free, or its row is being inserted or removed.
            .filter_map(|(target, vector)| lists.get(&target).map(|&list| ((target, list), vector)))
            .collect();
        visit(&rows);
        copied.clear();
    };
    let mut block = read_meta(store)?.vector_head;
    let mut steps = Steps::new(1);
    while block != NO_BLOCK {
        steps.step(store, block)?;
        let next = {
            let locked = store.lock(block, Lock::Share)?;
            let page = page_of(store, &locked, Kind::Vectors)?;
            copied.push((block, page.data().to_vec()));
            page.next()
        };
        if copied.len() * (super::PAGE_SIZE / len.max(1)) >= OFFER_ROWS {
            flush(&mut copied);
        }
        store.pause();
        block = next;
    }
    flush(&mut copied);
    Ok(())
}
