//! Any valid dataset written at any target that holds it reads back equal.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // Running out of input is not a finding: the dataset was simply cut short.
    let _ = proptests::check::rdb_roundtrip(&mut arbitrary::Unstructured::new(data));
});
