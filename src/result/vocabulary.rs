//! The closed sets of words `result.json` uses, as enums that serialize to the same strings
//! the format has always held: the scenario's kind, the load model, the unit of a stage's
//! level, the error classes and the run's verdict.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! named {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// The word `result.json` uses.
            pub fn name(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

/// The kind of test: smoke | load | stress | spike | soak.
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A short check that the target works at all.
    Smoke,
    /// The expected load, held.
    Load,
    /// Load rising past the expected, to find the limit.
    Stress,
    /// A sudden burst and the recovery after it.
    Spike,
    /// The expected load held for a long time.
    Soak,
}

impl Kind {
    /// Every kind, in the documented order.
    pub const ALL: [Kind; 5] = [
        Kind::Smoke,
        Kind::Load,
        Kind::Stress,
        Kind::Spike,
        Kind::Soak,
    ];
}

named!(Kind { Smoke => "smoke", Load => "load", Stress => "stress", Spike => "spike", Soak => "soak" });

/// How load was applied: closed (virtual users looping) or open (an arrival rate).
#[derive(
    schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize,
)]
pub enum LoadModel {
    /// Virtual users, each sending its next request when the previous one answered.
    #[serde(rename = "closed")]
    Closed,
    /// Requests arriving at a set rate, whether or not earlier ones answered.
    #[serde(rename = "open")]
    Open,
    /// A result written before the model was recorded (`""`).
    #[default]
    #[serde(rename = "")]
    Unrecorded,
}

named!(LoadModel { Closed => "closed", Open => "open", Unrecorded => "" });

impl LoadModel {
    /// The unit of the level the model holds: virtual users or arrivals per second.
    pub fn level_unit(self) -> LevelUnit {
        match self {
            LoadModel::Open => LevelUnit::Rps,
            LoadModel::Closed | LoadModel::Unrecorded => LevelUnit::Vus,
        }
    }
}

/// The unit of a stage's level: virtual users (closed model) or arrivals per second (open).
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LevelUnit {
    /// Virtual users (closed model).
    Vus,
    /// Arrivals per second (open model).
    Rps,
}

named!(LevelUnit { Vus => "vus", Rps => "rps" });

/// Why a request failed. The order is the documented order of `errors_by_class`.
#[derive(
    schemars::JsonSchema,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
)]
pub enum ErrorClass {
    /// The connection could not be made (refused, unreachable, DNS).
    #[serde(rename = "connect")]
    Connect,
    /// No complete answer within the request timeout.
    #[serde(rename = "timeout")]
    Timeout,
    /// The connection was reset or closed mid-request.
    #[serde(rename = "reset")]
    Reset,
    /// The TLS handshake or session failed.
    #[serde(rename = "tls")]
    Tls,
    /// The answer was not valid HTTP.
    #[serde(rename = "protocol")]
    Protocol,
    /// An HTTP 4xx answer.
    #[serde(rename = "http_4xx")]
    Http4xx,
    /// An HTTP 5xx answer.
    #[serde(rename = "http_5xx")]
    Http5xx,
    /// The answer did not meet `expect`.
    #[serde(rename = "check")]
    Check,
    /// An in-process function returned an error or panicked.
    #[serde(rename = "function")]
    Function,
    /// Still in flight when an aborted run's grace period ended.
    #[serde(rename = "interrupted")]
    Interrupted,
}

impl ErrorClass {
    /// Every class, in the documented order of `errors_by_class`.
    pub const ALL: [ErrorClass; 10] = [
        ErrorClass::Connect,
        ErrorClass::Timeout,
        ErrorClass::Reset,
        ErrorClass::Tls,
        ErrorClass::Protocol,
        ErrorClass::Http4xx,
        ErrorClass::Http5xx,
        ErrorClass::Check,
        ErrorClass::Function,
        ErrorClass::Interrupted,
    ];

    /// Position in [`ErrorClass::ALL`] (per-class counters are arrays in this order).
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

named!(ErrorClass {
    Connect => "connect",
    Timeout => "timeout",
    Reset => "reset",
    Tls => "tls",
    Protocol => "protocol",
    Http4xx => "http_4xx",
    Http5xx => "http_5xx",
    Check => "check",
    Function => "function",
    Interrupted => "interrupted",
});

/// The run's verdict: pass, fail (a gate failed), or aborted (the run did not complete).
#[derive(schemars::JsonSchema, Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The run completed and every gate passed.
    Pass,
    /// The run completed and a gate failed.
    Fail,
    /// The run did not complete (stopped by a signal).
    Aborted,
}

named!(Verdict { Pass => "pass", Fail => "fail", Aborted => "aborted" });

impl Verdict {
    /// Same as [`Verdict::name`].
    pub fn as_str(self) -> &'static str {
        self.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json<T: Serialize>(v: T) -> String {
        serde_json::to_string(&v).unwrap()
    }

    fn back<T: serde::de::DeserializeOwned>(s: &str) -> T {
        serde_json::from_str(s).unwrap()
    }

    /// The strings result.json has always held, both ways.
    #[test]
    fn enums_serialize_to_the_format_strings() {
        for k in Kind::ALL {
            assert_eq!(json(k), format!("\"{}\"", k.name()));
            assert_eq!(back::<Kind>(&json(k)), k);
        }
        assert_eq!(
            Kind::ALL.map(Kind::name),
            ["smoke", "load", "stress", "spike", "soak"]
        );
        assert_eq!(json(LoadModel::Closed), "\"closed\"");
        assert_eq!(json(LoadModel::Open), "\"open\"");
        assert_eq!(back::<LoadModel>("\"\""), LoadModel::Unrecorded);
        assert_eq!(json(LevelUnit::Vus), "\"vus\"");
        assert_eq!(json(LevelUnit::Rps), "\"rps\"");
        assert_eq!(json(Verdict::Pass), "\"pass\"");
        assert_eq!(json(Verdict::Fail), "\"fail\"");
        assert_eq!(json(Verdict::Aborted), "\"aborted\"");
        let names = [
            "connect",
            "timeout",
            "reset",
            "tls",
            "protocol",
            "http_4xx",
            "http_5xx",
            "check",
            "function",
            "interrupted",
        ];
        for (c, n) in ErrorClass::ALL.into_iter().zip(names) {
            assert_eq!(c.name(), n);
            assert_eq!(json(c), format!("\"{n}\""));
            assert_eq!(back::<ErrorClass>(&json(c)), c);
            assert_eq!(ErrorClass::ALL[c.index()], c);
        }
        assert!(serde_json::from_str::<Kind>("\"burst\"").is_err());
    }
}
