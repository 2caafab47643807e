//! libFuzzer entry of the `sse` target (see `crates/fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(target) = hfclaw_fuzz::target("sse") {
        (target.run)(data);
    }
});
