//! Raw serde model → validated [`Plan`]: every check that serde cannot do (ranges, names,
//! one-of fields, the preset expansion), each failure located in the file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use super::base_url;
use super::diag::{locate, path_string, ScenarioError, Seg};
use super::model::*;
use super::params::{self, ParamSpec};
use super::plan::*;
use super::presets;
use super::secrets::Secrets;
use super::threshold;
use super::units::{did_you_mean, parse_duration, parse_rate, parse_tolerance, TolMetric};

/// What validation needs to know besides the file.
pub(super) struct Context<'a> {
    pub file: &'a std::path::Path,
    /// The interpolated text (for locating fields).
    pub text: &'a str,
    /// Maps an interpolated column back to the file's.
    pub column_map: &'a dyn Fn(usize, usize) -> usize,
    /// Names of the in-process functions that exist.
    pub functions: &'a [&'a str],
    /// The declared params of a function (`None`: it declares none, unchecked).
    pub params: &'a dyn Fn(&str) -> Option<&'a [ParamSpec]>,
    pub hash: String,
    pub secrets: Secrets,
}

pub(super) const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Headers perfgate writes itself: a scenario value would disagree with the bytes sent
/// (a wrong `Content-Length` desyncs the connection), so they are refused.
const FRAMING_HEADERS: [&str; 4] = ["content-length", "transfer-encoding", "host", "connection"];

impl Context<'_> {
    pub(super) fn err(
        &self,
        path: &[Seg],
        message: impl Into<String>,
        hint: Option<String>,
    ) -> ScenarioError {
        let (line, col) = locate(self.text, path);
        ScenarioError {
            file: self.file.to_path_buf(),
            line,
            column: (self.column_map)(line, col),
            field: path_string(path),
            message: self.secrets.redact(&message.into()),
            hint: hint.map(|h| self.secrets.redact(&h)),
        }
    }
}

pub(super) fn k(s: &str) -> Seg {
    Seg::Key(s.to_string())
}

fn dur(ctx: &Context, path: &[Seg], s: &str) -> Result<Duration, ScenarioError> {
    parse_duration(s).map_err(|e| {
        ctx.err(
            path,
            e,
            Some("durations look like `500ms`, `30s`, `2m`, `1h`".into()),
        )
    })
}

pub(super) fn validate(raw: RawScenario, ctx: &Context) -> Result<Plan, ScenarioError> {
    let name = raw.name.trim().to_string();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err(ctx.err(
            &[k("name")],
            format!("`{name}` is not a valid scenario name"),
            Some(
                "use lowercase letters, digits, `-` and `_` only (it names the output folder)"
                    .into(),
            ),
        ));
    }
    let kind = match raw.kind {
        RawKind::Smoke => Kind::Smoke,
        RawKind::Load => Kind::Load,
        RawKind::Stress => Kind::Stress,
        RawKind::Spike => Kind::Spike,
        RawKind::Soak => Kind::Soak,
    };

    let raw_unreachable = raw
        .target
        .as_ref()
        .and_then(|t| t.abort_when_unreachable.clone());
    let (target, url_secrets) = validate_target(raw.target, ctx)?;
    let url_auth = !url_secrets.is_empty();
    let requests = validate_requests(raw.requests, &target, url_auth, ctx)?;
    if target.base_url.is_none() && requests.iter().any(|r| matches!(r.action, Action::Http(_))) {
        return Err(ctx.err(
            &[k("target")],
            "HTTP requests need `target.base_url`",
            Some("set `base_url: http://127.0.0.1:8080`, or `base_url: embedded` for the built-in demo server".into()),
        ));
    }
    let written_names = raw
        .load
        .as_ref()
        .and_then(|l| l.stages.as_ref())
        .map(|list| stage_names(list, ctx))
        .transpose()?;
    let load = validate_load(raw.load, kind, ctx)?;
    let stage_names = match written_names {
        Some(names) => names,
        None if load.from_preset => presets::stage_names(kind, load.stages.len()),
        None => vec![None; load.stages.len()],
    };

    let names: Vec<&str> = requests.iter().map(|r| r.name.as_str()).collect();
    let scope_names = threshold::Names {
        requests: &names,
        stages: &stage_names,
    };
    let mut thresholds = Vec::new();
    for (i, entry) in raw.thresholds.iter().flatten().enumerate() {
        let at = [k("thresholds"), Seg::Index(i)];
        let t = match entry {
            RawThreshold::Expr(expr) => {
                threshold::parse_in(expr, scope_names).map_err(|(m, h)| ctx.err(&at, m, h))?
            }
            RawThreshold::Budget(map) => {
                let mut entries = map.iter();
                let (Some((key, fields)), None) = (entries.next(), entries.next()) else {
                    return Err(ctx.err(
                        &at,
                        "a budget is a map with one key, the metric",
                        Some(
                            "e.g. `- p95: { warn: 200ms, fail: 250ms }`; one entry per metric"
                                .into(),
                        ),
                    ));
                };
                threshold::parse_budget(key, fields, scope_names).map_err(|p| {
                    let mut path = at.to_vec();
                    path.push(k(key));
                    if let Some(f) = &p.field {
                        path.push(k(f));
                    }
                    ctx.err(&path, p.message, p.hint)
                })?
            }
        };
        thresholds.push(t);
    }
    // No `thresholds:` key → the kind's defaults; `thresholds: []` → none at all.
    let threshold_origin = match &raw.thresholds {
        None => {
            thresholds = presets::default_thresholds(kind, load.model);
            thresholds.extend(presets::stress_stage_thresholds(
                kind,
                load.model,
                &stage_names,
            ));
            ThresholdOrigin::Defaults
        }
        Some(list) if list.is_empty() => ThresholdOrigin::OptedOut,
        Some(_) => ThresholdOrigin::Scenario,
    };
    let abort_when_unreachable = unreachable_limit(raw_unreachable.as_ref(), ctx)?;

    let baseline = validate_baseline(raw.baseline, ctx)?;
    let monitor = super::monitor_spec::validate(raw.monitor, ctx)?;
    let uses_http = requests.iter().any(|r| matches!(r.action, Action::Http(_)));
    super::monitor_spec::check_thresholds(&thresholds, &monitor, uses_http, ctx)?;
    Ok(Plan {
        name,
        kind,
        description: raw.description.map(|d| ctx.secrets.redact(&d)),
        file: ctx.file.to_path_buf(),
        hash: ctx.hash.clone(),
        target,
        requests,
        load,
        thresholds,
        threshold_origin,
        baseline,
        secrets: ctx.secrets.with(url_secrets),
        stage_names,
        abort_when_unreachable,
        monitor,
    })
}

/// The default of `target.abort_when_unreachable`.
pub(super) const UNREACHABLE_DEFAULT: Duration = Duration::from_secs(5);

/// `target.abort_when_unreachable`: a duration (default 5 s), or `false` / `off`.
fn unreachable_limit(
    raw: Option<&serde_yaml::Value>,
    ctx: &Context,
) -> Result<Option<Duration>, ScenarioError> {
    let path = [k("target"), k("abort_when_unreachable")];
    let hint = || Some("a duration such as `5s`, or `false` (or `off`) to keep running".into());
    match raw {
        None | Some(serde_yaml::Value::Null) => Ok(Some(UNREACHABLE_DEFAULT)),
        Some(serde_yaml::Value::Bool(false)) => Ok(None),
        Some(serde_yaml::Value::String(s)) if s.trim().eq_ignore_ascii_case("off") => Ok(None),
        Some(serde_yaml::Value::String(s)) => {
            let d = parse_duration(s).map_err(|e| ctx.err(&path, e, hint()))?;
            if d < Duration::from_secs(1) {
                return Err(ctx.err(
                    &path,
                    "`abort_when_unreachable` is judged on 1-second windows: at least `1s`",
                    hint(),
                ));
            }
            Ok(Some(d))
        }
        Some(_) => Err(ctx.err(&path, "not a duration", hint())),
    }
}

/// The `name:` of each written stage, checked: unique, without spaces or `.`.
fn stage_names(list: &[RawStage], ctx: &Context) -> Result<Vec<Option<String>>, ScenarioError> {
    let mut out: Vec<Option<String>> = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let Some(name) = s.name.as_deref().map(str::trim) else {
            out.push(None);
            continue;
        };
        let at = [k("load"), k("stages"), Seg::Index(i), k("name")];
        if name.is_empty() || name.contains(char::is_whitespace) || name.contains('.') {
            return Err(ctx.err(
                &at,
                format!("`{name}` is not a stage name"),
                Some("a stage name is non-empty, without spaces or `.` (thresholds write `stage:NAME.p99`)".into()),
            ));
        }
        if out.iter().flatten().any(|n| n == name) {
            return Err(ctx.err(
                &at,
                format!("stage name `{name}` is used twice"),
                Some("stage names must be unique".into()),
            ));
        }
        out.push(Some(name.to_string()));
    }
    Ok(out)
}

/// The target, and the secrets its base URL's credentials add.
fn validate_target(
    raw: Option<RawTarget>,
    ctx: &Context,
) -> Result<(TargetSpec, Vec<String>), ScenarioError> {
    let Some(raw) = raw else {
        let none = TargetSpec {
            base_url: None,
            timeout: DEFAULT_TIMEOUT,
            headers: Vec::new(),
            retry_idempotent: false,
            embedded: EmbeddedSpec::default(),
        };
        return Ok((none, Vec::new()));
    };
    let mut authorization = None;
    let mut url_secrets = Vec::new();
    let base_url = match raw.base_url.as_deref().map(str::trim) {
        None => None,
        Some("embedded") => Some(BaseUrl::Embedded),
        Some(u) => {
            let checked = base_url::check(u, &|s| ctx.secrets.redact(s))
                .map_err(|p| ctx.err(&[k("target"), k("base_url")], p.message, Some(p.hint)))?;
            authorization = checked.authorization;
            url_secrets = checked.secrets;
            Some(BaseUrl::Url(checked.url))
        }
    };
    let timeout = match &raw.timeout {
        Some(t) => dur(ctx, &[k("target"), k("timeout")], t)?,
        None => DEFAULT_TIMEOUT,
    };
    if timeout.is_zero() {
        return Err(ctx.err(
            &[k("target"), k("timeout")],
            "the timeout must be greater than zero",
            None,
        ));
    }
    let mut headers = check_headers(&raw.headers, &[k("target"), k("headers")], ctx)?;
    if let Some(auth) = authorization {
        if let Some((name, _)) = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        {
            return Err(ctx.err(
                &[k("target"), k("headers"), k(name)],
                "`Authorization` is set twice: here and by the credentials in `base_url`",
                Some("keep one: the `user:password@` in base_url, or this header".into()),
            ));
        }
        headers.insert(0, ("Authorization".to_string(), auth));
    }
    let embedded = match raw.embedded {
        None => EmbeddedSpec::default(),
        Some(e) => {
            let at = |f: &str| vec![k("target"), k("embedded"), k(f)];
            if base_url != Some(BaseUrl::Embedded) {
                return Err(ctx.err(
                    &[k("target"), k("embedded")],
                    "`embedded` configures the built-in demo server and needs `base_url: embedded`",
                    None,
                ));
            }
            let error_rate = match &e.error_rate {
                Some(r) => super::units::parse_percent(r)
                    .map_err(|m| ctx.err(&at("error_rate"), m, None))?,
                None => 0.0,
            };
            EmbeddedSpec {
                latency: match &e.latency {
                    Some(d) => dur(ctx, &at("latency"), d)?,
                    None => Duration::ZERO,
                },
                jitter: match &e.jitter {
                    Some(d) => dur(ctx, &at("jitter"), d)?,
                    None => Duration::ZERO,
                },
                error_rate,
            }
        }
    };
    let target = TargetSpec {
        base_url,
        timeout,
        headers,
        retry_idempotent: raw.retry_idempotent.unwrap_or(false),
        embedded,
    };
    Ok((target, url_secrets))
}

fn check_headers(
    h: &BTreeMap<String, String>,
    path: &[Seg],
    ctx: &Context,
) -> Result<Vec<(String, String)>, ScenarioError> {
    let mut out = Vec::new();
    for (name, value) in h {
        let mut p = path.to_vec();
        p.push(k(name));
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(ctx.err(&p, format!("`{name}` is not a valid header name"), None));
        }
        if FRAMING_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(ctx.err(
                &p,
                format!("`{name}` cannot be set in a scenario"),
                Some(
                    "perfgate sets Host, Content-Length, Transfer-Encoding and Connection itself, from the base URL and the body; remove it"
                        .into(),
                ),
            ));
        }
        if http::HeaderValue::from_str(value).is_err() {
            return Err(ctx.err(
                &p,
                "the header value has characters HTTP does not allow (e.g. a newline)",
                None,
            ));
        }
        out.push((name.clone(), value.clone()));
    }
    Ok(out)
}

fn validate_requests(
    raw: Vec<RawRequest>,
    target: &TargetSpec,
    url_auth: bool,
    ctx: &Context,
) -> Result<Vec<RequestSpec>, ScenarioError> {
    if raw.is_empty() {
        return Err(ctx.err(
            &[k("requests")],
            "at least one request is needed",
            Some("add an entry with `name` and `path` (HTTP) or `call` (in-process)".into()),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, r) in raw.into_iter().enumerate() {
        let at = |f: &str| vec![k("requests"), Seg::Index(i), k(f)];
        let name = r.name.trim().to_string();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(ctx.err(
                &at("name"),
                "a request name must be non-empty, without spaces",
                None,
            ));
        }
        if name.contains('.') {
            return Err(ctx.err(&at("name"), format!("`{name}`: a request name cannot contain `.`"), Some("`.` separates a request name from a metric in thresholds (`list-items.p99 < 300ms`); use `-` or `_`".into())));
        }
        if !seen.insert(name.clone()) {
            return Err(ctx.err(
                &at("name"),
                format!("request name `{name}` is used twice"),
                Some("request names must be unique".into()),
            ));
        }
        let weight = match r.weight {
            None => 1,
            Some(w) if (1..=1_000_000).contains(&w) => w as u32,
            Some(w) => {
                return Err(ctx.err(
                    &at("weight"),
                    format!("weight {w} is out of range"),
                    Some("a weight is a whole number from 1 to 1000000".into()),
                ))
            }
        };
        let action = match (&r.call, &r.path) {
            (Some(_), Some(_)) => {
                return Err(ctx.err(
                    &at("call"),
                    "a request has either `call` (in-process) or `path` (HTTP), not both",
                    None,
                ))
            }
            (None, None) => return Err(ctx.err(
                &[k("requests"), Seg::Index(i)],
                format!("request `{name}` has neither `path` nor `call`"),
                Some(
                    "add `path: /...` for HTTP or `call: builtin.noop` for an in-process function"
                        .into(),
                ),
            )),
            (Some(f), None) => {
                if r.method.is_some() || r.body.is_some() || !r.headers.is_empty() {
                    return Err(ctx.err(
                        &at("call"),
                        "`method`, `headers` and `body` apply to HTTP requests, not to `call`",
                        None,
                    ));
                }
                if !ctx.functions.contains(&f.as_str()) {
                    return Err(ctx.err(
                        &at("call"),
                        format!("no in-process function is registered as `{f}`"),
                        Some(match did_you_mean(f, ctx.functions) {
                            Some(s) => format!(
                                "did you mean `{s}`? registered: {}",
                                ctx.functions.join(", ")
                            ),
                            None => format!("registered: {}", ctx.functions.join(", ")),
                        }),
                    ));
                }
                if let Some(declared) = (ctx.params)(f) {
                    params::check(f, declared, &r.params).map_err(|p| {
                        let mut path = vec![k("requests"), Seg::Index(i), k("params")];
                        if let Some(key) = p.key {
                            path.push(k(&key));
                        } else if r.params.is_empty() {
                            path = at("call");
                        }
                        ctx.err(&path, p.message, p.hint)
                    })?;
                }
                Action::Call(CallSpec {
                    function: f.clone(),
                    params: r.params.clone(),
                })
            }
            (None, Some(p)) => {
                if !r.params.is_empty() {
                    return Err(ctx.err(
                        &at("params"),
                        "`params` apply to `call`, not to HTTP requests",
                        None,
                    ));
                }
                let method = r
                    .method
                    .clone()
                    .unwrap_or_else(|| "GET".into())
                    .to_ascii_uppercase();
                if !METHODS.contains(&method.as_str()) {
                    return Err(ctx.err(
                        &at("method"),
                        format!("unknown method `{method}`"),
                        Some(format!("one of: {}", METHODS.join(", "))),
                    ));
                }
                if !p.starts_with('/') || p.parse::<http::uri::PathAndQuery>().is_err() {
                    return Err(ctx.err(
                        &at("path"),
                        format!("`{p}` is not a path"),
                        Some("a path starts with `/`, e.g. `/items?page=1`".into()),
                    ));
                }
                let mut headers = target.headers.clone();
                let own = check_headers(&r.headers, &at("headers"), ctx)?;
                if let Some((n, _)) = own
                    .iter()
                    .find(|(n, _)| url_auth && n.eq_ignore_ascii_case("authorization"))
                {
                    return Err(ctx.err(
                        &[k("requests"), Seg::Index(i), k("headers"), k(n)],
                        "`Authorization` is set twice: here and by the credentials in `base_url`",
                        Some("keep one: the `user:password@` in base_url, or this header".into()),
                    ));
                }
                headers.retain(|(n, _)| !own.iter().any(|(o, _)| o.eq_ignore_ascii_case(n)));
                headers.extend(own);
                Action::Http(HttpRequest {
                    method,
                    path: p.clone(),
                    headers,
                    body: r.body.clone(),
                })
            }
        };
        let expect = match r.expect {
            None => Expect::default(),
            Some(e) => {
                let status = match e.status {
                    None => None,
                    Some(v) if v.is_empty() => {
                        return Err(ctx.err(
                            &[k("requests"), Seg::Index(i), k("expect"), k("status")],
                            "the list of expected statuses is empty",
                            None,
                        ))
                    }
                    Some(v) => {
                        let mut codes = Vec::new();
                        for (j, c) in v.iter().enumerate() {
                            if !(100..=599).contains(c) {
                                return Err(ctx.err(
                                    &[
                                        k("requests"),
                                        Seg::Index(i),
                                        k("expect"),
                                        k("status"),
                                        Seg::Index(j),
                                    ],
                                    format!("{c} is not an HTTP status code"),
                                    Some("status codes are 100 to 599".into()),
                                ));
                            }
                            codes.push(*c as u16);
                        }
                        Some(codes)
                    }
                };
                if matches!(action, Action::Call(_))
                    && (status.is_some() || e.body_contains.is_some())
                {
                    return Err(ctx.err(&at("expect"), "`expect` applies to HTTP requests; an in-process call fails by returning an error", None));
                }
                Expect {
                    status,
                    body_contains: e.body_contains.filter(|s| !s.is_empty()),
                }
            }
        };
        out.push(RequestSpec {
            name,
            weight,
            action,
            expect,
        });
    }
    Ok(out)
}

fn validate_load(
    raw: Option<RawLoad>,
    kind: Kind,
    ctx: &Context,
) -> Result<LoadPlan, ScenarioError> {
    let raw = raw.unwrap_or(RawLoad {
        model: None,
        think_time: None,
        warmup: None,
        stages: None,
        peak: None,
        duration: None,
        max_in_flight: None,
    });
    let open = raw.model == Some(RawModel::Open);
    let model = validate_model(&raw, open, ctx)?;
    let warmup = match &raw.warmup {
        Some(t) => dur(ctx, &load_key("warmup"), t)?,
        None => Duration::ZERO,
    };
    let (stages, from_preset) = match &raw.stages {
        Some(list) => {
            if raw.peak.is_some() || raw.duration.is_some() {
                return Err(ctx.err(
                    &load_key("stages"),
                    "give either `stages` or the preset's `peak` and `duration`, not both",
                    None,
                ));
            }
            (validate_stages(list, open, ctx)?, false)
        }
        None => (preset_stages(&raw, kind, open, ctx)?, true),
    };
    Ok(LoadPlan {
        model,
        warmup,
        stages,
        from_preset,
    })
}

/// `load.FIELD`'s path.
fn load_key(field: &str) -> Vec<Seg> {
    vec![k("load"), k(field)]
}

/// The load model: closed (virtual users, optional think time) or open (`max_in_flight`).
fn validate_model(raw: &RawLoad, open: bool, ctx: &Context) -> Result<Model, ScenarioError> {
    let lk = load_key;
    Ok(if open {
        if raw.think_time.is_some() {
            return Err(ctx.err(
                &lk("think_time"),
                "`think_time` applies to the closed model only",
                Some("in the open model, the arrival rate sets the pace".into()),
            ));
        }
        let max_in_flight = match raw.max_in_flight {
            None => 1000,
            Some(n) if (1..=100_000).contains(&n) => n as u32,
            Some(n) => {
                return Err(ctx.err(
                    &lk("max_in_flight"),
                    format!("{n} is out of range"),
                    Some("a whole number from 1 to 100000".into()),
                ))
            }
        };
        Model::Open { max_in_flight }
    } else {
        if raw.max_in_flight.is_some() {
            return Err(ctx.err(
                &lk("max_in_flight"),
                "`max_in_flight` applies to the open model only",
                Some("add `model: open`, or remove it".into()),
            ));
        }
        let think_time = match &raw.think_time {
            Some(t) => dur(ctx, &lk("think_time"), t)?,
            None => Duration::ZERO,
        };
        Model::Closed { think_time }
    })
}

/// Stages written out in the scenario: a level (users or rate, by model) and a duration each.
fn validate_stages(
    list: &[RawStage],
    open: bool,
    ctx: &Context,
) -> Result<Vec<Stage>, ScenarioError> {
    if list.is_empty() {
        return Err(ctx.err(&load_key("stages"), "`stages` is empty", Some("add at least one stage, e.g. `- { concurrency: 10, duration: 20s }`, or remove `stages` to use the kind's preset".into())));
    }
    let mut out = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let sp = |f: &str| vec![k("load"), k("stages"), Seg::Index(i), k(f)];
        let level = match (open, s.concurrency, &s.rate) {
            (false, Some(c), None) => {
                if !(1..=100_000).contains(&c) {
                    return Err(ctx.err(
                        &sp("concurrency"),
                        format!("concurrency {c} is out of range"),
                        Some("a whole number of virtual users from 1 to 100000".into()),
                    ));
                }
                c as f64
            }
            (true, None, Some(r)) => parse_rate(r).map_err(|e| ctx.err(&sp("rate"), e, None))?,
            (false, _, Some(_)) => {
                return Err(ctx.err(
                    &sp("rate"),
                    "`rate` needs the open model",
                    Some("add `model: open` under `load`, or use `concurrency`".into()),
                ))
            }
            (true, Some(_), _) => {
                return Err(ctx.err(
                    &sp("concurrency"),
                    "`concurrency` is for the closed model; the open model takes `rate`",
                    Some("e.g. `- { rate: 200/s, duration: 30s }`".into()),
                ))
            }
            (false, None, None) => {
                return Err(ctx.err(
                    &[k("load"), k("stages"), Seg::Index(i)],
                    "the stage has no `concurrency`",
                    Some("e.g. `- { concurrency: 10, duration: 20s }`".into()),
                ))
            }
            (true, None, None) => {
                return Err(ctx.err(
                    &[k("load"), k("stages"), Seg::Index(i)],
                    "the stage has no `rate`",
                    Some("e.g. `- { rate: 200/s, duration: 30s }`".into()),
                ))
            }
        };
        let d = dur(ctx, &sp("duration"), &s.duration)?;
        if d < Duration::from_millis(100) {
            return Err(ctx.err(&sp("duration"), "a stage lasts at least 100ms", None));
        }
        let ramp = match &s.ramp {
            Some(r) => dur(ctx, &sp("ramp"), r)?,
            None => Duration::ZERO,
        };
        if ramp > d {
            return Err(ctx.err(
                &sp("ramp"),
                format!(
                    "the ramp ({}) is longer than the stage ({})",
                    super::units::format_duration(ramp),
                    super::units::format_duration(d)
                ),
                Some("the ramp is the first part of `duration`: e.g. `{ concurrency: 50, duration: 30s, ramp: 10s }`".into()),
            ));
        }
        out.push(Stage {
            level,
            duration: d,
            ramp,
        });
    }
    Ok(out)
}

/// The kind's preset shape from `peak` and `duration` (a smoke run may leave both out).
fn preset_stages(
    raw: &RawLoad,
    kind: Kind,
    open: bool,
    ctx: &Context,
) -> Result<Vec<Stage>, ScenarioError> {
    let lk = load_key;
    let duration = match &raw.duration {
        Some(d) => dur(ctx, &lk("duration"), d)?,
        None if kind == Kind::Smoke => presets::SMOKE_DEFAULT,
        None => return Err(ctx.err(&[k("load")], format!("a {} run needs `stages`, or `peak` and `duration` for the preset", kind.name()), Some("e.g. `peak: 50` and `duration: 1m`; `perfgate validate --explain` shows the stages".into()))),
    };
    if duration < Duration::from_millis(100) {
        return Err(ctx.err(&lk("duration"), "a run lasts at least 100ms", None));
    }
    let peak = match (&raw.peak, open) {
        (None, _) if kind == Kind::Smoke => 1.0,
        (None, _) => {
            return Err(ctx.err(
                &[k("load")],
                format!("a {} preset needs `peak`", kind.name()),
                Some(if open {
                    "e.g. `peak: 200/s`".into()
                } else {
                    "e.g. `peak: 50` (virtual users)".into()
                }),
            ))
        }
        (Some(serde_json::Value::Number(n)), false) => match n.as_i64() {
            Some(v) if (1..=100_000).contains(&v) => v as f64,
            _ => {
                return Err(ctx.err(
                    &lk("peak"),
                    format!("peak {n} is out of range"),
                    Some("a whole number of virtual users from 1 to 100000".into()),
                ))
            }
        },
        (Some(serde_json::Value::String(s)), true) => {
            parse_rate(s).map_err(|e| ctx.err(&lk("peak"), e, None))?
        }
        (Some(v), false) => {
            return Err(ctx.err(
                &lk("peak"),
                format!("`{v}` is not a number of virtual users"),
                Some("e.g. `peak: 50`".into()),
            ))
        }
        (Some(v), true) => {
            return Err(ctx.err(
                &lk("peak"),
                format!("`{v}` is not a rate"),
                Some("the open model's peak is a rate, e.g. `peak: 200/s`".into()),
            ))
        }
    };
    Ok(presets::stages(kind, peak, duration, !open))
}

fn validate_baseline(
    raw: Option<RawBaseline>,
    ctx: &Context,
) -> Result<BaselineSpec, ScenarioError> {
    let Some(raw) = raw else {
        return Ok(BaselineSpec {
            file: None,
            tolerance: BTreeMap::new(),
            repeat: 1,
        });
    };
    let mut tolerance = BTreeMap::new();
    for (m, v) in &raw.tolerance {
        let path = [k("baseline"), k("tolerance"), k(m)];
        let metric = TolMetric::parse(m).map_err(|e| ctx.err(&path, e, None))?;
        let value = parse_tolerance(metric, v).map_err(|e| ctx.err(&path, e, None))?;
        tolerance.insert(metric, value);
    }
    let repeat = match raw.repeat {
        None => 1,
        Some(n) if (1..=20).contains(&n) => n as u32,
        Some(n) => {
            return Err(ctx.err(
                &[k("baseline"), k("repeat")],
                format!("repeat {n} is out of range"),
                Some("from 1 to 20".into()),
            ))
        }
    };
    Ok(BaselineSpec {
        file: raw.file.map(PathBuf::from),
        tolerance,
        repeat,
    })
}
