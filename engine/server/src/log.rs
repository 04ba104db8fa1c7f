//! The log, in Redis's format: `pid:M dd Mon yyyy hh:mm:ss.mmm <level> message`, where the level
//! is `.` (verbose), `*` (notice) or `#` (warning), to the `logfile` or standard output.
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// Where log lines go.
#[derive(Debug)]
pub struct Log {
    file: Option<std::fs::File>,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `(year, month 1-12, day)` of a count of days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Redis's log timestamp for Unix milliseconds `ms` (UTC).
pub fn timestamp(ms: i64) -> String {
    let (secs, milli) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!(
        "{d:02} {} {y} {:02}:{:02}:{:02}.{milli:03}",
        MONTHS[(m - 1) as usize],
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

impl Log {
    /// A log to `path` (appended), or to standard output.
    pub fn open(path: Option<&std::path::Path>) -> std::io::Result<Log> {
        let file = match path {
            Some(p) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)?,
            ),
            None => None,
        };
        Ok(Log { file })
    }

    fn line(&mut self, level: char, msg: &str) {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let text = format!("{}:M {} {level} {msg}\n", std::process::id(), timestamp(ms));
        match &mut self.file {
            Some(f) => {
                let _ = f.write_all(text.as_bytes());
            }
            None => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
        }
    }

    /// A notice (`*`).
    pub fn notice(&mut self, msg: &str) {
        self.line('*', msg);
    }

    /// A warning (`#`).
    pub fn warning(&mut self, msg: &str) {
        self.line('#', msg);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_read_like_redis() {
        assert_eq!(super::timestamp(0), "01 Jan 1970 00:00:00.000");
        assert_eq!(
            super::timestamp(1_796_402_963_123),
            "04 Dec 2026 16:49:23.123"
        );
    }
}
