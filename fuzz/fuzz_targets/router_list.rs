//! libFuzzer entry of the `router_list` target (see `crates/fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(target) = hfclaw_fuzz::target("router_list") {
        (target.run)(data);
    }
});
