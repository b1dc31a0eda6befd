//! The small value grammars of a scenario file: durations (`500ms`, `30s`, `2m`, `1h`),
//! rates (`200/s`, `1000/m`), percentages (`1%`) and baseline tolerances (`10%`, `0.5pp`).
//! Each parser returns a message that says what was expected, for the diagnostic.

use std::fmt;
use std::time::Duration;

/// Parses `500ms`, `30s`, `1.5s`, `2m`, `1h`, `250us`. A bare number is refused: the unit
/// is part of the value.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("`{t}` has no unit: write e.g. `{t}s` or `{t}ms`"))?;
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| {
        format!("`{t}` is not a duration: expected e.g. `500ms`, `30s`, `2m`, `1h`")
    })?;
    let secs = match unit.trim() {
        "us" | "µs" => n / 1e6,
        "ms" => n / 1e3,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        other => {
            return Err(format!(
                "`{t}`: unknown unit `{other}`; use us, ms, s, m or h (e.g. `500ms`, `30s`, `2m`)"
            ))
        }
    };
    if !secs.is_finite() || secs > 86_400.0 * 7.0 {
        return Err(format!("`{t}` is out of range (at most 7 days)"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Formats a duration the way a scenario would write it.
pub(crate) fn format_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms == 0.0 {
        "0s".into()
    } else if ms < 1000.0 || (ms % 1000.0) != 0.0 && ms < 60_000.0 {
        format!("{}ms", trim_float(ms))
    } else if ms % 3_600_000.0 == 0.0 {
        format!("{}h", ms / 3_600_000.0)
    } else if ms % 60_000.0 == 0.0 {
        format!("{}m", ms / 60_000.0)
    } else {
        format!("{}s", trim_float(ms / 1e3))
    }
}

fn trim_float(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Parses `200/s`, `1000/m`, `3600/h` into arrivals per second.
pub(crate) fn parse_rate(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, unit) = t
        .split_once('/')
        .ok_or_else(|| format!("`{t}` is not a rate: expected e.g. `200/s` or `1000/m`"))?;
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{t}` is not a rate: expected e.g. `200/s` or `1000/m`"))?;
    let per_s = match unit.trim() {
        "s" => n,
        "m" => n / 60.0,
        "h" => n / 3600.0,
        other => {
            return Err(format!(
                "`{t}`: unknown rate unit `/{other}`; use /s, /m or /h"
            ))
        }
    };
    if !per_s.is_finite() || per_s <= 0.0 {
        return Err(format!("`{t}`: a rate must be greater than zero"));
    }
    Ok(per_s)
}

/// Parses `1%` or `0.5%` into a fraction (0.01, 0.005).
pub(crate) fn parse_percent(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let num = t
        .strip_suffix('%')
        .ok_or_else(|| format!("`{t}` is not a percentage: expected e.g. `1%`"))?;
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{t}` is not a percentage: expected e.g. `1%`"))?;
    if !(0.0..=100.0).contains(&n) {
        return Err(format!("`{t}`: a percentage must be between 0% and 100%"));
    }
    Ok(n / 100.0)
}

/// Parses an amount of memory, `500MB`, `1.5GB`, `64KiB`, `1024B`, into bytes. `KB`, `MB`
/// and `GB` are powers of 1024, as `ps`, `top` and `free` show memory (`KiB`, `MiB`, `GiB`
/// say so explicitly).
pub(crate) fn parse_bytes(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let bad = || format!("`{t}` is not an amount of memory: expected e.g. `500MB`, `1.5GB`");
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(bad)?;
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| bad())?;
    let scale = match unit.trim().to_ascii_uppercase().as_str() {
        "B" => 1.0,
        "KB" | "KIB" => 1024.0,
        "MB" | "MIB" => 1024.0 * 1024.0,
        "GB" | "GIB" => 1024.0 * 1024.0 * 1024.0,
        "TB" | "TIB" => 1024.0f64.powi(4),
        _ => return Err(bad()),
    };
    Ok(n * scale)
}

/// The metrics a baseline tolerance can be set for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TolMetric {
    P50,
    P90,
    P95,
    P99,
    Mean,
    Throughput,
    ErrorRate,
    /// The watched system under test's resident memory (`monitor:`), mean of the windows.
    SutRss,
    /// Its CPU use, mean of the windows.
    SutCpu,
}

impl TolMetric {
    pub const ALL: [TolMetric; 9] = [
        TolMetric::P50,
        TolMetric::P90,
        TolMetric::P95,
        TolMetric::P99,
        TolMetric::Mean,
        TolMetric::Throughput,
        TolMetric::ErrorRate,
        TolMetric::SutRss,
        TolMetric::SutCpu,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            TolMetric::P50 => "p50",
            TolMetric::P90 => "p90",
            TolMetric::P95 => "p95",
            TolMetric::P99 => "p99",
            TolMetric::Mean => "mean",
            TolMetric::Throughput => "throughput",
            TolMetric::ErrorRate => "error_rate",
            TolMetric::SutRss => "sut.rss",
            TolMetric::SutCpu => "sut.cpu",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<TolMetric, String> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|m| m.name() == t)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|m| m.name()).collect();
                format!(
                    "unknown tolerance metric `{t}`{}; expected one of: {}",
                    did_you_mean(t, &names)
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default(),
                    names.join(", ")
                )
            })
    }

    /// Default when a scenario and the command line say nothing: latency +10 %,
    /// throughput −10 %, error rate +0.5 percentage points, the system under test's memory
    /// +10 % and CPU +20 % (a second's CPU is counted in clock ticks, 1 % of one CPU each:
    /// a lightly loaded server's share moves by more than 10 % from one tick).
    pub(crate) fn default_tolerance(self) -> TolValue {
        match self {
            TolMetric::ErrorRate => TolValue::Points(0.5),
            TolMetric::SutCpu => TolValue::Percent(20.0),
            _ => TolValue::Percent(10.0),
        }
    }
}

impl fmt::Display for TolMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A tolerance: relative (`10%`) for latency and throughput, absolute percentage points
/// (`0.5pp`) for the error rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TolValue {
    Percent(f64),
    Points(f64),
}

impl fmt::Display for TolValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TolValue::Percent(p) => write!(f, "{}%", trim_float(*p)),
            TolValue::Points(p) => write!(f, "{}pp", trim_float(*p)),
        }
    }
}

/// Parses the value of a tolerance for `metric`: `10%` everywhere, `0.5pp` for `error_rate`.
pub(crate) fn parse_tolerance(metric: TolMetric, s: &str) -> Result<TolValue, String> {
    let t = s.trim();
    if let Some(n) = t.strip_suffix("pp") {
        if metric != TolMetric::ErrorRate {
            return Err(format!(
                "`{t}`: percentage points (pp) apply to error_rate only; use a percentage such as `10%` for {metric}"
            ));
        }
        let v: f64 = n
            .trim()
            .parse()
            .map_err(|_| format!("`{t}` is not a tolerance: expected e.g. `0.5pp`"))?;
        if !(0.0..=100.0).contains(&v) {
            return Err(format!("`{t}`: must be between 0pp and 100pp"));
        }
        return Ok(TolValue::Points(v));
    }
    if let Some(n) = t.strip_suffix('%') {
        let v: f64 = n
            .trim()
            .parse()
            .map_err(|_| format!("`{t}` is not a tolerance: expected e.g. `10%`"))?;
        // Very wide tolerances are allowed: they keep a metric reported but out of the gate.
        if !(0.0..=1_000_000.0).contains(&v) {
            return Err(format!("`{t}`: must be between 0% and 1000000%"));
        }
        if metric == TolMetric::ErrorRate {
            // For the error rate, `1%` means one percentage point.
            return Ok(TolValue::Points(v));
        }
        return Ok(TolValue::Percent(v));
    }
    Err(format!(
        "`{t}` is not a tolerance: expected a percentage such as `10%`{}",
        if metric == TolMetric::ErrorRate {
            " or percentage points such as `0.5pp`"
        } else {
            ""
        }
    ))
}

/// Parses `p99=15%` (the command line's `--tolerance`).
pub(crate) fn parse_tolerance_pair(s: &str) -> Result<(TolMetric, TolValue), String> {
    let (m, v) = s.split_once('=').ok_or_else(|| {
        format!("`{s}` is not a tolerance: expected METRIC=VALUE, e.g. `p99=15%`")
    })?;
    let metric = TolMetric::parse(m)?;
    Ok((metric, parse_tolerance(metric, v)?))
}

/// The closest candidate to `word`, when one is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_every_unit() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("250us").unwrap(), Duration::from_micros(250));
    }

    #[test]
    fn bad_durations_say_what_was_expected() {
        assert!(parse_duration("30").unwrap_err().contains("no unit"));
        assert!(parse_duration("3x").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("abc").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-5s").is_err());
    }

    #[test]
    fn rates_per_second_and_minute() {
        assert_eq!(parse_rate("200/s").unwrap(), 200.0);
        assert_eq!(parse_rate("1200/m").unwrap(), 20.0);
        assert!(parse_rate("200").is_err());
        assert!(parse_rate("0/s").is_err());
        assert!(parse_rate("5/d").is_err());
    }

    #[test]
    fn percentages() {
        assert_eq!(parse_percent("1%").unwrap(), 0.01);
        assert_eq!(parse_percent("0.5%").unwrap(), 0.005);
        assert!(parse_percent("1").is_err());
        assert!(parse_percent("101%").is_err());
    }

    #[test]
    fn tolerances_know_their_metric() {
        assert_eq!(
            parse_tolerance_pair("p99=15%").unwrap(),
            (TolMetric::P99, TolValue::Percent(15.0))
        );
        assert_eq!(
            parse_tolerance_pair("error_rate=0.5pp").unwrap(),
            (TolMetric::ErrorRate, TolValue::Points(0.5))
        );
        assert!(parse_tolerance_pair("p99=0.5pp")
            .unwrap_err()
            .contains("error_rate only"));
        assert!(parse_tolerance_pair("p98=10%")
            .unwrap_err()
            .contains("unknown tolerance metric"));
        assert!(parse_tolerance_pair("p99").is_err());
        assert!(parse_tolerance_pair("p99=ten").is_err());
    }

    #[test]
    fn format_round_trips_common_durations() {
        for s in ["500ms", "30s", "2m", "1h", "1500ms"] {
            assert_eq!(format_duration(parse_duration(s).unwrap()), s);
        }
    }

    #[test]
    fn suggestions_for_typos() {
        assert_eq!(
            did_you_mean("threshols", &["thresholds", "target"]),
            Some("thresholds")
        );
        assert_eq!(did_you_mean("zzz", &["thresholds", "target"]), None);
    }
}
