//! Parsing arbitrary bytes as an AOF command stream is total and strictness-consistent.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| proptests::check::aof_parse_is_total(data));
