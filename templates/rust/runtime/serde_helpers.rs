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

/// The string value of the discriminator `property` of a JSON object, if it has one.
pub(crate) fn tag_of(value: &Value, property: &str) -> Option<String> {
    value.get(property).and_then(Value::as_str).map(str::to_owned)
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
        assert!(absent.to_string().contains("missing field `at`"), "{absent}");
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
        assert_eq!(tag_of(&json!({"kind": "circle"}), "kind").as_deref(), Some("circle"));
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
        assert!(err.unwrap_err().to_string().starts_with("invalid `Circle` variant: "));
    }

    fn tagged<T: Serialize>(value: &T, tags: &[&str]) -> Value {
        let mut out = Vec::new();
        serialize_tagged(value, "kind", tags, &mut serde_json::Serializer::new(&mut out)).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn serialize_tagged_always_writes_one_of_the_variants_tags() {
        let circle = Circle { radius: 1.0 };
        assert_eq!(tagged(&circle, &["circle"]), json!({"kind": "circle", "radius": 1.0}));
        // The caller's tag is kept when it selects this variant (a variant may have several).
        let disc = HashMap::from([("kind", "disc")]);
        assert_eq!(tagged(&disc, &["circle", "disc"]), json!({"kind": "disc"}));
        // An empty, foreign or non-string tag is replaced by the variant's own.
        for kind in [json!(""), json!("square"), json!(7), json!(null)] {
            let wrong = HashMap::from([("kind", kind)]);
            assert_eq!(tagged(&wrong, &["circle", "disc"]), json!({"kind": "circle"}));
        }
        // Not an object, or no tag known: encoded as is.
        assert_eq!(tagged(&3, &["circle"]), json!(3));
        assert_eq!(tagged(&circle, &[]), json!({"radius": 1.0}));
    }

    #[test]
    fn without_drops_one_member_of_an_object() {
        assert_eq!(without(json!({"kind": "c", "r": 1}), "kind"), json!({"r": 1}));
        assert_eq!(without(json!({"r": 1}), "kind"), json!({"r": 1}));
        assert_eq!(without(json!("kind"), "kind"), json!("kind"));
    }

    /// The shape of a generated struct: an optional free-form field and unknown fields.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Run {
        id: String,
        #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
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
        assert_eq!(serde_json::to_value(&null).unwrap(), json!({"id": "r", "input": null}));
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
        let built = Run { id: "r".to_owned(), input: None, inner: None, extra: Default::default() };
        assert_eq!(serde_json::to_string(&built).unwrap(), r#"{"id":"r"}"#);
        // A missing required field and a wrong kind are still errors, unknown fields or not.
        assert!(serde_json::from_value::<Run>(json!({"future": 1})).is_err());
        assert!(serde_json::from_value::<Run>(json!({"id": 1, "future": 1})).is_err());
        assert!(serde_json::from_value::<Run>(json!(null)).is_err());
        assert!(serde_json::from_value::<Run>(json!({"id": "r", "inner": {"future": 1}})).is_err());
    }
}
