//! What a comparison can see: the run-to-run allowance of a baseline taken over several runs,
//! and the smallest change the window test could detect with this sample (its power).
//!
//! # The run is the unit of replication
//!
//! Per-second windows of one run share that run's conditions (a neighbour's CPU steal, the
//! CPU frequency, where the allocator put things), so their spread understates how much a
//! whole run can move. A baseline therefore keeps each of its runs' values, and a metric is
//! called regressed only when the new run lies beyond what those runs vary by: past the
//! worst baseline run (in the bad direction) by more than half the runs' range, all relative
//! to their median ([`run_margin`]). With three runs a prediction interval from a standard
//! deviation would be almost arbitrary (three points estimate a spread badly, and one slow run
//! dominates it); the range rule is robust, needs no distribution, and grows with the noise the
//! baseline actually saw. A new run of an unchanged system lands past the worst of 3 runs
//! about 1 time in 4; the half-range margin, the tolerance and the window test must all agree
//! before a regression is called, which is what keeps false alarms rare.
//!
//! # Power
//!
//! For the window test (Mann–Whitney U over windows), the smallest shift it detects with 80 %
//! power at level α/m (m compared metrics: the Holm adjustment's worst case) is about
//! `(z₁₋α/2m + z₀.₈) · σ · √(1/n₁ + 1/n₂) · √(π/3)`, σ the pooled per-window standard
//! deviation and √(π/3) the test's efficiency against a t-test on normal data. Below a few
//! windows a side no outcome reaches the level at all (complete separation still gives too
//! large a p-value): then nothing can be detected.

use super::stats::normal_sf;

/// Power of the test the comparison is asked to detect with.
const POWER: f64 = 0.8;

/// The allowance for run-to-run variation of a metric, in the unit of `change` (percent, or
/// percentage points when `points`), in the bad direction: how far past the baseline runs'
/// median a new run must be before it lies outside what those runs vary by. `None` with
/// fewer than two runs (the spread is unknown).
pub(crate) fn run_margin(values: &[f64], higher_is_bad: bool, points: bool) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.len() < 2 {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    let dev = |x: f64| {
        if points {
            (x - median) * 100.0
        } else {
            (x - median) / median.abs().max(1e-3) * 100.0
        }
    };
    let (lo, hi) = (dev(v[0]), dev(v[n - 1]));
    let worst = if higher_is_bad { hi } else { -lo };
    Some(worst.max(0.0) + (hi - lo) / 2.0)
}

/// The smallest p-value the two-sided Mann–Whitney test can give with `n1` and `n2` values
/// (complete separation, normal approximation with continuity correction).
fn min_p(n1: usize, n2: usize) -> f64 {
    let (a, b) = (n1 as f64, n2 as f64);
    let z = (a * b / 2.0 - 0.5) / (a * b * (a + b + 1.0) / 12.0).sqrt();
    2.0 * normal_sf(z)
}

/// The standard normal quantile (inverse of the lower tail), by bisection: exact enough for a
/// power statement.
fn normal_quantile(p: f64) -> f64 {
    let (mut lo, mut hi) = (-10.0_f64, 10.0_f64);
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if 1.0 - normal_sf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// What the window test can see for one metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct WindowPower {
    /// The smallest detectable change (unit of `change`); `None` when no outcome of the test
    /// can reach the level with these sample sizes.
    pub detectable: Option<f64>,
    /// Windows of the current run needed to detect `target` (with this baseline), `None` when
    /// no run length would do.
    pub needed: Option<usize>,
}

/// The power of the window test between `base` and `cur` window values at level `alpha`
/// (already divided by the number of tests). `per_unit` turns a difference of window values
/// into the unit of `change` (100 / baseline for percent, 100 for percentage points).
pub(crate) fn window_power(
    base: &[f64],
    cur: &[f64],
    per_unit: f64,
    alpha: f64,
    target: f64,
) -> WindowPower {
    let a: Vec<f64> = base.iter().copied().filter(|v| v.is_finite()).collect();
    let b: Vec<f64> = cur.iter().copied().filter(|v| v.is_finite()).collect();
    let (n1, n2) = (a.len(), b.len());
    let k = (normal_quantile(1.0 - alpha / 2.0) + normal_quantile(POWER))
        * (std::f64::consts::PI / 3.0).sqrt();
    let ss = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len().max(1) as f64;
        v.iter().map(|x| (x - m).powi(2)).sum::<f64>()
    };
    let sd = if n1 + n2 > 2 {
        ((ss(&a) + ss(&b)) / (n1 + n2 - 2) as f64).sqrt()
    } else {
        f64::NAN
    };
    let spread = k * sd * per_unit.abs();
    let mde = |n2: usize| spread * (1.0 / n1 as f64 + 1.0 / n2 as f64).sqrt();
    let reachable = |n2: usize| n1 >= 3 && n2 >= 3 && min_p(n1, n2) < alpha;
    let detectable = (reachable(n2) && sd.is_finite()).then(|| mde(n2));
    // The shortest current run that would do, up to an hour of windows.
    let needed = if sd.is_finite() {
        (3..=3600).find(|&n| reachable(n) && mde(n) <= target)
    } else {
        None
    };
    WindowPower { detectable, needed }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_invert_the_tail() {
        assert!((normal_quantile(0.975) - 1.959_964).abs() < 1e-4);
        assert!((normal_quantile(0.8) - 0.841_621).abs() < 1e-4);
    }

    #[test]
    fn one_slow_run_widens_the_margin_the_bad_way() {
        // Runs at 100, 100, 130 ms: the worst run is +30 %, the range 30 %.
        let m = run_margin(&[100.0, 130.0, 100.0], true, false).unwrap();
        assert!((m - 45.0).abs() < 1e-9, "{m}");
        // For throughput (lower is bad) the slow run is the high one: it does not count as bad.
        let m = run_margin(&[100.0, 130.0, 100.0], false, false).unwrap();
        assert!((m - 15.0).abs() < 1e-9, "{m}");
        // Tight runs leave a tight margin; one run knows no spread.
        assert!(run_margin(&[100.0, 101.0, 99.0], true, false).unwrap() < 2.1);
        assert_eq!(run_margin(&[100.0], true, false), None);
        // Error rate in points: 0.1 % → 0.3 % spread.
        let m = run_margin(&[0.001, 0.003, 0.002], true, true).unwrap();
        assert!((m - 0.2).abs() < 1e-9, "{m}");
    }

    #[test]
    fn five_windows_a_side_detect_nothing_at_twenty_one_tests() {
        let a = [100.0, 102.0, 98.0, 101.0, 99.0];
        // α = 0.05 / 21: complete separation of 5 and 5 gives p ≈ 0.012, too large.
        let p = window_power(&a, &a, 1.0, 0.05 / 21.0, 10.0);
        assert_eq!(p.detectable, None);
        // 15 baseline windows (three runs) make it reachable.
        let b: Vec<f64> = (0..15).map(|i| a[i % 5]).collect();
        let p = window_power(&b, &a, 1.0, 0.05 / 21.0, 10.0);
        assert!(p.detectable.is_some());
    }

    #[test]
    fn the_detectable_change_of_a_known_case() {
        // σ = 10 (values ±10 around 100 alternate), 30 windows a side, α = 0.05:
        // (1.96 + 0.84) · 1.023 · 10 · √(2/30) = 7.40 %.
        let a: Vec<f64> = (0..30)
            .map(|i| if i % 2 == 0 { 90.0 } else { 110.0 })
            .collect();
        let s = (2.0 * a.iter().map(|x| (x - 100.0f64).powi(2)).sum::<f64>() / 58.0).sqrt();
        let p = window_power(&a, &a, 1.0, 0.05, 10.0);
        let d = p.detectable.unwrap();
        let want = 2.8016 * (std::f64::consts::PI / 3.0).sqrt() * s * (2.0f64 / 30.0).sqrt();
        assert!((d - want).abs() < 0.01, "{d} vs {want}");
        assert!((d - 7.5).abs() < 0.2, "{d}");
        // 10 % needs fewer windows than 30 with this baseline; 1 % cannot be reached with 30
        // baseline windows at any length.
        let n = p.needed.unwrap();
        assert!((10..30).contains(&n), "{n}");
        assert_eq!(window_power(&a, &a, 1.0, 0.05, 1.0).needed, None);
    }
}
