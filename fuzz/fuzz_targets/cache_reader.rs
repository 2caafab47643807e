//! libFuzzer entry of the `cache_reader` target (see `crates/fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(target) = hfclaw_fuzz::target("cache_reader") {
        (target.run)(data);
    }
});
