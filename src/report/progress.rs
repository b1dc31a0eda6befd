//! Live progress on a terminal (indicatif): stage, elapsed of total, current requests per
//! second, p99 and errors, updated once per closed window. The clock and the `n/Ns` counter
//! both read the closed windows, so they always agree. Hidden when stderr is not a TTY or
//! with `--quiet`.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use super::format as f;
use crate::result::Window;

/// Called with each closed window: the same type as the engine's `WindowHook`, named here so
/// that reports need nothing from the engine.
pub(crate) type WindowFeed = Box<dyn FnMut(&Window) + Send>;

/// A progress bar over the run's total length, and the hook that feeds it.
pub(crate) fn progress(
    total: Duration,
    stages: usize,
    unit: &'static str,
    enabled: bool,
) -> (ProgressBar, WindowFeed) {
    let target = if enabled {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(total.as_secs().max(1)), target);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{clock}] {bar:30} {pos}/{len}s  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            // The clock is the position (whole seconds of closed windows), read at each draw.
            .with_key(
                "clock",
                |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = w.write_str(&clock(state.pos()));
                },
            ),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let b = bar.clone();
    let hook: WindowFeed = Box::new(move |w: &Window| {
        b.set_position(w.t_s as u64 + 1);
        b.set_message(describe(w, stages, unit));
    });
    (bar, hook)
}

/// `hh:mm:ss` of `s` seconds (indicatif's `elapsed_precise` format).
fn clock(s: u64) -> String {
    format!("{:02}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60)
}

fn describe(w: &Window, stages: usize, unit: &str) -> String {
    let stage = match w.stage {
        Some(i) => format!("stage {}/{stages}", i + 1),
        None => "warm-up".to_string(),
    };
    let p99 = if w.requests > w.errors {
        f::ms(w.p99_ms)
    } else {
        f::NA.to_string()
    };
    format!(
        "{stage} · {} · {} · p99 {p99} · errors {}",
        f::level_of(w.active, unit),
        f::rps(w.throughput_rps),
        f::count(w.errors)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_virtual_user_reads_in_the_singular_and_units_fit() {
        let w = Window {
            t_s: 4.0,
            stage: Some(0),
            active: 1.0,
            requests: 12_000,
            throughput_rps: 12_000.0,
            p99_ms: 0.042,
            errors: 1_500,
            ..Window::default()
        };
        assert_eq!(
            describe(&w, 2, "VUs"),
            "stage 1/2 · 1 VU · 12,000/s · p99 42.0µs · errors 1,500"
        );
        assert_eq!(clock(3725), "01:02:05");
    }
}
