//! `redis-persist`: read, check, convert and validate Redis persistence files (RDB and AOF), run
//! the conformance corpus against any implementation, and power-loss test any server.
//! Exit codes: 0 success, 1 input refused or invalid, 2 usage error.
mod budget;
mod check_aof;
mod conform;
mod conform_payloads;
mod conform_run;
mod conform_targets;
mod conform_writers;
mod convert;
mod crash;
mod dump;
mod embedded;
mod lines;
mod out;
mod payload;
mod safety;
mod stats;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

// Replaying an AOF or holding a dataset allocates once per key and value: mimalloc does that
// about twice as fast as the system allocator here (Redis itself ships with jemalloc).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Read, check and convert Redis and Valkey persistence files: RDB snapshots of every version
/// (1 to 12, VALKEY080, and 13 to 15 where they use known records) and AOFs (single files, RDB
/// preambles, Redis 7 appendonly directories); run the conformance corpus against a decoder, a
/// server or a writer; power-loss test a server.
///
/// Inputs are never modified (only `check --fix` cuts an AOF, keeping what it cuts); outputs are
/// written to a temporary file and renamed into place, and an existing output is replaced only
/// with --force. Exit codes: 0 success; 1 the input was refused (corrupt, truncated, bad
/// checksum, unknown version or type) or a check failed; 2 usage error (bad flags, unreadable
/// path, an output that may not be written).
#[derive(Parser)]
#[command(name = "redis-persist", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options every reading verb shares.
#[derive(clap::Args, Clone, Copy)]
struct ReadFlags {
    /// Do not verify the CRC-64 trailer.
    #[arg(long)]
    ignore_checksum: bool,
    /// Refuse what Redis accepts but is still wrong (reported as warnings otherwise).
    #[arg(long)]
    strict: bool,
    /// The memory a decoded dataset or an AOF replay may take (bytes, or K/M/G); the default is
    /// the smaller of 4G and half of what this process may use (ulimit -v, cgroup, RAM).
    #[arg(long, value_name = "SIZE", value_parser = budget::parse)]
    memory_limit: Option<u64>,
}

#[derive(Subcommand)]
enum Command {
    /// Print a file's dataset: a readable listing, or Dataset JSON with --json.
    ///
    /// The JSON form is the lossless contract of docs/dataset-json.md: keys sorted by db and raw
    /// bytes, binary strings as {"b64": ...}, scores as shortest round-trip text. When the file is
    /// refused, --json prints {"error": {"kind", "offset", "message"}} on stdout, a one-line message
    /// goes to stderr, and the exit code is 1. An AOF is replayed as Redis loads it; a tail Redis
    /// would cut is reported, never cut.
    ///
    /// --jsonl prints Dataset JSON lines instead: a header line, one line per key in file order
    /// (the key objects of Dataset JSON, each value in canonical order), then an end line with the
    /// counts. An RDB is streamed: memory holds one key, whatever the file's size. A refusal is
    /// the last line ({"error": ...}), with no end line.
    Dump {
        /// An RDB, an AOF file (with or without an RDB preamble), an appendonly directory or its
        /// manifest, or Dataset JSON; "-", a pipe or a FIFO is read as a stream.
        file: PathBuf,
        /// Refuse a truncated AOF tail instead of cutting it back (aof-load-truncated no).
        #[arg(long)]
        no_load_truncated: bool,
        /// Print Dataset JSON instead of the listing.
        #[arg(long, conflicts_with = "jsonl")]
        json: bool,
        /// Print Dataset JSON lines, streamed (see above).
        #[arg(long)]
        jsonl: bool,
        #[command(flatten)]
        read: ReadFlags,
    },
    /// Keyspace statistics: keys, bytes and elements by type, encoding, database or key prefix,
    /// an expiry histogram and the largest keys.
    ///
    /// An RDB is read in one streaming pass with memory for the --top keys and the prefixes kept
    /// (at most 100 000 distinct; later ones are counted together); a key's bytes are its record's
    /// in the file. An AOF (or an RDB preamble with commands after it) is replayed first, and its
    /// bytes are the lengths of keys and elements. Exit 0, or 1 when the file is refused.
    Stats {
        /// An RDB, an AOF (file, appendonly directory or manifest), or Dataset JSON.
        file: PathBuf,
        /// The leading table: type, db, encoding, prefix (separator ':') or prefix:SEP.
        #[arg(long, default_value = "type", value_parser = stats::parse_by)]
        by: stats::By,
        /// How many of the largest keys (and prefixes) to list.
        #[arg(long, default_value_t = 10)]
        top: usize,
        /// Print every table as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        read: ReadFlags,
    },
    /// Validate a file like redis-check-rdb or redis-check-aof, and summarise it.
    ///
    /// An RDB is decoded deeply (CRC-64, ziplist/listpack/intset/zipmap structure, stream and
    /// consumer-group invariants, duplicate members), keeping only counts, so memory stays
    /// bounded whatever the file size. An AOF is checked as redis-check-aof does, with its
    /// figures (ok_up_to, ok_up_to_line). Exit 0 when valid (warnings included, unless --strict);
    /// 1 with one line "kind at offset N: what" when not.
    Check {
        /// An RDB or AOF file ("-", a pipe or a FIFO is read as a stream), an appendonly
        /// directory or its manifest.
        file: PathBuf,
        /// AOF: cut the last file's invalid RESP tail (asks first unless --yes). The cut bytes
        /// are kept in a file beside it; an RDB (base or preamble) is never cut.
        #[arg(long)]
        fix: bool,
        /// With --fix or --truncate-to-timestamp, do not ask.
        #[arg(long)]
        yes: bool,
        /// AOF: cut the last file before the first #TS annotation later than this Unix time.
        #[arg(long, value_name = "T")]
        truncate_to_timestamp: Option<i64>,
        /// Print the summary (or the error) as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        read: ReadFlags,
    },
    /// Convert between RDB versions, AOF forms and Dataset JSON, with a report of anything lost.
    ///
    /// INPUT is an RDB file, an AOF (file, appendonly directory or manifest) or Dataset JSON,
    /// told apart by content ("-" reads standard input). --to picks the output: rdb, json, aof
    /// (RESP commands as BGREWRITEAOF writes them), aof-preamble (an RDB base in one file),
    /// aof-dir (a Redis 7 appendonly directory). The RDB is written with the encodings the
    /// target version's server would choose (Redis's default thresholds), LZF for strings over
    /// 20 bytes and a CRC-64 trailer. A dataset no server can load (duplicate keys or members,
    /// stream IDs out of order, a module value without its EOF) is refused with the path to the
    /// first problem. A target that cannot hold part of the dataset (hash field TTLs before RDB 12,
    /// stream metadata before 10, functions before 10, ...) is refused with a report naming each
    /// key, unless --allow-loss. Without a version, an RDB input keeps its own version and JSON
    /// or an AOF becomes RDB 12. Prints one line on standard error saying what was written,
    /// where, and how many keys.
    Convert {
        /// An RDB, an AOF (a file, an appendonly directory or its manifest) or Dataset JSON
        /// ("-" reads standard input).
        input: PathBuf,
        /// Where to write ("-" for standard output), through a temporary file renamed into place.
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
        /// With --to aof-dir, write the base as RESP commands instead of an RDB preamble.
        #[arg(long)]
        base_resp: bool,
        /// Replace an existing OUTPUT (a replaced directory is kept beside it).
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        read: ReadFlags,
    },
    /// DUMP payloads: decode one to the payload form, encode one for a version's RESTORE, or
    /// re-encode one for an older version (see docs/dataset-json.md, "DUMP payloads").
    Payload {
        #[command(subcommand)]
        verb: payload::Verb,
    },
    /// Run the conformance corpus against a target and report where it disagrees.
    ///
    /// Every case of the corpus (an RDB or AOF written by a real server, our writer or a
    /// hand-built byte layout) is run against the target and compared with its expectation: the
    /// exact dataset, or a refusal. Prints one line per case (pass / FAIL with the first
    /// difference and its path into the dataset / skip with the reason) and a summary line
    /// "N passed, N failed, N skipped". Exit 0 when nothing failed, 1 when a case failed, 2 when
    /// the corpus or a report file cannot be used.
    ///
    /// Targets: without a flag, the built-in reference engine (it must pass every case).
    /// --decoder 'CMD {file}' runs CMD (split into words like a shell would, but no shell runs)
    /// with {file} replaced by the case's path, and reads Dataset JSON (or {"error": {...}})
    /// from its standard output. --server BIN starts BIN on 127.0.0.1 (free port, temp dir) on
    /// each case's files, reads the dataset back over RESP, and demands that refusal cases make
    /// it refuse; cases the server's version cannot hold are skipped with the reason.
    Conform {
        /// A corpus directory (holding index.json); default: the corpus built into this binary.
        #[arg(long)]
        corpus: Option<PathBuf>,
        /// Cases to run: comma-separated terms, `-term` excludes, `*` globs (repeatable; the
        /// grammar of CORPUS_FILTER, see corpus/README.md).
        #[arg(long, value_name = "TERMS", allow_hyphen_values = true)]
        filter: Vec<String>,
        /// Cases run at once (at most 64).
        #[arg(long, default_value_t = 4)]
        jobs: usize,
        /// An outside decoder: a command with {file}, printing Dataset JSON.
        #[arg(long, value_name = "CMD", conflicts_with = "server")]
        decoder: Option<String>,
        /// A Redis-compatible server binary: it loads each case, then writes each dataset.
        #[arg(long, value_name = "BIN")]
        server: Option<PathBuf>,
        /// An outside RDB writer: a command with {json} (Dataset JSON in) and {out} (the RDB to
        /// write); our reader, and the --server binary when given, check its output.
        #[arg(long, value_name = "CMD", conflicts_with = "decoder")]
        writer: Option<String>,
        /// Seconds a decoder or writer may take on one case before it is stopped (and fails).
        #[arg(long, value_name = "SECS", default_value_t = 60)]
        timeout: u64,
        /// Most bytes a decoder may print for one case (bytes, or K/M/G).
        #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = budget::parse)]
        max_output: u64,
        /// Also write the results as JSON.
        #[arg(long, value_name = "FILE")]
        report_json: Option<PathBuf>,
        /// Also write the results as JUnit XML.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Replace existing report files.
        #[arg(long)]
        force: bool,
    },
    /// Power-loss testing of a server: random histories, a kill, a restart on every crash image.
    ///
    /// Starts BIN (any program taking redis-server's command line) on 127.0.0.1 with a free port
    /// and a private temp dir, under an LD_PRELOAD recorder of its file-system calls; runs a
    /// seeded random history of writes, transactions, SAVE, BGSAVE, BGREWRITEAOF, CONFIG SET and
    /// waits; SIGKILLs its process group; then restarts BIN on each crash image the file-system
    /// model allows and checks the recovered dataset against what the policy promises (always:
    /// every acknowledged write; everysec: all acknowledged more than 2 s before the kill; no: a
    /// prefix; rdb: the last completed snapshot or a later one). A violation is shrunk and printed
    /// with the image's description, the first difference and the command that reruns it.
    /// Exit 0 when no violation was found, 1 when one was, 2 on usage errors.
    Crash(crash::Args),
}

impl ReadFlags {
    fn memory(&self) -> u64 {
        self.memory_limit.unwrap_or_else(budget::default_bytes)
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Help and version go to stdout (exit 0); usage errors to stderr (exit 2).
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Dump {
            file,
            jsonl: true,
            no_load_truncated,
            read,
            ..
        } => lines::dump_streamed(&file, &read, !no_load_truncated, lines::Form::Lines),
        Command::Dump {
            file,
            no_load_truncated,
            json: true,
            read,
            ..
        } => lines::dump_streamed(&file, &read, !no_load_truncated, lines::Form::Json),
        Command::Dump {
            file,
            no_load_truncated,
            read,
            ..
        } => dump::dump(&file, false, !no_load_truncated, &read),
        Command::Stats {
            file,
            by,
            top,
            json,
            read,
        } => stats::stats(&file, by, top, json, &read),
        Command::Check {
            file,
            fix,
            yes,
            truncate_to_timestamp,
            json,
            read,
        } => dump::check(
            &file,
            dump::CheckArgs {
                json,
                fix,
                yes,
                truncate_to: truncate_to_timestamp,
            },
            &read,
        ),
        Command::Conform {
            corpus,
            filter,
            jobs,
            decoder,
            server,
            writer,
            timeout,
            max_output,
            report_json,
            junit,
            force,
        } => conform::main(conform::Options {
            corpus,
            filters: filter,
            jobs,
            decoder,
            server,
            writer,
            limits: conform_run::RunLimits {
                timeout: std::time::Duration::from_secs(timeout.max(1)),
                max_output,
            },
            report_json,
            junit,
            force,
        }),
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
            base_resp,
            force,
            read,
        } => convert::convert(convert::Args {
            input: &input,
            output: &output,
            rdb_version,
            valkey_version,
            to,
            allow_loss,
            no_compression,
            no_checksum,
            base_resp,
            force,
            read,
        }),
        Command::Crash(args) => crash::crash(args),
    }
}
