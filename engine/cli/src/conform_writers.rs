//! The writer directions of `conform`: an outside RDB writer checked by our reader (and a
//! server), and a server made to write each corpus dataset back through SAVE and BGREWRITEAOF.
use crate::conform_run::{argv, run};
use crate::conform_targets::{server, server_skip, server_view, Case, Got, Tool};
use redis_persist_engine::aof::{load, LoadOptions};
use redis_persist_engine::dataset::Dataset;
use redis_persist_engine::format::rdb::{read_dataset, ReadOptions};
use redis_persist_engine::live::{Flavor, RunningServer, ServerBuild, TempDir};

/// What a round trip through a writer cannot keep, and so is not compared: LRU/LFU figures,
/// consumer clocks (a replayed claim stamps the time it runs), module payload bytes (a module
/// may re-encode), and where the expectation lacks them, fields older servers do not report.
pub fn writer_view(expected: &Dataset, got: &Dataset) -> (Dataset, Dataset) {
    let (mut want, mut g) = server_view(expected, got);
    for d in [&mut want, &mut g] {
        for e in &mut d.keys {
            if let redis_persist_engine::dataset::Value::Stream(s) = &mut e.value {
                for grp in &mut s.groups {
                    for c in &mut grp.consumers {
                        c.seen_time_ms = 0;
                        c.active_time_ms = None;
                    }
                }
            }
        }
    }
    (want, g)
}

fn expectation(case: &Case) -> Result<Dataset, String> {
    let path = case.expect.as_ref().ok_or("no expectation")?;
    let mut d = redis_persist_engine::corpus::read_expectation(path).map_err(|e| e.to_string())?;
    d.canonicalize();
    Ok(d)
}

/// An outside writer: `template` with `{json}` (the case's expectation) and `{out}` (where to
/// write an RDB) replaced, run without a shell; our reader decodes what it wrote.
pub fn writer(tool: &Tool, case: &Case, check: Option<&ServerBuild>) -> Got {
    if !case.accept {
        return Got::Skip("a refusal case: nothing to write".into());
    }
    let Some(json) = &case.expect else {
        return Got::Differs("an accepted case without an expectation".into());
    };
    let tmp = match TempDir::new("conform-writer") {
        Ok(t) => t,
        Err(e) => return Got::Differs(format!("no temp dir: {e}")),
    };
    let out = tmp.path().join("out.rdb");
    let argv = argv(
        &tool.words,
        &[("json", json.as_path()), ("out", out.as_path())],
    );
    match run(&argv, &tool.limits) {
        Ok(o) if o.timed_out => {
            return Got::Refused {
                kind: "stopped".into(),
                message: format!(
                    "stopped after {} s (--timeout)",
                    tool.limits.timeout.as_secs()
                ),
            }
        }
        Ok(o) if o.status == Some(0) => {}
        Ok(o) => {
            return Got::Refused {
                kind: "writer-failed".into(),
                message: format!("{}: {}", o.ended(), o.stderr_tail.trim()),
            };
        }
        Err(e) => {
            return Got::Refused {
                kind: "cannot-run".into(),
                message: format!("cannot run {:?}: {e}", tool.words[0]),
            }
        }
    }
    let bytes = match std::fs::read(&out) {
        Ok(b) => b,
        Err(e) => {
            return Got::Refused {
                kind: "no-output".into(),
                message: format!("the writer wrote no file: {e}"),
            }
        }
    };
    let ours = match read_dataset(&bytes, ReadOptions::default()) {
        Ok((d, _)) => d,
        Err(e) => {
            return Got::Refused {
                kind: e.kind.as_str().into(),
                message: format!("what it wrote does not decode: {e}"),
            }
        }
    };
    let Some(build) = check else {
        return Got::Dataset(ours);
    };
    // The server must load it too, to the same dataset (where its version can hold the file).
    let header = String::from_utf8_lossy(&bytes[..bytes.len().min(9)]).into_owned();
    let written = Case {
        file: out.clone(),
        aof: false,
        rdb_version: header
            .get(5..)
            .and_then(|v| v.trim_start_matches('0').parse().ok()),
        magic: Some(
            if header.starts_with("VALKEY") {
                "VALKEY"
            } else {
                "REDIS"
            }
            .into(),
        ),
        ..case.clone()
    };
    match server(build, &written) {
        Got::Dataset(theirs) => {
            let want = match expectation(case) {
                Ok(w) => w,
                Err(e) => return Got::Differs(e),
            };
            let (w, t) = server_view(&want, &theirs);
            match redis_persist_engine::dataset::first_difference(&w, &t) {
                None => Got::Dataset(ours),
                Some(d) => Got::Differs(format!("{} loads it as: {d}", build.name)),
            }
        }
        Got::Skip(why) => Got::Skip(format!("{} cannot check it: {why}", build.name)),
        Got::Refused { message, .. } => {
            Got::Differs(format!("{} refuses what it wrote: {message}", build.name))
        }
        Got::Differs(d) => Got::Differs(d),
    }
}

/// The writer direction of a server: started empty with `appendonly yes`, given the case's
/// dataset as the commands a rewrite would send, then SAVE and BGREWRITEAOF; its dump and its
/// AOF are decoded with our reader and must both hold the dataset.
pub fn server_writes(build: &ServerBuild, case: &Case) -> Got {
    if !case.accept {
        return Got::Skip("a refusal case: nothing to write".into());
    }
    if let Some(why) = server_skip(build, case) {
        return Got::Skip(why);
    }
    let want = match expectation(case) {
        Ok(d) => d,
        Err(e) => return Got::Differs(e),
    };
    let tmp = match TempDir::new("conform-write") {
        Ok(t) => t,
        Err(e) => return Got::Differs(format!("no temp dir: {e}")),
    };
    let args = ["--appendonly", "yes", "--appenddirname", "appendonlydir"];
    let multi = build.flavor() == Flavor::Valkey || build.version() >= (7, 0, 0);
    let args: &[&str] = if multi { &args } else { &args[..2] };
    let srv = match RunningServer::start(build, tmp.path(), args) {
        Ok(s) => s,
        Err(e) => return Got::Differs(format!("the server did not start empty: {e}")),
    };
    let mut resp = Vec::new();
    redis_persist_engine::format::aof::rewrite::write_dataset(&mut resp, &want, None);
    let r = srv.client().and_then(|mut c| {
        use redis_persist_engine::format::resp::{CommandReader, Next, Strictness};
        let mut r = CommandReader::from_slice(&resp, Strictness::Server);
        while let Ok(n @ (Next::Command { .. } | Next::Annotation { .. })) = r.next_item() {
            if matches!(n, Next::Command { .. }) {
                let argv = r.argv();
                if let redis_persist_engine::live::Reply::Error(e) = c.cmd(&argv)? {
                    let name = String::from_utf8_lossy(argv[0]);
                    return Err(std::io::Error::other(format!("{name}: {e}")));
                }
            }
        }
        c.call_str(&["SAVE"])?;
        c.call_str(&["BGREWRITEAOF"])?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let info = c.call_str(&["INFO", "persistence"])?.into_text()?;
            let busy = info
                .lines()
                .any(|l| l == "aof_rewrite_in_progress:1" || l == "aof_rewrite_scheduled:1");
            if !busy {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                return Err(std::io::Error::other("BGREWRITEAOF did not finish"));
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    });
    if let Err(e) = r {
        return Got::Refused {
            kind: "server-refused".into(),
            message: format!("while writing the dataset: {e}"),
        };
    }
    let dump = std::fs::read(tmp.path().join("dump.rdb"))
        .map_err(|e| e.to_string())
        .and_then(|b| read_dataset(&b, ReadOptions::default()).map_err(|e| e.to_string()));
    let aof_path = tmp.path().join(if multi {
        "appendonlydir"
    } else {
        "appendonly.aof"
    });
    let opts = LoadOptions {
        load_truncated: false,
        now_ms: 0,
        rdb: ReadOptions::default(),
        memory_limit: None,
    };
    let aof = load(&aof_path, &opts).map_err(|e| e.to_string());
    match (dump, aof) {
        (Ok((d, _)), Ok(a)) => {
            let (w1, g1) = writer_view(&want, &d);
            let (w2, g2) = writer_view(&want, &a.dataset);
            match (
                redis_persist_engine::dataset::first_difference(&w1, &g1),
                redis_persist_engine::dataset::first_difference(&w2, &g2),
            ) {
                (None, None) => Got::Dataset(want),
                (Some(x), _) => Got::Differs(format!("its dump: {x}")),
                (_, Some(x)) => Got::Differs(format!("its AOF: {x}")),
            }
        }
        (Err(e), _) => Got::Refused {
            kind: "dump".into(),
            message: format!("its dump does not decode: {e}"),
        },
        (_, Err(e)) => Got::Refused {
            kind: "aof".into(),
            message: format!("its AOF does not load: {e}"),
        },
    }
}
