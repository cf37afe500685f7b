//! A list of a report's JSON read an element at a time.

use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde::Deserialize;
use std::marker::PhantomData;

/// A list (a seed for `next_value_seed`) whose elements are each handed to
/// a closure as they are read, none held after: a document of 187,000 runs
/// or a cluster of a million members is read in the memory of one.
pub(super) struct Each<T, F> {
    /// What the list is, for a type error.
    what: &'static str,
    f: F,
    element: PhantomData<fn() -> T>,
}

impl<T, F> Each<T, F> {
    /// A list of `what`, its elements handed to `f`.
    pub(super) fn new(what: &'static str, f: F) -> Each<T, F> {
        Each {
            what,
            f,
            element: PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(T)> DeserializeSeed<'de> for Each<T, F> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(T)> Visitor<'de> for Each<T, F> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.what)
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(element) = seq.next_element::<T>()? {
            (self.f)(element);
        }
        Ok(())
    }
}
