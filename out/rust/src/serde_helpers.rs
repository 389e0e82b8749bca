//! Serde helpers used by the generated models: absent-versus-null fields, free-form nulls and
//! open unions that always carry their tag.
//!
//! This file is hand-written runtime code, copied as is into every generated SDK. Not every
//! contract needs every helper, hence the `dead_code` allowance.
#![allow(dead_code)]

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// Deserializes a field that may be absent, `null` or a value into `Option<Option<T>>`.
///
/// Used with `#[serde(default)]`: an absent field never reaches this function and stays `None`,
/// `null` becomes `Some(None)` and a value `v` becomes `Some(Some(v))`.
pub(crate) fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Deserializes a required field that may be `null` into `Option<T>` (`null` is `None`).
///
/// Without it serde would also take an absent `Option` field as `None`; with it, an absent
/// required field is the usual "missing field" error.
pub(crate) fn nullable<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer)
}

/// Whether `value` is a JSON object holding every one of `fields`.
pub(crate) fn has_fields(value: &Value, fields: &[&str]) -> bool {
    value
        .as_object()
        .is_some_and(|map| fields.iter().all(|field| map.contains_key(*field)))
}

/// Decodes `value` as a `T` when `accept` holds and the value fits; `None` otherwise.
///
/// A union without a discriminator tries its variants in order with this function.
pub(crate) fn decode_if<T: DeserializeOwned>(accept: bool, value: &Value) -> Option<T> {
    if !accept {
        return None;
    }
    T::deserialize(value).ok()
}

/// As [`decode_if`], but only when the `T` carries the value whole: encoding it again gives the
/// same JSON. For request types, which keep no field they do not declare; a value a variant
/// would cut falls to a later variant, or to `Unknown`, which keeps it as it is.
pub(crate) fn decode_whole<T: DeserializeOwned + Serialize>(
    accept: bool,
    value: &Value,
) -> Option<T> {
    let decoded: T = decode_if(accept, value)?;
    (serde_json::to_value(&decoded).ok()? == *value).then_some(decoded)
}

/// The string value of the discriminator `property` of a JSON object, if it has one.
pub(crate) fn tag_of(value: &Value, property: &str) -> Option<String> {
    value
        .get(property)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Decodes the variant that a discriminator selected. A body that does not fit is an error that
/// names the variant (`what`), not an unknown variant: the server said what the value is.
pub(crate) fn decode_variant<T, E>(value: Value, what: &str) -> Result<T, E>
where
    T: DeserializeOwned,
    E: serde::de::Error,
{
    T::deserialize(value).map_err(|error| E::custom(format_args!("invalid {what}: {error}")))
}

/// Serializes a variant of a discriminated union so that it always carries its tag: the
/// discriminator `property` keeps the value's own tag when it is one of the variant's `tags`,
/// and is set to the first of them otherwise (missing, empty or another variant's tag). A
/// variant schema need not declare its discriminator property; the tag is added all the same.
pub(crate) fn serialize_tagged<T, S>(
    value: &T,
    property: &str,
    tags: &[&str],
    serializer: S,
) -> Result<S::Ok, S::Error>
where
    T: Serialize + ?Sized,
    S: Serializer,
{
    let mut json = serde_json::to_value(value).map_err(serde::ser::Error::custom)?;
    if let (Value::Object(map), Some(first)) = (&mut json, tags.first()) {
        let own = map.get(property).and_then(Value::as_str);
        if !own.is_some_and(|tag| tags.contains(&tag)) {
            map.insert(property.to_owned(), Value::String((*first).to_owned()));
        }
    }
    json.serialize(serializer)
}

/// `value` without the object member `property`: the tag of a variant whose schema does not
/// declare it, so that decoding does not keep it among the variant's unknown fields.
pub(crate) fn without(mut value: Value, property: &str) -> Value {
    if let Value::Object(map) = &mut value {
        map.remove(property);
    }
    value
}

/// Deserializes an optional free-form field that is present: `null` is a value like any other
/// (`Some(Value::Null)`), so that re-encoding sends it back; only an absent field is `None`.
///
/// Used with `#[serde(default)]`, which leaves an absent field `None`.
pub(crate) fn present<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// 64-bit integers that travel as JSON strings (`"123"`), as the proto3 JSON mapping writes
/// int64: `#[serde(with = "crate::serde_helpers::quoted")]` on an `i64` field, or on an
/// `Option`, `Vec` or `HashMap<String, _>` of them. Encoding writes the decimal string; decoding
/// takes such a string (an optional `-` and digits, within i64) or a JSON integer, exactly, and
/// refuses anything else (`+1`, `" 1"`, `1e3`, `1.0`).
pub(crate) mod quoted {
    use std::collections::HashMap;

    use serde::de::{self, Deserializer, Visitor};
    use serde::ser::{SerializeMap, SerializeSeq, Serializer};
    use serde::{Deserialize, Serialize};

    /// A value whose 64-bit integers are quoted on the wire.
    pub(crate) trait Quoted: Sized {
        /// Encodes the value with its integers as strings.
        fn encode<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>;
        /// Decodes the value, its integers given as strings or numbers.
        fn decode<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error>;
    }

    /// A `Quoted` value as a serde type, for the elements of collections.
    struct Wire<T>(T);

    impl<T: Quoted> Serialize for Wire<&T> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            self.0.encode(serializer)
        }
    }

    impl<'de, T: Quoted> Deserialize<'de> for Wire<T> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            T::decode(deserializer).map(Wire)
        }
    }

    /// Parses the text of a quoted int64: an optional `-` and ASCII digits, within i64.
    pub(crate) fn parse(text: &str) -> Option<i64> {
        let digits = text.strip_prefix('-').unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse().ok()
    }

    struct I64Visitor;

    impl Visitor<'_> for I64Visitor {
        type Value = i64;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a 64-bit integer as a JSON string or integer")
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom(format_args!("{v} is out of range for i64")))
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
            parse(v).ok_or_else(|| E::custom(format_args!("invalid 64-bit integer {v:?}")))
        }
    }

    impl Quoted for i64 {
        fn encode<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_str(self)
        }

        fn decode<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(I64Visitor)
        }
    }

    impl<T: Quoted> Quoted for Option<T> {
        fn encode<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            match self {
                Some(value) => value.encode(serializer),
                None => serializer.serialize_none(),
            }
        }

        fn decode<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            Option::<Wire<T>>::deserialize(deserializer).map(|v| v.map(|w| w.0))
        }
    }

    impl<T: Quoted> Quoted for Vec<T> {
        fn encode<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut seq = serializer.serialize_seq(Some(self.len()))?;
            for item in self {
                seq.serialize_element(&Wire(item))?;
            }
            seq.end()
        }

        fn decode<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            Vec::<Wire<T>>::deserialize(deserializer).map(|v| v.into_iter().map(|w| w.0).collect())
        }
    }

    impl<T: Quoted> Quoted for HashMap<String, T> {
        fn encode<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(Some(self.len()))?;
            for (key, value) in self {
                map.serialize_entry(key, &Wire(value))?;
            }
            map.end()
        }

        fn decode<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            HashMap::<String, Wire<T>>::deserialize(deserializer)
                .map(|m| m.into_iter().map(|(k, w)| (k, w.0)).collect())
        }
    }

    /// Serde's `serialize_with` side.
    pub(crate) fn serialize<T: Quoted, S: Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        value.encode(serializer)
    }

    /// Serde's `deserialize_with` side.
    pub(crate) fn deserialize<'de, T: Quoted, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<T, D::Error> {
        T::decode(deserializer)
    }

    /// An optional and nullable field that is present: `null` is `Some(None)`, as with
    /// [`super::double_option`] (used with `#[serde(default)]`).
    pub(crate) fn present<'de, T: Quoted, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        T::decode(deserializer).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Patch {
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "double_option"
        )]
        note: Option<Option<String>>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Seen {
        #[serde(deserialize_with = "nullable")]
        at: Option<String>,
        #[serde(flatten)]
        extra: serde_json::Map<String, Value>,
    }

    #[test]
    fn nullable_takes_null_but_not_absence() {
        let null: Seen = serde_json::from_value(json!({"at": null})).unwrap();
        assert_eq!(null.at, None);
        assert_eq!(serde_json::to_value(&null).unwrap(), json!({"at": null}));
        let value: Seen = serde_json::from_value(json!({"at": "now"})).unwrap();
        assert_eq!(value.at.as_deref(), Some("now"));
        let absent = serde_json::from_value::<Seen>(json!({"other": 1})).unwrap_err();
        assert!(
            absent.to_string().contains("missing field `at`"),
            "{absent}"
        );
        assert!(serde_json::from_value::<Seen>(json!({"at": 1})).is_err());
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Circle {
        radius: f64,
    }

    #[test]
    fn double_option_keeps_absent_null_and_value_apart() {
        let absent: Patch = serde_json::from_value(json!({})).unwrap();
        let null: Patch = serde_json::from_value(json!({"note": null})).unwrap();
        let value: Patch = serde_json::from_value(json!({"note": "hi"})).unwrap();
        assert_eq!(absent.note, None);
        assert_eq!(null.note, Some(None));
        assert_eq!(value.note, Some(Some("hi".to_owned())));
        assert_eq!(serde_json::to_value(&absent).unwrap(), json!({}));
        assert_eq!(serde_json::to_value(&null).unwrap(), json!({"note": null}));
        assert_eq!(serde_json::to_value(&value).unwrap(), json!({"note": "hi"}));
    }

    #[test]
    fn double_option_rejects_a_value_of_the_wrong_type() {
        assert!(serde_json::from_value::<Patch>(json!({"note": 3})).is_err());
    }

    #[test]
    fn has_fields_needs_an_object_with_every_field() {
        assert!(has_fields(&json!({"a": 1, "b": null}), &["a", "b"]));
        assert!(has_fields(&json!({}), &[]));
        assert!(!has_fields(&json!({"a": 1}), &["a", "b"]));
        assert!(!has_fields(&json!(["a"]), &[]));
    }

    #[test]
    fn decode_whole_refuses_a_value_it_would_cut() {
        assert_eq!(
            decode_whole::<Circle>(true, &json!({"radius": 2.0})),
            Some(Circle { radius: 2.0 })
        );
        assert_eq!(
            decode_whole::<Circle>(true, &json!({"radius": 2.0, "extra": true})),
            None
        );
        assert_eq!(decode_whole::<Circle>(false, &json!({"radius": 2.0})), None);
    }

    #[test]
    fn decode_if_tries_only_when_accepted_and_fitting() {
        assert_eq!(decode_if::<i64>(true, &json!(5)), Some(5));
        assert_eq!(decode_if::<i64>(false, &json!(5)), None);
        assert_eq!(decode_if::<i64>(true, &json!(5.5)), None);
        assert_eq!(decode_if::<i32>(true, &json!(4_000_000_000_i64)), None);
        assert_eq!(decode_if::<f64>(true, &json!(5)), Some(5.0));
        assert_eq!(
            decode_if::<Circle>(true, &json!({"radius": 2.0, "extra": true})),
            Some(Circle { radius: 2.0 })
        );
    }

    #[test]
    fn tag_of_reads_string_tags_only() {
        assert_eq!(
            tag_of(&json!({"kind": "circle"}), "kind").as_deref(),
            Some("circle")
        );
        assert_eq!(tag_of(&json!({"kind": 1}), "kind"), None);
        assert_eq!(tag_of(&json!({}), "kind"), None);
        assert_eq!(tag_of(&json!("kind"), "kind"), None);
    }

    #[test]
    fn decode_variant_names_the_variant_in_its_error() {
        let ok: Result<Circle, serde_json::Error> =
            decode_variant(json!({"radius": 1.0}), "`Circle` variant");
        assert_eq!(ok.unwrap(), Circle { radius: 1.0 });
        let err: Result<Circle, serde_json::Error> =
            decode_variant(json!({"radius": "big"}), "`Circle` variant");
        assert!(err
            .unwrap_err()
            .to_string()
            .starts_with("invalid `Circle` variant: "));
    }

    fn tagged<T: Serialize>(value: &T, tags: &[&str]) -> Value {
        let mut out = Vec::new();
        serialize_tagged(
            value,
            "kind",
            tags,
            &mut serde_json::Serializer::new(&mut out),
        )
        .unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn serialize_tagged_always_writes_one_of_the_variants_tags() {
        let circle = Circle { radius: 1.0 };
        assert_eq!(
            tagged(&circle, &["circle"]),
            json!({"kind": "circle", "radius": 1.0})
        );
        // The caller's tag is kept when it selects this variant (a variant may have several).
        let disc = HashMap::from([("kind", "disc")]);
        assert_eq!(tagged(&disc, &["circle", "disc"]), json!({"kind": "disc"}));
        // An empty, foreign or non-string tag is replaced by the variant's own.
        for kind in [json!(""), json!("square"), json!(7), json!(null)] {
            let wrong = HashMap::from([("kind", kind)]);
            assert_eq!(
                tagged(&wrong, &["circle", "disc"]),
                json!({"kind": "circle"})
            );
        }
        // Not an object, or no tag known: encoded as is.
        assert_eq!(tagged(&3, &["circle"]), json!(3));
        assert_eq!(tagged(&circle, &[]), json!({"radius": 1.0}));
    }

    #[test]
    fn without_drops_one_member_of_an_object() {
        assert_eq!(
            without(json!({"kind": "c", "r": 1}), "kind"),
            json!({"r": 1})
        );
        assert_eq!(without(json!({"r": 1}), "kind"), json!({"r": 1}));
        assert_eq!(without(json!("kind"), "kind"), json!("kind"));
    }

    #[derive(Debug, PartialEq, Default, Serialize, Deserialize)]
    struct Counters {
        #[serde(with = "quoted")]
        total: i64,
        #[serde(default, skip_serializing_if = "Option::is_none", with = "quoted")]
        seen: Option<i64>,
        #[serde(with = "quoted")]
        last: Option<i64>,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            serialize_with = "quoted::serialize",
            deserialize_with = "quoted::present"
        )]
        cleared: Option<Option<i64>>,
        #[serde(default, skip_serializing_if = "Option::is_none", with = "quoted")]
        sizes: Option<Vec<i64>>,
        #[serde(default, skip_serializing_if = "Option::is_none", with = "quoted")]
        by_name: Option<HashMap<String, i64>>,
    }

    #[test]
    fn quoted_int64_is_a_string_on_the_wire_and_exact() {
        let value = Counters {
            total: i64::MAX,
            seen: Some(i64::MIN),
            last: None,
            cleared: Some(None),
            sizes: Some(vec![1, -2]),
            by_name: Some(HashMap::from([("a".to_owned(), 9_007_199_254_740_993)])),
        };
        let wire = json!({
            "total": "9223372036854775807",
            "seen": "-9223372036854775808",
            "last": null,
            "cleared": null,
            "sizes": ["1", "-2"],
            "by_name": {"a": "9007199254740993"},
        });
        assert_eq!(serde_json::to_value(&value).unwrap(), wire);
        assert_eq!(serde_json::from_value::<Counters>(wire).unwrap(), value);
        // Numbers are accepted too; absent optional fields stay absent.
        let numbers = r#"{"total":9223372036854775807,"last":3,"sizes":[1,"2"]}"#;
        let decoded: Counters = serde_json::from_str(numbers).unwrap();
        assert_eq!(decoded.total, i64::MAX);
        assert_eq!(
            (decoded.seen, decoded.last, decoded.cleared),
            (None, Some(3), None)
        );
        assert_eq!(decoded.sizes, Some(vec![1, 2]));
        // A required one stays required.
        assert!(serde_json::from_str::<Counters>(r#"{"last":null}"#).is_err());
    }

    #[test]
    fn quoted_int64_refuses_what_is_not_an_exact_integer() {
        for bad in [
            r#""+1""#,
            r#"" 1""#,
            r#""1 ""#,
            r#""1e3""#,
            r#""1.0""#,
            r#""""#,
            r#""-""#,
            r#""0x1""#,
            r#""9223372036854775808""#,
            r#""-9223372036854775809""#,
            "9223372036854775808",
            "1.0",
            "1e3",
            "true",
            "[]",
            r#""١""#,
        ] {
            let text = format!(r#"{{"total":{bad},"last":null}}"#);
            assert!(serde_json::from_str::<Counters>(&text).is_err(), "{bad}");
        }
        for (good, n) in [(r#""-0""#, 0), (r#""007""#, 7), ("-5", -5)] {
            let text = format!(r#"{{"total":{good},"last":null}}"#);
            assert_eq!(
                serde_json::from_str::<Counters>(&text).unwrap().total,
                n,
                "{good}"
            );
        }
    }

    /// The shape of a generated struct: an optional free-form field and unknown fields.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Run {
        id: String,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "present"
        )]
        input: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        inner: Option<Box<Run>>,
        #[serde(flatten, skip_serializing_if = "serde_json::Map::is_empty")]
        extra: serde_json::Map<String, Value>,
    }

    #[test]
    fn present_keeps_an_explicit_null_apart_from_absence() {
        let null: Run = serde_json::from_value(json!({"id": "r", "input": null})).unwrap();
        assert_eq!(null.input, Some(Value::Null));
        assert_eq!(
            serde_json::to_value(&null).unwrap(),
            json!({"id": "r", "input": null})
        );
        let absent: Run = serde_json::from_value(json!({"id": "r"})).unwrap();
        assert_eq!(absent.input, None);
        assert_eq!(serde_json::to_value(&absent).unwrap(), json!({"id": "r"}));
        let value: Run = serde_json::from_value(json!({"id": "r", "input": [1]})).unwrap();
        assert_eq!(value.input, Some(json!([1])));
    }

    #[test]
    fn unknown_fields_round_trip_at_every_depth_and_required_ones_stay_required() {
        let raw = json!({
            "id": "r",
            "future": {"deep": [1, null, "x"]},
            "future_null": null,
            "inner": {"id": "s", "also_new": true},
        });
        let run: Run = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(run.extra.len(), 2);
        assert_eq!(run.inner.as_ref().unwrap().extra["also_new"], json!(true));
        assert_eq!(serde_json::to_value(&run).unwrap(), raw);
        let built = Run {
            id: "r".to_owned(),
            input: None,
            inner: None,
            extra: Default::default(),
        };
        assert_eq!(serde_json::to_string(&built).unwrap(), r#"{"id":"r"}"#);
        // A missing required field and a wrong kind are still errors, unknown fields or not.
        assert!(serde_json::from_value::<Run>(json!({"future": 1})).is_err());
        assert!(serde_json::from_value::<Run>(json!({"id": 1, "future": 1})).is_err());
        assert!(serde_json::from_value::<Run>(json!(null)).is_err());
        assert!(serde_json::from_value::<Run>(json!({"id": "r", "inner": {"future": 1}})).is_err());
    }
}
