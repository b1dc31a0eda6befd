//! Testbeds: the machine class a baseline belongs to. A run is gated only against a baseline
//! of its own testbed; against another testbed's baseline the comparison is informational.
//!
//! A testbed is named by `--testbed NAME` or `PERFGATE_TESTBED`, or else derived from the
//! environment fingerprint (CPU model, CPU count, OS), short and readable:
//! `Intel(R) Xeon(R) Platinum 8272CL CPU @ 2.60GHz`, 2 CPUs, linux →
//! `intel-xeon-8272cl-2cpu-linux`.

use crate::result::HostInfo;

/// Why a testbed name is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid testbed name `{0}`: use 1 to 64 lowercase letters, digits, `.`, `_` or `-`, not starting with `.`")]
pub(crate) struct BadTestbed(pub String);

/// Checks a testbed name given by the user (it becomes a file name).
pub(crate) fn parse_testbed(name: &str) -> Result<String, BadTestbed> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(name.to_string())
    } else {
        Err(BadTestbed(name.to_string()))
    }
}

/// Words of a CPU model string that say nothing about its speed class.
const NOISE_WORDS: [&str; 12] = [
    "r",
    "tm",
    "cpu",
    "processor",
    "platinum",
    "gold",
    "silver",
    "bronze",
    "core",
    "with",
    "radeon",
    "graphics",
];

/// The testbed name of a machine: up to four words of its CPU model (vendor marks, clock
/// speed and filler words dropped), its CPU count and OS.
pub(crate) fn derive_testbed(host: &HostInfo) -> String {
    // Everything after `@` is the clock speed.
    let model = host
        .cpu_model
        .split('@')
        .next()
        .unwrap_or("")
        .to_lowercase();
    let words: Vec<&str> = model
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty() && !NOISE_WORDS.contains(w))
        .collect();
    // "64-Core" is split into "64" and "core": drop the count that preceded a dropped "core".
    let lower_words: Vec<&str> = model
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let core_counts: Vec<&str> = lower_words
        .windows(2)
        .filter(|p| p[1] == "core" && p[0].chars().all(|c| c.is_ascii_digit()))
        .map(|p| p[0])
        .collect();
    let words: Vec<&str> = words
        .into_iter()
        .filter(|w| !core_counts.contains(w))
        .take(4)
        .collect();
    let cpu = if words.is_empty() {
        "unknown".to_string()
    } else {
        words.join("-")
    };
    let os: String = host
        .os
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let os = if os.is_empty() { "unknown".into() } else { os };
    format!("{cpu}-{}cpu-{os}", host.cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(model: &str, cpus: usize) -> HostInfo {
        HostInfo {
            os: "linux".into(),
            arch: "x86_64".into(),
            cpus,
            cpu_model: model.into(),
            threads: 2,
            name: String::new(),
        }
    }

    #[test]
    fn names_are_short_and_readable() {
        assert_eq!(
            derive_testbed(&host("Intel(R) Xeon(R) Platinum 8272CL CPU @ 2.60GHz", 2)),
            "intel-xeon-8272cl-2cpu-linux"
        );
        assert_eq!(
            derive_testbed(&host("AMD EPYC 7763 64-Core Processor", 2)),
            "amd-epyc-7763-2cpu-linux"
        );
        assert_eq!(derive_testbed(&host("unknown", 4)), "unknown-4cpu-linux");
        assert_eq!(derive_testbed(&host("", 1)), "unknown-1cpu-linux");
        // A derived name is always a valid testbed name.
        for m in ["Apple M2 Pro", "Test CPU @ 3.0GHz", "ÅÄÖ ∞"] {
            let n = derive_testbed(&host(m, 8));
            assert_eq!(parse_testbed(&n), Ok(n.clone()), "{m}");
        }
    }

    #[test]
    fn user_names_must_be_file_names() {
        assert_eq!(parse_testbed("ci-runner-2"), Ok("ci-runner-2".into()));
        for bad in ["", "../x", "A", "a b", ".hidden", &"x".repeat(65)] {
            assert!(parse_testbed(bad).is_err(), "{bad:?}");
        }
    }
}
