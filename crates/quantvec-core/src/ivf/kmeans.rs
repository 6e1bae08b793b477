//! k-means (Lloyd's algorithm) on a sample, with the assignment and update steps spread
//! over the current rayon pool. Spherical k-means (unit-length data and centroids, nearest
//! by inner product) serves cosine distance.

use rand::rngs::SmallRng;
use rand::seq::index;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use crate::error::Result;
use crate::kernels::Kernels;

/// Rows handed to one rayon task at a time.
const CHUNK_ROWS: usize = 256;

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

/// The nearest of `centroids` (rows of `dims`) to `x`: by inner product when `spherical`,
/// else by L2 (`norms` holds each centroid's squared norm). `dots` is scratch space of one
/// float per centroid.
pub fn nearest(k: &Kernels, x: &[f32], centroids: &[f32], norms: &[f32], spherical: bool, dots: &mut [f32]) -> usize {
    (k.dot_f32_rows)(x, centroids, dots);
    let mut best = (f32::INFINITY, 0);
    for (i, &dot) in dots.iter().enumerate() {
        let score = if spherical { -dot } else { norms[i] - 2.0 * dot };
        if score < best.0 {
            best = (score, i);
        }
    }
    best.1
}

pub fn squared_norms(k: &Kernels, centroids: &[f32], dims: usize) -> Vec<f32> {
    centroids.chunks_exact(dims).map(|c| (k.dot_f32)(c, c)).collect()
}

/// Rows of one slice of an iteration's work: about 2^26 multiply-adds of the assignment
/// step, so that the caller's check runs every few milliseconds even for many lists of
/// many dimensions (a whole iteration can take seconds).
fn slice_rows(clusters: usize, dims: usize) -> usize {
    let rows = (1usize << 26) / (clusters * dims).max(1);
    rows.div_ceil(CHUNK_ROWS).max(1) * CHUNK_ROWS
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
        let mut changed = 0;
        for (rows, assigned) in data.chunks(dims * slice).zip(assignment.chunks_mut(slice)) {
            changed += pool.install(|| {
                rows.par_chunks(dims * CHUNK_ROWS)
                    .zip(assigned.par_chunks_mut(CHUNK_ROWS))
                    .map(|(chunk, assigned)| {
                        let mut changed = 0;
                        let mut dots = vec![0.0; clusters];
                        for (x, slot) in chunk.chunks_exact(dims).zip(assigned) {
                            let best = nearest(k, x, &centroids, &norms, options.spherical, &mut dots);
                            changed += usize::from(*slot != best);
                            *slot = best;
                        }
                        changed
                    })
                    .sum::<usize>()
            });
            check()?;
        }
        if changed == 0 {
            break;
        }
        // Update: per-cluster sums in f64, folded per task, reduced per slice, added up.
        let mut sums = vec![0.0f64; clusters * dims];
        let mut counts = vec![0usize; clusters];
        for (rows, assigned) in data.chunks(dims * slice).zip(assignment.chunks(slice)) {
            let (slice_sums, slice_counts) = pool.install(|| {
                rows.par_chunks(dims * CHUNK_ROWS)
                    .zip(assigned.par_chunks(CHUNK_ROWS))
                    .fold(
                        || (vec![0.0f64; clusters * dims], vec![0usize; clusters]),
                        |(mut sums, mut counts), (chunk, assigned)| {
                            for (x, &c) in chunk.chunks_exact(dims).zip(assigned) {
                                counts[c] += 1;
                                for (s, &v) in sums[c * dims..(c + 1) * dims].iter_mut().zip(x) {
                                    *s += f64::from(v);
                                }
                            }
                            (sums, counts)
                        },
                    )
                    .reduce(
                        || (vec![0.0f64; clusters * dims], vec![0usize; clusters]),
                        |(mut a, mut ca), (b, cb)| {
                            a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                            ca.iter_mut().zip(&cb).for_each(|(x, y)| *x += y);
                            (a, ca)
                        },
                    )
            });
            sums.iter_mut().zip(&slice_sums).for_each(|(x, y)| *x += y);
            counts.iter_mut().zip(&slice_counts).for_each(|(x, y)| *x += y);
            check()?;
        }
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
    use crate::kernels;

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
        // 64 lists of 1,024 dimensions: a slice is 1,024 rows, so 4 slices of assignment
        // and 4 of update in the one iteration.
        let (clusters, dims) = (64, 1024);
        assert_eq!(slice_rows(clusters, dims), 1024);
        assert_eq!(slice_rows(10_000, 64_000), CHUNK_ROWS, "at least one chunk per slice");
        let mut rng = SmallRng::seed_from_u64(3);
        let data: Vec<f32> = (0..4 * 1024 * dims).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        let options = KMeans { clusters, iterations: 1, spherical: false, seed: 7 };
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let mut calls = 0;
        train(kernels::active(), &pool, &data, dims, &options, &mut || {
            calls += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(calls, 8);
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
