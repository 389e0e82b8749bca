//! Serde helpers used by the generated models: absent-versus-null fields and open unions.
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

/// Serializes `value`, adding the discriminator `property` with the value `tag` when the value's
/// own fields do not carry it (a variant schema need not declare its discriminator property).
pub(crate) fn serialize_tagged<T, S>(
    value: &T,
    property: &str,
    tag: &str,
    serializer: S,
) -> Result<S::Ok, S::Error>
where
    T: Serialize + ?Sized,
    S: Serializer,
{
    let mut json = serde_json::to_value(value).map_err(serde::ser::Error::custom)?;
    if let Value::Object(map) = &mut json {
        map.entry(property)
            .or_insert_with(|| Value::String(tag.to_owned()));
    }
    json.serialize(serializer)
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

    #[test]
    fn serialize_tagged_adds_a_missing_tag_only() {
        let mut out = Vec::new();
        let circle = Circle { radius: 1.0 };
        serialize_tagged(
            &circle,
            "kind",
            "circle",
            &mut serde_json::Serializer::new(&mut out),
        )
        .unwrap();
        let value: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value, json!({"kind": "circle", "radius": 1.0}));

        let mut out = Vec::new();
        let tagged: HashMap<&str, &str> = HashMap::from([("kind", "disc")]);
        serialize_tagged(
            &tagged,
            "kind",
            "circle",
            &mut serde_json::Serializer::new(&mut out),
        )
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), r#"{"kind":"disc"}"#);
    }
}
