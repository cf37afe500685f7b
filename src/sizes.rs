//! Sizes as people write them (`1G`, `512M`): read for `--memory-limit` and
//! `NEARDUP_AVAILABLE_MEMORY`, written in notes; and counts as they are
//! written (`1,234,567`).

use crate::error::{Error, Result};

/// Parses a size: `1G`, `512M`, `800K`, `1.5G` or a number of bytes (powers
/// of 1024).
///
/// # Errors
/// A [`Error::Usage`] naming the flag.
pub fn parse_size(flag: &str, text: &str) -> Result<usize> {
    let t = text.trim();
    let (number, unit) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&t[..i], t[i..].to_ascii_uppercase()),
        None => (t, String::new()),
    };
    // `G`, `GB`, `GiB` and `Gi` (as Kubernetes writes it) are one unit.
    let unit = unit
        .strip_suffix("IB")
        .or_else(|| unit.strip_suffix('B'))
        .or_else(|| unit.strip_suffix('I'))
        .unwrap_or(&unit);
    let scale: f64 = match unit {
        "" => 1.0,
        "K" => 1024.0,
        "M" => 1024.0 * 1024.0,
        "G" => 1024.0 * 1024.0 * 1024.0,
        "T" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => f64::NAN,
    };
    let number = number.trim();
    // A whole number is read exactly: a float would round 2^64 - 1 up to
    // 2^64 and refuse the largest size there is. (Zero and what does not fit
    // are refused below, by the float, as any other size.)
    if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) && scale.is_finite() {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let exact = number
            .parse::<u128>()
            .ok()
            .and_then(|n| n.checked_mul(scale as u128))
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n > 0);
        if let Some(bytes) = exact {
            return Ok(bytes);
        }
    }
    let value: f64 = number.parse().unwrap_or(f64::NAN);
    let bytes = value * scale;
    // `usize::MAX as f64` rounds up to 2^64: sizes from it on do not fit
    // (a cast would quietly saturate to the largest number instead).
    #[allow(clippy::cast_precision_loss)]
    let too_large = bytes >= usize::MAX as f64;
    if bytes.is_finite() && too_large {
        Err(Error::Usage(format!(
            "{flag} {text}: too large (at most {} bytes)",
            usize::MAX
        )))
    } else if bytes.is_finite() && bytes >= 1.0 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(bytes as usize)
    } else {
        Err(Error::Usage(format!(
            "{flag} takes a size such as 1G, 512M or 800K, not {text:?}"
        )))
    }
}

/// Bytes as `1.5G`, `300M` or `12K` (powers of 1024, as [`parse_size`] reads them).
#[must_use]
pub fn human_bytes(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let b = bytes as f64;
    for (unit, scale) in [("G", 1u64 << 30), ("M", 1 << 20), ("K", 1 << 10)] {
        #[allow(clippy::cast_precision_loss)]
        let scale = scale as f64;
        if b >= scale {
            return format!("{:.1}{unit}", b / scale);
        }
    }
    format!("{bytes}")
}

/// `1234567` as `1,234,567`.
#[must_use]
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("--memory-limit", "1G").unwrap(), 1 << 30);
        assert_eq!(parse_size("--memory-limit", "512m").unwrap(), 512 << 20);
        assert_eq!(parse_size("--memory-limit", "1.5GiB").unwrap(), 3 << 29);
        assert_eq!(parse_size("--memory-limit", "4096").unwrap(), 4096);
        assert_eq!(parse_size("--memory-limit", "2Gi").unwrap(), 2 << 30);
        assert_eq!(parse_size("--memory-limit", "64KB").unwrap(), 64 << 10);
        for bad in [
            "", "lots", "1X", "-1G", "0", "nan", "inf", "1e9", "0.5", "1BB", "1II", "1GiBi",
        ] {
            assert!(parse_size("--memory-limit", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_largest_size_is_read_exactly() {
        let max = usize::MAX.to_string();
        assert_eq!(parse_size("--memory-limit", &max).unwrap(), usize::MAX);
        assert_eq!(
            parse_size("--memory-limit", &format!("{max}B")).unwrap(),
            usize::MAX
        );
        let over = (u128::from(u64::MAX) + 1).to_string();
        let error = parse_size("--memory-limit", &over).unwrap_err();
        assert!(error.to_string().contains("too large (at most"), "{error}");
        let error = parse_size("--memory-limit", "17179869184G").unwrap_err();
        assert!(error.to_string().contains("too large"), "{error}");
    }

    #[test]
    fn sizes_too_large_for_the_machine_are_refused_not_saturated() {
        let error = parse_size("--memory-limit", "99999999999999999999T").unwrap_err();
        assert!(error.to_string().contains("too large"), "{error}");
        assert!(parse_size("--memory-limit", "16777216T").is_err());
        // The largest size that fits is still read as given.
        assert_eq!(
            parse_size("--memory-limit", "999999T").unwrap(),
            999_999 << 40
        );
    }

    #[test]
    fn sizes_print_as_they_are_read() {
        assert_eq!(human_bytes(50 << 10), "50.0K");
        assert_eq!(human_bytes(3 << 29), "1.5G");
        assert_eq!(human_bytes(100), "100");
    }
}
