//! Column-level calibration: one shared `(scale, zero_point)` for many vectors, so that
//! vectors quantized with it compare in pure integer arithmetic.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::error::{bail, Result};
use crate::floats;
use crate::int8::{self, Params};

/// What errors call the vectors calibration reads: the same state serves the `int8vec`
/// and the `int4vec` aggregates.
const SAMPLE: &str = "a calibration sample";

/// Running min/max over every component seen.
#[derive(Clone, Debug)]
pub struct MinMax {
    min: f32,
    max: f32,
}

impl Default for MinMax {
    fn default() -> Self {
        MinMax { min: f32::INFINITY, max: f32::NEG_INFINITY }
    }
}

impl MinMax {
    pub fn add(&mut self, values: &[f32]) -> Result<()> {
        floats::check(values, SAMPLE, int8::MAX_DIMS)?;
        for &v in values {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
        Ok(())
    }

    /// The smallest and largest component; None when no vector was seen.
    pub fn range(&self) -> Option<(f32, f32)> {
        (self.min <= self.max).then_some((self.min, self.max))
    }

    /// int8 parameters for [`MinMax::range`]; None when no vector was seen.
    pub fn params(&self) -> Option<Params> {
        self.range().map(|(min, max)| Params::from_range(min, max))
    }
}

/// A uniform sample of components (reservoir sampling, fixed seed so that the same input
/// in the same order calibrates the same way), from which quantiles are taken.
#[derive(Clone, Debug)]
pub struct Quantiles {
    sample: Vec<f32>,
    seen: u64,
    capacity: usize,
    rng: SmallRng,
}

impl Quantiles {
    /// One million components: quantiles to about ±0.001 of rank, in 4 MB.
    pub const DEFAULT_CAPACITY: usize = 1 << 20;

    pub fn new(capacity: usize) -> Self {
        Quantiles { sample: Vec::new(), seen: 0, capacity: capacity.max(1), rng: SmallRng::seed_from_u64(0x5eed) }
    }

    pub fn add(&mut self, values: &[f32]) -> Result<()> {
        floats::check(values, SAMPLE, int8::MAX_DIMS)?;
        for &v in values {
            self.seen += 1;
            if self.sample.len() < self.capacity {
                self.sample.push(v);
            } else {
                let slot = self.rng.random_range(0..self.seen);
                if let Some(kept) = self.sample.get_mut(slot as usize) {
                    *kept = v;
                }
            }
        }
        Ok(())
    }

    /// The two quantiles of the sample; None when empty.
    pub fn range(&self, lower: f64, upper: f64) -> Result<Option<(f32, f32)>> {
        floats::check_quantiles(lower, upper)?;
        if self.sample.is_empty() {
            return Ok(None);
        }
        Ok(Some(floats::quantile_range(&self.sample, lower, upper)))
    }

    /// int8 min/max parameters of [`Quantiles::range`]; None when empty.
    pub fn params(&self, lower: f64, upper: f64) -> Result<Option<Params>> {
        Ok(self.range(lower, upper)?.map(|(low, high)| Params::from_range(low, high)))
    }
}

/// Per-dimension means, e.g. thresholds for `bitvec` quantization.
#[derive(Clone, Debug, Default)]
pub struct Means {
    sums: Vec<f64>,
    count: u64,
}

impl Means {
    pub fn add(&mut self, values: &[f32], type_name: &str, max_dims: usize) -> Result<()> {
        floats::check(values, type_name, max_dims)?;
        if self.count == 0 {
            self.sums = vec![0.0; values.len()];
        } else if self.sums.len() != values.len() {
            bail!(DataException, "different dimensions {} and {} in one aggregate", self.sums.len(), values.len());
        }
        for (sum, &v) in self.sums.iter_mut().zip(values) {
            *sum += f64::from(v);
        }
        self.count += 1;
        Ok(())
    }

    pub fn mean(&self) -> Option<Vec<f32>> {
        (self.count > 0).then(|| self.sums.iter().map(|s| (s / self.count as f64) as f32).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minmax_covers_every_component() {
        let mut c = MinMax::default();
        assert_eq!(c.params(), None);
        c.add(&[0.5, -1.0]).unwrap();
        c.add(&[2.0, 0.0]).unwrap();
        let p = c.params().unwrap();
        assert_eq!(p, Params::from_range(-1.0, 2.0));
        assert_eq!(p.quantize(-1.0), -128);
        assert_eq!(p.quantize(2.0), 127);
        assert!(c.add(&[f32::NAN]).is_err());
    }

    #[test]
    fn quantiles_clip_outliers() {
        let mut c = Quantiles::new(Quantiles::DEFAULT_CAPACITY);
        let values: Vec<f32> = (0..1000).map(|i| i as f32 / 1000.0).chain([1000.0]).collect();
        c.add(&values).unwrap();
        let p = c.params(0.0, 0.99).unwrap().unwrap();
        // The outlier at 1000 does not stretch the range: 0.99 maps near the top code.
        assert!(p.quantize(0.99) >= 126, "{p:?}");
        assert_eq!(p.quantize(1000.0), 127);
        assert!(c.params(0.9, 0.1).is_err());
    }

    #[test]
    fn reservoir_stays_within_capacity_and_uniform() {
        let mut c = Quantiles::new(1000);
        let values: Vec<f32> = (0..100_000).map(|i| i as f32).collect();
        for vector in values.chunks(100) {
            c.add(vector).unwrap();
        }
        assert_eq!(c.sample.len(), 1000);
        let median = floats::quantile(&mut c.sample.clone(), 0.5);
        assert!((median - 50_000.0).abs() < 5_000.0, "median of a uniform sample: {median}");
    }

    #[test]
    fn means_per_dimension() {
        let mut m = Means::default();
        assert_eq!(m.mean(), None);
        m.add(&[1.0, 2.0], "real[]", 10).unwrap();
        m.add(&[3.0, 6.0], "real[]", 10).unwrap();
        assert_eq!(m.mean().unwrap(), vec![2.0, 4.0]);
        assert!(m.add(&[1.0], "real[]", 10).is_err());
    }
}
