//! `redis-persist payload`: DUMP payloads as first-class inputs and outputs. `decode` prints a
//! payload as the payload form of docs/dataset-json.md (value, footer version, CRC verdict),
//! `encode` makes the payload a target's `DUMP` would (footer and CRC its `RESTORE` accepts),
//! and `convert` re-encodes a payload's value for another target, refusing losses as `convert`
//! does unless --allow-loss.
use base64::Engine as _;
use redis_persist_engine::dataset::{self, KeyAttrs, PayloadDoc, Value};
use redis_persist_engine::format::rdb::{payload, ReadOptions, Target, Thresholds, WriteError};
use redis_persist_engine::format::ErrorKind;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Where a payload comes from.
#[derive(Debug, Clone, clap::Args)]
pub struct Source {
    /// A file holding the raw payload bytes ("-" reads standard input).
    #[arg(conflicts_with_all = ["hex", "base64"])]
    pub file: Option<PathBuf>,
    /// The payload as hexadecimal text (as `redis-cli --no-raw DUMP` shows it, without `\x`).
    #[arg(long, value_name = "HEX")]
    pub hex: Option<String>,
    /// The payload as standard base64.
    #[arg(long, value_name = "B64", conflicts_with = "hex")]
    pub base64: Option<String>,
}

/// The target of an encoding.
#[derive(Debug, Clone, clap::Args)]
pub struct To {
    /// RDB version of the payload (6 to 15): the footer the target's RESTORE accepts.
    #[arg(long, value_name = "N", required_unless_present = "valkey_version")]
    pub rdb_version: Option<u32>,
    /// Valkey's RDB version instead (80).
    #[arg(long, value_name = "N", conflicts_with = "rdb_version")]
    pub valkey_version: Option<u32>,
    /// Write what the target can hold and report the rest instead of refusing.
    #[arg(long)]
    pub allow_loss: bool,
    /// Write the raw payload to this file instead of printing it as hex.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print the payload as base64 instead of hex.
    #[arg(long = "print-base64")]
    pub print_base64: bool,
    /// Replace the --out file if it exists (it is never an input).
    #[arg(long, requires = "out")]
    pub force: bool,
}

/// The `payload` verbs.
#[derive(Debug, clap::Subcommand)]
pub enum Verb {
    /// Print a DUMP payload's value as the payload form (docs/dataset-json.md): its type and
    /// value, key metadata, the footer's RDB version and the CRC verdict. Exit 1 when refused.
    Decode {
        #[command(flatten)]
        source: Source,
        /// Decode even when the stored CRC-64 does not match (the verdict says "mismatch").
        #[arg(long)]
        ignore_checksum: bool,
    },
    /// Make the payload a target's DUMP writes, from the payload form or a one-key Dataset JSON
    /// document (INPUT, "-" for standard input). Prints it as hex unless --out.
    Encode {
        /// The JSON input.
        input: PathBuf,
        #[command(flatten)]
        to: To,
    },
    /// Re-encode a payload's value for another target (not a footer patch): the encodings that
    /// version's server writes, refused with the loss report unless --allow-loss.
    Convert {
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        to: To,
    },
}

fn fail(msg: impl std::fmt::Display, code: u8) -> ExitCode {
    eprintln!("redis-persist: {msg}");
    ExitCode::from(code)
}

/// Hex text (spaces, `\x` prefixes and a `0x` prefix allowed) as bytes.
pub fn from_hex(s: &str) -> Result<Vec<u8>, String> {
    let t: String = s
        .trim()
        .trim_start_matches("0x")
        .replace("\\x", "")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if !t.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    (0..t.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&t[i..i + 2], 16).map_err(|_| format!("bad hex at {i}")))
        .collect()
}

/// Bytes as lower-case hex.
pub fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn read_source(s: &Source) -> Result<Vec<u8>, (String, u8)> {
    if let Some(h) = &s.hex {
        return from_hex(h).map_err(|e| (format!("--hex: {e}"), 2));
    }
    if let Some(b) = &s.base64 {
        return B64
            .decode(b.trim())
            .map_err(|e| (format!("--base64: {e}"), 2));
    }
    match &s.file {
        Some(p) if p.as_os_str() != "-" => {
            std::fs::read(p).map_err(|e| (format!("cannot read {}: {e}", p.display()), 2))
        }
        _ => {
            let mut v = Vec::new();
            std::io::stdin()
                .read_to_end(&mut v)
                .map_err(|e| (format!("standard input: {e}"), 2))?;
            Ok(v)
        }
    }
}

fn target(to: &To) -> Result<Target, String> {
    match (to.rdb_version, to.valkey_version) {
        (Some(v), None) => {
            Target::redis(v).ok_or_else(|| format!("--rdb-version {v}: versions 6 to 15"))
        }
        (None, Some(80)) => Ok(Target::VALKEY_80),
        (None, Some(v)) => Err(format!("--valkey-version {v}: only 80")),
        _ => Err("give --rdb-version or --valkey-version".into()),
    }
}

/// Decodes a payload: the document, or an error line and its exit code.
pub fn decode_doc(bytes: &[u8], ignore_checksum: bool) -> Result<PayloadDoc, (String, u8)> {
    let (_, f) = payload::split(bytes).map_err(|e| (e.to_string(), 1))?;
    if f.version > 15 && f.version != 80 {
        return Err((
            format!(
                "{} at offset {}: payload footer version {} is not one this reader knows",
                ErrorKind::UnsupportedVersion.as_str(),
                bytes.len() - 10,
                f.version
            ),
            1,
        ));
    }
    let checksum = match (f.crc, f.crc == f.computed) {
        (0, _) => "disabled",
        (_, true) => "verified",
        (_, false) => "mismatch",
    };
    let owned;
    let input = if checksum == "mismatch" && ignore_checksum {
        // A zero CRC reads as "saved without one": decode the same bytes that way.
        let mut z = bytes.to_vec();
        let n = z.len();
        z[n - 8..].fill(0);
        owned = z;
        &owned[..]
    } else {
        bytes
    };
    let (ty, value, attrs, _) =
        // The error's own text already reads "kind at offset N: what".
        payload::decode_entry(input, ReadOptions::default()).map_err(|e| (e.to_string(), 1))?;
    Ok(PayloadDoc {
        rdb_version: f.version,
        checksum: checksum.into(),
        object_type: ty.byte(),
        value,
        attrs,
    })
}

/// Encodes a value for `to`, printing the report; the payload, or the exit code.
pub fn encode(value: &Value, attrs: &KeyAttrs, to: &To) -> Result<Vec<u8>, ExitCode> {
    let t = target(to).map_err(|e| fail(e, 2))?;
    match payload::encode_value(value, attrs, t, Thresholds::default(), to.allow_loss) {
        Ok((p, report)) => {
            for l in &report.lost {
                eprintln!("redis-persist: lost at {t}: {}; {}", l.what, l.instead);
            }
            for l in &report.filled {
                eprintln!("redis-persist: filled in at {t}: {}; {}", l.what, l.instead);
            }
            Ok(p)
        }
        Err(WriteError::Refused(r)) => {
            let helps = !to.allow_loss
                && payload::encode_value(value, attrs, t, Thresholds::default(), true).is_ok();
            let hint = if helps {
                " (--allow-loss writes the closest equivalent)"
            } else {
                ""
            };
            eprintln!("redis-persist: {t} cannot hold this value; nothing written{hint}:");
            for l in &r.lost {
                eprintln!("  {}", l.what);
            }
            Err(ExitCode::from(1))
        }
        Err(e) => Err(fail(e, 1)),
    }
}

fn emit(p: &[u8], to: &To, inputs: &[&std::path::Path]) -> ExitCode {
    match &to.out {
        // Through the CLI's one output path: a temp file made durable and renamed into place,
        // never over an input, and over an existing file only with --force.
        Some(path) => {
            let mut o = match crate::safety::Output::create(path, to.force, inputs) {
                Ok(o) => o,
                Err(stop) => return stop.exit(),
            };
            match o.write_all(p).and_then(|()| o.commit()) {
                Ok(()) => {
                    // The result line: with --out nothing else is printed.
                    eprintln!(
                        "redis-persist: wrote a DUMP payload of {} to {}",
                        crate::out::plural(p.len(), "byte", "bytes"),
                        path.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(format!("cannot write {}: {e}", path.display()), 2),
            }
        }
        None => {
            let text = if to.print_base64 {
                B64.encode(p)
            } else {
                to_hex(p)
            };
            let mut o = std::io::stdout();
            match writeln!(o, "{text}") {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e, 2),
            }
        }
    }
}

/// `redis-persist payload ...`.
pub fn run(v: Verb) -> ExitCode {
    match v {
        Verb::Decode {
            source,
            ignore_checksum,
        } => {
            let bytes = match read_source(&source) {
                Ok(b) => b,
                Err((m, c)) => return fail(m, c),
            };
            match decode_doc(&bytes, ignore_checksum) {
                Ok(d) => {
                    print!("{}", dataset::payload_to_json_string(&d));
                    if d.checksum == "mismatch" {
                        eprintln!("redis-persist: the stored CRC-64 does not match (decoded anyway: --ignore-checksum)");
                    }
                    ExitCode::SUCCESS
                }
                Err((m, c)) => fail(m, c),
            }
        }
        Verb::Encode { input, to } => {
            let text = if input.as_os_str() == "-" {
                let mut s = String::new();
                if let Err(e) = std::io::stdin().read_to_string(&mut s) {
                    return fail(format!("standard input: {e}"), 2);
                }
                s
            } else {
                match std::fs::read_to_string(&input) {
                    Ok(s) => s,
                    Err(e) => return fail(format!("cannot read {}: {e}", input.display()), 2),
                }
            };
            let (value, attrs) = match dataset::payload_from_json_str(&text) {
                Ok(x) => x,
                Err(e) => return fail(format!("{}: {e}", input.display()), 1),
            };
            match encode(&value, &attrs, &to) {
                Ok(p) => emit(&p, &to, &[input.as_path()]),
                Err(c) => c,
            }
        }
        Verb::Convert { source, to } => {
            let bytes = match read_source(&source) {
                Ok(b) => b,
                Err((m, c)) => return fail(m, c),
            };
            let d = match decode_doc(&bytes, false) {
                Ok(d) => d,
                Err((m, c)) => return fail(m, c),
            };
            match encode(&d.value, &d.attrs, &to) {
                Ok(p) => emit(
                    &p,
                    &to,
                    &source.file.iter().map(|f| f.as_path()).collect::<Vec<_>>(),
                ),
                Err(c) => c,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_accepts_the_usual_spellings() {
        assert_eq!(from_hex("00 0a\\xff").unwrap(), vec![0, 10, 255]);
        assert_eq!(from_hex("0x0001").unwrap(), vec![0, 1]);
        assert!(from_hex("abc").is_err());
        assert_eq!(to_hex(&[0, 171]), "00ab");
    }
}
