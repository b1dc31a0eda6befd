//! The system under test's own numbers, judged: `sut.rss` (its peak resident memory over the
//! measured windows), `sut.rss_growth` (the last measured window's memory over the first
//! one's, minus 1) and `sut.cpu` (its mean CPU use over the measured windows, a share of the
//! machine). They come from the windows the monitor annotated (`metrics::monitor`); the
//! warm-up's windows are left out, as everywhere. No sample → no data → the threshold fails.

use crate::result::Window;
use crate::scenario::ThresholdMetric;

/// The measured windows' values of the system under test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SutSummary {
    /// Peak resident memory, bytes.
    pub rss_peak: f64,
    /// Last sampled window's memory over the first one's, minus 1.
    pub rss_growth: f64,
    /// Mean CPU use, a fraction of the machine's CPUs.
    pub cpu: f64,
}

/// The summary of the measured (not warm-up) windows; `None` when none was sampled.
pub(crate) fn summary(windows: &[Window]) -> Option<SutSummary> {
    let measured = || windows.iter().filter(|w| w.stage.is_some());
    let rss: Vec<f64> = measured()
        .filter_map(|w| w.sut_rss_bytes)
        .map(|b| b as f64)
        .collect();
    let cpu: Vec<f64> = measured().filter_map(|w| w.sut_cpu_pct).collect();
    let (first, last) = (rss.first()?, rss.last()?);
    Some(SutSummary {
        rss_peak: rss.iter().copied().fold(0.0, f64::max),
        rss_growth: if *first > 0.0 {
            last / first - 1.0
        } else {
            0.0
        },
        cpu: if cpu.is_empty() {
            f64::NAN
        } else {
            cpu.iter().sum::<f64>() / cpu.len() as f64 / 100.0
        },
    })
}

/// The measured windows' samples of the system under test, for the baseline comparison.
pub(crate) struct SutWindows {
    /// Resident memory per window, bytes.
    pub rss: Vec<f64>,
    /// CPU use per window, percent of the machine.
    pub cpu: Vec<f64>,
}

/// The measured windows' samples; `None` when none was sampled.
pub(crate) fn windows(ws: &[Window]) -> Option<SutWindows> {
    let measured = || ws.iter().filter(|w| w.stage.is_some());
    let rss: Vec<f64> = measured()
        .filter_map(|w| w.sut_rss_bytes)
        .map(|b| b as f64)
        .collect();
    if rss.is_empty() {
        return None;
    }
    Some(SutWindows {
        rss,
        cpu: measured().filter_map(|w| w.sut_cpu_pct).collect(),
    })
}

/// The observed value of a `sut.*` metric, or why there is none.
pub(crate) fn observe(metric: ThresholdMetric, windows: &[Window]) -> Result<f64, &'static str> {
    let s = summary(windows).ok_or(
        "the system under test was not sampled: no `monitor:`, or the monitor stopped (see warnings)",
    )?;
    let v = match metric {
        ThresholdMetric::SutRss => s.rss_peak,
        ThresholdMetric::SutRssGrowth => s.rss_growth,
        _ => s.cpu,
    };
    if v.is_finite() {
        Ok(v)
    } else {
        Err("no CPU sample of the system under test")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(stage: Option<usize>, rss_mb: Option<u64>, cpu: Option<f64>) -> Window {
        Window {
            stage,
            sut_rss_bytes: rss_mb.map(|m| m << 20),
            sut_cpu_pct: cpu,
            ..Window::default()
        }
    }

    #[test]
    fn growth_is_last_over_first_measured_window_and_cpu_the_mean() {
        let ws = [
            w(None, Some(10), Some(90.0)),
            w(Some(0), Some(100), Some(20.0)),
            w(Some(0), Some(130), Some(40.0)),
            w(Some(1), Some(110), None),
            w(Some(1), None, None),
        ];
        let s = summary(&ws).unwrap();
        assert_eq!(s.rss_peak, (130u64 << 20) as f64);
        assert!((s.rss_growth - 0.10).abs() < 1e-12);
        assert!((s.cpu - 0.30).abs() < 1e-12);
        assert_eq!(observe(ThresholdMetric::SutCpu, &ws), Ok(s.cpu));
    }

    #[test]
    fn no_sample_is_no_data_never_zero() {
        let ws = [w(Some(0), None, None), w(None, Some(5), Some(1.0))];
        assert!(summary(&ws).is_none());
        let why = observe(ThresholdMetric::SutRss, &ws).unwrap_err();
        assert!(why.contains("not sampled"), "{why}");
    }
}
