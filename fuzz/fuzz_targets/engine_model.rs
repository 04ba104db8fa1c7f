//! Histories decoded from the input run through the persisting engine and the model; they agree.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| proptests::machine::engine_agrees_with_model(data));
