//! The value of a field `--keep newest:FIELD` and `max:FIELD` compare, read
//! from its raw JSON.

use std::cmp::Ordering;

/// The value of a field a keep policy compares (`--keep newest:FIELD`).
/// Ordered: missing < other strings < numbers < times, so a value read as a
/// number or a time outranks one that is not (`"yesterday"` is not newer
/// than `2024-05-01`) and a time outranks a number (epoch seconds and RFC
/// 3339 times mixed in one field: the times win); strings that hold a
/// number count as one, RFC 3339 times (and dates) as the instants they
/// name, and other strings compare among themselves by their bytes.
/// Numbers compare by value, integers exactly whatever their size
/// (`1700000000000000100` over `1700000000000000000`, which are one double)
/// and with fractions (`3` under `3.5`); a literal beyond a double's range
/// is infinite (`1e400` over every finite number).
#[derive(Clone, Debug)]
pub enum FieldValue {
    /// Missing, null, or not a number or string.
    Missing,
    /// Any other string.
    Text(String),
    /// A number (or a string holding one) whose value is an integer that an
    /// `i128` holds (`17`, `17.0` and `1.7e1` alike): compared exactly.
    Integer(i128),
    /// Any other number (or string holding one), as the nearest double:
    /// infinite beyond a double's range, never NaN.
    Number(f64),
    /// An RFC 3339 time (`2024-05-01T09:30:00+02:00`, or `Z`), compared as
    /// an instant whatever its offset; a time without an offset, or a date,
    /// counts as UTC. Held as nanoseconds from the Unix epoch, so that the
    /// whole of years -9999 to 9999 compares (a `jiff::Timestamp` ends at
    /// 9999-12-30T22:00Z, and `9999-12-31`, a common "no end" date, ranked
    /// as text, below every time).
    Time(i128),
}

impl FieldValue {
    /// The value of a field's raw JSON (`raw` is valid JSON).
    pub(super) fn from_raw(raw: &str) -> FieldValue {
        if raw.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            return number(raw).unwrap_or(FieldValue::Missing);
        }
        match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(serde_json::Value::String(s)) => match number(s.trim()) {
                Some(n) => n,
                None => time(s.trim()).map_or(FieldValue::Text(s), FieldValue::Time),
            },
            _ => FieldValue::Missing,
        }
    }

    /// Missing < text < numbers < times.
    fn kind(&self) -> u8 {
        match self {
            FieldValue::Missing => 0,
            FieldValue::Text(_) => 1,
            FieldValue::Integer(_) | FieldValue::Number(_) => 2,
            FieldValue::Time(_) => 3,
        }
    }
}

impl PartialOrd for FieldValue {
    fn partial_cmp(&self, other: &FieldValue) -> Option<Ordering> {
        use FieldValue::{Integer, Missing, Number, Text, Time};
        match (self, other) {
            (Missing, Missing) => Some(Ordering::Equal),
            (Text(a), Text(b)) => a.partial_cmp(b),
            (Integer(a), Integer(b)) | (Time(a), Time(b)) => a.partial_cmp(b),
            (Number(a), Number(b)) => a.partial_cmp(b),
            (Integer(a), Number(b)) => integer_against(*a, *b),
            (Number(a), Integer(b)) => integer_against(*b, *a).map(Ordering::reverse),
            _ => self.kind().partial_cmp(&other.kind()),
        }
    }
}

/// Equal in value: `Integer(17)` is `Number(17.0)`, as they rank.
impl PartialEq for FieldValue {
    fn eq(&self, other: &FieldValue) -> bool {
        self.partial_cmp(other) == Some(Ordering::Equal)
    }
}

/// An integer against a double, exactly (no NaN is held, but one is
/// unordered).
fn integer_against(integer: i128, double: f64) -> Option<Ordering> {
    // 2^127: every i128 is below it, and at least -2^127.
    const BOUND: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;
    if double.is_nan() {
        return None;
    }
    if double >= BOUND {
        return Some(Ordering::Less);
    }
    if double < -BOUND {
        return Some(Ordering::Greater);
    }
    // In range, a double's whole part is an i128 exactly, and its fraction
    // (`double - whole`) a double exactly.
    let whole = double.trunc();
    #[allow(clippy::cast_possible_truncation)]
    let by_whole = integer.cmp(&(whole as i128));
    Some(by_whole.then(0.0_f64.partial_cmp(&(double - whole))?))
}

/// The number a literal names: JSON's (`-12`, `1.5e3`) or what a string may
/// hold besides (`+5`, `.5`, `5.`), with at least one digit (so `inf` and
/// `NaN` are words, not numbers). An integer value an `i128` holds is
/// exact; any other is the nearest double, infinite beyond its range.
fn number(text: &str) -> Option<FieldValue> {
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return None;
    }
    let exponent = match exponent {
        None => 0,
        Some(e) => {
            let magnitude = e.strip_prefix(['+', '-']).unwrap_or(e);
            if magnitude.is_empty() || !digits(magnitude) {
                return None;
            }
            // Past an i64 is past any i128 and any double: saturated.
            e.parse::<i64>().unwrap_or(if e.starts_with('-') {
                i64::MIN / 2
            } else {
                i64::MAX / 2
            })
        }
    };
    let significant = format!("{whole}{fraction}");
    let significant = significant.trim_start_matches('0');
    let trimmed = significant.trim_end_matches('0');
    // The value is `trimmed` times ten to `scale`.
    #[allow(clippy::cast_possible_wrap)]
    let scale = exponent - fraction.len() as i64 + (significant.len() - trimmed.len()) as i64;
    if trimmed.is_empty() {
        return Some(FieldValue::Integer(0));
    }
    if (0..=38).contains(&scale) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let integer = trimmed
            .parse::<i128>()
            .ok()
            .and_then(|v| v.checked_mul(10_i128.checked_pow(scale as u32)?));
        if let Some(v) = integer {
            return Some(FieldValue::Integer(if negative { -v } else { v }));
        }
    }
    // Rust reads every form above, to the nearest double (infinite beyond
    // its range).
    text.parse::<f64>().ok().map(FieldValue::Number)
}

/// The instant an RFC 3339 time names; a time without an offset, or a
/// date, is taken as UTC.
fn time(text: &str) -> Option<i128> {
    use jiff::civil::{DateTime, Time};
    // RFC 3339's offsets end at ±23:59; jiff reads them to ±25:59:59, and
    // `+25:00` would have named an instant.
    const MOST_OFFSET: i32 = 23 * 3600 + 59 * 60;
    // (Parsed once, for the offset's test and for the civil time below.)
    let pieces = jiff::fmt::temporal::Pieces::parse(text).ok();
    let offset = pieces
        .as_ref()
        .and_then(jiff::fmt::temporal::Pieces::to_numeric_offset)
        .map_or(0, jiff::tz::Offset::seconds);
    if offset.abs() > MOST_OFFSET {
        return None;
    }
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Some(t.as_nanosecond());
    }
    // A date, a time without an offset, or an instant beyond what a
    // `jiff::Timestamp` holds (`9999-12-31T23:59:59Z`): its civil time and
    // offset.
    let pieces = pieces?;
    let civil = pieces
        .date()
        .to_datetime(pieces.time().unwrap_or(Time::midnight()));
    let since = civil.duration_since(DateTime::constant(1970, 1, 1, 0, 0, 0, 0));
    Some(since.as_nanos() - i128::from(offset) * 1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_compare_as_instants_not_strings() {
        let value = |raw: &str| FieldValue::from_raw(raw);
        // 09:30 at +02:00 is 07:30 UTC: earlier than 08:00Z, though it sorts
        // after it as a string.
        let a = value("\"2024-05-01T09:30:00+02:00\"");
        let b = value("\"2024-05-01T08:00:00Z\"");
        assert!(matches!(a, FieldValue::Time(_)));
        assert!(a < b);
        // Fractions of a second, and dates (UTC midnight).
        assert!(value("\"2024-05-01T08:00:00.5Z\"") > b);
        assert!(value("\"2024-05-02\"") > b);
        assert!(value("\"2024-05-01\"") < b);
        assert_eq!(
            value("\"not a time\""),
            FieldValue::Text("not a time".into())
        );
        assert_eq!(value("\"17\""), FieldValue::Number(17.0));
        // Past a `jiff::Timestamp`'s end (9999-12-30T22:00Z): still times, in
        // order, above every earlier one.
        let end = value("\"9999-12-31\"");
        assert!(matches!(end, FieldValue::Time(_)));
        assert!(end > value("\"9999-12-30\""));
        assert!(value("\"9999-12-31T23:59:59Z\"") > end);
        assert!(value("\"9999-12-31T23:59:59+14:00\"") < value("\"9999-12-31T23:59:59Z\""));
        assert!(value("\"-9999-01-01\"") < value("\"0000-01-01\""));
        // Offsets as RFC 3339 writes them, up to ±23:59: past it, text.
        assert!(matches!(
            value("\"2024-05-01T08:00:00+23:59\""),
            FieldValue::Time(_)
        ));
        assert!(matches!(
            value("\"2024-05-01T08:00:00-23:59\""),
            FieldValue::Time(_)
        ));
        for far in ["+25:00", "-24:00", "+24:30"] {
            let raw = format!("\"2024-05-01T08:00:00{far}\"");
            assert!(matches!(value(&raw), FieldValue::Text(_)), "{raw}");
        }
    }

    #[test]
    fn numbers_compare_by_value_exactly() {
        let value = |raw: &str| FieldValue::from_raw(raw);
        // One double (1.7e18 is 2^60 and more: doubles 256 apart there).
        assert!(value("1700000000000000100") > value("1700000000000000000"));
        assert!(value("\"1700000000000000100\"") > value("1700000000000000000"));
        assert!(value("-1700000000000000100") < value("-1700000000000000000"));
        // Beyond i64 and u64, within i128; beyond i128, as doubles.
        assert!(value("18446744073709551617") > value("18446744073709551616"));
        assert!(value("1e39") > value("170141183460469231731687303715884105727"));
        // Integers against fractions, exactly.
        assert!(value("9007199254740993") > value("9007199254740992.0"));
        assert!(value("9007199254740993") < value("9007199254740993.5"));
        assert!(value("3") < value("3.5") && value("4") > value("3.5"));
        assert!(value("-3") > value("-3.5"));
        assert_eq!(value("17"), value("1.7e1"));
        assert_eq!(value("17"), value("17.000"));
        assert_eq!(value("0"), value("-0.0e-99999999999999999999"));
        assert!(matches!(value("170e-1"), FieldValue::Integer(17)));
        // Past a double's range: infinite, a number over every finite one.
        assert!(value("1e400") > value("2"));
        assert!(value("1e400") > value("170141183460469231731687303715884105727"));
        assert!(value("-1e400") < value("-170141183460469231731687303715884105728"));
        assert!(value("1e99999999999999999999") > value("1e308"));
        assert!(value("\"1e400\"") > value("2"));
        assert_eq!(value("1e400"), FieldValue::Number(f64::INFINITY));
        assert!(value("1e400") > value("\"some text\""));
        assert!(value("1e400") < value("\"2024-05-01\""));
        // Words are not numbers, whatever Rust reads as one.
        for word in [
            "\"inf\"",
            "\"NaN\"",
            "\"infinity\"",
            "\"-\"",
            "\"1e\"",
            "\".\"",
        ] {
            assert!(matches!(value(word), FieldValue::Text(_)), "{word}");
        }
        assert_eq!(value("\" +5 \""), FieldValue::Integer(5));
        assert_eq!(value("\".5\""), FieldValue::Number(0.5));
        assert_eq!(value("null"), FieldValue::Missing);
        assert_eq!(value("true"), FieldValue::Missing);
    }

    #[test]
    fn integers_against_doubles_at_the_edges_of_an_i128() {
        let (max, min) = (i128::MAX, i128::MIN);
        let bound = 2f64.powi(127);
        assert_eq!(integer_against(max, bound), Some(Ordering::Less));
        assert_eq!(integer_against(min, -bound), Some(Ordering::Equal));
        assert_eq!(integer_against(min, -bound * 2.0), Some(Ordering::Greater));
        assert_eq!(
            integer_against(0, f64::NEG_INFINITY),
            Some(Ordering::Greater)
        );
        assert_eq!(integer_against(0, -0.0), Some(Ordering::Equal));
        assert_eq!(integer_against(-1, -0.5), Some(Ordering::Less));
        assert_eq!(integer_against(0, f64::NAN), None);
    }
}
