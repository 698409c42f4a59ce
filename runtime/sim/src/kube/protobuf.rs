//! Decoding Kubernetes protobuf request bodies.
//!
//! client-go's typed clients send built-in objects as `application/vnd.kubernetes.protobuf`
//! (kubectl's `create namespace`/`create secret`, Helm's release storage), and unlike for
//! CBOR they do not fall back to JSON when a server refuses it. So the server decodes the
//! kinds those clients write this way — Secret, ConfigMap, Namespace, ServiceAccount and
//! DeleteOptions — into the same JSON the rest of the server works with. Responses are
//! always JSON, which these clients accept as well. Other kinds sent as protobuf get 415.
//!
//! The wire format is a 4-byte magic (`k8s\0`) and a `runtime.Unknown` envelope
//! (typeMeta = 1, raw = 2) whose `raw` is the object's own message; the field numbers below
//! are those of Kubernetes' `generated.proto` files.

use base64::Engine;
use serde_json::{json, Map, Value};

pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// How a field's bytes become JSON.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Int,
    Bool,
    /// `bytes`, shown base64 in JSON.
    Bytes,
    Time,
    /// `FieldsV1 { bytes raw = 1 }`, whose raw bytes are JSON.
    FieldsV1,
    Msg(&'static [Field]),
    MapStr,
    MapBytes,
}

/// (number, JSON name, kind, repeated)
type Field = (u64, &'static str, Kind, bool);

const OWNER_REFERENCE: &[Field] = &[
    (1, "kind", Kind::Str, false),
    (3, "name", Kind::Str, false),
    (4, "uid", Kind::Str, false),
    (5, "apiVersion", Kind::Str, false),
    (6, "controller", Kind::Bool, false),
    (7, "blockOwnerDeletion", Kind::Bool, false),
];
const MANAGED_FIELDS: &[Field] = &[
    (1, "manager", Kind::Str, false),
    (2, "operation", Kind::Str, false),
    (3, "apiVersion", Kind::Str, false),
    (4, "time", Kind::Time, false),
    (6, "fieldsType", Kind::Str, false),
    (7, "fieldsV1", Kind::FieldsV1, false),
    (8, "subresource", Kind::Str, false),
];
const OBJECT_META: &[Field] = &[
    (1, "name", Kind::Str, false),
    (2, "generateName", Kind::Str, false),
    (3, "namespace", Kind::Str, false),
    (5, "uid", Kind::Str, false),
    (6, "resourceVersion", Kind::Str, false),
    (7, "generation", Kind::Int, false),
    (8, "creationTimestamp", Kind::Time, false),
    (9, "deletionTimestamp", Kind::Time, false),
    (10, "deletionGracePeriodSeconds", Kind::Int, false),
    (11, "labels", Kind::MapStr, false),
    (12, "annotations", Kind::MapStr, false),
    (13, "ownerReferences", Kind::Msg(OWNER_REFERENCE), true),
    (14, "finalizers", Kind::Str, true),
    (17, "managedFields", Kind::Msg(MANAGED_FIELDS), true),
];
const SECRET: &[Field] = &[
    (1, "metadata", Kind::Msg(OBJECT_META), false),
    (2, "data", Kind::MapBytes, false),
    (3, "type", Kind::Str, false),
    (4, "stringData", Kind::MapStr, false),
    (5, "immutable", Kind::Bool, false),
];
const CONFIG_MAP: &[Field] = &[
    (1, "metadata", Kind::Msg(OBJECT_META), false),
    (2, "data", Kind::MapStr, false),
    (3, "binaryData", Kind::MapBytes, false),
    (4, "immutable", Kind::Bool, false),
];
const NAMESPACE_SPEC: &[Field] = &[(1, "finalizers", Kind::Str, true)];
const NAMESPACE_STATUS: &[Field] = &[(1, "phase", Kind::Str, false)];
const NAMESPACE: &[Field] = &[
    (1, "metadata", Kind::Msg(OBJECT_META), false),
    (2, "spec", Kind::Msg(NAMESPACE_SPEC), false),
    (3, "status", Kind::Msg(NAMESPACE_STATUS), false),
];
const LOCAL_REF: &[Field] = &[(1, "name", Kind::Str, false)];
const OBJECT_REF: &[Field] = &[
    (1, "kind", Kind::Str, false),
    (2, "namespace", Kind::Str, false),
    (3, "name", Kind::Str, false),
    (4, "uid", Kind::Str, false),
    (5, "apiVersion", Kind::Str, false),
];
const SERVICE_ACCOUNT: &[Field] = &[
    (1, "metadata", Kind::Msg(OBJECT_META), false),
    (2, "secrets", Kind::Msg(OBJECT_REF), true),
    (3, "imagePullSecrets", Kind::Msg(LOCAL_REF), true),
    (4, "automountServiceAccountToken", Kind::Bool, false),
];
const PRECONDITIONS: &[Field] = &[
    (1, "uid", Kind::Str, false),
    (2, "resourceVersion", Kind::Str, false),
];
const DELETE_OPTIONS: &[Field] = &[
    (1, "gracePeriodSeconds", Kind::Int, false),
    (2, "preconditions", Kind::Msg(PRECONDITIONS), false),
    (3, "orphanDependents", Kind::Bool, false),
    (4, "propagationPolicy", Kind::Str, false),
    (5, "dryRun", Kind::Str, true),
];
const TYPE_META: &[Field] = &[
    (1, "apiVersion", Kind::Str, false),
    (2, "kind", Kind::Str, false),
];
const UNKNOWN: &[Field] = &[
    (1, "typeMeta", Kind::Msg(TYPE_META), false),
    (2, "raw", Kind::Bytes, false),
];

fn schema_for(api_version: &str, kind: &str) -> Option<&'static [Field]> {
    match (api_version, kind) {
        ("v1", "Secret") => Some(SECRET),
        ("v1", "ConfigMap") => Some(CONFIG_MAP),
        ("v1", "Namespace") => Some(NAMESPACE),
        ("v1", "ServiceAccount") => Some(SERVICE_ACCOUNT),
        (_, "DeleteOptions") => Some(DELETE_OPTIONS),
        _ => None,
    }
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.data.get(self.pos).ok_or("truncated varint")?;
            self.pos += 1;
            value |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("varint too long".into())
    }
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.data.len())
            .ok_or("truncated field")?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }
}

fn time(bytes: &[u8]) -> Result<Value, String> {
    let m = decode_message(
        bytes,
        &[
            (1, "seconds", Kind::Int, false),
            (2, "nanos", Kind::Int, false),
        ],
    )?;
    let seconds = m["seconds"].as_i64().unwrap_or(0);
    let t = jiff::Timestamp::from_second(seconds).map_err(|e| e.to_string())?;
    Ok(json!(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()))
}

fn map_entry(bytes: &[u8], value_kind: Kind) -> Result<(String, Value), String> {
    let m = decode_message(
        bytes,
        &[
            (1, "key", Kind::Str, false),
            (2, "value", value_kind, false),
        ],
    )?;
    let key = m["key"].as_str().unwrap_or("").to_string();
    let value = m.get("value").cloned().unwrap_or(match value_kind {
        Kind::Bytes => json!(""),
        _ => json!(""),
    });
    Ok((key, value))
}

fn decode_message(bytes: &[u8], fields: &[Field]) -> Result<Value, String> {
    let mut r = Reader {
        data: bytes,
        pos: 0,
    };
    let mut out = Map::new();
    while r.pos < r.data.len() {
        let key = r.varint()?;
        let (number, wire) = (key >> 3, key & 7);
        let raw: Option<&[u8]>;
        let mut int = 0u64;
        match wire {
            0 => {
                int = r.varint()?;
                raw = None;
            }
            1 => {
                r.take(8)?;
                continue;
            }
            2 => {
                let n = r.varint()? as usize;
                raw = Some(r.take(n)?);
            }
            5 => {
                r.take(4)?;
                continue;
            }
            other => return Err(format!("unsupported wire type {other}")),
        }
        let Some(&(_, name, kind, repeated)) = fields.iter().find(|f| f.0 == number) else {
            continue;
        };
        let value = match (kind, raw) {
            (Kind::Str, Some(b)) => json!(String::from_utf8_lossy(b)),
            (Kind::Bytes, Some(b)) => json!(base64::engine::general_purpose::STANDARD.encode(b)),
            (Kind::Int, None) => json!(int as i64),
            (Kind::Bool, None) => json!(int != 0),
            (Kind::Time, Some(b)) => time(b)?,
            (Kind::FieldsV1, Some(b)) => {
                let inner = decode_message(b, &[(1, "raw", Kind::Bytes, false)])?;
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(inner["raw"].as_str().unwrap_or(""))
                    .unwrap_or_default();
                serde_json::from_slice(&raw).unwrap_or(json!({}))
            }
            (Kind::Msg(sub), Some(b)) => decode_message(b, sub)?,
            (Kind::MapStr, Some(b)) | (Kind::MapBytes, Some(b)) => {
                let value_kind = if matches!(kind, Kind::MapStr) {
                    Kind::Str
                } else {
                    Kind::Bytes
                };
                let (k, v) = map_entry(b, value_kind)?;
                let slot = out.entry(name.to_string()).or_insert_with(|| json!({}));
                slot[k] = v;
                continue;
            }
            _ => return Err(format!("field {name} has an unexpected wire type")),
        };
        if repeated {
            let slot = out.entry(name.to_string()).or_insert_with(|| json!([]));
            if let Some(a) = slot.as_array_mut() {
                a.push(value);
            }
        } else {
            out.insert(name.to_string(), value);
        }
    }
    Ok(Value::Object(out))
}

/// Decodes a protobuf request body into JSON; Err(message) when it cannot (the caller
/// answers 415 for kinds not known here, 400 for malformed bodies).
pub enum DecodeError {
    Unsupported(String),
    Malformed(String),
}

pub fn decode(body: &[u8]) -> Result<Value, DecodeError> {
    let payload = body
        .strip_prefix(b"k8s\0")
        .ok_or_else(|| DecodeError::Malformed("missing protobuf magic prefix".into()))?;
    let envelope = decode_message(payload, UNKNOWN).map_err(DecodeError::Malformed)?;
    let api_version = envelope["typeMeta"]["apiVersion"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let kind = envelope["typeMeta"]["kind"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let schema = schema_for(&api_version, &kind).ok_or_else(|| {
        DecodeError::Unsupported(format!(
            "{api_version}, Kind={kind} in protobuf (send JSON)"
        ))
    })?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(envelope["raw"].as_str().unwrap_or(""))
        .map_err(|e| DecodeError::Malformed(e.to_string()))?;
    let mut object = decode_message(&raw, schema).map_err(DecodeError::Malformed)?;
    object["apiVersion"] = json!(api_version);
    object["kind"] = json!(kind);
    Ok(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(n: u64, bytes: &[u8]) -> Vec<u8> {
        let mut v = vec![((n << 3) | 2) as u8, bytes.len() as u8];
        v.extend_from_slice(bytes);
        v
    }

    #[test]
    fn decodes_a_secret() {
        let meta = [field(1, b"s1"), field(3, b"ns")].concat();
        let entry = [field(1, b"k"), field(2, b"\x01\x02")].concat();
        let secret = [field(1, &meta), field(2, &entry), field(3, b"Opaque")].concat();
        let type_meta = [field(1, b"v1"), field(2, b"Secret")].concat();
        let envelope = [field(1, &type_meta), field(2, &secret)].concat();
        let body = [b"k8s\0".as_slice(), &envelope].concat();
        let Ok(v) = decode(&body) else {
            panic!("decode failed")
        };
        assert_eq!(v["metadata"]["name"], "s1");
        assert_eq!(v["data"]["k"], "AQI=");
        assert_eq!(v["type"], "Opaque");
    }
}
