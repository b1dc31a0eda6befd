//! Live progress on a terminal (indicatif): stage, elapsed of total, current requests per
//! second, p99 and errors, updated once per closed window. Hidden when stderr is not a TTY or
//! with `--quiet`.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::WindowHook;
use crate::result::Window;

/// A progress bar over the run's total length, and the hook that feeds it.
pub fn progress(
    total: Duration,
    stages: usize,
    unit: &'static str,
    enabled: bool,
) -> (ProgressBar, WindowHook) {
    let target = if enabled {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(total.as_secs().max(1)), target);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len}s  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let b = bar.clone();
    let hook: WindowHook = Box::new(move |w: &Window| {
        b.set_position(w.t_s as u64 + 1);
        b.set_message(describe(w, stages, unit));
    });
    (bar, hook)
}

fn describe(w: &Window, stages: usize, unit: &str) -> String {
    let stage = match w.stage {
        Some(i) => format!("stage {}/{stages}", i + 1),
        None => "warm-up".to_string(),
    };
    format!(
        "{stage} · {} {unit} · {:.0} req/s · p99 {:.1} ms · errors {}",
        w.active, w.throughput_rps, w.p99_ms, w.errors
    )
}
