//! Decoding arbitrary bytes as an RDB is total and agrees across decode paths.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| proptests::check::rdb_decode_is_total(data));
