//! Every checked-in seed (and every input a fuzzer once found failing and that was saved
//! there) runs clean through its target.

#![allow(clippy::unwrap_used)]

use hfclaw_fuzz::engine::{read_corpus, run_one};
use hfclaw_fuzz::{TARGETS, corpus_dir};

#[test]
fn every_target_replays_its_corpus_clean() {
    for target in TARGETS {
        let seeds = read_corpus(&corpus_dir(target.name));
        assert!(!seeds.is_empty(), "{} has no seeds", target.name);
        for (i, seed) in seeds.iter().enumerate() {
            if let Err(message) = run_one(target, seed) {
                panic!("{} seed #{i} fails: {message}", target.name);
            }
        }
    }
}
