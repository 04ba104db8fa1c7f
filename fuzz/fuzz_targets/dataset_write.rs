//! Any dataset, duplicates included: written and read back equal, or refused with a type.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // Running out of input is not a finding: the dataset was simply cut short.
    let _ = proptests::check::dataset_write(&mut arbitrary::Unstructured::new(data));
});
