//! Reading `conform`'s report row by row, the rows `corpus/index.json` implies, and whether a
//! server's skip is borne out by its case's own facts.
use redis_persist_engine::corpus::{dumps, Filter, Format, Index};
use redis_persist_engine::live::ServerBuild;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus")
}

/// One row of the report: status (`pass`, `skip`, `FAIL`), case, direction (`""`, `"(write)"`,
/// `"(payloads)"`) and what follows (a skip's reason, a failure's message).
pub struct Row {
    pub status: String,
    pub name: String,
    pub kind: String,
    pub rest: String,
}

pub fn rows(out: &str) -> Vec<Row> {
    out.lines()
        .filter_map(|l| {
            let (status, l) = l.split_once("  ")?;
            if !["pass", "skip", "FAIL"].contains(&status) {
                return None;
            }
            let l = l.trim_start();
            let (name, rest) = l.split_once(' ').unwrap_or((l, ""));
            let rest = rest.trim();
            let (kind, rest) = match rest.strip_prefix('(').and_then(|r| r.split_once(')')) {
                Some((k, r)) => (format!("({k})"), r.trim()),
                None => (String::new(), rest),
            };
            Some(Row {
                status: status.to_owned(),
                name: name.to_owned(),
                kind,
                rest: rest.to_owned(),
            })
        })
        .collect()
}

/// The rows a run over the cases `filter` selects must report, derived from corpus/index.json:
/// each case loaded; written back too when a server is asked (`write`); and its recorded DUMP
/// payloads where it has them (accepted RDB cases with a `.dumps.json`), unless a writer is judged.
pub fn expected_rows(filter: &[&str], write: bool, payloads: bool) -> BTreeSet<(String, String)> {
    let index = Index::load(&corpus()).expect("corpus index");
    let filter = Filter::parse(filter).expect("filter");
    let mut want = BTreeSet::new();
    for c in index.cases.iter().filter(|c| filter.selects(&c.name)) {
        want.insert((c.name.clone(), String::new()));
        if write {
            want.insert((c.name.clone(), "(write)".into()));
        }
        let recorded = dumps::path_for(&index.file(c)).is_file();
        if payloads && c.accept && c.format == Format::Rdb && recorded {
            want.insert((c.name.clone(), "(payloads)".into()));
        }
    }
    assert!(!want.is_empty(), "the filter {filter} selects no case");
    want
}

/// Checks that the report has exactly the expected rows; returns them.
pub fn exactly_the_expected_rows(
    out: &str,
    filter: &[&str],
    write: bool,
    payloads: bool,
) -> Vec<Row> {
    let got = rows(out);
    let seen: BTreeSet<(String, String)> = got
        .iter()
        .map(|r| (r.name.clone(), r.kind.clone()))
        .collect();
    assert_eq!(seen.len(), got.len(), "a row reported twice:\n{out}");
    let want = expected_rows(filter, write, payloads);
    let missing: Vec<_> = want.difference(&seen).collect();
    let extra: Vec<_> = seen.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "rows missing {missing:?}, rows not in the index {extra:?}\n{out}"
    );
    let last = out.lines().last().unwrap_or_default();
    let count = |st: &str| got.iter().filter(|r| r.status == st).count();
    let summary = format!(
        "{} passed, {} failed, {} skipped",
        count("pass"),
        count("FAIL"),
        count("skip")
    );
    assert_eq!(last, summary, "the summary disagrees with the rows");
    got
}

/// The magic and version in an RDB file's header (`REDIS0010` is `("REDIS", 10)`).
pub fn header(file: &Path) -> Option<(String, u32)> {
    let bytes = std::fs::read(file).ok()?;
    let head = String::from_utf8_lossy(bytes.get(..9)?).into_owned();
    let digits = head.find(|c: char| c.is_ascii_digit())?;
    Some((head[..digits].to_owned(), head[digits..].parse().ok()?))
}

pub fn version_of(build: &str) -> Option<(u32, u32, u32)> {
    let v = build.rsplit('-').next()?;
    let mut n = v.split('.').map(|x| x.parse::<u32>().ok());
    Some((n.next()??, n.next()??, n.next()??))
}

/// Checks a server's skip against the case's own facts (its file's header, its origin, whether
/// it is accepted, what it holds): a skip no fact explains is an error.
pub fn justify_skip(index: &Index, build: &ServerBuild, row: &Row) -> Result<(), String> {
    let c = index
        .cases
        .iter()
        .find(|c| c.name == row.name)
        .ok_or("not a case of the index")?;
    let file = index.file(c);
    let rdb_header = (c.format == Format::Rdb).then(|| header(&file)).flatten();
    let origin = c.build().unwrap_or_default();
    let project = |name: &str| name.split('-').next().unwrap_or_default().to_owned();
    // Valkey 9 writes VALKEY080 and reads REDIS files up to RDB 11.
    let server_rdb = if build.magic == "VALKEY" {
        11
    } else {
        build.rdb_version
    };
    let newer_aof = c.format == Format::Aof
        && project(origin) == project(build.name)
        && version_of(origin) > Some(build.version());
    let foreign_aof = c.format == Format::Aof && project(origin) != project(build.name);
    let too_new = matches!(&rdb_header, Some((m, v)) if m == "REDIS" && *v > server_rdb);
    let valkey_file =
        matches!(&rdb_header, Some((m, _)) if m == "VALKEY") && build.magic == "REDIS";
    let has_modules = || {
        index.expected_dataset(c).is_ok_and(|d| {
            d.keys
                .iter()
                .any(|e| matches!(e.value, redis_persist_engine::dataset::Value::Module(_)))
        })
    };
    let r = row.rest.as_str();
    let ok = if r
        == format!(
            "RDB version {}; this server reads up to {server_rdb}",
            rdb_header.as_ref().map_or(0, |h| h.1),
        ) {
        too_new
    } else if r == "a VALKEY-magic file; this server reads REDIS files only" {
        valkey_file
    } else if r == "a refusal case: nothing to write" {
        row.kind == "(write)" && !c.accept
    } else if r == format!("an AOF from {origin}, newer than this server") {
        newer_aof
    } else if r == format!("an AOF from {origin}, whose commands this server may lack") {
        foreign_aof
    } else if r == "module values; this server runs without their modules" {
        build.modules.is_empty() && has_modules()
    } else if r.ends_with("cannot hold every value of the case") && row.kind == "(payloads)" {
        // A dataset from a build writing a newer version than this server's.
        too_new || valkey_file
    } else {
        false
    };
    if ok {
        Ok(())
    } else {
        Err(format!("no fact of the case explains the skip {r:?}"))
    }
}

/// A server's run: exactly the expected rows, none failed, and every skip justified.
pub fn server_run_is_complete(build: &ServerBuild, out: &str, filter: &[&str]) -> (usize, usize) {
    let index = Index::load(&corpus()).expect("corpus index");
    let rows = exactly_the_expected_rows(out, filter, true, true);
    let mut unexplained = Vec::new();
    for r in &rows {
        match r.status.as_str() {
            "pass" => {}
            "skip" => {
                if let Err(e) = justify_skip(&index, build, r) {
                    unexplained.push(format!("{} {}: {e}", r.name, r.kind));
                }
            }
            _ => unexplained.push(format!("{} {} failed: {}", r.name, r.kind, r.rest)),
        }
    }
    assert!(
        unexplained.is_empty(),
        "{} rows neither passed nor skipped for a reason the case bears out:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
    let passed = rows.iter().filter(|r| r.status == "pass").count();
    (passed, rows.len() - passed)
}
