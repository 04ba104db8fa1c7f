//! Redis's CRC-64 (Jones polynomial, reflected, init 0, xorout 0: CRC-64/REDIS), computed
//! incrementally over the bytes a reader consumes or a writer emits.

/// An incremental CRC-64/REDIS.
#[derive(Clone)]
pub struct Crc64 {
    digest: crc_fast::Digest,
}

impl Crc64 {
    /// A fresh checksum (value 0).
    pub fn new() -> Crc64 {
        Crc64 {
            digest: crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Redis),
        }
    }

    /// Feeds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        self.digest.update(bytes);
    }

    /// The checksum of everything fed so far.
    pub fn value(&self) -> u64 {
        self.digest.finalize()
    }
}

impl Default for Crc64 {
    fn default() -> Self {
        Crc64::new()
    }
}

impl std::fmt::Debug for Crc64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Crc64({:#018x})", self.value())
    }
}

/// CRC-64/REDIS of `bytes` in one call.
pub fn checksum(bytes: &[u8]) -> u64 {
    crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Redis, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values from Redis's crc64.c self-test, not from this code.
    #[test]
    fn redis_test_vectors() {
        assert_eq!(checksum(b"123456789"), 0xe9c6d914c4b8d9ca);
        let lorem = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.";
        assert_eq!(lorem.len(), 445);
        let mut with_nul = lorem.as_bytes().to_vec();
        with_nul.push(0);
        assert_eq!(checksum(&with_nul), 0xc7794709e69683b3);
        assert_eq!(checksum(lorem.as_bytes()), 0x912d89c65cd3c415);
    }

    #[test]
    fn incremental_equals_one_shot() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 + 3) as u8).collect();
        let mut c = Crc64::new();
        for chunk in data.chunks(333) {
            c.update(chunk);
        }
        assert_eq!(c.value(), checksum(&data));
    }
}
