//! A cursor over one in-memory blob (ziplist, listpack, intset, zipmap, stream node): bounds are
//! checked on every read and a short blob is `corrupt`, since the enclosing string was whole.
use super::error::{Error, Result};

/// Cursor over a blob; offsets in its errors are relative to the blob's first byte.
#[derive(Debug, Clone)]
pub struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bytes<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Bytes<'a> {
        Bytes { data, pos: 0 }
    }

    /// Current offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Moves to `pos` (must be within the blob).
    pub fn seek(&mut self, pos: usize, what: &'static str) -> Result<()> {
        if pos > self.data.len() {
            return Err(self.short(what, pos - self.data.len()));
        }
        self.pos = pos;
        Ok(())
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// The whole blob.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    fn short(&self, what: &'static str, needed: usize) -> Error {
        Error::corrupt(
            self.pos as u64,
            what,
            format!(
                "needs {needed} bytes, {} remain in the {}-byte blob",
                self.remaining(),
                self.data.len()
            ),
        )
    }

    /// Lends the next `n` bytes.
    #[inline]
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.short(what, n));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Next byte.
    #[inline]
    pub fn u8(&mut self, what: &'static str) -> Result<u8> {
        match self.data.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(self.short(what, 1)),
        }
    }

    /// Next byte without consuming it.
    #[inline]
    pub fn peek(&self, what: &'static str) -> Result<u8> {
        self.data
            .get(self.pos)
            .copied()
            .ok_or_else(|| self.short(what, 1))
    }

    /// Next `N` bytes as an array.
    #[inline]
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N]> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// Little-endian u16.
    pub fn le_u16(&mut self, what: &'static str) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    /// Little-endian u32.
    pub fn le_u32(&mut self, what: &'static str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    /// Big-endian u64.
    pub fn be_u64(&mut self, what: &'static str) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }
}
