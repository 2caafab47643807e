//! libFuzzer entry of the `model_ref` target (see `crates/fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(target) = hfclaw_fuzz::target("model_ref") {
        (target.run)(data);
    }
});
