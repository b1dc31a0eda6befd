//! The JSON Schema of a scenario file, generated with `schemars` from the serde model in
//! `model.rs`. The serde types keep values as written (`"30s"`, `"200/s"`); the marker types
//! here tell the schema the real rule for such a value (a duration needs its unit, a rate is
//! `N/s`, a weight is 1 to 1000000), so an editor flags what `perfgate validate` would refuse.
//!
//! `${VAR}` interpolation runs on the text before YAML parsing, so any value may be written
//! as `${VAR}`; the schema accepts such a string wherever a value goes ([`OrVar`]).
//! Rules that span fields (a `rate` needs `model: open`, request names are unique) stay
//! with `validate.rs`, which explains them with file:line:column.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::Value;

use super::model::RawScenario;
use super::plan::ThresholdMetric;
use super::units::TolMetric;
use super::validate::METHODS;

/// A `${VAR}` or `${VAR:-default}` reference anywhere in a string.
const VAR: &str = r"\$\{[^}]*\}";
/// A decimal number as Rust's `f64` parser takes it (no sign, optional exponent).
const NUM: &str = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?";
const DURATION: &str = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(?:us|µs|ms|s|m|h)";

/// The schema of a scenario file (JSON Schema draft-07, what YAML editors understand best).
pub(crate) fn json_schema() -> Value {
    let generator = crate::schema::settings().for_deserialize().into_generator();
    generator.into_root_schema_for::<RawScenario>().to_value()
}

/// A whole value pattern, with optional blanks around `inner` (perfgate trims these values).
fn whole(inner: &str) -> String {
    format!(r"^\s*(?:{inner})\s*$")
}

/// `[Gg][Ee][Tt]`: a case-insensitive literal for patterns (ECMA-262 has no inline flags).
fn any_case(word: &str) -> String {
    word.chars()
        .map(|c| format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase()))
        .collect()
}

fn string_schema(description: &str, pattern: &str, examples: &[&str]) -> Schema {
    json_schema!({
        "description": description,
        "type": "string",
        "pattern": pattern,
        "examples": examples,
    })
}

/// A value that is either `T` or a string holding a `${VAR}` reference (known at run time).
pub(super) struct OrVar<T>(std::marker::PhantomData<T>);

impl<T: JsonSchema> JsonSchema for OrVar<T> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        format!("OrVar_{}", T::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [generator.subschema_for::<T>(), generator.subschema_for::<EnvVar>()]
        })
    }
}

/// A string with a `${VAR}` reference.
pub(super) struct EnvVar;

impl JsonSchema for EnvVar {
    fn schema_name() -> Cow<'static, str> {
        "EnvVar".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        string_schema(
            "`${VAR}` or `${VAR:-default}`: replaced from the environment before the file is \
             read (a missing variable without a default is an error). `$$` is a literal `$`.",
            VAR,
            &["${USERS}", "${BASE_URL:-http://127.0.0.1:8080}"],
        )
    }
}

/// A whole number from `MIN` to `MAX`.
pub(super) struct Whole<const MIN: i64, const MAX: i64>;

impl<const MIN: i64, const MAX: i64> JsonSchema for Whole<MIN, MAX> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        format!("Whole_{MIN}_{MAX}").into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": MIN, "maximum": MAX })
    }
}

/// `true` or `false`.
pub(super) struct Flag;

impl JsonSchema for Flag {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Flag".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "boolean" })
    }
}

macro_rules! text_type {
    ($name:ident, $title:literal, $description:expr, $pattern:expr, $examples:expr) => {
        #[doc = $title]
        pub(crate) struct $name;

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                string_schema(&$description, &$pattern, &$examples)
            }
        }
    };
}

text_type!(
    Duration,
    "A duration with its unit.",
    "A duration with its unit: `us`, `ms`, `s`, `m` or `h` (`500ms`, `30s`, `1.5s`, `2m`, \
     `1h`), at most 7 days. A bare number is refused: the unit is part of the value.",
    whole(DURATION),
    ["500ms", "30s", "2m", "1h"]
);

text_type!(
    Rate,
    "An arrival rate.",
    "An arrival rate greater than zero: arrivals per second, minute or hour (`200/s`, \
     `1000/m`, `3600/h`).",
    whole(&format!(r"{NUM}\s*/\s*(?:s|m|h)")),
    ["200/s", "1000/m"]
);

text_type!(
    Percent,
    "A percentage.",
    "A percentage from `0%` to `100%`, e.g. `1%` or `0.5%`.",
    whole(&format!(r"{NUM}\s*%")),
    ["1%", "0.5%"]
);

text_type!(
    Tolerance,
    "A relative tolerance.",
    "How far the metric may move from the baseline before it counts as a change: a \
     percentage of the baseline's value, from `0%` to `1000000%` (a very wide one keeps the \
     metric reported but out of the gate).",
    whole(&format!(r"{NUM}\s*%")),
    ["10%", "25%"]
);

text_type!(
    ErrorRateTolerance,
    "An error-rate tolerance.",
    "How far the error rate may rise above the baseline's, in percentage points: `0.5pp`, \
     or `1%` (for the error rate, `%` also means percentage points).",
    whole(&format!(r"{NUM}\s*(?:%|pp)")),
    ["0.5pp", "1%"]
);

text_type!(
    ScenarioName,
    "A scenario name.",
    "Lowercase letters, digits, `-` and `_`: it names the output folder \
     (`reports/<name>/`) and the default baselines (`baselines/<name>/<testbed>.json`).",
    whole("[a-z0-9_-]+"),
    ["checkout-api"]
);

text_type!(
    RequestName,
    "A request name.",
    "Unique within the scenario, without spaces, `.` or `${…}` (`.` separates a request name from \
     a metric in thresholds: `list-items.p99 < 300ms`). Reports and thresholds use it.",
    whole(r"(?!.*\$\{)[^\s.]+"),
    ["list-items", "create_item"]
);

text_type!(
    StageName,
    "A stage name.",
    "Unique among the stages, without spaces or `.`: stage thresholds name it \
     (`stage:peak.p99 < 300ms`), and the reports show it beside the stage's number.",
    whole(r"(?!.*\$\{)[^\s.]+"),
    ["peak", "ramp-up"]
);

text_type!(
    BaseUrl,
    "The target's base URL.",
    "An `http://` or `https://` URL with a host (a trailing `/` is dropped), or `embedded` \
     for the built-in demo server. `perfgate run --target URL` overrides it.",
    whole(r"embedded|https?://[^\s/?#]+[^\s]*"),
    ["http://127.0.0.1:8080", "embedded"]
);

text_type!(
    UrlPath,
    "A request path.",
    "The path and query sent to the target, starting with `/`; it is appended to \
     `target.base_url`.",
    r"^/[^\s]*$",
    ["/items?page=1", "/items/42"]
);

/// An HTTP method: completion offers the upper-case names; any letter case is accepted.
pub(super) struct Method;

impl JsonSchema for Method {
    fn schema_name() -> Cow<'static, str> {
        "Method".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let any: Vec<String> = METHODS.iter().map(|m| any_case(m)).collect();
        json_schema!({
            "description": "The HTTP method, in any letter case (default `GET`).",
            "anyOf": [
                { "type": "string", "enum": METHODS },
                { "type": "string", "pattern": format!("^(?:{})$", any.join("|")) },
            ]
        })
    }
}

/// A header value: YAML may write it as a number or a boolean, which is sent as written.
pub(super) struct HeaderValue;

impl JsonSchema for HeaderValue {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "HeaderValue".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["string", "number", "boolean"] })
    }
}

/// The preset's peak: virtual users (closed model) or an arrival rate (open model).
pub(super) struct Peak;

impl JsonSchema for Peak {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Peak".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                generator.subschema_for::<Whole<1, 100_000>>(),
                generator.subschema_for::<Rate>(),
                generator.subschema_for::<EnvVar>(),
            ]
        })
    }
}

/// `[REQUEST.]METRIC OP VALUE`, the value in the metric's unit.
pub(super) struct Threshold;

impl JsonSchema for Threshold {
    fn schema_name() -> Cow<'static, str> {
        "Threshold".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names = |unit: &str| -> String {
            ThresholdMetric::ALL
                .iter()
                .filter(|(_, m)| m.unit() == unit)
                .map(|(n, _)| n.replace('.', r"\."))
                .collect::<Vec<_>>()
                .join("|")
        };
        let op = r"\s*(?:<=|>=|==|<|>)\s*";
        let alternatives = [
            format!("(?:{}){op}{DURATION}", names("ms")),
            format!(r"(?:{}){op}{NUM}\s*%", names("ratio")),
            format!(r"(?:{}){op}{NUM}\s*/\s*(?:s|m|h)", names("rps")),
            format!("(?:{}){op}{NUM}", names("count")),
            format!(
                r"(?:{}){op}{NUM}\s*(?:[KkMmGgTt][Ii]?)?[Bb]",
                names("bytes")
            ),
        ];
        let pattern = format!(
            r"^\s*(?:stage(?:\[\s*[0-9]+\s*\]|:[^\s.]+)\.)?(?:[^\s.]+\.)?(?:{})\s*$",
            alternatives.join("|")
        );
        let all: Vec<&str> = ThresholdMetric::ALL.iter().map(|(n, _)| *n).collect();
        json_schema!({
            "description": format!(
                "`[SCOPE.]METRIC OP VALUE`: the run fails when it does not hold. METRIC is \
                 one of {}; latency metrics (ms of successful responses) take a duration, \
                 `error_rate` a percentage, `throughput` a rate, `errors` and `requests` a \
                 count; the watched system under test's (`monitor:`) `sut.rss` an amount of \
                 memory (`500MB`), `sut.rss_growth` and `sut.cpu` a percentage. OP is `<`, \
                 `<=`, `>`, `>=`, or `==` against zero. A `REQUEST.` prefix scopes it to one \
                 request; `stage[N].` (from 0) or `stage:NAME.` to one stage (warm-up excluded).",
                all.join(", ")
            ),
            "type": "string",
            "pattern": pattern,
            "examples": ["p95 < 250ms", "error_rate < 1%", "throughput > 500/s",
                         "list-items.p99 <= 300ms", "errors == 0", "stage:peak.p99 < 300ms"],
        })
    }
}

/// One entry of `thresholds`: the short form or a budget.
pub(super) struct ThresholdEntry;

impl JsonSchema for ThresholdEntry {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "ThresholdEntry".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                generator.subschema_for::<Threshold>(),
                generator.subschema_for::<Budget>(),
            ]
        })
    }
}

/// `[SCOPE.]METRIC: { target, warn, fail, kpi, abort, after }`.
pub(super) struct Budget;

impl JsonSchema for Budget {
    fn schema_name() -> Cow<'static, str> {
        "Budget".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let all: Vec<&str> = ThresholdMetric::ALL.iter().map(|(n, _)| *n).collect();
        let key = format!(
            r"^\s*(?:stage(?:\[\s*[0-9]+\s*\]|:[^\s.]+)\.)?(?:[^\s.]+\.)?(?:{})\s*$",
            all.join("|")
        );
        let level = json_schema!({ "type": ["string", "number"] });
        json_schema!({
            "description": "A budget with levels, one key `[SCOPE.]METRIC`: the run fails at \
                `fail` (like `METRIC < fail`; `>` for throughput and requests), a warning at \
                `warn` never changes the exit code, `target` is reported. `kpi: true` puts it \
                in the KPI table; `abort: true` judges it on every closed 1-second window \
                and stops the run (exit 1) at the first that breaks it, not before `after`.",
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "patternProperties": {
                key: {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["fail"],
                    "properties": {
                        "target": level,
                        "warn": level,
                        "fail": level,
                        "kpi": { "type": "boolean" },
                        "abort": { "type": "boolean" },
                        "after": { "type": "string", "pattern": whole(DURATION) },
                    },
                }
            },
            "additionalProperties": false,
            "examples": [
                { "p95": { "target": "150ms", "warn": "200ms", "fail": "250ms", "kpi": true } },
                { "error_rate": { "fail": "50%", "abort": true, "after": "10s" } },
            ],
        })
    }
}

/// A duration, or `false` / `off`.
pub(super) struct DurationOrOff;

impl JsonSchema for DurationOrOff {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "DurationOrOff".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                generator.subschema_for::<Duration>(),
                { "const": false },
                { "const": "off" },
            ]
        })
    }
}

/// The `baseline.tolerance` map: one entry per metric it overrides.
pub(super) struct Tolerances;

impl JsonSchema for Tolerances {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Tolerances".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut properties = serde_json::Map::new();
        for m in TolMetric::ALL {
            let value = if m == TolMetric::ErrorRate {
                generator.subschema_for::<OrVar<ErrorRateTolerance>>()
            } else {
                generator.subschema_for::<OrVar<Tolerance>>()
            };
            properties.insert(m.name().to_string(), value.to_value());
        }
        json_schema!({
            "type": "object",
            "properties": properties,
            "additionalProperties": false,
        })
    }
}
