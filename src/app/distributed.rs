//! `run` as one of several load generators: which segment of the load this process runs
//! (`--segment I/N`, `PERFGATE_SEGMENT`, or `JOB_COMPLETION_INDEX` with `--segments N` in a
//! Kubernetes Indexed Job), the wall-clock instant every generator waits for (`--start-at`),
//! and the run id the generators share (`--run-id`, by default derived from the scenario's
//! hash and the start instant, so generators started with the same command agree on it).

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};

use super::AppError;
use crate::engine::Segment;
use crate::scenario::units::parse_duration;

/// What the command line asked for, before the environment is read.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct DistributedArgs {
    /// `--segment I/N`.
    pub segment: Option<String>,
    /// `--segments N`: the segment is `JOB_COMPLETION_INDEX + 1` of N.
    pub segments: Option<u32>,
    /// `--start-at RFC3339 | +DURATION`.
    pub start_at: Option<String>,
    /// `--run-id ID`.
    pub run_id: Option<String>,
}

/// How this generator takes part in a run of several.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Distribution {
    pub segment: Segment,
    pub start_at: Option<DateTime<Utc>>,
    /// `None`: a fresh id per run (a single generator).
    pub run_id: Option<String>,
}

impl Distribution {
    /// True when this process runs only part of the load.
    pub(crate) fn is_segment(&self) -> bool {
        !self.segment.is_whole()
    }
}

impl DistributedArgs {
    /// Resolves the flags with the environment (`env`) at `now`; bad values are exit 2
    /// with the flag or variable named.
    pub(crate) fn resolve(
        &self,
        scenario_hash: &str,
        env: impl Fn(&str) -> Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Distribution, AppError> {
        let segment = self.segment(&env)?;
        let start_at = self
            .start_at
            .as_deref()
            .map(|s| parse_start_at(s, now))
            .transpose()
            .map_err(|e| AppError::Input(format!("--start-at: {e}")))?;
        let run_id = match &self.run_id {
            Some(id) => Some(check_run_id(id)?),
            None => start_at.map(|at| default_run_id(scenario_hash, at)),
        };
        Ok(Distribution {
            segment,
            start_at,
            run_id,
        })
    }

    fn segment(&self, env: &impl Fn(&str) -> Option<String>) -> Result<Segment, AppError> {
        let bad =
            |what: &str, e: crate::engine::SegmentError| AppError::Input(format!("{what}: {e}"));
        if let Some(s) = &self.segment {
            return Segment::parse(s).map_err(|e| bad("--segment", e));
        }
        if let Some(n) = self.segments {
            let index = env("JOB_COMPLETION_INDEX").ok_or_else(|| {
                AppError::Input(format!(
                    "--segments {n}: JOB_COMPLETION_INDEX is not set\n  hint: Kubernetes sets it \
                     in the pods of an Indexed Job; elsewhere pass --segment I/{n}"
                ))
            })?;
            let index: u64 = index.trim().parse().map_err(|_| {
                AppError::Input(format!(
                    "JOB_COMPLETION_INDEX: `{index}` is not a whole number from 0"
                ))
            })?;
            return Segment::new(index + 1, u64::from(n))
                .map_err(|e| bad("JOB_COMPLETION_INDEX + 1 of --segments", e));
        }
        match env("PERFGATE_SEGMENT").filter(|s| !s.trim().is_empty()) {
            Some(s) => Segment::parse(&s).map_err(|e| bad("PERFGATE_SEGMENT", e)),
            None => Ok(Segment::WHOLE),
        }
    }
}

/// `2026-11-23T09:00:00Z` (any RFC 3339 offset) or `+10s` from `now`.
pub(crate) fn parse_start_at(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Some(rel) = s.strip_prefix('+') {
        let d = parse_duration(rel)?;
        return chrono::Duration::from_std(d)
            .ok()
            .and_then(|d| now.checked_add_signed(d))
            .ok_or_else(|| format!("`{s}` is too far ahead"));
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            format!(
                "`{s}` is neither an RFC 3339 instant (e.g. 2026-11-23T09:00:00Z) nor +DURATION \
                 (e.g. +10s)"
            )
        })
}

/// The run id generators share when none is given: the scenario's hash and the start
/// instant, so each generator derives the same one.
pub(crate) fn default_run_id(scenario_hash: &str, start_at: DateTime<Utc>) -> String {
    format!(
        "{}-{}",
        scenario_hash.get(..12).unwrap_or(scenario_hash),
        start_at.format("%Y%m%dT%H%M%S%.3fZ")
    )
}

/// A run id is a word: letters, digits, `.`, `_`, `-`, `:` (at most 128).
fn check_run_id(id: &str) -> Result<String, AppError> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':'));
    if ok {
        Ok(id.to_string())
    } else {
        Err(AppError::Input(format!(
            "--run-id: `{id}` is not a run id\n  hint: use letters, digits, `.`, `_`, `-` or `:` \
             (at most 128), e.g. --run-id nightly-42"
        )))
    }
}

/// RFC 3339 with milliseconds, as results write times.
pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Why a generator did not start: it reached `--start-at` too late.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "started {late} after --start-at {at}; the other generators began without this one\n  \
     hint: pick a --start-at further ahead (time to start every generator and reach its target)"
)]
pub struct LateStart {
    /// How late, e.g. `2.31 s`.
    pub late: String,
    /// The instant asked for.
    pub at: String,
}

/// How long until `at` from `now`; a [`LateStart`] when it has passed.
pub(crate) fn until_start(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<Duration, LateStart> {
    match (at - now).to_std() {
        Ok(d) => Ok(d),
        Err(_) => {
            let late = (now - at).to_std().unwrap_or_default();
            Err(LateStart {
                late: format!("{:.2} s", late.as_secs_f64()),
                at: rfc3339(at),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn args(segment: Option<&str>, segments: Option<u32>) -> DistributedArgs {
        DistributedArgs {
            segment: segment.map(str::to_string),
            segments,
            ..DistributedArgs::default()
        }
    }

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn seg(a: &DistributedArgs, vars: &[(&str, &str)]) -> Result<Segment, String> {
        a.resolve("h", env(vars), now())
            .map(|d| d.segment)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_segment_comes_from_the_flag_the_job_index_or_the_environment() {
        let two_of_four = Segment::new(2, 4).unwrap();
        assert_eq!(seg(&args(Some("2/4"), None), &[]), Ok(two_of_four));
        // Kubernetes' index is 0-based; segments are 1-based.
        let job = [("JOB_COMPLETION_INDEX", "1")];
        assert_eq!(seg(&args(None, Some(4)), &job), Ok(two_of_four));
        let env_var = [("PERFGATE_SEGMENT", "2/4")];
        assert_eq!(seg(&args(None, None), &env_var), Ok(two_of_four));
        // The flag wins over the environment.
        assert_eq!(
            seg(&args(Some("1/4"), None), &env_var),
            Ok(Segment::new(1, 4).unwrap())
        );
        assert_eq!(seg(&args(None, None), &[]), Ok(Segment::WHOLE));

        let e = seg(&args(None, Some(4)), &[]).unwrap_err();
        assert!(e.contains("JOB_COMPLETION_INDEX is not set"), "{e}");
        let e = seg(&args(None, Some(4)), &[("JOB_COMPLETION_INDEX", "4")]).unwrap_err();
        assert!(e.contains("5/4 does not exist"), "{e}");
        let e = seg(&args(Some("0/4"), None), &[]).unwrap_err();
        assert!(e.starts_with("--segment:"), "{e}");
        let e = seg(&args(None, None), &[("PERFGATE_SEGMENT", "x")]).unwrap_err();
        assert!(e.starts_with("PERFGATE_SEGMENT:"), "{e}");
    }

    #[test]
    fn start_at_is_an_instant_or_a_delay_and_names_the_run() {
        let at = parse_start_at("2026-11-23T10:00:00+01:00", now()).unwrap();
        assert_eq!(at, now());
        assert_eq!(
            parse_start_at("+10s", now()).unwrap(),
            now() + chrono::Duration::seconds(10)
        );
        let e = parse_start_at("tomorrow", now()).unwrap_err();
        assert!(e.contains("RFC 3339"), "{e}");
        assert!(parse_start_at("+10", now()).is_err());

        let a = DistributedArgs {
            start_at: Some("2026-11-23T09:00:00Z".into()),
            ..DistributedArgs::default()
        };
        let d = a.resolve("0123456789abcdef", env(&[]), now()).unwrap();
        assert_eq!(
            d.run_id.as_deref(),
            Some("0123456789ab-20261123T090000.000Z")
        );
        // Two generators started apart agree on the id; another start instant does not.
        let later = now() + chrono::Duration::seconds(3);
        assert_eq!(
            a.resolve("0123456789abcdef", env(&[]), later)
                .unwrap()
                .run_id,
            d.run_id
        );
        assert_eq!(
            DistributedArgs::default()
                .resolve("h", env(&[]), now())
                .unwrap()
                .run_id,
            None
        );

        let named = DistributedArgs {
            run_id: Some("nightly-42".into()),
            ..a.clone()
        };
        assert_eq!(
            named
                .resolve("h", env(&[]), now())
                .unwrap()
                .run_id
                .as_deref(),
            Some("nightly-42")
        );
        let bad = DistributedArgs {
            run_id: Some("a+b".into()),
            ..a
        };
        assert!(bad.resolve("h", env(&[]), now()).is_err());
    }

    #[test]
    fn a_generator_past_the_start_says_by_how_much() {
        let at = now();
        assert_eq!(
            until_start(at, at - chrono::Duration::milliseconds(1500)),
            Ok(Duration::from_millis(1500))
        );
        let late = until_start(at, at + chrono::Duration::milliseconds(2310)).unwrap_err();
        assert_eq!(late.late, "2.31 s");
        assert!(late
            .to_string()
            .starts_with("started 2.31 s after --start-at 2026-11-23T09:00:00.000Z"));
    }
}
