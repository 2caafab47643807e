//! A fuzzing engine for the stable toolchain: the seeds of a target, mutated at random
//! (bytes flipped, inserted, deleted, ranges duplicated, dictionary tokens and pieces of
//! other seeds spliced in) for a fixed time. No coverage feedback — that is what
//! `cargo fuzz` adds on nightly — but the dictionaries and nesting-friendly mutations
//! (duplicating a range repeats brackets) reach deep into the parsers.

use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::Target;

/// Longest input the engine makes.
const MAX_LEN: usize = 4096;

/// What a run did.
#[derive(Debug)]
pub struct Report {
    /// The target.
    pub target: &'static str,
    /// Inputs run, seeds included.
    pub executions: u64,
    /// Seeds read from the corpus.
    pub seeds: usize,
    /// The first input that failed, and the panic message.
    pub failure: Option<(Vec<u8>, String)>,
}

/// The seed files of a corpus directory (missing directory: none).
pub fn read_corpus(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// Runs `input` through `target`, turning a panic into its message.
pub fn run_one(target: &Target, input: &[u8]) -> Result<(), String> {
    panic::catch_unwind(AssertUnwindSafe(|| (target.run)(input))).map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "a panic without a message".to_owned())
    })
}

/// Replays `seeds`, then mutates them for `budget`, stopping at the first failure.
/// `seed` makes a run reproducible.
pub fn run(target: &'static Target, seeds: &[Vec<u8>], budget: Duration, seed: u64) -> Report {
    let mut report = Report {
        target: target.name,
        executions: 0,
        seeds: seeds.len(),
        failure: None,
    };
    let mut rng = Rng(seed | 1);
    let start = Instant::now();
    let pool: Vec<Vec<u8>> = if seeds.is_empty() {
        vec![Vec::new()]
    } else {
        seeds.to_vec()
    };
    let mut inputs = pool.clone().into_iter();
    loop {
        let input = match inputs.next() {
            Some(input) => input,
            None if start.elapsed() >= budget => break,
            None => mutate(&pool, target.dictionary, &mut rng),
        };
        report.executions += 1;
        if let Err(message) = run_one(target, &input) {
            report.failure = Some((input, message));
            break;
        }
    }
    report
}

/// Keeps panic messages off stderr for the rest of the process: under the engine a panic
/// is a finding, reported once with its input.
pub fn quiet_panics() {
    panic::set_hook(Box::new(|_| {}));
}

/// A new input: a seed with one to eight mutations.
fn mutate(pool: &[Vec<u8>], dictionary: &[&str], rng: &mut Rng) -> Vec<u8> {
    let mut input = pool[rng.below(pool.len())].clone();
    for _ in 0..1 + rng.below(8) {
        let len = input.len();
        let at = rng.below(len + 1);
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 => input.insert(at, rng.next() as u8),
            2 if len > 0 => {
                let end = (at + 1 + rng.below(16)).min(len);
                input.drain(at.min(end)..end);
            }
            3 if len > 0 => {
                // Repeating a range nests brackets deeper, a run of quotes longer.
                let start = rng.below(len);
                let end = (start + 1 + rng.below(32)).min(len);
                let piece = input[start..end].to_vec();
                for _ in 0..1 + rng.below(4) {
                    input.splice(at..at, piece.iter().copied());
                }
            }
            4 | 5 if !dictionary.is_empty() => {
                let token = dictionary[rng.below(dictionary.len())].as_bytes();
                if rng.below(2) == 0 || len == 0 {
                    input.splice(at..at, token.iter().copied());
                } else {
                    let end = (at + 1 + rng.below(8)).min(len);
                    input.splice(at.min(end)..end, token.iter().copied());
                }
            }
            6 => {
                let other = &pool[rng.below(pool.len())];
                if !other.is_empty() {
                    let start = rng.below(other.len());
                    let end = (start + 1 + rng.below(64)).min(other.len());
                    input.splice(at..at, other[start..end].iter().copied());
                }
            }
            _ if len > 0 => input.truncate(rng.below(len)),
            _ => {}
        }
    }
    input.truncate(MAX_LEN);
    input
}

/// SplitMix64: small, fast, and plenty for choosing mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-enough in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fails_on_three_brackets(data: &[u8]) {
        assert!(!data.windows(3).any(|w| w == b"[[["), "three brackets");
    }

    const PICKY: Target = Target {
        name: "picky",
        run: fails_on_three_brackets,
        dictionary: &["["],
    };

    #[test]
    fn the_engine_finds_a_planted_bug_and_reports_the_input() {
        static TARGET: Target = PICKY;
        let report = run(&TARGET, &[b"{a: [1]}".to_vec()], Duration::from_secs(5), 7);
        let (input, message) = report.failure.expect("found within 5 s");
        assert!(input.windows(3).any(|w| w == b"[[["));
        assert_eq!(message, "three brackets");
        assert!(report.executions >= 2);
    }

    #[test]
    fn mutations_stay_within_the_length_limit() {
        let mut rng = Rng(3);
        let pool = vec![vec![b'x'; MAX_LEN]];
        for _ in 0..1000 {
            assert!(mutate(&pool, &["[["], &mut rng).len() <= MAX_LEN);
        }
    }
}
