//! libFuzzer entry of the `request_body` target (see `crates/fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(target) = hfclaw_fuzz::target("request_body") {
        (target.run)(data);
    }
});
