//! `conform`: runs every corpus case against a target (the reference engine, a decoder program or
//! a server binary) and reports, case by case, where it disagrees with the expectation.
use crate::conform_run::{split_words, RunLimits};
use crate::conform_targets::{decoder, reference, server, server_view, Case, Got, Tool};
use crate::conform_writers::{server_writes, writer};
use crate::out::plural;
use crate::safety::{Output, Stop};
use indicatif::{ProgressBar, ProgressStyle};
use redis_persist_engine::corpus::{read_expectation, Filter, Index};
use redis_persist_engine::dataset::first_difference;
use redis_persist_engine::live::ServerBuild;
use serde_json::{json, Value as J};
use std::io::IsTerminal;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// What to run the corpus against.
pub enum Target {
    Reference,
    Decoder(Tool),
    /// Loading each case, then (the writer direction) writing each dataset.
    Server(ServerBuild),
    /// An outside writer, its output checked by our reader and, when given, a server.
    Writer(Tool, Option<ServerBuild>),
}

/// The command line of `conform`.
pub struct Options {
    /// `--corpus`; without it, the corpus built into the binary.
    pub corpus: Option<PathBuf>,
    pub filters: Vec<String>,
    pub jobs: usize,
    pub decoder: Option<String>,
    pub server: Option<PathBuf>,
    pub writer: Option<String>,
    pub limits: RunLimits,
    pub report_json: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    pub force: bool,
}

/// Most cases run at once: each may start a server process.
const MAX_JOBS: usize = 64;

/// `redis-persist conform`: resolves the target, then runs the corpus.
pub fn main(o: Options) -> ExitCode {
    let tool = |t: &str| {
        split_words(t).map(|words| Tool {
            words,
            limits: o.limits,
        })
    };
    let build = match o.server.as_ref().map(|b| ServerBuild::from_binary(b)) {
        Some(Ok(b)) => Some(b),
        Some(Err(e)) => return Stop::Usage(format!("conform: {e}")).exit(),
        None => None,
    };
    let target = match (&o.decoder, &o.writer, build) {
        (Some(d), _, _) => match tool(d) {
            Ok(t) => Target::Decoder(t),
            Err(e) => return Stop::Usage(format!("conform --decoder: {e}")).exit(),
        },
        (None, Some(w), b) => match tool(w) {
            Ok(t) => Target::Writer(t, b),
            Err(e) => return Stop::Usage(format!("conform --writer: {e}")).exit(),
        },
        (None, None, Some(b)) => Target::Server(b),
        (None, None, None) => Target::Reference,
    };
    if !(1..=MAX_JOBS).contains(&o.jobs) {
        return Stop::Usage(format!("conform --jobs {}: give 1 to {MAX_JOBS}", o.jobs)).exit();
    }
    // Without --corpus, the built-in corpus is written to a temp directory for this run.
    let (corpus, _embedded) = match &o.corpus {
        Some(c) => (c.clone(), None),
        None => match crate::embedded::Embedded::write_out() {
            Ok(e) => (e.path().to_path_buf(), Some(e)),
            Err(e) => {
                return Stop::Usage(format!("conform: writing out the built-in corpus: {e}")).exit()
            }
        },
    };
    conform(&o, &corpus, target)
}

/// A case's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail(String),
    Skip(String),
}

/// One row of the report: a case, in one direction (or its recorded DUMP payloads).
struct Job<'a> {
    case: &'a Case,
    write: bool,
    payloads: bool,
}

/// A payload row: every recorded payload decodes as expected (reference), or every expected
/// value, encoded by us, is restored and read back as expected (server).
fn judge_payloads(case: &Case, target: &Target) -> Verdict {
    use crate::conform_payloads as p;
    let got = match target {
        Target::Reference => p::reference(case),
        Target::Server(b) => p::server(b, case),
        _ => return Verdict::Skip("payloads are checked by the reference and servers".into()),
    };
    match got {
        Got::Dataset(_) => Verdict::Pass,
        Got::Differs(d) => Verdict::Fail(d),
        Got::Refused { kind, message } => Verdict::Fail(format!("refused ({kind}): {message}")),
        Got::Skip(why) => Verdict::Skip(why),
    }
}

fn judge(job: &Job, target: &Target) -> Verdict {
    if job.payloads {
        return judge_payloads(job.case, target);
    }
    let case = job.case;
    let got = match (target, job.write) {
        (Target::Reference, _) => reference(case),
        (Target::Decoder(t), _) => decoder(t, case),
        (Target::Server(b), false) => server(b, case),
        (Target::Server(b), true) => server_writes(b, case),
        (Target::Writer(t, check), _) => writer(t, case, check.as_ref()),
    };
    let target = match (target, job.write) {
        (Target::Writer(..), _) | (Target::Server(_), true) => &Target::Reference,
        (t, _) => t,
    };
    match (case.accept, got) {
        (_, Got::Skip(why)) => Verdict::Skip(why),
        (_, Got::Differs(d)) => Verdict::Fail(d),
        (true, Got::Refused { kind, message }) => {
            Verdict::Fail(format!("refused ({kind}): {message}"))
        }
        (false, Got::Dataset(_)) => Verdict::Fail(format!(
            "accepted a file that must be refused ({})",
            case.error_kind.as_deref().unwrap_or("any error")
        )),
        (false, Got::Refused { kind, message }) => match (&case.error_kind, target) {
            // Servers and outside decoders name errors their own way; only ours must match.
            (Some(want), Target::Reference) if *want != kind => {
                Verdict::Fail(format!("refused as {kind}, expected {want}: {message}"))
            }
            _ => Verdict::Pass,
        },
        (true, Got::Dataset(d)) => {
            let Some(path) = &case.expect else {
                return Verdict::Fail("the index gives no expectation".into());
            };
            let want = match read_expectation(path) {
                Ok(w) => w,
                Err(e) => return Verdict::Fail(format!("expectation {e}")),
            };
            let (want, d) = match target {
                Target::Server(_) => server_view(&want, &d),
                _ => {
                    let mut d = d;
                    redis_persist_engine::dataset::forget_unreported(&want, &mut d);
                    (want, d)
                }
            };
            match first_difference(&want, &d) {
                None => Verdict::Pass,
                Some(diff) => Verdict::Fail(diff),
            }
        }
    }
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn junit(results: &[(Case, Verdict)], target: &str) -> String {
    let fails = results
        .iter()
        .filter(|r| matches!(r.1, Verdict::Fail(_)))
        .count();
    let skips = results
        .iter()
        .filter(|r| matches!(r.1, Verdict::Skip(_)))
        .count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"conform {}\" tests=\"{}\" failures=\"{fails}\" skipped=\"{skips}\">\n",
        xml(target),
        results.len()
    );
    for (c, v) in results {
        out.push_str(&format!(
            "  <testcase classname=\"corpus\" name=\"{}\"",
            xml(&c.name)
        ));
        match v {
            Verdict::Pass => out.push_str("/>\n"),
            Verdict::Fail(m) => {
                out.push_str(&format!("><failure message=\"{}\"/></testcase>\n", xml(m)))
            }
            Verdict::Skip(m) => {
                out.push_str(&format!("><skipped message=\"{}\"/></testcase>\n", xml(m)))
            }
        }
    }
    out.push_str("</testsuite>\n");
    out
}

/// Runs the corpus; exit 0 when no case failed, 1 when one did (or nothing was checked), 2 when
/// the corpus, the filter or a report file cannot be used.
fn conform(opts: &Options, corpus: &Path, target: Target) -> ExitCode {
    let index = match Index::load(corpus) {
        Ok(i) => i,
        Err(e) => return Stop::Usage(format!("conform: {e}")).exit(),
    };
    let filter = match Filter::parse(&opts.filters) {
        Ok(f) => f,
        Err(e) => return Stop::Usage(format!("conform --filter: {e}")).exit(),
    };
    let cases: Vec<Case> = index
        .select(&filter)
        .map(|c| Case::new(&index, c))
        .collect();
    if cases.is_empty() {
        return Stop::Usage(format!(
            "conform: the filter {filter} selects none of the {} cases",
            index.cases.len()
        ))
        .exit();
    }
    // Report files are claimed before the run, so a long run never ends in a refused write.
    let mut reports = Vec::new();
    for p in [&opts.report_json, &opts.junit].into_iter().flatten() {
        match Output::create(p, opts.force, &[corpus]) {
            Ok(o) => reports.push(o),
            Err(e) => return e.exit(),
        }
    }
    let words = |t: &Tool| t.words.join(" ");
    let label = match &target {
        Target::Reference => "reference engine".to_owned(),
        Target::Decoder(t) => format!("decoder `{}`", words(t)),
        Target::Server(b) => format!("server {} ({})", b.name, b.binary.display()),
        Target::Writer(t, None) => format!("writer `{}`", words(t)),
        Target::Writer(t, Some(b)) => format!("writer `{}`, checked by {}", words(t), b.name),
    };
    // A server is asked both ways: to load each case, then to write each dataset; the
    // reference and servers also take the case's recorded DUMP payloads.
    let write_too = matches!(target, Target::Server(_));
    let payloads_too = matches!(target, Target::Server(_) | Target::Reference);
    let jobs: Vec<Job> = cases
        .iter()
        .flat_map(|c| {
            let load = Job {
                case: c,
                write: false,
                payloads: false,
            };
            let write = write_too.then_some(Job {
                case: c,
                write: true,
                payloads: false,
            });
            let payloads = (payloads_too && crate::conform_payloads::recorded(c).is_some())
                .then_some(Job {
                    case: c,
                    write: false,
                    payloads: true,
                });
            std::iter::once(load).chain(write).chain(payloads)
        })
        .collect();
    let bar = if std::io::stderr().is_terminal() {
        let b = ProgressBar::new(jobs.len() as u64);
        b.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Verdict>>> = Mutex::new(vec![None; jobs.len()]);
    let spawned = std::thread::scope(|s| {
        let mut spawned = 0;
        for _ in 0..opts.jobs.min(jobs.len()) {
            let worker = std::thread::Builder::new().spawn_scoped(s, || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(job) = jobs.get(i) else { break };
                let v = judge(job, &target);
                bar.set_message(job.case.name.clone());
                bar.inc(1);
                if let Ok(mut r) = results.lock() {
                    r[i] = Some(v);
                }
            });
            // Fewer threads than asked for still finish the run; none at all cannot.
            if worker.is_ok() {
                spawned += 1;
            }
        }
        spawned
    });
    if spawned == 0 {
        return Stop::Usage("conform: could not start a worker thread".into()).exit();
    }
    bar.finish_and_clear();
    let results: Vec<(Case, Verdict)> = jobs
        .iter()
        .zip(results.into_inner().unwrap_or_default())
        .map(|(j, v)| {
            let mut c = j.case.clone();
            if j.write {
                c.name.push_str(" (write)");
            }
            if j.payloads {
                c.name.push_str(" (payloads)");
            }
            (c, v.unwrap_or(Verdict::Fail("not run".into())))
        })
        .collect();
    // Rows, not cases, are what the lines and the summary count: say how the two relate.
    let writes = jobs.iter().filter(|j| j.write).count();
    let payload_rows = jobs.iter().filter(|j| j.payloads).count();
    let extra: Vec<String> = [(writes, "(write)"), (payload_rows, "(payloads)")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, tag)| format!("{n} {tag}"))
        .collect();
    let rows = if extra.is_empty() {
        String::new()
    } else {
        format!(
            "; {} rows: one per case, plus {}",
            results.len(),
            extra.join(" and ")
        )
    };
    crate::say!(
        "conform: {} against the {label}{rows}",
        plural(cases.len(), "case", "cases")
    );
    let width = results.iter().map(|r| r.0.name.len()).max().unwrap_or(0);
    for (c, v) in &results {
        let (tag, msg) = match v {
            Verdict::Pass => ("pass", String::new()),
            Verdict::Fail(m) => ("FAIL", m.clone()),
            Verdict::Skip(m) => ("skip", m.clone()),
        };
        // A passing row has no message: no padding is left dangling at its end.
        let line = format!("{tag}  {:width$}  {msg}", c.name);
        crate::say!("{}", line.trim_end());
    }
    let count = |f: fn(&Verdict) -> bool| results.iter().filter(|r| f(&r.1)).count();
    let (p, f, s) = (
        count(|v| *v == Verdict::Pass),
        count(|v| matches!(v, Verdict::Fail(_))),
        count(|v| matches!(v, Verdict::Skip(_))),
    );
    crate::say!("{p} passed, {f} failed, {s} skipped");
    let mut texts = Vec::new();
    if opts.report_json.is_some() {
        let cases: Vec<J> = results
            .iter()
            .map(|(c, v)| {
                let (verdict, detail) = match v {
                    Verdict::Pass => ("pass", None),
                    Verdict::Fail(m) => ("fail", Some(m.clone())),
                    Verdict::Skip(m) => ("skip", Some(m.clone())),
                };
                json!({"name": c.name, "verdict": verdict, "detail": detail})
            })
            .collect();
        let doc = json!({"target": label, "passed": p, "failed": f, "skipped": s, "cases": cases});
        texts.push(format!("{doc:#}\n"));
    }
    if opts.junit.is_some() {
        texts.push(junit(&results, &label));
    }
    let paths = [&opts.report_json, &opts.junit].into_iter().flatten();
    for ((mut out, text), path) in reports.into_iter().zip(texts).zip(paths) {
        if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.commit()) {
            return Stop::Usage(format!("conform: {}: {e}", path.display())).exit();
        }
    }
    if f > 0 {
        ExitCode::from(1)
    } else if p == 0 {
        // A run that checked nothing must not look like success.
        crate::note!(
            "redis-persist: conform: every selected case was skipped; nothing was checked"
        );
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
