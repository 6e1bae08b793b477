//! Float vectors as they arrive from SQL arrays or clients: validation and small helpers
//! shared by both quantized types.

use crate::error::{bail, Error, Result};

/// Checks what every float input must satisfy: 1 to `max_dims` components, all finite.
pub fn check(values: &[f32], type_name: &str, max_dims: usize) -> Result<()> {
    check_dims(values.len(), type_name, max_dims)?;
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        let what = if values[i].is_nan() { "NaN" } else { "infinite value" };
        bail!(DataException, "{what} not allowed in {type_name} (element {})", i + 1);
    }
    Ok(())
}

pub fn check_dims(dims: usize, type_name: &str, max_dims: usize) -> Result<()> {
    if dims == 0 {
        bail!(DataException, "{type_name} must have at least 1 dimension");
    }
    if dims > max_dims {
        bail!(TooLarge, "{type_name} cannot have more than {max_dims} dimensions (got {dims})");
    }
    Ok(())
}

/// A float query against stored vectors: finite components, as many as the stored vector.
pub fn check_query(query: &[f32], dims: usize, type_name: &str) -> Result<()> {
    check_same_dims(dims, query.len(), type_name)?;
    if let Some(i) = query.iter().position(|v| !v.is_finite()) {
        let what = if query[i].is_nan() { "NaN" } else { "infinite value" };
        bail!(DataException, "{what} not allowed in a query vector (element {})", i + 1);
    }
    Ok(())
}

pub fn check_same_dims(left: usize, right: usize, what: &str) -> Result<()> {
    if left != right {
        bail!(DataException, "different {what} dimensions {left} and {right}");
    }
    Ok(())
}

/// A float list literal, `[1.5,-2,...]` (pgvector's form) or `{1.5,-2,...}` (an array's):
/// None when `text` is not in either form, an error when it is but does not parse.
pub fn parse_list(text: &str, type_name: &str) -> Result<Option<Vec<f32>>> {
    let trimmed = text.trim();
    let inner = match (trimmed.chars().next(), trimmed.chars().last()) {
        (Some('['), Some(']')) | (Some('{'), Some('}')) if trimmed.len() >= 2 => &trimmed[1..trimmed.len() - 1],
        (Some('[' | '{'), _) => return Err(Error::syntax(type_name, text, "unterminated list")),
        _ => return Ok(None),
    };
    if inner.trim().is_empty() {
        return Ok(Some(Vec::new()));
    }
    inner
        .split(',')
        .map(|item| {
            item.trim()
                .parse::<f32>()
                .map_err(|_| Error::syntax(type_name, text, format!("\"{}\" is not a number", item.trim())))
        })
        .collect::<Result<Vec<f32>>>()
        .map(Some)
}

/// The `q`-quantile (0 <= q <= 1) with linear interpolation between order statistics, as
/// `percentile_cont` computes it. Reorders `values`.
pub fn quantile(values: &mut [f32], q: f64) -> f32 {
    assert!(!values.is_empty() && (0.0..=1.0).contains(&q));
    let position = q * (values.len() - 1) as f64;
    let below = position.floor() as usize;
    let (_, &mut low, above) = values.select_nth_unstable_by(below, f32::total_cmp);
    let fraction = position - below as f64;
    if fraction == 0.0 || above.is_empty() {
        return low;
    }
    let high = above.iter().copied().fold(f32::INFINITY, f32::min);
    (f64::from(low) + fraction * (f64::from(high) - f64::from(low))) as f32
}

pub fn check_quantiles(lower: f64, upper: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&lower) || !(0.0..=1.0).contains(&upper) || lower >= upper {
        bail!(
            InvalidParameter,
            "quantiles must satisfy 0 <= lower < upper <= 1 (got lower = {lower}, upper = {upper})"
        );
    }
    Ok(())
}

pub fn norm(values: &[f32]) -> f64 {
    values.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>().sqrt()
}

pub fn sum(values: &[f32]) -> f64 {
    values.iter().map(|&v| f64::from(v)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_interpolates_like_percentile_cont() {
        let mut v = vec![4.0, 1.0, 3.0, 2.0];
        assert_eq!(quantile(&mut v, 0.0), 1.0);
        assert_eq!(quantile(&mut v, 1.0), 4.0);
        assert_eq!(quantile(&mut v, 0.5), 2.5);
        assert!((quantile(&mut v, 0.25) - 1.75).abs() < 1e-6);
    }

    #[test]
    fn rejects_non_finite_and_bad_sizes() {
        assert!(check(&[1.0, f32::NAN], "int8vec", 10).unwrap_err().message.contains("NaN"));
        assert!(check(&[f32::INFINITY], "int8vec", 10).unwrap_err().message.contains("infinite"));
        assert!(check(&[], "int8vec", 10).is_err());
        assert_eq!(check(&[0.0; 11], "int8vec", 10).unwrap_err().kind, crate::error::ErrorKind::TooLarge);
        assert!(check_quantiles(0.5, 0.5).is_err());
        assert!(check_quantiles(0.0, 1.0).is_ok());
    }
}
