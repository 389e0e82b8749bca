//! JSON as RFC 8259 says, with I-JSON (RFC 7493) where it decides. serde_json's parser refuses
//! every corner when it builds a value — a byte order mark, invalid UTF-8, lone surrogates,
//! numbers too large for a double, nesting past its recursion limit (128: at most 127 levels),
//! trailing data — except duplicate object keys, which a map or a flattened struct would silently
//! keep the last of. [`check`] walks the body with serde_json's own parser, refusing those too;
//! [`ordered`] reads a value keeping the order of object members (serde_json's map sorts them).

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

/// Checks that `body` is exactly one JSON value that the typed decode may read: serde_json's
/// syntax and I-JSON checks, and no object with the same key twice (at any depth).
pub(crate) fn check(body: &[u8]) -> Result<(), String> {
    let mut de = serde_json::Deserializer::from_slice(body);
    Strict
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| format!("invalid JSON: {e}"))
}

/// Visits every value (so that strings and numbers are parsed, not skipped) and refuses a
/// repeated key within one object.
#[derive(Clone, Copy)]
struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Keys are borrowed from the body when they hold no escape (no allocation per key), and
        // compared one by one while the object is small; a large one moves them into a hash
        // set, so that a hostile object with many keys stays linear.
        let mut small: Vec<Key<'de>> = Vec::new();
        let mut large: Option<HashSet<Key<'de>>> = None;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let duplicate = match &large {
                Some(seen) => seen.contains(&key),
                None => small.contains(&key),
            };
            if duplicate {
                return Err(de::Error::custom(format!(
                    "the key {:?} appears twice",
                    key.as_str()
                )));
            }
            match &mut large {
                Some(seen) => {
                    seen.insert(key);
                }
                None if small.len() < SMALL_OBJECT => small.push(key),
                None => {
                    let mut seen: HashSet<Key<'de>> = small.drain(..).collect();
                    seen.insert(key);
                    large = Some(seen);
                }
            }
            map.next_value_seed(self)?;
        }
        Ok(())
    }
}

/// How many keys an object holds before its duplicate check hashes them.
const SMALL_OBJECT: usize = 16;

/// An object key: borrowed from the body, or decoded (it held an escape). Keys compare by
/// their text, however they were read (`"a"` and `"\u0061"` are the same key).
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(key) => key,
            Key::Owned(key) => key,
        }
    }
}

impl PartialEq for Key<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Key<'_> {}

impl std::hash::Hash for Key<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

/// Reads an object key, borrowing it when the parser can.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key<'de>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Key<'de>, E> {
        Ok(Key::Borrowed(key))
    }

    fn visit_str<E>(self, key: &str) -> Result<Key<'de>, E> {
        Ok(Key::Owned(key.to_owned()))
    }
}

/// A JSON value with its object members in document order (serde_json's own map sorts them).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ordered {
    Null,
    /// A string's text, or a number or boolean as serde_json writes it.
    Scalar(String),
    Array(Vec<Ordered>),
    Object(Vec<(String, Ordered)>),
}

/// Reads a JSON text keeping the order of object members: the SDK's own encoding of a request
/// body, whose field order is the schema's.
pub(crate) fn ordered(text: &[u8]) -> Result<Ordered, String> {
    serde_json::from_slice(text).map_err(|e| e.to_string())
}

impl<'de> de::Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OrderedVisitor)
    }
}

struct OrderedVisitor;

impl<'de> Visitor<'de> for OrderedVisitor {
    type Value = Ordered;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Ordered, E> {
        Ok(Ordered::Null)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Ordered, E> {
        Ok(Ordered::Scalar(value.to_string()))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Ordered, E> {
        Ok(Ordered::Scalar(value.to_string()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Ordered, E> {
        Ok(Ordered::Scalar(value.to_string()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Ordered, E> {
        // As serde_json writes it (shortest round-trip form), not as `Display` would.
        serde_json::Number::from_f64(value)
            .map(|n| Ordered::Scalar(n.to_string()))
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E>(self, value: &str) -> Result<Ordered, E> {
        Ok(Ordered::Scalar(value.to_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Ordered::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = map.next_entry()? {
            members.push(member);
        }
        Ok(Ordered::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_json_passes() {
        for ok in [
            &b" {\"a\" : [1, -0, -0.5e-3, 1E+2, true, false, null], \"\": {}}\r\n\t"[..],
            br#""\" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00 \u0000""#,
            b"[]",
            b"0",
            br#"{"a": {"b": 1}, "c": {"b": 2}}"#,
        ] {
            assert_eq!(check(ok), Ok(()), "{}", String::from_utf8_lossy(ok));
        }
        let deep = format!("{}{}", "[".repeat(127), "]".repeat(127));
        assert_eq!(check(deep.as_bytes()), Ok(()));
    }

    #[test]
    fn the_corners_are_refused() {
        let deep = format!("{}{}", "[".repeat(128), "]".repeat(128));
        for bad in [
            &b"\xEF\xBB\xBF{}"[..],
            br#"{"a": 1, "a": 2}"#,
            br#"{"x": [{"a": 1, "\u0061": 2}]}"#,
            br#""\ud800""#,
            br#""\udc00""#,
            br#""\ud800\u0041""#,
            deep.as_bytes(),
            b"01",
            b"NaN",
            b"[1,]",
            b"{\"a\":1,}",
            b"// c\n1",
            b"'a'",
            b"\"a\x01\"",
            b"{} x",
            b"1e400",
            b"-1e400",
            b"\"\xff\"",
            b"",
            b"1.",
            b".5",
            b"\"\\x\"",
        ] {
            assert!(check(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn duplicates_are_found_in_objects_of_any_size() {
        // Past SMALL_OBJECT keys the check hashes them: a repeat is found on either side of
        // the switch, escaped or not, and distinct keys pass.
        let object = |keys: &[String]| {
            let members: Vec<String> = keys.iter().map(|k| format!("\"{k}\": 0")).collect();
            format!("{{{}}}", members.join(","))
        };
        let many: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
        assert_eq!(check(object(&many).as_bytes()), Ok(()));
        for (at, repeat) in [
            (5, "k3"),
            (SMALL_OBJECT, "k0"),
            (30, "k20"),
            (30, "\\u006b20"),
        ] {
            let mut keys = many.clone();
            keys.insert(at, repeat.to_owned());
            let found = check(object(&keys).as_bytes());
            assert!(
                found.is_err_and(|e| e.contains("twice")),
                "{repeat} at {at}"
            );
        }
    }

    #[test]
    fn ordered_keeps_the_member_order() {
        let value =
            ordered(br#"{"z": 1, "a": [true, null, "x\u00e9"], "m": {"b": -0.5, "a": {}}}"#);
        let s = |t: &str| Ordered::Scalar(t.to_owned());
        assert_eq!(
            value,
            Ok(Ordered::Object(vec![
                ("z".to_owned(), s("1")),
                (
                    "a".to_owned(),
                    Ordered::Array(vec![s("true"), Ordered::Null, s("xé")])
                ),
                (
                    "m".to_owned(),
                    Ordered::Object(vec![
                        ("b".to_owned(), s("-0.5")),
                        ("a".to_owned(), Ordered::Object(vec![]))
                    ])
                ),
            ]))
        );
        assert!(ordered(b"{,}").is_err());
    }
}
