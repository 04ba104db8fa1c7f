//! Prints a trace one record per line, then each crash image's name and description per model:
//! `cargo run -p redis-persist-crash --example trace_dump -- TRACE [--images]`.
use redis_persist_crash::{crash_images, parse_prefix, replay::describe, Model, Options};

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
