//! Scenario files: the serde model, `${ENV}` interpolation, validation with
//! file:line:column diagnostics, and the presets that turn a kind into stages.
//! The output is a [`Plan`]; this module knows nothing of the engine.

pub mod diag;
mod interp;
mod model;
pub mod plan;
pub mod presets;
pub mod secrets;
mod threshold;
pub mod units;
mod validate;

use std::path::Path;

use sha2::{Digest, Sha256};

pub use diag::ScenarioError;
pub use plan::*;
pub use secrets::Secrets;

/// Reads, interpolates (from the process environment), parses and validates a scenario file.
/// `functions` are the names of the registered in-process functions.
pub fn load(path: &Path, functions: &[&str]) -> Result<Plan, ScenarioError> {
    let bytes = std::fs::read(path).map_err(|e| {
        ScenarioError::whole_file(
            path,
            format!("cannot read the scenario file: {e}"),
            Some("check the path; scenarios ship in `scenarios/`".into()),
        )
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| ScenarioError::whole_file(path, "the file is not UTF-8 text", None))?;
    parse(&text, path, functions, |name| std::env::var(name).ok())
}

/// Parses scenario `text` as if read from `path`, taking `${VAR}` values from `env`.
pub fn parse(
    text: &str,
    path: &Path,
    functions: &[&str],
    env: impl Fn(&str) -> Option<String>,
) -> Result<Plan, ScenarioError> {
    let hash = hex(&Sha256::digest(text.as_bytes()));
    let interpolated = interp::interpolate(text, env).map_err(|m| ScenarioError {
        file: path.to_path_buf(),
        line: m.line,
        column: m.column,
        field: String::new(),
        message: format!("environment variable `{}` is not set", m.name),
        hint: Some(format!(
            "export {} before running, or give a default: `${{{}:-value}}`",
            m.name, m.name
        )),
    })?;
    let secrets = interpolated.secrets.clone();
    let column_map = |line: usize, col: usize| interpolated.original_column(line, col);
    let raw: model::RawScenario = serde_yaml::from_str(&interpolated.text).map_err(|e| {
        let mut d = ScenarioError::from_yaml(path, &e);
        d.column = column_map(d.line, d.column);
        d.message = secrets.redact(&d.message);
        d
    })?;
    let ctx = validate::Context {
        file: path,
        text: &interpolated.text,
        column_map: &column_map,
        functions,
        hash,
        secrets,
    };
    validate::validate(raw, &ctx)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A human description of the plan's load shape, for `perfgate validate --explain`.
pub fn explain(plan: &Plan) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let (unit, model) = match plan.load.model {
        Model::Closed { think_time } => (
            "virtual users",
            format!(
                "closed model, think time {}",
                units::format_duration(think_time)
            ),
        ),
        Model::Open { max_in_flight } => (
            "arrivals/s",
            format!("open model, max {max_in_flight} in flight"),
        ),
    };
    let _ = writeln!(
        s,
        "{} ({}): {}, {} stage(s){}, {} in all",
        plan.name,
        plan.kind.name(),
        model,
        plan.load.stages.len(),
        if plan.load.from_preset {
            " from the preset"
        } else {
            ""
        },
        units::format_duration(plan.load.total_duration())
    );
    let mut at = std::time::Duration::ZERO;
    if !plan.load.warmup.is_zero() {
        let first = plan.load.stages.first().map(|s| s.level).unwrap_or(0.0);
        let _ = writeln!(
            s,
            "  warm-up  {:>8} → {:>8}  {first} {unit} (not measured)",
            units::format_duration(at),
            units::format_duration(plan.load.warmup)
        );
        at = plan.load.warmup;
    }
    for (i, st) in plan.load.stages.iter().enumerate() {
        let end = at + st.duration;
        let _ = writeln!(
            s,
            "  stage {i}  {:>8} → {:>8}  {} {unit}",
            units::format_duration(at),
            units::format_duration(end),
            st.level
        );
        at = end;
    }
    for r in &plan.requests {
        let what = match &r.action {
            Action::Http(h) => format!("{} {}", h.method, plan.secrets.redact(&h.path)),
            Action::Call(c) => format!("call {}", c.function),
        };
        let _ = writeln!(s, "  request {} (weight {}): {what}", r.name, r.weight);
    }
    match plan.threshold_origin {
        ThresholdOrigin::Scenario => {
            for t in &plan.thresholds {
                let _ = writeln!(s, "  threshold {}", t.expr);
            }
        }
        ThresholdOrigin::Defaults => {
            if plan.thresholds.is_empty() {
                let _ = writeln!(
                    s,
                    "  thresholds: none by default for a {} run",
                    plan.kind.name()
                );
            }
            for t in &plan.thresholds {
                let _ = writeln!(
                    s,
                    "  threshold {} (default for {}; listing thresholds replaces it)",
                    t.expr,
                    plan.kind.name()
                );
            }
        }
        ThresholdOrigin::OptedOut => {
            let _ = writeln!(
                s,
                "  warning: `thresholds: []` opts out of the default thresholds"
            );
        }
    }
    let _ = writeln!(
        s,
        "  guard: a run in which no request succeeded fails (always, whatever the thresholds)"
    );
    s
}
