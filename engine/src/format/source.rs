//! The one streaming cursor over an RDB byte source: it owns every read from the `Read`, tracks
//! the file offset, feeds the CRC, and checks each length against the limits and what remains.
use super::crc64::Crc64;
use super::error::{Error, ErrorKind, Result};
use super::limits::Limits;
use std::io::Read;

const BUF_CAP: usize = 256 * 1024;
/// Large strings are read in steps of this size so a lying prefix never reserves more than
/// has actually arrived.
const GROW_STEP: usize = 1 << 20;

/// A buffered, offset-tracking, checksumming reader.
pub struct Source<R> {
    inner: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// File offset of `buf[0]`.
    base: u64,
    crc: Option<Crc64>,
    /// Index in `buf` up to which bytes were fed to `crc`.
    crc_pos: usize,
    total_len: Option<u64>,
    /// Holds strings longer than the buffer.
    big: Vec<u8>,
    limits: Limits,
}

impl<R: Read> Source<R> {
    /// Wraps `inner`; `total_len`, when known, lets every length be checked before reading.
    pub fn new(inner: R, total_len: Option<u64>, limits: Limits) -> Source<R> {
        // Small inputs of known size get a buffer of their size: decoding many small inputs
        // (fuzzing, truncation tests, AOF preambles) should not zero 256 KiB each time.
        let cap = total_len.map_or(BUF_CAP, |t| (t as usize).clamp(64, BUF_CAP));
        Source {
            inner,
            buf: vec![0u8; cap].into_boxed_slice(),
            start: 0,
            end: 0,
            base: 0,
            crc: Some(Crc64::new()),
            crc_pos: 0,
            total_len,
            big: Vec::new(),
            limits,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Offset of the next byte to be read.
    pub fn pos(&self) -> u64 {
        self.base + self.start as u64
    }

    /// Bytes known to remain, when the total length is known.
    pub fn remaining(&self) -> Option<u64> {
        self.total_len.map(|t| t.saturating_sub(self.pos()))
    }

    /// Stops checksumming and returns the CRC of everything read so far.
    pub fn finish_crc(&mut self) -> u64 {
        self.feed_crc();
        let v = self.crc.as_ref().map(Crc64::value).unwrap_or(0);
        self.crc = None;
        v
    }

    fn feed_crc(&mut self) {
        if let Some(c) = self.crc.as_mut() {
            if self.crc_pos < self.start {
                c.update(&self.buf[self.crc_pos..self.start]);
            }
        }
        self.crc_pos = self.start;
    }

    fn io_error(&self, e: std::io::Error, what: &'static str) -> Error {
        Error::new(ErrorKind::Io, self.pos(), what, e.to_string())
    }

    /// Makes at least `n` (≤ the buffer's size) bytes available; returns how many are.
    fn fill(&mut self, n: usize, what: &'static str) -> Result<usize> {
        debug_assert!(n <= self.buf.len());
        if self.end - self.start >= n {
            return Ok(self.end - self.start);
        }
        if self.start + n > self.buf.len() {
            self.feed_crc();
            self.buf.copy_within(self.start..self.end, 0);
            self.base += self.start as u64;
            self.end -= self.start;
            self.start = 0;
            self.crc_pos = 0;
        }
        while self.end - self.start < n {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => break,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_error(e, what)),
            }
        }
        Ok(self.end - self.start)
    }

    /// Checks a declared length against the limits and the bytes that remain.
    pub fn check_len(&self, n: u64, what: &'static str) -> Result<()> {
        if n > self.limits.max_string_len {
            return Err(Error::new(
                ErrorKind::LimitExceeded,
                self.pos(),
                what,
                format!("length {n} exceeds limit {}", self.limits.max_string_len),
            ));
        }
        if let Some(rem) = self.remaining() {
            if n > rem {
                return Err(Error::truncated(self.pos(), what, n, rem));
            }
        }
        Ok(())
    }

    /// Checks a declared element count against the collection limit and what remains (each
    /// element takes at least `min_bytes` bytes).
    pub fn check_count(&self, n: u64, min_bytes: u64, what: &'static str) -> Result<()> {
        if n > self.limits.max_collection_len {
            return Err(Error::new(
                ErrorKind::LimitExceeded,
                self.pos(),
                what,
                format!("count {n} exceeds limit {}", self.limits.max_collection_len),
            ));
        }
        if let Some(rem) = self.remaining() {
            if n.saturating_mul(min_bytes) > rem {
                return Err(Error::truncated(
                    self.pos(),
                    what,
                    n.saturating_mul(min_bytes),
                    rem,
                ));
            }
        }
        Ok(())
    }

    /// Reads one byte.
    #[inline]
    pub fn u8(&mut self, what: &'static str) -> Result<u8> {
        if self.start < self.end {
            let b = self.buf[self.start];
            self.start += 1;
            return Ok(b);
        }
        if self.fill(1, what)? < 1 {
            return Err(Error::truncated(self.pos(), what, 1, 0));
        }
        let b = self.buf[self.start];
        self.start += 1;
        Ok(b)
    }

    /// Reads exactly `N` bytes.
    #[inline]
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N]> {
        let got = self.fill(N, what)?;
        if got < N {
            return Err(Error::truncated(self.pos(), what, N as u64, got as u64));
        }
        let mut a = [0u8; N];
        a.copy_from_slice(&self.buf[self.start..self.start + N]);
        self.start += N;
        Ok(a)
    }

    /// Reads `n` bytes and lends them until the next read.
    pub fn take(&mut self, n: u64, what: &'static str) -> Result<&[u8]> {
        self.check_len(n, what)?;
        let n_us = usize::try_from(n).map_err(|_| {
            Error::new(
                ErrorKind::LimitExceeded,
                self.pos(),
                what,
                "length exceeds address space",
            )
        })?;
        if n_us <= self.buf.len() {
            let got = self.fill(n_us, what)?;
            if got < n_us {
                return Err(Error::truncated(self.pos(), what, n, got as u64));
            }
            let s = self.start;
            self.start += n_us;
            return Ok(&self.buf[s..s + n_us]);
        }
        self.take_big(n_us, what)
    }

    fn take_big(&mut self, n: usize, what: &'static str) -> Result<&[u8]> {
        let at = self.pos();
        self.feed_crc();
        self.big.clear();
        // Whatever is already buffered comes first.
        let have = self.end - self.start;
        self.big.extend_from_slice(&self.buf[self.start..self.end]);
        self.base += self.end as u64;
        self.start = 0;
        self.end = 0;
        self.crc_pos = 0;
        let mut filled = have;
        if self.total_len.is_some() {
            // `check_len` proved the bytes exist: reserving them exactly is safe and avoids the
            // doubling that would otherwise leave up to twice the element allocated.
            self.big.reserve_exact(n.saturating_sub(self.big.len()));
        }
        while filled < n {
            let step = (n - filled).min(GROW_STEP);
            if self.big.capacity() < filled + step {
                let want = (self.big.capacity() * 2).max(filled + step).min(n);
                self.big.reserve_exact(want - self.big.len());
            }
            self.big.resize(filled + step, 0);
            let k = loop {
                match self.inner.read(&mut self.big[filled..filled + step]) {
                    Ok(k) => break k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(self.io_error(e, what)),
                }
            };
            if k == 0 {
                self.big.truncate(filled);
                return Err(Error::truncated(at, what, n as u64, filled as u64));
            }
            filled += k;
        }
        // `filled` is exactly `n`: only lengths beyond the buffer come here, so what was
        // buffered (`have`) is short of `n`, and no read asks for more than `n - filled`.
        self.base = at + n as u64;
        if let Some(c) = self.crc.as_mut() {
            c.update(&self.big[..n]);
        }
        Ok(&self.big[..n])
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: u64, what: &'static str) -> Result<()> {
        let mut left = n;
        self.check_len(n.min(self.limits.max_string_len), what)?;
        while left > 0 {
            let step = left.min(self.buf.len() as u64) as usize;
            let got = self.fill(step, what)?;
            if got == 0 {
                return Err(Error::truncated(self.pos(), what, left, 0));
            }
            let k = got.min(step);
            self.start += k;
            left -= k as u64;
        }
        Ok(())
    }

    /// Up to `n` (≤ 64 KiB) next bytes without consuming them; fewer only at the end of input.
    pub fn peek(&mut self, n: usize, what: &'static str) -> Result<&[u8]> {
        let n = n.min(1 << 16).min(self.buf.len());
        let got = self.fill(n, what)?.min(n);
        Ok(&self.buf[self.start..self.start + got])
    }

    /// Whether the input is exhausted.
    pub fn at_end(&mut self) -> Result<bool> {
        Ok(self.fill(1, "end of input")? == 0)
    }

    /// Reads a line through its `\n` and lends it without the `\n` (a `\r` before it is kept).
    /// `Ok(None)` when a line longer than `max` bytes has no `\n` in reach, `Truncated` when the
    /// input ends first.
    pub fn line(&mut self, max: usize, what: &'static str) -> Result<Option<&[u8]>> {
        let want = (max + 1).min(self.buf.len());
        let mut scanned = 0;
        loop {
            let avail = self.end - self.start;
            if let Some(i) = self.buf[self.start + scanned..self.end]
                .iter()
                .position(|&b| b == b'\n')
            {
                let s = self.start;
                let len = scanned + i;
                self.start += len + 1;
                return Ok(Some(&self.buf[s..s + len]));
            }
            scanned = avail;
            if avail >= want {
                return Ok(None);
            }
            let got = self.fill(avail + 1, what)?;
            if got == avail {
                return Err(Error::truncated(
                    self.pos(),
                    what,
                    avail as u64 + 1,
                    avail as u64,
                ));
            }
        }
    }

    /// Reads what is left, at most `max` bytes: how many were read, and whether more remain
    /// (an endless input stops here).
    pub fn drain_up_to(&mut self, max: u64) -> Result<(u64, bool)> {
        let mut n = 0u64;
        while n < max {
            let got = self.fill(1, "trailing bytes")?;
            if got == 0 {
                return Ok((n, false));
            }
            let take = (got as u64).min(max - n) as usize;
            n += take as u64;
            self.start += take;
        }
        Ok((n, self.fill(1, "trailing bytes")? > 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that returns one byte per call, the worst chunking a source can have.
    struct OneByte<'a>(&'a [u8]);
    impl Read for OneByte<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() || out.is_empty() {
                return Ok(0);
            }
            out[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }

    #[test]
    fn big_take_keeps_offsets_and_crc() {
        let data: Vec<u8> = (0..(BUF_CAP * 3 + 17)).map(|i| (i % 251) as u8).collect();
        for total in [Some(data.len() as u64), None] {
            let mut s = Source::new(OneByte(&data), total, Limits::DEFAULT);
            assert_eq!(s.u8("a").unwrap(), 0);
            let big = s.take((BUF_CAP * 2) as u64, "big").unwrap().to_vec();
            assert_eq!(&big[..], &data[1..1 + BUF_CAP * 2]);
            assert_eq!(s.pos(), 1 + (BUF_CAP * 2) as u64);
            let rest = s
                .take((data.len() - 1 - BUF_CAP * 2) as u64, "rest")
                .unwrap()
                .to_vec();
            assert_eq!(&rest[..], &data[1 + BUF_CAP * 2..]);
            assert_eq!(s.finish_crc(), crate::format::crc64::checksum(&data));
        }
    }

    #[test]
    fn lines_peeks_and_the_end_under_the_worst_chunking() {
        let data = b"*1\r\n$4\r\nPING\r\nno newline";
        let mut s = Source::new(OneByte(data), None, Limits::DEFAULT);
        assert_eq!(s.peek(2, "p").unwrap(), b"*1");
        assert_eq!(s.line(1024, "l").unwrap(), Some(&b"*1\r"[..]));
        assert_eq!(s.pos(), 4);
        assert_eq!(s.line(1024, "l").unwrap(), Some(&b"$4\r"[..]));
        assert_eq!(s.take(6, "t").unwrap(), b"PING\r\n");
        assert_eq!(s.line(4, "l").unwrap(), None, "no newline within 4 bytes");
        let e = s.line(1024, "l").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Truncated);
        let mut s = Source::new(&b""[..], Some(0), Limits::DEFAULT);
        assert!(s.at_end().unwrap());
    }

    #[test]
    fn lying_length_is_refused_before_reading() {
        let data = [1u8, 2, 3];
        let mut s = Source::new(&data[..], Some(3), Limits::DEFAULT);
        let e = s.take(1 << 30, "value").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Truncated);
        let mut s = Source::new(&data[..], None, Limits::TIGHT);
        let e = s.take(1 << 30, "value").unwrap_err();
        assert_eq!(e.kind, ErrorKind::LimitExceeded);
        let mut s = Source::new(&data[..], None, Limits::DEFAULT);
        let e = s.take(1 << 30, "value").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Truncated);
    }

    /// `max_string_len` is the largest length allowed, not the first refused; and a length of
    /// exactly the bytes that remain is whole, not short.
    #[test]
    fn a_length_at_the_limit_or_at_the_end_is_accepted() {
        let limits = Limits {
            max_string_len: 8,
            ..Limits::DEFAULT
        };
        let data: Vec<u8> = (0..16).collect();
        let mut s = Source::new(&data[..], None, limits);
        assert_eq!(s.take(8, "value").unwrap(), &data[..8]);
        assert_eq!(
            s.take(9, "value").unwrap_err().kind,
            ErrorKind::LimitExceeded
        );
        let mut s = Source::new(&data[..], Some(16), Limits::DEFAULT);
        s.u8("a").unwrap();
        assert_eq!(s.take(15, "rest").unwrap(), &data[1..]);
        assert!(s.at_end().unwrap());
    }

    /// `line(max)` finds a `\n` right after `max` bytes (a line of `max` bytes); past that it
    /// gives up unless the `\n` is already buffered ("in reach").
    #[test]
    fn a_line_of_max_bytes_is_read_and_a_longer_one_is_not() {
        fn check<R: Read>(mut s: Source<R>, longer: Option<&[u8]>) {
            assert_eq!(s.line(4, "l").unwrap(), Some(&b"PING"[..]));
            assert_eq!(s.line(4, "l").unwrap(), longer);
        }
        let data = b"PING\nPINGS\n";
        check(Source::new(OneByte(data), None, Limits::DEFAULT), None);
        let whole = Source::new(&data[..], Some(data.len() as u64), Limits::DEFAULT);
        check(whole, Some(b"PINGS"));
    }

    /// `drain_up_to` reads at most `max` bytes and says whether more remain.
    #[test]
    fn drain_counts_what_it_read() {
        let data: Vec<u8> = (0..10).collect();
        let mut s = Source::new(OneByte(&data), None, Limits::DEFAULT);
        assert_eq!(s.drain_up_to(4).unwrap(), (4, true));
        assert_eq!((s.pos(), s.u8("b").unwrap()), (4, 4));
        assert_eq!(s.drain_up_to(100).unwrap(), (5, false));
        // Exactly `max` left: all read, and nothing remains.
        let mut s = Source::new(OneByte(&data), None, Limits::DEFAULT);
        assert_eq!(s.drain_up_to(10).unwrap(), (10, false));
    }

    /// A source asks its reader only for bytes it needs: once `n` are buffered it does not read
    /// again (a pipe or socket with nothing more to send would block there, or fail).
    #[test]
    fn no_read_past_what_is_needed() {
        struct ThenFail<'a>(&'a [u8]);
        impl Read for ThenFail<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() {
                    return Err(std::io::ErrorKind::WouldBlock.into());
                }
                let k = self.0.len().min(out.len());
                out[..k].copy_from_slice(&self.0[..k]);
                self.0 = &self.0[k..];
                Ok(k)
            }
        }
        let mut s = Source::new(ThenFail(b"PING"), None, Limits::DEFAULT);
        assert_eq!(s.take(4, "t").unwrap(), b"PING");
        let mut s = Source::new(ThenFail(b"ab"), None, Limits::DEFAULT);
        assert_eq!((s.u8("a").unwrap(), s.u8("b").unwrap()), (b'a', b'b'));
        assert_eq!(s.pos(), 2);
    }

    /// A skip lands on the byte after the skipped ones, within the buffer and across refills.
    #[test]
    fn skip_lands_after_the_skipped_bytes() {
        let data: Vec<u8> = (0..(BUF_CAP * 2 + 10)).map(|i| (i % 251) as u8).collect();
        for total in [Some(data.len() as u64), None] {
            let mut s = Source::new(OneByte(&data), total, Limits::DEFAULT);
            s.skip(5, "small").unwrap();
            assert_eq!((s.pos(), s.u8("b").unwrap()), (5, data[5]));
            let far = BUF_CAP * 2;
            s.skip((far - 6) as u64, "large").unwrap();
            assert_eq!((s.pos(), s.u8("b").unwrap()), (far as u64, data[far]));
            let e = s.skip(10, "past the end").unwrap_err();
            assert_eq!(e.kind, ErrorKind::Truncated);
        }
    }
}
