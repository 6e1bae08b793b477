//! k-means (Lloyd's algorithm) on a sample, with the assignment and update steps spread
//! over the current rayon pool. Spherical k-means (unit-length data and centroids, nearest
//! by inner product) serves cosine distance.

use rand::rngs::SmallRng;
use rand::seq::index;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use crate::error::Result;
use crate::kernels::{self, scalar::PACKED_ROWS, Kernels};

#[derive(Clone, Debug)]
pub struct KMeans {
    pub clusters: usize,
    pub iterations: usize,
    pub spherical: bool,
    pub seed: u64,
}

/// Scales `v` to unit length (a zero vector stays zero).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x = (f64::from(*x) / norm) as f32);
    }
}

/// Packed centroids scored against a group of rows at a time: a tile that stays in the
/// core's L2 cache while the group's rows pass over it (128 KiB), instead of every centroid
/// streaming in from memory once per row.
const TILE_FLOATS: usize = 1 << 15;
/// Rows scored together against each tile.
const GROUP_ROWS: usize = 32;

/// Gives each row of `rows` (of `dims` floats) its nearest centroid, the first of equals:
/// by inner product when `spherical`, else by L2 (`norms`: each centroid's squared norm).
/// `packed` holds the centroids as [`kernels::pack_rows`] lays them out. Returns how many
/// rows changed centroid.
pub(crate) fn assign(k: &Kernels, rows: &[f32], dims: usize, packed: &[f32], norms: &[f32], spherical: bool, assigned: &mut [usize]) -> usize {
    let block = PACKED_ROWS * dims;
    let tile_blocks = (TILE_FLOATS / block).max(1);
    let mut dots = vec![0.0; GROUP_ROWS * tile_blocks * PACKED_ROWS];
    let mut changed = 0;
    for (group, slots) in rows.chunks(GROUP_ROWS * dims).zip(assigned.chunks_mut(GROUP_ROWS)) {
        let mut best = [(f32::INFINITY, 0usize); GROUP_ROWS];
        for (t, tile) in packed.chunks(tile_blocks * block).enumerate() {
            let (first, columns) = (t * tile_blocks * PACKED_ROWS, tile.len() / dims);
            let dots = &mut dots[..slots.len() * columns];
            (k.dot_f32_packed)(group, tile, dims, dots);
            // Past the last centroid, the padding rows of the last block.
            let real = norms.len().saturating_sub(first).min(columns);
            for (best, row) in best.iter_mut().zip(dots.chunks_exact(columns)) {
                for (j, &dot) in row[..real].iter().enumerate() {
                    let score = if spherical { -dot } else { norms[first + j] - 2.0 * dot };
                    if score < best.0 {
                        *best = (score, first + j);
                    }
                }
            }
        }
        for (slot, &(_, nearest)) in slots.iter_mut().zip(&best) {
            changed += usize::from(*slot != nearest);
            *slot = nearest;
        }
    }
    changed
}

pub fn squared_norms(k: &Kernels, centroids: &[f32], dims: usize) -> Vec<f32> {
    centroids.chunks_exact(dims).map(|c| (k.dot_f32)(c, c)).collect()
}

/// Rows of one slice of the assignment step: about 2^28 multiply-adds (a few milliseconds
/// on two cores), so that the caller's check runs that often even for many lists of many
/// dimensions, in groups enough to keep every thread busy.
fn slice_rows(clusters: usize, dims: usize) -> usize {
    let rows = (1usize << 28) / (clusters * dims).max(1);
    rows.div_ceil(GROUP_ROWS).max(1) * GROUP_ROWS
}

/// Trains `options.clusters` centroids (fewer when there are fewer rows) on `data`, rows
/// of `dims` floats, with the assignment and update steps spread over `pool`.
/// `check` runs on the calling thread between slices of the work (to check for
/// cancellation: the pool's threads never call it); an error from it stops training.
pub fn train(k: &Kernels, pool: &rayon::ThreadPool, data: &[f32], dims: usize, options: &KMeans, check: &mut dyn FnMut() -> Result<()>) -> Result<Vec<f32>> {
    let rows = data.len() / dims;
    let clusters = options.clusters.min(rows).max(1);
    if rows == 0 {
        return Ok(vec![0.0; dims]);
    }
    let mut data = data.to_vec();
    if options.spherical {
        pool.install(|| data.par_chunks_mut(dims).for_each(normalize));
    }
    let mut rng = SmallRng::seed_from_u64(options.seed);
    let mut centroids: Vec<f32> = index::sample(&mut rng, rows, clusters).into_iter().flat_map(|i| data[i * dims..(i + 1) * dims].to_vec()).collect();
    let mut assignment = vec![usize::MAX; rows];
    let slice = slice_rows(clusters, dims);
    for _ in 0..options.iterations {
        let norms = squared_norms(k, &centroids, dims);
        let packed = kernels::pack_rows(&centroids, dims);
        let mut changed = 0;
        for (rows, assigned) in data.chunks(dims * slice).zip(assignment.chunks_mut(slice)) {
            changed += pool.install(|| {
                rows.par_chunks(dims * GROUP_ROWS)
                    .zip(assigned.par_chunks_mut(GROUP_ROWS))
                    .map(|(group, assigned)| assign(k, group, dims, &packed, &norms, options.spherical, assigned))
                    .sum::<usize>()
            });
            check()?;
        }
        if changed == 0 {
            break;
        }
        // Update: per-cluster sums in f64, one part of the rows per thread (each part's sums
        // are clusters x dims floats), added up.
        let part = rows.div_ceil(pool.current_num_threads().max(1));
        let (sums, counts) = pool.install(|| {
            data.par_chunks(dims * part)
                .zip(assignment.par_chunks(part))
                .map(|(rows, assigned)| {
                    let (mut sums, mut counts) = (vec![0.0f64; clusters * dims], vec![0usize; clusters]);
                    for (x, &c) in rows.chunks_exact(dims).zip(assigned) {
                        counts[c] += 1;
                        for (s, &v) in sums[c * dims..(c + 1) * dims].iter_mut().zip(x) {
                            *s += f64::from(v);
                        }
                    }
                    (sums, counts)
                })
                .reduce(
                    || (vec![0.0f64; clusters * dims], vec![0usize; clusters]),
                    |(mut a, mut ca), (b, cb)| {
                        a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                        ca.iter_mut().zip(&cb).for_each(|(x, y)| *x += y);
                        (a, ca)
                    },
                )
        });
        check()?;
        for (c, centroid) in centroids.chunks_exact_mut(dims).enumerate() {
            if counts[c] == 0 {
                // An empty cluster restarts at a random row.
                let row = rng.random_range(0..rows);
                centroid.copy_from_slice(&data[row * dims..(row + 1) * dims]);
                continue;
            }
            for (v, s) in centroid.iter_mut().zip(&sums[c * dims..(c + 1) * dims]) {
                *v = (s / counts[c] as f64) as f32;
            }
            if options.spherical {
                normalize(centroid);
            }
        }
    }
    Ok(centroids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_separated_clusters() {
        // Three tight blobs in 4-d; every centroid must land on one blob.
        let mut rng = SmallRng::seed_from_u64(1);
        let centers = [[10.0f32, 0.0, 0.0, 0.0], [0.0, 10.0, 0.0, 0.0], [0.0, 0.0, -10.0, 5.0]];
        let data: Vec<f32> = (0..300).flat_map(|i| centers[i % 3].iter().map(|&c| c + rng.random_range(-0.1f32..0.1)).collect::<Vec<_>>()).collect();
        let options = KMeans { clusters: 3, iterations: 20, spherical: false, seed: 7 };
        let mut calls = 0;
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let centroids = train(kernels::active(), &pool, &data, 4, &options, &mut || {
            calls += 1;
            Ok(())
        })
        .unwrap();
        assert!(calls >= 1);
        for center in centers {
            let closest = centroids.chunks_exact(4).map(|c| c.iter().zip(&center).map(|(a, b)| (a - b).powi(2)).sum::<f32>()).fold(f32::INFINITY, f32::min);
            assert!(closest < 0.05, "no centroid near {center:?}: {centroids:?}");
        }
    }

    #[test]
    fn checks_between_slices_of_one_iteration() {
        // 64 lists of 1,024 dimensions: a slice is 4,096 rows, so 4 slices of assignment
        // and the update in the one iteration.
        let (clusters, dims) = (64, 1024);
        assert_eq!(slice_rows(clusters, dims), 4096);
        assert_eq!(slice_rows(10_000, 64_000), GROUP_ROWS, "at least one group per slice");
        let mut rng = SmallRng::seed_from_u64(3);
        let data: Vec<f32> = (0..4 * 4096 * dims).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        let options = KMeans { clusters, iterations: 1, spherical: false, seed: 7 };
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let mut calls = 0;
        train(kernels::active(), &pool, &data, dims, &options, &mut || {
            calls += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(calls, 5);
    }

    #[test]
    fn few_rows_and_interruption() {
        let data = [1.0f32, 0.0, 0.0, 1.0];
        let options = KMeans { clusters: 10, iterations: 5, spherical: true, seed: 1 };
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let centroids = train(kernels::active(), &pool, &data, 2, &options, &mut || Ok(())).unwrap();
        assert_eq!(centroids.len(), 4, "no more clusters than rows");
        assert_eq!(train(kernels::active(), &pool, &[], 2, &options, &mut || Ok(())).unwrap(), vec![0.0, 0.0]);
        let caller = std::thread::current().id();
        let err = train(kernels::active(), &pool, &data, 2, &options, &mut || {
            assert_eq!(std::thread::current().id(), caller, "the callback runs on the calling thread");
            Err(crate::Error::new(crate::ErrorKind::InvalidParameter, "canceled"))
        });
        assert!(err.is_err());
    }
}
