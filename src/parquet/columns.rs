//! The text column of a Parquet input, of any type Arrow reads strings
//! as (strings, bytes holding UTF-8, dictionaries of them), and the values of
//! the id and `--keep` columns, as JSON; and a text column of the input's
//! type made of the cleaned texts.

use super::failed;
use crate::error::Result;
use arrow_array::types::ArrowDictionaryKeyType;
use arrow_array::{
    Array, ArrayRef, BinaryArray, BinaryViewArray, DictionaryArray, LargeBinaryArray,
    LargeStringArray, PrimitiveArray, StringArray, StringViewArray,
};
use arrow_schema::{DataType, Schema};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

/// The index of the top-level column `name`, which must hold strings.
pub(super) fn text_column(path: &Path, schema: &Schema, name: &str) -> Result<usize> {
    let Some((at, field)) = schema.column_with_name(name) else {
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        return Err(failed(
            path,
            format!(
                "no column {name:?} (columns: {}); name the text column with --text-field",
                names.join(", ")
            ),
        ));
    };
    if is_text_type(field.data_type()) {
        Ok(at)
    } else {
        Err(failed(
            path,
            format!("column {name:?} holds {}, not strings", field.data_type()),
        ))
    }
}

/// Whether a column of `data_type` can be the text column: strings of any
/// Arrow layout, bytes (read as UTF-8, a row that is not is an error), and
/// dictionaries of them (pandas categoricals; `pa.dictionary`).
fn is_text_type(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView => true,
        DataType::Dictionary(key, values) => {
            key.is_dictionary_key_type()
                && !matches!(values.as_ref(), DataType::Dictionary(..))
                && is_text_type(values)
        }
        _ => false,
    }
}

/// The values of the dictionary `column` and the index in them of row
/// `row` (not null).
fn dictionary_entry(
    column: &dyn Array,
    row: usize,
) -> std::result::Result<(&dyn Array, usize), String> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{
        Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
    };
    macro_rules! entry {
        ($key:ty) => {{
            let d = column.as_dictionary::<$key>();
            (
                d.values().as_ref(),
                usize::try_from(d.keys().value(row)).ok(),
            )
        }};
    }
    let DataType::Dictionary(key, _) = column.data_type() else {
        return Err(format!("holds {}, not a dictionary", column.data_type()));
    };
    let (values, at) = match key.as_ref() {
        DataType::Int8 => entry!(Int8Type),
        DataType::Int16 => entry!(Int16Type),
        DataType::Int32 => entry!(Int32Type),
        DataType::Int64 => entry!(Int64Type),
        DataType::UInt8 => entry!(UInt8Type),
        DataType::UInt16 => entry!(UInt16Type),
        DataType::UInt32 => entry!(UInt32Type),
        DataType::UInt64 => entry!(UInt64Type),
        other => return Err(format!("holds a dictionary keyed by {other}")),
    };
    match at {
        Some(at) if at < values.len() => Ok((values, at)),
        _ => Err("holds a dictionary key out of range".to_owned()),
    }
}

/// A column of `data_type` (a text column's, [`is_text_type`]) holding
/// `texts`.
pub(super) fn text_array(
    data_type: &DataType,
    texts: &[Option<String>],
) -> std::result::Result<ArrayRef, String> {
    use arrow_array::types::{
        Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
    };
    let strings = || texts.iter().map(Option::as_deref);
    let bytes = || texts.iter().map(|t| t.as_deref().map(str::as_bytes));
    Ok(match data_type {
        DataType::LargeUtf8 => Arc::new(strings().collect::<LargeStringArray>()),
        DataType::Utf8View => Arc::new(strings().collect::<StringViewArray>()),
        DataType::Binary => Arc::new(bytes().collect::<BinaryArray>()),
        DataType::LargeBinary => Arc::new(bytes().collect::<LargeBinaryArray>()),
        DataType::BinaryView => Arc::new(bytes().collect::<BinaryViewArray>()),
        DataType::Dictionary(key, value_type) => {
            // Each distinct text once, in order of first use.
            let mut seen = std::collections::HashMap::new();
            let mut values = Vec::new();
            let keys: Vec<Option<usize>> = texts
                .iter()
                .map(|t| {
                    t.as_deref().map(|t| {
                        *seen.entry(t).or_insert_with(|| {
                            values.push(Some(t.to_owned()));
                            values.len() - 1
                        })
                    })
                })
                .collect();
            let values = text_array(value_type, &values)?;
            match key.as_ref() {
                DataType::Int8 => dictionary::<Int8Type>(&keys, values)?,
                DataType::Int16 => dictionary::<Int16Type>(&keys, values)?,
                DataType::Int32 => dictionary::<Int32Type>(&keys, values)?,
                DataType::Int64 => dictionary::<Int64Type>(&keys, values)?,
                DataType::UInt8 => dictionary::<UInt8Type>(&keys, values)?,
                DataType::UInt16 => dictionary::<UInt16Type>(&keys, values)?,
                DataType::UInt32 => dictionary::<UInt32Type>(&keys, values)?,
                DataType::UInt64 => dictionary::<UInt64Type>(&keys, values)?,
                other => return Err(format!("a dictionary keyed by {other}")),
            }
        }
        _ => Arc::new(strings().collect::<StringArray>()),
    })
}

/// A dictionary of `values` with `keys` of type `K`.
fn dictionary<K>(keys: &[Option<usize>], values: ArrayRef) -> std::result::Result<ArrayRef, String>
where
    K: ArrowDictionaryKeyType,
    K::Native: TryFrom<usize>,
{
    let mut native = Vec::with_capacity(keys.len());
    for key in keys {
        native.push(match key {
            Some(k) => Some(K::Native::try_from(*k).map_err(|_| {
                format!(
                    "more distinct texts than a dictionary keyed by {} holds",
                    K::DATA_TYPE
                )
            })?),
            None => None,
        });
    }
    let keys: PrimitiveArray<K> = native.into_iter().collect();
    DictionaryArray::<K>::try_new(keys, values)
        .map(|d| Arc::new(d) as ArrayRef)
        .map_err(|e| e.to_string())
}

/// Rows of a batch written at a time with a text column of `data_type`: a
/// dictionary keyed by 8 bits holds at most 128 (or 256) distinct texts.
pub(super) fn rows_at_a_time(data_type: &DataType) -> usize {
    match data_type {
        DataType::Dictionary(key, _) if **key == DataType::Int8 => 128,
        DataType::Dictionary(key, _) if **key == DataType::UInt8 => 256,
        _ => usize::MAX,
    }
}

/// Writes row `row` of `column` as a JSON value.
pub(super) fn json_value(
    out: &mut Vec<u8>,
    column: &dyn Array,
    row: usize,
) -> std::result::Result<(), String> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{
        Decimal128Type, Decimal256Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type,
        Int8Type, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
    };
    if column.is_null(row) {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    let string = |out: &mut Vec<u8>, s: &str| {
        serde_json::to_writer(out, s).expect("strings always serialize");
    };
    let utf8 = |out: &mut Vec<u8>, bytes: &[u8]| {
        let s = std::str::from_utf8(bytes).map_err(|e| {
            format!(
                "holds bytes that are not UTF-8 (at byte {} of the value)",
                e.valid_up_to()
            )
        })?;
        string(out, s);
        Ok::<(), String>(())
    };
    let number = |out: &mut Vec<u8>, n: serde_json::Value| {
        serde_json::to_writer(out, &n).expect("numbers always serialize");
    };
    // JSON has no infinity: a literal past a double's range, which JSON
    // Lines readers (and `--keep max:FIELD`) take as one; NaN is `null`.
    let double = |out: &mut Vec<u8>, x: f64| match x {
        f64::INFINITY => out.extend_from_slice(b"1e999"),
        f64::NEG_INFINITY => out.extend_from_slice(b"-1e999"),
        _ => number(out, x.into()),
    };
    match column.data_type() {
        DataType::Utf8 => string(out, column.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => string(out, column.as_string::<i64>().value(row)),
        DataType::Utf8View => string(out, column.as_string_view().value(row)),
        DataType::Binary => utf8(out, column.as_binary::<i32>().value(row))?,
        DataType::LargeBinary => utf8(out, column.as_binary::<i64>().value(row))?,
        DataType::BinaryView => utf8(out, column.as_binary_view().value(row))?,
        DataType::Dictionary(..) => {
            let (values, at) = dictionary_entry(column, row)?;
            return json_value(out, values, at);
        }
        DataType::Boolean => number(out, column.as_boolean().value(row).into()),
        DataType::Int8 => number(out, column.as_primitive::<Int8Type>().value(row).into()),
        DataType::Int16 => number(out, column.as_primitive::<Int16Type>().value(row).into()),
        DataType::Int32 => number(out, column.as_primitive::<Int32Type>().value(row).into()),
        DataType::Int64 => number(out, column.as_primitive::<Int64Type>().value(row).into()),
        DataType::UInt8 => number(out, column.as_primitive::<UInt8Type>().value(row).into()),
        DataType::UInt16 => number(out, column.as_primitive::<UInt16Type>().value(row).into()),
        DataType::UInt32 => number(out, column.as_primitive::<UInt32Type>().value(row).into()),
        DataType::UInt64 => number(out, column.as_primitive::<UInt64Type>().value(row).into()),
        DataType::Float32 => double(
            out,
            f64::from(column.as_primitive::<Float32Type>().value(row)),
        ),
        DataType::Float64 => double(out, column.as_primitive::<Float64Type>().value(row)),
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => {
            string(out, &time_value(column, row)?);
        }
        DataType::Decimal128(..) => {
            string(
                out,
                &column.as_primitive::<Decimal128Type>().value_as_string(row),
            );
        }
        DataType::Decimal256(..) => {
            string(
                out,
                &column.as_primitive::<Decimal256Type>().value_as_string(row),
            );
        }
        DataType::FixedSizeBinary(size) => {
            // A UUID (16 bytes) in its usual form; other sizes in hex.
            let bytes = column.as_fixed_size_binary().value(row);
            let mut hex = String::with_capacity(bytes.len() * 2 + 4);
            for (i, b) in bytes.iter().enumerate() {
                if *size == 16 && matches!(i, 4 | 6 | 8 | 10) {
                    hex.push('-');
                }
                write!(hex, "{b:02x}").expect("writes to a string");
            }
            string(out, &hex);
        }
        other => return Err(format!("holds {other}, not strings, numbers or times")),
    }
    Ok(())
}

/// A timestamp `nanos` nanoseconds from the Unix epoch as a Parquet input's
/// timestamp column is read (see `time_value`): `2024-05-01T09:30:00Z` for
/// an instant (`zoned`: a column with a time zone), `2024-05-01T09:30:00` for
/// a time without one, the fraction of a second given to the nanosecond and
/// no further than it needs (`.5`, `.000000001`). The Python package writes
/// an Arrow timestamp column of its records so, to read what the CLI reads.
///
/// # Errors
/// A time beyond the years -9999 to 9999, said as the column's error says it.
pub fn timestamp_string(nanos: i128, zoned: bool) -> std::result::Result<String, String> {
    let at = jiff::Timestamp::from_nanosecond(nanos)
        .map_err(|_| "holds a time out of range (beyond the years -9999 to 9999)".to_owned())?;
    Ok(if zoned {
        at.to_string()
    } else {
        jiff::tz::Offset::UTC.to_datetime(at).to_string()
    })
}

/// Row `row` of a timestamp or date column as the ISO 8601 string a JSON
/// Lines record would hold (an id, or what `--keep newest:FIELD` compares):
/// `2024-05-01T09:30:00Z` for an instant (a column with a time zone),
/// `2024-05-01T09:30:00` for a time without one, `2024-05-01` for a date.
/// Such columns were refused, and a dataset's `id` or `scrape_time` column
/// of timestamps is common (pandas and Spark write them).
fn time_value(column: &dyn Array, row: usize) -> std::result::Result<String, String> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{
        Date32Type, Date64Type, TimestampMicrosecondType, TimestampMillisecondType,
        TimestampNanosecondType, TimestampSecondType,
    };
    use arrow_schema::TimeUnit;
    use jiff::Timestamp;
    let utc = |at: Timestamp| jiff::tz::Offset::UTC.to_datetime(at);
    let out_of_range = |_| "holds a time out of range (beyond the years -9999 to 9999)".to_owned();
    Ok(match column.data_type() {
        DataType::Timestamp(unit, zone) => {
            let nanos = match unit {
                TimeUnit::Second => {
                    i128::from(column.as_primitive::<TimestampSecondType>().value(row))
                        * 1_000_000_000
                }
                TimeUnit::Millisecond => {
                    i128::from(column.as_primitive::<TimestampMillisecondType>().value(row))
                        * 1_000_000
                }
                TimeUnit::Microsecond => {
                    i128::from(column.as_primitive::<TimestampMicrosecondType>().value(row)) * 1_000
                }
                TimeUnit::Nanosecond => {
                    i128::from(column.as_primitive::<TimestampNanosecondType>().value(row))
                }
            };
            timestamp_string(nanos, zone.is_some())?
        }
        DataType::Date32 => {
            let days = i64::from(column.as_primitive::<Date32Type>().value(row));
            utc(Timestamp::from_second(days * 86_400).map_err(out_of_range)?)
                .date()
                .to_string()
        }
        DataType::Date64 => {
            let millis = column.as_primitive::<Date64Type>().value(row);
            utc(Timestamp::from_millisecond(millis).map_err(out_of_range)?)
                .date()
                .to_string()
        }
        other => return Err(format!("holds {other}, not strings, numbers or times")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_column_keeps_its_type_and_a_small_dictionary_is_written_in_pieces() {
        let texts: Vec<Option<String>> = (0..300)
            .map(|i| (i % 7 != 3).then(|| format!("text {}", i % 150)))
            .collect();
        let int8 = DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8));
        let int32 = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::LargeUtf8));
        // 150 distinct texts do not fit keys of 8 bits: such a column is
        // written 128 rows at a time, which always fit.
        assert!(text_array(&int8, &texts).is_err());
        assert_eq!(rows_at_a_time(&int8), 128);
        for ty in [int8.clone(), int32, DataType::Binary, DataType::Utf8View] {
            let piece = rows_at_a_time(&ty).min(texts.len());
            let array = text_array(&ty, &texts[..piece]).unwrap();
            assert_eq!(array.data_type(), &ty);
            for (row, text) in texts[..piece].iter().enumerate() {
                let mut out = Vec::new();
                json_value(&mut out, array.as_ref(), row).unwrap();
                let expected = text
                    .as_deref()
                    .map_or("null".to_owned(), |t| serde_json::to_string(t).unwrap());
                assert_eq!(String::from_utf8(out).unwrap(), expected, "{ty} row {row}");
            }
        }
        assert!(is_text_type(&int8));
        assert!(!is_text_type(&DataType::Dictionary(
            Box::new(DataType::Int32),
            Box::new(DataType::Int64)
        )));
    }
}
