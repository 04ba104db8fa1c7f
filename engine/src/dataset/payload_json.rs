//! The payload form of `docs/dataset-json.md` ("DUMP payloads: the payload form"): one object
//! value with its key attributes and the footer's facts, read back from that form or from a
//! Dataset JSON document of exactly one key.
use super::json_read::{attrs_of, from_json, get, obj, value_of, Path};
use super::json_write::{AttrsJson, ValueJson};
use super::*;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value as J;

/// A decoded payload as the payload form shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PayloadDoc {
    /// The footer's RDB version.
    pub rdb_version: u16,
    /// `verified`, `disabled` or `mismatch`.
    pub checksum: String,
    /// The stored object's type byte.
    pub object_type: u8,
    /// The value.
    pub value: Value,
    /// Key metadata and the template flag.
    pub attrs: KeyAttrs,
}

impl Serialize for PayloadDoc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("format", "payload/1")?;
        m.serialize_entry("rdb_version", &self.rdb_version)?;
        m.serialize_entry("checksum", &self.checksum)?;
        m.serialize_entry("object_type", &self.object_type)?;
        m.serialize_entry("type", self.value.type_name())?;
        m.serialize_entry("value", &ValueJson(&self.value))?;
        AttrsJson(&self.attrs).entries(&mut m)?;
        m.end()
    }
}

/// Pretty JSON of the payload form, with a trailing newline.
pub fn payload_to_json_string(d: &PayloadDoc) -> String {
    let mut s = serde_json::to_string_pretty(d).unwrap_or_default();
    s.push('\n');
    s
}

/// Reads a value and its attributes from the payload form, or from a Dataset JSON document
/// holding exactly one key (its `db`, `key` and `expire_ms` are ignored).
pub fn payload_from_json(v: &J) -> Result<(Value, KeyAttrs), JsonError> {
    let mut p = Path(Vec::new());
    let top = obj(&p, v)?;
    match top.get("format").and_then(J::as_str) {
        Some("payload/1") => {
            let ty = get(&p, top, "type")?
                .as_str()
                .ok_or_else(|| p.err("type must be a string"))?;
            let raw = get(&p, top, "value")?;
            let value = p.with(".value", |p| value_of(p, ty, raw))?;
            let attrs = attrs_of(&mut p, top)?;
            Ok((value, attrs))
        }
        Some("dataset/1") => {
            let ds = from_json(v)?;
            match <[Entry; 1]>::try_from(ds.keys) {
                Ok([e]) => Ok((e.value, e.attrs)),
                Err(k) => Err(p.err(format!(
                    "a payload holds one key; the dataset has {}",
                    k.len()
                ))),
            }
        }
        other => Err(p.err(format!(
            "format must be \"payload/1\" or \"dataset/1\", found {}",
            super::json_read::shown_format(other)
        ))),
    }
}

/// [`payload_from_json`] of JSON text.
pub fn payload_from_json_str(text: &str) -> Result<(Value, KeyAttrs), JsonError> {
    let v: J = serde_json::from_str(text).map_err(|e| JsonError {
        path: String::new(),
        message: format!("invalid JSON: {e}"),
    })?;
    payload_from_json(&v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_form_round_trips_and_one_key_datasets_are_accepted() {
        let d = PayloadDoc {
            rdb_version: 14,
            checksum: "verified".into(),
            object_type: 28,
            value: Value::Array(Array {
                insert_idx: Some(3),
                elements: vec![(0, b"a".to_vec()), (1 << 40, b"1.5".to_vec())],
            }),
            attrs: KeyAttrs {
                meta: vec![KeyMeta {
                    class: "KMT1".into(),
                    version: 1,
                    flags: 1,
                    payload: vec![2, 7, 0],
                }],
                hash_template: false,
            },
        };
        let text = payload_to_json_string(&d);
        assert!(text.contains("\"format\": \"payload/1\""), "{text}");
        let (v, a) = payload_from_json_str(&text).unwrap();
        assert_eq!((v, a), (d.value.clone(), d.attrs.clone()));
        let one = r#"{"format":"dataset/1","functions":[],"keys":[{"db":3,"key":"k","type":"string","expire_ms":null,"value":"x","hash_template":false}]}"#;
        assert_eq!(
            payload_from_json_str(one).unwrap().0,
            Value::String(b"x".to_vec())
        );
        let two = r#"{"format":"dataset/1","functions":[],"keys":[]}"#;
        assert!(payload_from_json_str(two).is_err());
    }
}
