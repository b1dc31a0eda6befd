//! What one request produced ([`Outcome`]), its error class, and [`ReqStats`]: the
//! histogram and counters of a set of requests, with the one merge function everything uses.

use std::borrow::Cow;
use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::result::{ClassTime, ErrorClass, ErrorCounts, Latency, Metrics};

/// The result of one request, as the target reports it.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// HTTP status, or 0 when there was no answer (or an in-process call).
    pub status: u16,
    pub bytes: u64,
    pub error: Option<ErrorClass>,
    /// Only set with an error.
    pub message: Option<Cow<'static, str>>,
    /// Set when this outcome is a retry (`target.retry_idempotent`): the failed first
    /// attempt, which is counted as a request of its own.
    pub retry_of: Option<Box<FirstAttempt>>,
}

/// The failed first attempt of a retried request.
#[derive(Debug, Clone)]
pub struct FirstAttempt {
    pub outcome: Outcome,
    /// How long the retry (the outcome that carries this) took, in µs: the first attempt's
    /// time is the whole time less this.
    pub retry_us: u64,
}

impl Outcome {
    pub fn ok(status: u16, bytes: u64) -> Self {
        Outcome {
            status,
            bytes,
            error: None,
            message: None,
            retry_of: None,
        }
    }

    pub fn error(class: ErrorClass, message: impl Into<Cow<'static, str>>) -> Self {
        Outcome {
            status: 0,
            bytes: 0,
            error: Some(class),
            message: Some(message.into()),
            retry_of: None,
        }
    }

    /// Whether a status code on this outcome stands for a complete, parsed answer: a
    /// success, an HTTP error status or a failed check. A transport failure (reset, timeout,
    /// protocol, ...) may carry the status of an answer it never finished: not counted.
    pub(crate) fn answered(&self) -> bool {
        self.status != 0
            && matches!(
                self.error,
                None | Some(ErrorClass::Http4xx)
                    | Some(ErrorClass::Http5xx)
                    | Some(ErrorClass::Check)
            )
    }
}

/// Largest latency recorded: 1 hour, in µs.
pub(super) const MAX_LATENCY_US: u64 = 3_600_000_000;

/// Histograms and counters for a set of requests. Every request is timed, from its start to
/// its outcome; successes and failures go to separate distributions, so a latency gate judges
/// answers, never the time it took to be refused.
#[derive(Debug, Clone)]
pub struct ReqStats {
    /// Latency of successful responses in µs, 3 significant digits, 1 µs to 1 h.
    /// Auto-resizing, so memory follows the largest latency seen rather than the full range.
    pub hist: Histogram<u64>,
    /// Time to failure of failed requests (every class), in µs. Made on the first failure,
    /// so a healthy run's stats carry one histogram, not two.
    pub failed: Option<Histogram<u64>>,
    /// Per class: sum and max of the time to failure, in µs (no histogram per class).
    pub fail_sum_us: [u64; 10],
    pub fail_max_us: [u64; 10],
    pub ok: u64,
    pub errors: [u64; 10],
    /// (status, count); a handful of distinct codes, scanned linearly.
    pub status: Vec<(u16, u64)>,
    pub bytes: u64,
    /// Requests that were retries of a failed first attempt.
    pub retries: u64,
}

fn new_hist() -> Histogram<u64> {
    let mut hist = Histogram::new(3).unwrap_or_else(|_| unreachable!("3 sigfig is valid"));
    hist.auto(true);
    hist
}

fn latency_of(h: &Histogram<u64>) -> Latency {
    if h.is_empty() {
        return Latency::default();
    }
    let q = |q: f64| h.value_at_quantile(q) as f64 / 1e3;
    Latency {
        min: h.min() as f64 / 1e3,
        mean: h.mean() / 1e3,
        p50: q(0.50),
        p90: q(0.90),
        p95: q(0.95),
        p99: q(0.99),
        p999: q(0.999),
        max: h.max() as f64 / 1e3,
        stdev: h.stdev() / 1e3,
    }
}

impl Default for ReqStats {
    fn default() -> Self {
        Self::new()
    }
}

impl ReqStats {
    pub fn new() -> Self {
        ReqStats {
            hist: new_hist(),
            failed: None,
            fail_sum_us: [0; 10],
            fail_max_us: [0; 10],
            ok: 0,
            errors: [0; 10],
            status: Vec::new(),
            bytes: 0,
            retries: 0,
        }
    }

    #[inline]
    pub fn record(&mut self, latency_us: u64, o: &Outcome) {
        if let Some(first) = &o.retry_of {
            // The first attempt is a request of its own; this outcome is the retry.
            self.record(latency_us.saturating_sub(first.retry_us), &first.outcome);
            self.retries += 1;
            return self.record_one(first.retry_us, o);
        }
        self.record_one(latency_us, o)
    }

    #[inline]
    pub(super) fn record_one(&mut self, latency_us: u64, o: &Outcome) {
        let us = latency_us.clamp(1, MAX_LATENCY_US);
        // Recording cannot fail: auto-resize is on and the value is clamped.
        match o.error {
            None => {
                self.ok += 1;
                let _ = self.hist.record(us);
            }
            Some(c) => {
                let i = c.index();
                self.errors[i] += 1;
                let _ = self.failed.get_or_insert_with(new_hist).record(us);
                self.fail_sum_us[i] = self.fail_sum_us[i].saturating_add(us);
                self.fail_max_us[i] = self.fail_max_us[i].max(us);
            }
        }
        if o.answered() {
            match self.status.iter_mut().find(|(s, _)| *s == o.status) {
                Some((_, n)) => *n += 1,
                None => self.status.push((o.status, 1)),
            }
        }
        self.bytes += o.bytes;
    }

    pub(crate) fn requests(&self) -> u64 {
        self.ok + self.error_count()
    }

    pub(crate) fn error_count(&self) -> u64 {
        self.errors.iter().sum()
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.requests() == 0
    }

    /// Adds `other` into `self`. The one merge every aggregation goes through.
    pub fn merge(&mut self, other: &ReqStats) {
        let _ = self.hist.add(&other.hist);
        if let Some(f) = other.failed.as_ref().filter(|f| !f.is_empty()) {
            let _ = self.failed.get_or_insert_with(new_hist).add(f);
        }
        for i in 0..self.fail_sum_us.len() {
            self.fail_sum_us[i] = self.fail_sum_us[i].saturating_add(other.fail_sum_us[i]);
            self.fail_max_us[i] = self.fail_max_us[i].max(other.fail_max_us[i]);
        }
        self.ok += other.ok;
        for (a, b) in self.errors.iter_mut().zip(other.errors.iter()) {
            *a += b;
        }
        for (code, n) in &other.status {
            match self.status.iter_mut().find(|(s, _)| s == code) {
                Some((_, m)) => *m += n,
                None => self.status.push((*code, *n)),
            }
        }
        self.bytes += other.bytes;
        self.retries += other.retries;
    }

    #[cfg(test)]
    pub(crate) fn reset(&mut self) {
        self.hist.reset();
        if let Some(f) = self.failed.as_mut() {
            f.reset();
        }
        self.fail_sum_us = [0; 10];
        self.fail_max_us = [0; 10];
        self.ok = 0;
        self.errors = [0; 10];
        self.status.clear();
        self.bytes = 0;
        self.retries = 0;
    }

    pub(crate) fn latency_ms(&self, q: f64) -> f64 {
        if self.hist.is_empty() {
            0.0
        } else {
            self.hist.value_at_quantile(q) as f64 / 1e3
        }
    }

    pub(crate) fn error_counts(&self) -> ErrorCounts {
        let e = &self.errors;
        ErrorCounts {
            connect: e[0],
            timeout: e[1],
            reset: e[2],
            tls: e[3],
            protocol: e[4],
            http_4xx: e[5],
            http_5xx: e[6],
            check: e[7],
            function: e[8],
            interrupted: e[9],
        }
    }

    /// Time to failure per class that occurred: (class name, mean and max in ms).
    pub(crate) fn failed_by_class(&self) -> BTreeMap<String, ClassTime> {
        ErrorClass::ALL
            .iter()
            .filter(|c| self.errors[c.index()] > 0)
            .map(|c| {
                let i = c.index();
                let time = ClassTime {
                    mean: self.fail_sum_us[i] as f64 / self.errors[i] as f64 / 1e3,
                    max: self.fail_max_us[i] as f64 / 1e3,
                };
                (c.name().to_string(), time)
            })
            .collect()
    }

    /// Summary metrics over `seconds` of wall time; `dropped` arrivals were never sent.
    pub(crate) fn summary(&self, seconds: f64, dropped: u64) -> Metrics {
        let requests = self.requests();
        let errors = self.error_count();
        let per_second = |n: u64| {
            if seconds > 0.0 {
                n as f64 / seconds
            } else {
                0.0
            }
        };
        let mut codes: Vec<_> = self.status.clone();
        codes.sort();
        Metrics {
            requests,
            ok: self.ok,
            errors,
            dropped,
            dropped_rate: if requests + dropped == 0 {
                0.0
            } else {
                dropped as f64 / (requests + dropped) as f64
            },
            retries: self.retries,
            error_rate: if requests == 0 {
                0.0
            } else {
                errors as f64 / requests as f64
            },
            throughput_rps: per_second(self.ok),
            attempted_rps: per_second(requests),
            latency_ms: latency_of(&self.hist),
            failed_latency_ms: self.failed.as_ref().map(latency_of).unwrap_or_default(),
            failed_by_class_ms: self.failed_by_class(),
            errors_by_class: self.error_counts(),
            status_codes: codes.into_iter().map(|(c, n)| (c.to_string(), n)).collect(),
            bytes_received: self.bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_latency_counts_and_classes() {
        let mut s = ReqStats::new();
        s.record(1_000, &Outcome::ok(200, 10));
        s.record(3_000, &Outcome::ok(200, 10));
        let mut e = Outcome::error(ErrorClass::Http5xx, "500");
        e.status = 500;
        s.record(2_000, &e);
        s.record(50, &Outcome::error(ErrorClass::Connect, "refused"));
        let m = s.summary(2.0, 0);
        assert_eq!((m.requests, m.ok, m.errors), (4, 2, 2));
        assert_eq!(m.errors_by_class.http_5xx, 1);
        assert_eq!(m.errors_by_class.connect, 1);
        assert_eq!(m.status_codes["200"], 2);
        assert_eq!(m.status_codes["500"], 1);
        assert_eq!(m.bytes_received, 20);
        // Throughput counts answers that succeeded; attempted counts every request.
        assert_eq!(m.throughput_rps, 1.0);
        assert_eq!(m.attempted_rps, 2.0);
        assert!((m.error_rate - 0.5).abs() < 1e-9);
        // Latency judges successful responses only.
        assert!((m.latency_ms.min - 1.0).abs() < 0.01);
        assert!((m.latency_ms.max - 3.0).abs() < 0.01);
        // Failures are timed too, in their own distribution and per class.
        assert!((m.failed_latency_ms.min - 0.05).abs() < 0.001);
        assert!((m.failed_latency_ms.max - 2.0).abs() < 0.01);
        assert!((m.failed_by_class_ms["connect"].mean - 0.05).abs() < 0.001);
        assert!((m.failed_by_class_ms["http_5xx"].max - 2.0).abs() < 0.001);
        assert_eq!(m.failed_by_class_ms.len(), 2);
    }

    #[test]
    fn a_run_where_everything_failed_has_no_success_latency() {
        let mut s = ReqStats::new();
        for _ in 0..10 {
            s.record(200_000, &Outcome::error(ErrorClass::Reset, "closed"));
        }
        let m = s.summary(1.0, 0);
        assert_eq!((m.ok, m.errors), (0, 10));
        assert_eq!(m.latency_ms, Latency::default());
        assert_eq!(m.throughput_rps, 0.0);
        assert_eq!(m.attempted_rps, 10.0);
        assert!(m.failed_latency_ms.p95 >= 199.0);
    }

    #[test]
    fn a_truncated_answer_counts_bytes_but_no_status() {
        let mut s = ReqStats::new();
        let mut cut = Outcome::error(ErrorClass::Reset, "connection closed mid-body");
        cut.status = 200;
        cut.bytes = 13;
        s.record(1_000, &cut);
        let mut checked = Outcome::error(ErrorClass::Check, "body");
        checked.status = 200;
        s.record(1_000, &checked);
        let m = s.summary(1.0, 0);
        assert_eq!(m.status_codes.get("200"), Some(&1));
        assert_eq!(m.bytes_received, 13);
    }

    #[test]
    fn dropped_rate_is_the_share_of_intended_arrivals_never_sent() {
        let mut s = ReqStats::new();
        for _ in 0..3 {
            s.record(1_000, &Outcome::ok(200, 0));
        }
        assert!((s.summary(1.0, 1).dropped_rate - 0.25).abs() < 1e-9);
        assert_eq!(ReqStats::new().summary(1.0, 0).dropped_rate, 0.0);
        assert_eq!(ReqStats::new().summary(1.0, 5).dropped_rate, 1.0);
    }

    #[test]
    fn a_retry_counts_the_failed_first_attempt_as_a_request_of_its_own() {
        let mut s = ReqStats::new();
        let mut retry = Outcome::ok(200, 2);
        retry.retry_of = Some(Box::new(FirstAttempt {
            outcome: Outcome::error(ErrorClass::Reset, "closed"),
            retry_us: 1_000,
        }));
        s.record(5_000, &retry);
        let m = s.summary(1.0, 0);
        assert_eq!((m.requests, m.ok, m.errors, m.retries), (2, 1, 1, 1));
        assert_eq!(m.errors_by_class.reset, 1);
        assert!((m.latency_ms.max - 1.0).abs() < 0.01, "{:?}", m.latency_ms);
        assert!((m.failed_latency_ms.max - 4.0).abs() < 0.01);
    }

    #[test]
    fn merge_adds_everything() {
        let mut a = ReqStats::new();
        let mut b = ReqStats::new();
        a.record(100, &Outcome::ok(200, 1));
        b.record(200_000, &Outcome::ok(201, 2));
        b.record(300, &Outcome::error(ErrorClass::Timeout, "t"));
        a.merge(&b);
        assert_eq!(a.requests(), 3);
        assert_eq!(a.hist.len(), 2);
        assert_eq!(a.failed.as_ref().map(|f| f.len()), Some(1));
        assert_eq!(a.fail_max_us[1], 300);
        assert_eq!(a.errors[1], 1);
        assert_eq!(a.bytes, 3);
        assert_eq!(a.status.len(), 2);
        a.reset();
        assert!(a.is_empty());
        assert!(a.hist.is_empty() && a.failed.as_ref().is_some_and(|f| f.is_empty()));
        assert!(ReqStats::new().failed.is_none());
        assert_eq!(a.fail_sum_us, [0; 10]);
    }

    #[test]
    fn huge_latencies_are_clamped_not_lost() {
        let mut s = ReqStats::new();
        s.record(u64::MAX / 2, &Outcome::ok(200, 0));
        assert_eq!(s.hist.len(), 1);
        assert!(s.latency_ms(1.0) >= 3_599_000.0);
    }
}
