//! Reading Dataset JSON, version 1 (`docs/dataset-json.md`): any equivalent spelling is accepted
//! (`{"b64": ...}` for UTF-8 text, `"1.50"` scores); `json_write` emits the one canonical form.
use super::*;
use base64::Engine as _;
use serde_json::{Map, Value as J};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Why a JSON document is not a valid dataset, with the path to the offending part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// Path into the document, like `keys[3].value[0]`.
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            // A problem with the document as a whole: no empty path before the colon.
            return f.write_str(&self.message);
        }
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A `format` field as a message shows it: quoted, or said to be missing (never `None`).
pub(super) fn shown_format(f: Option<&str>) -> String {
    f.map_or_else(|| "no \"format\" field".to_owned(), |s| format!("{s:?}"))
}

impl std::error::Error for JsonError {}

pub(super) struct Path(pub(super) Vec<String>);

impl Path {
    pub(super) fn err(&self, msg: impl Into<String>) -> JsonError {
        JsonError {
            path: self.0.concat(),
            message: msg.into(),
        }
    }
    pub(super) fn with<T>(
        &mut self,
        seg: impl Into<String>,
        f: impl FnOnce(&mut Path) -> Result<T, JsonError>,
    ) -> Result<T, JsonError> {
        self.0.push(seg.into());
        let r = f(self);
        self.0.pop();
        r
    }
}

pub(super) fn get<'a>(p: &Path, o: &'a Map<String, J>, k: &str) -> Result<&'a J, JsonError> {
    o.get(k)
        .ok_or_else(|| p.err(format!("missing field {k:?}")))
}

pub(super) fn obj<'a>(p: &Path, v: &'a J) -> Result<&'a Map<String, J>, JsonError> {
    v.as_object().ok_or_else(|| p.err("expected an object"))
}

fn arr<'a>(p: &Path, v: &'a J) -> Result<&'a Vec<J>, JsonError> {
    v.as_array().ok_or_else(|| p.err("expected an array"))
}

fn u64_of(p: &Path, v: &J) -> Result<u64, JsonError> {
    v.as_u64()
        .ok_or_else(|| p.err("expected an unsigned integer"))
}

fn i64_of(p: &Path, v: &J) -> Result<i64, JsonError> {
    v.as_i64().ok_or_else(|| p.err("expected an integer"))
}

fn opt_of<T>(
    p: &mut Path,
    v: Option<&J>,
    f: impl FnOnce(&mut Path, &J) -> Result<T, JsonError>,
) -> Result<Option<T>, JsonError> {
    match v {
        None | Some(J::Null) => Ok(None),
        Some(v) => f(p, v).map(Some),
    }
}

pub(super) fn bytes_of(p: &Path, v: &J) -> Result<Vec<u8>, JsonError> {
    match v {
        J::String(s) => Ok(s.as_bytes().to_vec()),
        J::Object(o) if o.len() == 1 => match o.get("b64") {
            Some(J::String(b)) => B64.decode(b).map_err(|e| p.err(format!("bad base64: {e}"))),
            _ => Err(p.err("expected a string or {\"b64\": ...}")),
        },
        _ => Err(p.err("expected a string or {\"b64\": ...}")),
    }
}

fn id_of(p: &Path, v: &J) -> Result<StreamId, JsonError> {
    v.as_str()
        .ok_or_else(|| p.err("expected a stream ID string"))?
        .parse()
        .map_err(|e: String| p.err(e))
}

fn score_of(p: &Path, v: &J) -> Result<f64, JsonError> {
    let s = v.as_str().ok_or_else(|| p.err("expected a score string"))?;
    let f = match s {
        "inf" | "+inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        _ => s
            .parse::<f64>()
            .map_err(|_| p.err(format!("{s:?} is not a score")))?,
    };
    if f.is_nan() {
        return Err(p.err("a score cannot be NaN"));
    }
    Ok(f)
}

/// Parses Dataset JSON text, or its streaming form (Dataset JSON lines).
pub fn from_json_str(text: &str) -> Result<Dataset, JsonError> {
    if super::json_lines::is_json_lines(text) {
        return super::json_lines::from_json_lines(text);
    }
    let v: J = serde_json::from_str(text).map_err(|e| JsonError {
        path: String::new(),
        message: format!("invalid JSON: {e}"),
    })?;
    from_json(&v)
}

/// Reads a dataset from a JSON value (any equivalent spelling is accepted).
pub fn from_json(v: &J) -> Result<Dataset, JsonError> {
    let mut p = Path(Vec::new());
    let top = obj(&p, v)?;
    match top.get("format").and_then(J::as_str) {
        Some("dataset/1") => {}
        other => {
            let found = shown_format(other);
            return Err(p.err(format!("format must be \"dataset/1\", found {found}")));
        }
    }
    let source = match top.get("source") {
        None | Some(J::Null) => None,
        Some(s) => Some(p.with(".source", |p| source_of(p, s))?),
    };
    let functions = p.with(".functions", |p| {
        arr(p, get(p, top, "functions")?)?
            .iter()
            .enumerate()
            .map(|(i, f)| p.with(format!("[{i}]"), |p| bytes_of(p, f)))
            .collect::<Result<Vec<_>, _>>()
    })?;
    let keys = p.with(".keys", |p| {
        arr(p, get(p, top, "keys")?)?
            .iter()
            .enumerate()
            .map(|(i, k)| p.with(format!("[{i}]"), |p| entry_of(p, k)))
            .collect::<Result<Vec<_>, _>>()
    })?;
    Ok(Dataset {
        source,
        functions,
        keys,
    })
}

pub(super) fn source_of(p: &mut Path, v: &J) -> Result<SourceInfo, JsonError> {
    let o = obj(p, v)?;
    let kind = get(p, o, "kind")?
        .as_str()
        .ok_or_else(|| p.err("kind must be a string"))?
        .to_owned();
    let magic = o.get("magic").and_then(J::as_str).map(str::to_owned);
    let version = o.get("version").and_then(J::as_u64).map(|v| v as u32);
    let mut aux = Vec::new();
    if let Some(a) = o.get("aux") {
        for (i, pair) in arr(p, a)?.iter().enumerate() {
            p.with(format!(".aux[{i}]"), |p| {
                let pr = arr(p, pair)?;
                if pr.len() != 2 {
                    return Err(p.err("an aux field is [key, value]"));
                }
                aux.push((bytes_of(p, &pr[0])?, bytes_of(p, &pr[1])?));
                Ok(())
            })?;
        }
    }
    Ok(SourceInfo {
        kind,
        magic,
        version,
        aux,
    })
}

pub(super) fn entry_of(p: &mut Path, v: &J) -> Result<Entry, JsonError> {
    let o = obj(p, v)?;
    let db = p.with(".db", |p| u64_of(p, get(p, o, "db")?))?;
    let key = p.with(".key", |p| bytes_of(p, get(p, o, "key")?))?;
    let expire_ms = p.with(".expire_ms", |p| {
        opt_of(p, o.get("expire_ms"), |p, v| i64_of(p, v))
    })?;
    let idle_s = p.with(".idle_s", |p| {
        opt_of(p, o.get("idle_s"), |p, v| u64_of(p, v))
    })?;
    let freq = p.with(".freq", |p| {
        opt_of(p, o.get("freq"), |p, v| {
            u8::try_from(u64_of(p, v)?).map_err(|_| p.err("freq is one byte"))
        })
    })?;
    let ty = get(p, o, "type")?
        .as_str()
        .ok_or_else(|| p.err("type must be a string"))?;
    let raw = get(p, o, "value")?;
    let value = p.with(".value", |p| value_of(p, ty, raw))?;
    let attrs = attrs_of(p, o)?;
    Ok(Entry {
        db,
        key,
        expire_ms,
        idle_s,
        freq,
        value,
        attrs,
    })
}

/// The optional key-level `meta` and `hash_template` (shared with the payload form).
pub(super) fn attrs_of(p: &mut Path, o: &Map<String, J>) -> Result<KeyAttrs, JsonError> {
    let meta = match o.get("meta") {
        None | Some(J::Null) => Vec::new(),
        Some(m) => p.with(".meta", |p| {
            arr(p, m)?
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    p.with(format!("[{i}]"), |p| {
                        let c = obj(p, c)?;
                        let small = |p: &mut Path, k: &str, max: u64| {
                            let v = u64_of(p, get(p, c, k)?)?;
                            if v > max {
                                return Err(p.err(format!("{k} is at most {max}")));
                            }
                            Ok(v as u8)
                        };
                        let m = KeyMeta {
                            class: get(p, c, "class")?
                                .as_str()
                                .ok_or_else(|| p.err("class must be a string"))?
                                .to_owned(),
                            version: small(p, "version", 31)?,
                            flags: small(p, "flags", 7)?,
                            payload: p.with(".payload", |p| bytes_of(p, get(p, c, "payload")?))?,
                        };
                        if m.spec().is_none() {
                            return Err(
                                p.err("class must be 4 characters of A-Z, a-z, 0-9, '_' or '-'")
                            );
                        }
                        Ok(m)
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })?,
    };
    let hash_template = match o.get("hash_template") {
        None | Some(J::Null) => false,
        Some(J::Bool(b)) => *b,
        Some(_) => return Err(p.err("hash_template must be true or false")),
    };
    Ok(KeyAttrs {
        meta,
        hash_template,
    })
}

fn list_of(p: &mut Path, v: &J) -> Result<Vec<Vec<u8>>, JsonError> {
    arr(p, v)?
        .iter()
        .enumerate()
        .map(|(i, x)| p.with(format!("[{i}]"), |p| bytes_of(p, x)))
        .collect()
}

pub(super) fn value_of(p: &mut Path, ty: &str, v: &J) -> Result<Value, JsonError> {
    Ok(match ty {
        "string" => Value::String(bytes_of(p, v)?),
        "list" => Value::List(list_of(p, v)?),
        "set" => Value::Set(list_of(p, v)?),
        "hash" => Value::Hash(
            arr(p, v)?
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    p.with(format!("[{i}]"), |p| {
                        let a = arr(p, f)?;
                        if a.len() != 2 && a.len() != 3 {
                            return Err(p.err(
                                "a hash field is [field, value] or [field, value, expire_ms]",
                            ));
                        }
                        let expire_ms = match a.get(2) {
                            None => None,
                            Some(t) => Some(i64_of(p, t)?),
                        };
                        Ok(HashField {
                            field: bytes_of(p, &a[0])?,
                            value: bytes_of(p, &a[1])?,
                            expire_ms,
                        })
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
        "zset" => Value::Zset(
            arr(p, v)?
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    p.with(format!("[{i}]"), |p| {
                        let a = arr(p, m)?;
                        if a.len() != 2 {
                            return Err(p.err("a zset member is [member, score]"));
                        }
                        Ok(ZsetMember {
                            member: bytes_of(p, &a[0])?,
                            score: score_of(p, &a[1])?,
                        })
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
        "stream" => Value::Stream(Box::new(stream_of(p, v)?)),
        "array" => {
            let o = obj(p, v)?;
            let insert_idx = p.with(".insert_idx", |p| {
                opt_of(p, o.get("insert_idx"), |p, v| u64_of(p, v))
            })?;
            let elements = p.with(".elements", |p| {
                arr(p, get(p, o, "elements")?)?
                    .iter()
                    .enumerate()
                    .map(|(i, e)| {
                        p.with(format!("[{i}]"), |p| {
                            let a = arr(p, e)?;
                            if a.len() != 2 {
                                return Err(p.err("an array element is [index, value]"));
                            }
                            let idx = u64_of(p, &a[0])?;
                            if idx == u64::MAX {
                                return Err(p.err("index 2^64-1 cannot be stored"));
                            }
                            Ok((idx, bytes_of(p, &a[1])?))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })?;
            Value::Array(Array {
                insert_idx,
                elements,
            })
        }
        "module" => {
            let o = obj(p, v)?;
            let name = get(p, o, "module")?
                .as_str()
                .ok_or_else(|| p.err("module must be a string"))?
                .to_owned();
            let id = get(p, o, "id")?
                .as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| p.err("id must be a decimal string"))?;
            let encver = u64_of(p, get(p, o, "encver")?)?;
            let payload = p.with(".payload", |p| bytes_of(p, get(p, o, "payload")?))?;
            Value::Module(ModuleValue {
                name,
                id,
                encver,
                payload,
            })
        }
        other => return Err(p.err(format!("unknown type {other:?}"))),
    })
}

fn stream_of(p: &mut Path, v: &J) -> Result<Stream, JsonError> {
    let o = obj(p, v)?;
    let length = p.with(".length", |p| u64_of(p, get(p, o, "length")?))?;
    let last_id = p.with(".last_id", |p| id_of(p, get(p, o, "last_id")?))?;
    let first_id = p.with(".first_id", |p| {
        opt_of(p, o.get("first_id"), |p, v| id_of(p, v))
    })?;
    let max_deleted_id = p.with(".max_deleted_id", |p| {
        opt_of(p, o.get("max_deleted_id"), |p, v| id_of(p, v))
    })?;
    let entries_added = p.with(".entries_added", |p| {
        opt_of(p, o.get("entries_added"), |p, v| u64_of(p, v))
    })?;
    let entries = p.with(".entries", |p| {
        arr(p, get(p, o, "entries")?)?
            .iter()
            .enumerate()
            .map(|(i, e)| {
                p.with(format!("[{i}]"), |p| {
                    let a = arr(p, e)?;
                    if a.len() != 2 {
                        return Err(p.err("an entry is [id, [[field, value], ...]]"));
                    }
                    let id = id_of(p, &a[0])?;
                    let fields = arr(p, &a[1])?
                        .iter()
                        .map(|fv| {
                            let fv = arr(p, fv)?;
                            if fv.len() != 2 {
                                return Err(p.err("a stream field is [field, value]"));
                            }
                            Ok((bytes_of(p, &fv[0])?, bytes_of(p, &fv[1])?))
                        })
                        .collect::<Result<_, _>>()?;
                    Ok(StreamEntry { id, fields })
                })
            })
            .collect::<Result<Vec<_>, _>>()
    })?;
    let groups = p.with(".groups", |p| {
        arr(p, get(p, o, "groups")?)?
            .iter()
            .enumerate()
            .map(|(i, g)| p.with(format!("[{i}]"), |p| group_of(p, g)))
            .collect::<Result<Vec<_>, _>>()
    })?;
    let idmp = p.with(".idmp", |p| opt_of(p, o.get("idmp"), idmp_of))?;
    Ok(Stream {
        length,
        last_id,
        first_id,
        max_deleted_id,
        entries_added,
        entries,
        groups,
        idmp,
    })
}

fn idmp_of(p: &mut Path, v: &J) -> Result<Idmp, JsonError> {
    let o = obj(p, v)?;
    let n = |p: &mut Path, k: &str| p.with(format!(".{k}"), |p| u64_of(p, get(p, o, k)?));
    let duration_s = n(p, "duration_s")?;
    let max_entries = n(p, "max_entries")?;
    let iids_added = n(p, "iids_added")?;
    let iids_duplicates = n(p, "iids_duplicates")?;
    let producers = p.with(".producers", |p| {
        arr(p, get(p, o, "producers")?)?
            .iter()
            .enumerate()
            .map(|(i, pr)| {
                p.with(format!("[{i}]"), |p| {
                    let pr = obj(p, pr)?;
                    let pid = bytes_of(p, get(p, pr, "pid")?)?;
                    let entries = arr(p, get(p, pr, "entries")?)?
                        .iter()
                        .map(|e| {
                            let a = arr(p, e)?;
                            if a.len() != 2 {
                                return Err(p.err("an IDMP entry is [iid, stream ID]"));
                            }
                            Ok((bytes_of(p, &a[0])?, id_of(p, &a[1])?))
                        })
                        .collect::<Result<_, _>>()?;
                    Ok(IdmpProducer { pid, entries })
                })
            })
            .collect::<Result<Vec<_>, _>>()
    })?;
    Ok(Idmp {
        duration_s,
        max_entries,
        producers,
        iids_added,
        iids_duplicates,
    })
}

fn group_of(p: &mut Path, v: &J) -> Result<Group, JsonError> {
    let o = obj(p, v)?;
    let name = bytes_of(p, get(p, o, "name")?)?;
    let last_delivered_id = id_of(p, get(p, o, "last_delivered_id")?)?;
    let entries_read = opt_of(p, o.get("entries_read"), |p, v| u64_of(p, v))?;
    let pending = p.with(".pending", |p| {
        arr(p, get(p, o, "pending")?)?
            .iter()
            .map(|row| {
                let a = arr(p, row)?;
                if a.len() != 4 {
                    return Err(
                        p.err("a pending row is [id, consumer, delivery_time_ms, delivery_count]")
                    );
                }
                Ok(PendingEntry {
                    id: id_of(p, &a[0])?,
                    // A NACKed entry has no owner (`null`); `nacked` must then list it.
                    consumer: match &a[1] {
                        J::Null => Vec::new(),
                        c => bytes_of(p, c)?,
                    },
                    delivery_time_ms: i64_of(p, &a[2])?,
                    delivery_count: u64_of(p, &a[3])?,
                })
            })
            .collect::<Result<Vec<_>, _>>()
    })?;
    let consumers = p.with(".consumers", |p| {
        arr(p, get(p, o, "consumers")?)?
            .iter()
            .map(|c| {
                let c = obj(p, c)?;
                Ok(Consumer {
                    name: bytes_of(p, get(p, c, "name")?)?,
                    seen_time_ms: i64_of(p, get(p, c, "seen_time_ms")?)?,
                    active_time_ms: opt_of(p, c.get("active_time_ms"), |p, v| i64_of(p, v))?,
                    pending: arr(p, get(p, c, "pending")?)?
                        .iter()
                        .map(|i| id_of(p, i))
                        .collect::<Result<_, _>>()?,
                })
            })
            .collect::<Result<Vec<_>, _>>()
    })?;
    let nacked = p.with(".nacked", |p| {
        opt_of(p, o.get("nacked"), |p, v| {
            arr(p, v)?.iter().map(|i| id_of(p, i)).collect()
        })
    })?;
    for (i, row) in arr(p, get(p, o, "pending")?)?.iter().enumerate() {
        let id = pending[i].id;
        let listed = nacked
            .as_ref()
            .is_some_and(|n: &Vec<StreamId>| n.contains(&id));
        if row.get(1).is_some_and(J::is_null) != listed {
            return Err(p.err(format!(
                "pending[{i}]: a consumer is null exactly for the IDs listed in nacked"
            )));
        }
    }
    Ok(Group {
        name,
        last_delivered_id,
        entries_read,
        pending,
        consumers,
        nacked,
    })
}
