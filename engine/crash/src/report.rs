//! A campaign's results for people (text), for programs (JSON) and for CI (JUnit XML).
use crate::campaign::{Config, HistoryResult, KillMode, Outcome, Violation};
use serde_json::{json, Value as J};

/// The command that reruns `v` (`prefix` is e.g. `redis-persist crash --server /usr/bin/redis-server`).
pub fn rerun(prefix: &str, v: &Violation, kill: KillMode) -> String {
    let args: Vec<String> = v
        .rerun_args(kill)
        .into_iter()
        .map(|a| {
            if a.is_empty() || a.contains([' ', '"', '\'']) {
                format!("'{a}'")
            } else {
                a
            }
        })
        .collect();
    format!("{prefix} {}", args.join(" "))
}

/// A violation in a few lines: where, expected, recovered, the difference, the image, the
/// history and the rerun command.
pub fn text(v: &Violation, kill: KillMode, prefix: &str) -> String {
    let fs =
        v.fs.map_or("process kill".to_string(), |m| format!("--fs {}", m.name()));
    let mut out = format!(
        "VIOLATION  seed {} policy {} {fs}, image {}\n  expected:  {}\n  recovered: {}\n  first difference: {}\n",
        v.seed, v.policy.name(), v.image, v.finding.expected, v.finding.recovered, v.finding.difference
    );
    if v.finding.lost > 0 {
        out.push_str(&format!("  lost acknowledged writes: {}\n", v.finding.lost));
    }
    out.push_str("  image:\n");
    for d in &v.image_description {
        out.push_str(&format!("    {d}\n"));
    }
    out.push_str(&format!(
        "  history ({} of {} steps, {} shrink runs):\n",
        v.history.len() - 1,
        v.original_steps,
        v.shrink_runs
    ));
    for l in &v.history {
        out.push_str(&format!("    {l}\n"));
    }
    out.push_str(&format!("  rerun: {}\n", rerun(prefix, v, kill)));
    out
}

fn violation_json(v: &Violation, kill: KillMode, prefix: &str) -> J {
    json!({
        "seed": v.seed,
        "policy": v.policy.name(),
        "fs": v.fs.map(|m| m.name()),
        "image": v.image,
        "image_description": v.image_description,
        "expected": v.finding.expected,
        "recovered": v.finding.recovered,
        "first_difference": v.finding.difference,
        "lost_acknowledged_writes": v.finding.lost,
        "history": v.history,
        "keep": v.keep,
        "original_steps": v.original_steps,
        "shrink_runs": v.shrink_runs,
        "rerun": rerun(prefix, v, kill),
        "log": v.log,
    })
}

fn result_json(r: &HistoryResult, kill: KillMode, prefix: &str) -> J {
    json!({
        "index": r.index,
        "seed": r.seed,
        "policy": r.policy.name(),
        "steps": r.steps,
        "acknowledged_writes": r.writes,
        "images_judged": r.images,
        "seconds": (r.seconds * 10.0).round() / 10.0,
        "verdict": verdict(r),
        "error": r.error,
        "divergences": r.divergences,
        "warnings": r.warnings,
        "log": r.log,
        "violations": r.violations.iter().map(|v| violation_json(v, kill, prefix)).collect::<Vec<_>>(),
    })
}

/// `pass`, `violation` or `error`.
pub fn verdict(r: &HistoryResult) -> &'static str {
    match (r.violations.is_empty(), &r.error) {
        (false, _) => "violation",
        (true, Some(_)) => "error",
        (true, None) => "pass",
    }
}

/// The whole campaign as JSON.
pub fn to_json(cfg: &Config, o: &Outcome, prefix: &str) -> J {
    let count = |v: &str| o.results.iter().filter(|r| verdict(r) == v).count();
    json!({
        "server": cfg.launch.name,
        "binary": cfg.launch.program.display().to_string(),
        "server_args": cfg.launch.args,
        "policies": cfg.policies.iter().map(|p| p.name()).collect::<Vec<_>>(),
        "fs": cfg.models.iter().map(|m| m.name()).collect::<Vec<_>>(),
        "kill": cfg.kill.name(),
        "seed": cfg.seed,
        "histories": o.results.len(),
        "not_run": o.not_run,
        "passed": count("pass"),
        "violations": count("violation"),
        "errors": count("error"),
        "results": o.results.iter().map(|r| result_json(r, cfg.kill, prefix)).collect::<Vec<_>>(),
    })
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The campaign as JUnit XML: a test case per history.
pub fn junit(cfg: &Config, o: &Outcome, prefix: &str) -> String {
    let fails = o
        .results
        .iter()
        .filter(|r| verdict(r) == "violation")
        .count();
    let errors = o.results.iter().filter(|r| verdict(r) == "error").count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"crash {} {}\" tests=\"{}\" failures=\"{fails}\" errors=\"{errors}\" skipped=\"{}\">\n",
        xml(&cfg.launch.name),
        cfg.kill.name(),
        o.results.len() + o.not_run,
        o.not_run
    );
    for r in &o.results {
        out.push_str(&format!(
            "  <testcase classname=\"crash.{}\" name=\"seed {}\" time=\"{:.1}\"",
            r.policy.name(),
            r.seed,
            r.seconds
        ));
        match (r.violations.first(), &r.error) {
            (Some(v), _) => {
                let all: Vec<String> = r
                    .violations
                    .iter()
                    .map(|v| text(v, cfg.kill, prefix))
                    .collect();
                out.push_str(&format!(
                    "><failure message=\"{}\">{}</failure></testcase>\n",
                    xml(&v.finding.difference),
                    xml(&all.join("\n"))
                ))
            }
            (None, Some(e)) => {
                out.push_str(&format!("><error message=\"{}\"/></testcase>\n", xml(e)))
            }
            (None, None) => out.push_str("/>\n"),
        }
    }
    out.push_str("</testsuite>\n");
    out
}
