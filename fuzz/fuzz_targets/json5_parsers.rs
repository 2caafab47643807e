//! libFuzzer entry of the `json5_parsers` target (see `crates/fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(target) = hfclaw_fuzz::target("json5_parsers") {
        (target.run)(data);
    }
});
