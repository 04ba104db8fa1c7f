//! `redis-persist`: dump, check, convert and validate Redis persistence files, and run the
//! conformance corpus against any implementation.
//! Exit codes: 0 success, 1 input refused or invalid, 2 usage error.
mod check_aof;
mod conform;
mod conform_payloads;
mod conform_targets;
mod conform_writers;
mod convert;
mod dump;
mod input;
mod payload;

use clap::{Parser, Subcommand};

// Replaying an AOF or holding a dataset allocates once per key and value: mimalloc does that
// about twice as fast as the system allocator here (Redis itself ships with jemalloc).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::PathBuf;
use std::process::ExitCode;

/// Read, check and convert Redis RDB snapshots (every version from 1 to 12, Valkey 80, and
/// 13 to 15 where they use known records).
///
/// Exit codes: 0 success; 1 the input was refused (corrupt, truncated, bad checksum, unknown
/// version or type); 2 usage error (bad flags, unreadable path).
#[derive(Parser)]
#[command(name = "redis-persist", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a file's dataset: a readable listing, or Dataset JSON with --json.
    ///
    /// The JSON form is the lossless contract of docs/dataset-json.md: keys sorted by db and raw
    /// bytes, binary strings as {"b64": ...}, scores as shortest round-trip text. When the file is
    /// refused, --json prints {"error": {"kind", "offset", "message"}} on stdout, a one-line message
    /// goes to stderr, and the exit code is 1.
    Dump {
        /// An RDB file, an AOF file (with or without an RDB preamble), an appendonly directory or
        /// its manifest ("-" reads an RDB from standard input).
        file: PathBuf,
        /// Refuse a truncated AOF tail instead of cutting it back (aof-load-truncated no).
        #[arg(long)]
        no_load_truncated: bool,
        /// Print Dataset JSON instead of the listing.
        #[arg(long)]
        json: bool,
        /// Do not verify the CRC-64 trailer.
        #[arg(long)]
        ignore_checksum: bool,
    },
    /// Validate a file like redis-check-rdb, deep structure included, and summarise it.
    ///
    /// Every record is decoded and checked (CRC-64, ziplist/listpack/intset/zipmap structure,
    /// stream node and consumer-group invariants, duplicate members) while keeping only counts,
    /// so memory stays bounded whatever the file size. Prints version, aux fields, keys per db and
    /// type, and encodings seen. Exit 0 when valid; 1 with one line "kind at offset N: what" when
    /// not.
    Check {
        /// An RDB file ("-" reads standard input), or an AOF file, appendonly directory or manifest
        /// (checked like redis-check-aof: strict RESP, balanced MULTI/EXEC, preambles deep-checked).
        file: PathBuf,
        /// AOF: truncate the last file at the first bad record (asks first unless --yes).
        #[arg(long)]
        fix: bool,
        /// AOF: with --fix or --truncate-to-timestamp, do not ask.
        #[arg(long)]
        yes: bool,
        /// AOF: truncate the last file before the first #TS annotation later than this Unix time.
        #[arg(long, value_name = "T")]
        truncate_to_timestamp: Option<i64>,
        /// Do not verify the CRC-64 trailer.
        #[arg(long)]
        ignore_checksum: bool,
        /// Print the summary (or the error) as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Convert between RDB versions and Dataset JSON, with a report of anything lost.
    ///
    /// INPUT is an RDB file, an AOF (file, appendonly directory or manifest) or Dataset JSON,
    /// told apart by content. --to picks the output: rdb, json, aof (RESP commands as
    /// BGREWRITEAOF writes them), aof-preamble (an RDB base in one file), aof-dir (a Redis 7
    /// appendonly directory). The RDB is written with the
    /// encodings the target version's server would choose (Redis's default thresholds), LZF for
    /// strings over 20 bytes and a CRC-64 trailer. A target that cannot hold part of the dataset
    /// (hash field TTLs before RDB 12, stream metadata before 10, functions before 10, ...) is
    /// refused with a report naming each key, unless --allow-loss, which writes the closest
    /// equivalent and prints the report. Without a version, an RDB input keeps its own version
    /// and JSON becomes RDB 12.
    Convert {
        /// RDB or Dataset JSON ("-" reads standard input).
        input: PathBuf,
        /// Where to write ("-" for standard output); written to a temporary file, then renamed.
        output: PathBuf,
        /// RDB version to write (6 to 15; default: the input's, or 12, or the first newer
        /// version that holds a Dataset JSON input's Redis 8.6+ parts).
        #[arg(long, value_name = "N")]
        rdb_version: Option<u32>,
        /// Valkey RDB version to write (80).
        #[arg(long, value_name = "N")]
        valkey_version: Option<u32>,
        /// Output form.
        #[arg(long, value_enum, default_value = "rdb")]
        to: convert::To,
        /// Write what the target can hold and report the rest instead of refusing.
        #[arg(long)]
        allow_loss: bool,
        /// Do not LZF-compress strings (rdbcompression no).
        #[arg(long)]
        no_compression: bool,
        /// Write a zero checksum (rdbchecksum no).
        #[arg(long)]
        no_checksum: bool,
        /// Do not verify the input's CRC-64 trailer.
        #[arg(long)]
        ignore_checksum: bool,
        /// With --to aof-dir, write the base as RESP commands instead of an RDB preamble.
        #[arg(long)]
        base_resp: bool,
    },
    /// DUMP payloads: decode one to the payload form, encode one for a version's RESTORE, or
    /// re-encode one for an older version (see docs/dataset-json.md, "DUMP payloads").
    Payload {
        #[command(subcommand)]
        verb: payload::Verb,
    },
    /// Run the conformance corpus against a target and report where it disagrees.
    ///
    /// Every case of corpus/index.json (an RDB or AOF written by a real server, our writer or a
    /// hand-built byte layout) is run against the target and compared with its expectation: the
    /// exact dataset, or a refusal. Prints one line per case (pass / FAIL with the first
    /// difference and its path into the dataset / skip with the reason) and a summary line
    /// "N passed, N failed, N skipped". Exit 0 when nothing failed, 1 when a case failed, 2 when
    /// the corpus or a report file cannot be used.
    ///
    /// Targets: without a flag, the built-in reference engine (it must pass every case).
    /// --decoder 'CMD {file}' runs CMD through sh with {file} replaced by the case's path and
    /// reads Dataset JSON (or {"error": {...}}) from its standard output. --server BIN starts BIN
    /// on 127.0.0.1 (free port, temp dir) on each case's files (RDB as dump.rdb, AOF with
    /// appendonly yes), reads the dataset back over RESP, and demands that refusal cases make it
    /// refuse; cases the server's version cannot hold are skipped with the reason.
    Conform {
        /// The corpus directory (holding index.json).
        #[arg(long, default_value = "corpus")]
        corpus: PathBuf,
        /// Only cases whose name contains this (repeatable; `*` globs; a leading `-` excludes).
        #[arg(long, value_name = "PATTERN")]
        filter: Vec<String>,
        /// Cases run at once.
        #[arg(long, default_value_t = 4)]
        jobs: usize,
        /// An outside decoder: a shell command with {file}, printing Dataset JSON.
        #[arg(long, value_name = "CMD", conflicts_with = "server")]
        decoder: Option<String>,
        /// A Redis-compatible server binary: it loads each case, then writes each dataset.
        #[arg(long, value_name = "BIN")]
        server: Option<PathBuf>,
        /// An outside RDB writer: a shell command with {json} (Dataset JSON in) and {out} (the
        /// RDB to write); our reader, and the --server binary when given, check its output.
        #[arg(long, value_name = "CMD", conflicts_with = "decoder")]
        writer: Option<String>,
        /// Also write the results as JSON.
        #[arg(long, value_name = "FILE")]
        report_json: Option<PathBuf>,
        /// Also write the results as JUnit XML.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Dump {
            file,
            no_load_truncated,
            json,
            ignore_checksum,
        } => dump::dump(&file, json, ignore_checksum, !no_load_truncated),
        Command::Check {
            file,
            fix,
            yes,
            truncate_to_timestamp,
            ignore_checksum,
            json,
        } => {
            // An RDB is checked in one pass; only a RESP tail after its trailer (a preamble AOF),
            // a directory, a manifest or a RESP file goes to the AOF checker.
            if input::is_aof(&file, || None) {
                check_aof::check(&file, fix, yes, truncate_to_timestamp)
            } else {
                match dump::check(&file, json, ignore_checksum) {
                    dump::Checked::Tail => check_aof::check(&file, fix, yes, truncate_to_timestamp),
                    dump::Checked::Done(code) => code,
                }
            }
        }
        Command::Conform {
            corpus,
            filter,
            jobs,
            decoder,
            server,
            writer,
            report_json,
            junit,
        } => {
            let build = match server
                .map(|bin| redis_persist_engine::live::ServerBuild::from_binary(&bin))
            {
                Some(Ok(b)) => Some(b),
                Some(Err(e)) => {
                    eprintln!("conform: {e}");
                    return ExitCode::from(2);
                }
                None => None,
            };
            let target = match (decoder, writer, build) {
                (Some(d), _, _) => conform::Target::Decoder(d),
                (None, Some(w), b) => conform::Target::Writer(w, b),
                (None, None, Some(b)) => conform::Target::Server(b),
                (None, None, None) => conform::Target::Reference,
            };
            conform::conform(conform::Options {
                corpus,
                filters: filter,
                jobs,
                target,
                report_json,
                junit,
            })
        }
        Command::Payload { verb } => payload::run(verb),
        Command::Convert {
            input,
            output,
            rdb_version,
            valkey_version,
            to,
            allow_loss,
            no_compression,
            no_checksum,
            ignore_checksum,
            base_resp,
        } => convert::convert(convert::Args {
            input: &input,
            output: &output,
            rdb_version,
            valkey_version,
            to,
            allow_loss,
            no_compression,
            no_checksum,
            ignore_checksum,
            base_resp,
        }),
    }
}
