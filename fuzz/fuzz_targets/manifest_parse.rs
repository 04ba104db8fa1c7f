//! Parsing arbitrary bytes as an AOF manifest is total, and what parses round-trips.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| proptests::check::manifest_parse_is_total(data));
