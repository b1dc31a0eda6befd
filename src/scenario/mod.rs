//! Scenario files: the serde model, `${ENV}` interpolation, validation with
//! file:line:column diagnostics, and the presets that turn a kind into stages.
//! The output is a [`Plan`]; this module knows nothing of the engine.

pub(crate) mod base_url;
pub(crate) mod diag;
mod interp;
mod model;
mod monitor_spec;
pub(crate) mod params;
pub(crate) mod plan;
pub(crate) mod presets;
mod schema;
pub(crate) mod secrets;
mod threshold;
pub mod units;
mod validate;

use std::path::Path;

use sha2::{Digest, Sha256};

pub use diag::ScenarioError;
pub(crate) use params::FunctionCatalog;
pub use params::{ParamKind, ParamSpec};
pub use plan::*;
pub(crate) use schema::json_schema;

/// The editor modeline a scenario may start with (`# yaml-language-server: $schema=...`).
const MODELINE: &str = "# yaml-language-server:";

/// Reads, interpolates (from the process environment), parses and validates a scenario file.
/// `functions` are the names of the registered in-process functions (their params unchecked).
#[cfg(test)]
pub(crate) fn load(path: &Path, functions: &[&str]) -> Result<Plan, ScenarioError> {
    load_with(path, functions)
}

/// [`load`] with a catalog of functions that may declare their params (a `Registry`).
pub(crate) fn load_with<C: FunctionCatalog + ?Sized>(
    path: &Path,
    functions: &C,
) -> Result<Plan, ScenarioError> {
    let bytes = std::fs::read(path).map_err(|e| {
        ScenarioError::whole_file(
            path,
            format!("cannot read the scenario file: {e}"),
            Some("check the path; scenarios ship in `scenarios/`".into()),
        )
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| ScenarioError::whole_file(path, "the file is not UTF-8 text", None))?;
    parse_with(&text, path, functions, |name| std::env::var(name).ok())
}

/// Parses scenario `text` as if read from `path`, taking `${VAR}` values from `env`.
pub fn parse(
    text: &str,
    path: &Path,
    functions: &[&str],
    env: impl Fn(&str) -> Option<String>,
) -> Result<Plan, ScenarioError> {
    parse_with(text, path, functions, env)
}

/// [`parse`] with a catalog of functions that may declare their params.
pub fn parse_with<C: FunctionCatalog + ?Sized>(
    text: &str,
    path: &Path,
    functions: &C,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Plan, ScenarioError> {
    // A UTF-8 byte-order mark (editors on Windows write one) is not part of the YAML.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let hash = hex(&Sha256::digest(without_modeline(text).as_bytes()));
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
        let mut d = ScenarioError::from_yaml(path, &e, &interpolated.text);
        d.column = column_map(d.line, d.column);
        d.message = secrets.redact(&d.message);
        d
    })?;
    refuse_interpolated_names(text, path)?;
    let names = functions.function_names();
    let params = |name: &str| functions.declared_params(name);
    let ctx = validate::Context {
        file: path,
        text: &interpolated.text,
        column_map: &column_map,
        functions: &names,
        params: &params,
        hash,
        secrets,
    };
    validate::validate(raw, &ctx)
}

/// Applies a `--base-url` to `plan`, checked like `target.base_url`: returns the URL to
/// send to (credentials taken out), or the message and hint of the refusal. Credentials
/// become an `Authorization: Basic` header on every HTTP request and a secret.
pub(crate) fn apply_base_url(plan: &mut Plan, url: &str) -> Result<String, base_url::UrlProblem> {
    let checked = base_url::check(url, &|s| plan.secrets.redact(s))?;
    if let Some(auth) = &checked.authorization {
        for r in &mut plan.requests {
            if let Action::Http(h) = &mut r.action {
                if h.headers
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case("authorization"))
                {
                    return Err(base_url::UrlProblem {
                        message: format!(
                            "request `{}` sets `Authorization` and the URL has credentials",
                            r.name
                        ),
                        hint: "keep one: the `user:password@` in the URL, or the header".into(),
                    });
                }
                h.headers.insert(0, ("Authorization".into(), auth.clone()));
            }
        }
        plan.secrets = plan.secrets.with(checked.secrets.clone());
    }
    plan.target.base_url = Some(BaseUrl::Url(checked.url.clone()));
    Ok(checked.url)
}

/// Stands in for every `${…}` to find which fields were interpolated.
const MARK: &str = "perfgate-interpolated-value";

/// Names (of the scenario and of its requests) and thresholds may not come from `${VAR}`:
/// names become folder names and are printed everywhere, thresholds are printed in every
/// report, so a value from the environment would leak (or a secret would be redacted into
/// `***` in a path).
fn refuse_interpolated_names(text: &str, path: &Path) -> Result<(), ScenarioError> {
    use diag::Seg;
    if !text.contains("${") {
        return Ok(());
    }
    let Ok(marked) = interp::interpolate(text, |_| Some(MARK.to_string())) else {
        return Ok(());
    };
    let Ok(doc) = serde_yaml::from_str::<serde_yaml::Value>(&marked.text) else {
        return Ok(());
    };
    let has_mark = |v: Option<&serde_yaml::Value>| {
        v.and_then(serde_yaml::Value::as_str)
            .is_some_and(|s| s.contains(MARK))
    };
    let key = |s: &str| Seg::Key(s.to_string());
    let mut found: Option<(Vec<Seg>, &str)> = None;
    if has_mark(doc.get("name")) {
        found = Some((vec![key("name")], "name"));
    }
    if let Some(list) = doc.get("requests").and_then(|r| r.as_sequence()) {
        for (i, r) in list.iter().enumerate() {
            if found.is_none() && has_mark(r.get("name")) {
                found = Some((vec![key("requests"), Seg::Index(i), key("name")], "name"));
            }
        }
    }
    if let Some(list) = doc.get("thresholds").and_then(|r| r.as_sequence()) {
        // A budget (a map) is checked whole: its key and every level.
        let budget_mark = |t: &serde_yaml::Value| {
            t.is_mapping() && serde_yaml::to_string(t).is_ok_and(|text| text.contains(MARK))
        };
        for (i, t) in list.iter().enumerate() {
            if found.is_none() && (has_mark(Some(t)) || budget_mark(t)) {
                found = Some((vec![key("thresholds"), Seg::Index(i)], "threshold"));
            }
        }
    }
    let Some((at, what)) = found else {
        return Ok(());
    };
    let (line, col) = diag::locate(&marked.text, &at);
    let (message, hint) = if what == "name" {
        (
            "a name cannot use `${…}`",
            "names become folder names and are printed in every report, so a value from the environment would leak there; write the name in the file",
        )
    } else {
        (
            "a threshold cannot use `${…}`",
            "thresholds are printed in every report, so a value from the environment would leak there; write the limit in the file",
        )
    };
    Err(ScenarioError {
        file: path.to_path_buf(),
        line,
        column: marked.original_column(line, col),
        field: diag::path_string(&at),
        message: message.into(),
        hint: Some(hint.into()),
    })
}

/// The text a scenario's hash covers: all of it but a first-line editor modeline, which says
/// nothing about the run (adding it must not mark baselines as taken on another scenario).
fn without_modeline(text: &str) -> &str {
    if text.starts_with(MODELINE) {
        text.split_once('\n').map(|(_, rest)| rest).unwrap_or("")
    } else {
        text
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A human description of the plan's load shape, for `perfgate validate --explain`.
pub(crate) fn explain(plan: &Plan) -> String {
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
        let ramp = if st.ramp.is_zero() {
            String::new()
        } else {
            format!(", reached over {}", units::format_duration(st.ramp))
        };
        let _ = writeln!(
            s,
            "  stage {i}  {:>8} → {:>8}  {} {unit}{ramp}{}",
            units::format_duration(at),
            units::format_duration(end),
            st.level,
            match plan.stage_names.get(i).and_then(Option::as_deref) {
                Some(name) => format!("  (stage:{name})"),
                None => String::new(),
            }
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
    let watched: Vec<String> = plan.monitor.iter().map(MonitorTarget::label).collect();
    if !watched.is_empty() {
        let _ = writeln!(
            s,
            "  monitor {} (memory and CPU each second)",
            watched.join(", ")
        );
    } else if !plan.uses_http() {
        let _ = writeln!(s, "  monitor perfgate's own process (in-process calls)");
    }
    match plan.threshold_origin {
        ThresholdOrigin::Scenario => {
            for t in &plan.thresholds {
                let _ = writeln!(s, "  threshold {}{}", t.expr, threshold_extras(t));
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
    if let Some(d) = plan.abort_when_unreachable.filter(|_| plan.uses_http()) {
        let _ = writeln!(
            s,
            "  abort: when no connection to the target can be made for {} (target.abort_when_unreachable; `off` keeps running)",
            units::format_duration(d)
        );
    }
    let _ = writeln!(
        s,
        "  guard: a run in which no request succeeded fails (always, whatever the thresholds)"
    );
    s
}

/// What a budget adds to its threshold's line: ` (warn 200ms, target 150ms, KPI, abort: true
/// after 10s)`; empty for the short form.
fn threshold_extras(t: &Threshold) -> String {
    let value = |v: f64| match t.metric.unit() {
        "ms" => units::format_duration(std::time::Duration::from_secs_f64(v / 1e3)),
        "ratio" => format!("{}%", v * 100.0),
        "rps" => format!("{v}/s"),
        _ => format!("{v}"),
    };
    let mut parts = Vec::new();
    if let Some(w) = t.levels.warn {
        parts.push(format!("warn {}", value(w)));
    }
    if let Some(g) = t.levels.target {
        parts.push(format!("target {}", value(g)));
    }
    if t.levels.kpi {
        parts.push("KPI".to_string());
    }
    match t.abort {
        Some(after) if !after.is_zero() => parts.push(format!(
            "abort: true, judged per second after {}",
            units::format_duration(after)
        )),
        Some(_) => parts.push("abort: true, judged per second".to_string()),
        None => {}
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_of(text: &str) -> String {
        parse(text, Path::new("t.yaml"), &["builtin.noop"], |_| None)
            .unwrap_or_else(|e| panic!("{e}"))
            .hash
    }

    #[test]
    fn explain_shows_ramps_and_what_is_watched() {
        let text = "name: t\nkind: load\ntarget: { base_url: 'http://127.0.0.1:9' }\n\
                    requests:\n  - { name: n, path: / }\nload:\n  stages:\n\
                    \x20   - { concurrency: 5, duration: 10s, ramp: 2s }\n\
                    monitor:\n  - process: api\n  - pid: 7\nthresholds:\n  - sut.cpu < 80%\n";
        let plan =
            parse(text, Path::new("t.yaml"), &[], |_| None).unwrap_or_else(|e| panic!("{e}"));
        let e = explain(&plan);
        assert!(
            e.contains("stage 0        0s →      10s  5 virtual users, reached over 2s"),
            "{e}"
        );
        assert!(e.contains("monitor process api, pid 7"), "{e}");
        assert!(e.contains("threshold sut.cpu < 80%"), "{e}");
        let inproc = "name: t\nkind: smoke\nrequests:\n  - { name: n, call: builtin.noop }\n";
        let plan = parse(inproc, Path::new("t.yaml"), &["builtin.noop"], |_| None).unwrap();
        assert!(explain(&plan).contains("monitor perfgate's own process"));
    }

    #[test]
    fn the_editor_modeline_is_not_part_of_the_hash_but_other_lines_are() {
        let body = "name: t\nkind: smoke\nrequests:\n  - { name: n, call: builtin.noop }\n";
        let with_modeline =
            format!("# yaml-language-server: $schema=./schema/scenario.schema.json\n{body}");
        assert_eq!(hash_of(&with_modeline), hash_of(body));
        assert_ne!(hash_of(&format!("# a comment\n{body}")), hash_of(body));
        assert_ne!(
            hash_of(&format!("{body}# yaml-language-server: x\n")),
            hash_of(body)
        );
    }

    /// The shipped scenarios start with the modeline; their shipped baselines must still say
    /// they were taken on the same scenario (no "scenario file changed" in comparisons).
    #[test]
    fn shipped_baselines_match_their_scenarios() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let registry = crate::client::Registry::with_builtins();
        let names = registry.names();
        let mut checked = 0;
        for entry in std::fs::read_dir(root.join("scenarios")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.starts_with(MODELINE), "{}", path.display());
            let plan = load(&path, &names).unwrap_or_else(|e| panic!("{e}"));
            // One file per testbed under `baselines/<name>/`; each was taken of this text.
            let dir = root.join("baselines").join(&plan.name);
            let mut files = 0;
            for entry in
                std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            {
                let baseline = entry.unwrap().path();
                let b: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(&baseline).unwrap()).unwrap();
                assert_eq!(
                    b["provenance"]["scenario_hash"].as_str(),
                    Some(plan.hash.as_str()),
                    "{}",
                    baseline.display()
                );
                files += 1;
            }
            assert!(files >= 1, "no baseline in {}", dir.display());
            checked += 1;
        }
        assert!(checked >= 6);
    }
}
