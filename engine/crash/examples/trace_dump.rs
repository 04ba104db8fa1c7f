//! Prints a trace one record per line, then each crash image's name and description per model,
//! or compares its replay with a real directory:
//! `cargo run -p redis-persist-crash --example trace_dump -- TRACE [--images] [--check DIR]`.
use redis_persist_crash::{crash_images, final_state, parse_prefix, replay::describe, DirState};
use redis_persist_crash::{Model, Options};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: trace_dump TRACE [--images]");
        std::process::exit(2);
    };
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (trace, err) = parse_prefix(&bytes);
    for (i, r) in trace.records.iter().enumerate() {
        println!("{i:5} {}", describe(r));
    }
    if let Some(e) = err {
        println!("stopped: {e}");
    }
    if let Some(dir) = args
        .iter()
        .position(|a| a == "--check")
        .and_then(|i| args.get(i + 1))
    {
        let real = DirState::read(dir.as_ref()).unwrap_or_else(|e| panic!("{dir}: {e}"));
        match final_state(&trace) {
            Ok(fin) => {
                let diff = fin.diff(&real);
                println!(
                    "replay vs {dir}: {}",
                    if diff.is_empty() {
                        "identical"
                    } else {
                        "DIFFERENT"
                    }
                );
                diff.iter().for_each(|d| println!("   {d}"));
            }
            Err(e) => println!("replay: {e}"),
        }
        return;
    }
    if args.iter().any(|a| a == "--images") {
        for model in [Model::Posix, Model::Ordered] {
            match crash_images(&trace, model, &Options::default()) {
                Ok(c) => {
                    c.warnings.iter().for_each(|w| println!("warning: {w}"));
                    for im in c.images {
                        println!(
                            "== {} {} ({} files)",
                            model.name(),
                            im.name,
                            im.state.files.len()
                        );
                        im.description.iter().for_each(|d| println!("   {d}"));
                    }
                }
                Err(e) => println!("{}: {e}", model.name()),
            }
        }
    }
}
