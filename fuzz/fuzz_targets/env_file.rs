//! libFuzzer entry of the `env_file` target (see `crates/fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(target) = hfclaw_fuzz::target("env_file") {
        (target.run)(data);
    }
});
