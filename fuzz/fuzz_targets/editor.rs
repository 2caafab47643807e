//! libFuzzer entry of the `editor` target (see `crates/fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(target) = hfclaw_fuzz::target("editor") {
        (target.run)(data);
    }
});
