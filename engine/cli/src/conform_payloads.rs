//! The payload rows of `conform` (`<case> (payloads)`), for cases with recorded DUMP payloads
//! (`<file>.dumps.json`, written by `corpus-dumps`): the reference engine must decode every
//! payload the case's build gave to the key's expected value; a server must accept, through
//! `RESTORE`, our `payload encode` of every expected value at its own RDB version, and read it
//! back as expected.
use crate::conform_targets::{server_view, Case, Got};
use redis_persist_engine::corpus::{dumps, Dumps};
use redis_persist_engine::dataset::{Dataset, Entry};
use redis_persist_engine::format::rdb::{payload, ReadOptions, Target, Thresholds};
use redis_persist_engine::live::{
    all_nonempty_dbs, read_dataset_with, restore, RunningServer, ServerBuild, TempDir,
};

/// The case's recorded payloads, if it has any.
pub fn recorded(case: &Case) -> Option<std::path::PathBuf> {
    let p = dumps::path_for(&case.file);
    (case.accept && !case.aof && p.is_file()).then_some(p)
}

fn expectation(case: &Case) -> Result<Dataset, String> {
    let path = case.expect.as_ref().ok_or("no expectation")?;
    let mut d = redis_persist_engine::corpus::read_expectation(path).map_err(|e| e.to_string())?;
    d.canonicalize();
    for e in &mut d.keys {
        e.idle_s = None;
        e.freq = None;
    }
    Ok(d)
}

/// Decodes every recorded payload with our payload decoder; the dataset they make (with the
/// expectation's expiries, which payloads do not carry), or a refusal naming the key.
pub fn reference(case: &Case) -> Got {
    let Some(path) = recorded(case) else {
        return Got::Skip("no recorded payloads".into());
    };
    let d = match Dumps::read(&path) {
        Ok(d) => d,
        Err(e) => return Got::Differs(format!("payloads: {e}")),
    };
    let want = match expectation(case) {
        Ok(w) => w,
        Err(e) => return Got::Differs(e),
    };
    let mut keys = Vec::new();
    for r in &d.dumps {
        match payload::decode_entry(&r.payload, ReadOptions::default()) {
            Ok((_, value, attrs, _)) => keys.push(Entry {
                db: r.db,
                key: r.key.clone(),
                expire_ms: want
                    .keys
                    .iter()
                    .find(|e| (e.db, &e.key) == (r.db, &r.key))
                    .and_then(|e| e.expire_ms),
                idle_s: None,
                freq: None,
                value,
                attrs,
            }),
            Err(e) => {
                return Got::Refused {
                    kind: e.kind.as_str().into(),
                    message: format!(
                        "payload of db {} key {:?}: {e}",
                        r.db,
                        String::from_utf8_lossy(&r.key)
                    ),
                }
            }
        }
    }
    let mut got = Dataset {
        source: None,
        functions: want.functions.clone(),
        keys,
    };
    got.canonicalize();
    // The payloads are what the build holds after loading the file: what a server may change
    // on load (a -0 score in a zset it makes a listpack, a module's re-encoding) is set aside
    // as for any server's reading.
    let (want, got) = server_view(&want, &got);
    match redis_persist_engine::dataset::first_difference(&want, &got) {
        None => Got::Dataset(want),
        Some(d) => Got::Differs(d),
    }
}

/// The version a build's RESTORE accepts at most.
pub fn build_target(build: &ServerBuild) -> Option<Target> {
    if build.magic == "VALKEY" {
        Some(Target::VALKEY_80)
    } else {
        Target::redis(build.rdb_version)
    }
}

/// RESTOREs our encoding of every expected value at the server's version into a fresh server
/// and reads the dataset back.
pub fn server(build: &ServerBuild, case: &Case) -> Got {
    if recorded(case).is_none() {
        return Got::Skip("no recorded payloads".into());
    }
    let Some(t) = build_target(build) else {
        return Got::Skip(format!("no writer target for RDB {}", build.rdb_version));
    };
    if case.features.iter().any(|f| f.starts_with("module")) && build.modules.is_empty() {
        return Got::Skip("module values; this server runs without their modules".into());
    }
    let want = match expectation(case) {
        Ok(w) => w,
        Err(e) => return Got::Differs(e),
    };
    let mut encoded = Vec::new();
    for e in &want.keys {
        match payload::encode_value(&e.value, &e.attrs, t, Thresholds::default(), false) {
            Ok((p, _)) => encoded.push((e, p)),
            Err(_) => return Got::Skip(format!("{t} cannot hold every value of the case")),
        }
    }
    let tmp = match TempDir::new("conform-payloads") {
        Ok(t) => t,
        Err(e) => return Got::Differs(format!("no temp dir: {e}")),
    };
    let srv = match RunningServer::start(build, tmp.path(), &["--sanitize-dump-payload", "yes"]) {
        Ok(s) => s,
        Err(e) => return Got::Differs(format!("the server did not start: {e}")),
    };
    let known: std::collections::BTreeMap<(u64, Vec<u8>), i64> = want
        .keys
        .iter()
        .filter_map(|e| Some(((e.db, e.key.clone()), e.expire_ms?)))
        .collect();
    let r = srv.client().and_then(|mut c| {
        for (e, p) in &encoded {
            if let Err(msg) = restore(&mut c, e.db, &e.key, p, e.expire_ms)? {
                return Ok(Err(format!(
                    "RESTORE of db {} key {:?} refused: {msg}",
                    e.db,
                    String::from_utf8_lossy(&e.key)
                )));
            }
        }
        let dbs = all_nonempty_dbs(&mut c)?;
        let opts = redis_persist_engine::live::ReadOptions {
            dbs: &dbs,
            known_expiries: Some(&known),
        };
        read_dataset_with(&mut c, &opts).map(Ok)
    });
    match r {
        Ok(Ok(mut got)) => {
            got.functions = want.functions.clone();
            let (w, g) = server_view(&want, &got);
            match redis_persist_engine::dataset::first_difference(&w, &g) {
                None => Got::Dataset(want),
                Some(d) => Got::Differs(d),
            }
        }
        Ok(Err(m)) => Got::Refused {
            kind: "server-refused".into(),
            message: m,
        },
        Err(e) => Got::Differs(format!("could not talk to the server: {e}")),
    }
}
