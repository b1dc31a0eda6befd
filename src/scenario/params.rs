//! Declared parameters of in-process functions: a registered function may say which
//! `params` it takes (name, kind, range, required), and validation checks a scenario's
//! `params` against that, located in the file. Functions that declare nothing are not checked.

use std::collections::BTreeMap;

/// What a parameter's value must be.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamKind {
    /// A whole number from `min` to `max` (inclusive).
    WholeNumber {
        /// The smallest value allowed.
        min: i64,
        /// The largest value allowed.
        max: i64,
    },
    /// A number (whole or not) from `min` to `max` (inclusive).
    Number {
        /// The smallest value allowed.
        min: f64,
        /// The largest value allowed.
        max: f64,
    },
    /// A string.
    String,
    /// `true` or `false`.
    Bool,
}

/// One parameter a registered function declares (see
/// [`Registry::register_with_params`](crate::Registry::register_with_params)): built with
/// [`ParamSpec::whole`], [`ParamSpec::number`], [`ParamSpec::string`] or
/// [`ParamSpec::boolean`], optional unless [`ParamSpec::required`].
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    /// The key in the scenario's `params`.
    pub name: String,
    /// What its value must be.
    pub kind: ParamKind,
    /// True when a scenario must give it.
    pub required: bool,
}

impl ParamSpec {
    /// An optional whole-number parameter from `min` to `max`.
    pub fn whole(name: &str, min: i64, max: i64) -> Self {
        Self::of(name, ParamKind::WholeNumber { min, max })
    }

    /// An optional number parameter from `min` to `max`.
    pub fn number(name: &str, min: f64, max: f64) -> Self {
        Self::of(name, ParamKind::Number { min, max })
    }

    /// An optional string parameter.
    pub fn string(name: &str) -> Self {
        Self::of(name, ParamKind::String)
    }

    /// An optional true/false parameter.
    pub fn boolean(name: &str) -> Self {
        Self::of(name, ParamKind::Bool)
    }

    fn of(name: &str, kind: ParamKind) -> Self {
        ParamSpec {
            name: name.to_string(),
            kind,
            required: false,
        }
    }

    /// The same parameter, required.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// "a whole number from 0 to 3600000", for messages.
    pub(crate) fn describe(&self) -> String {
        match &self.kind {
            ParamKind::WholeNumber { min, max } => format!("a whole number from {min} to {max}"),
            ParamKind::Number { min, max } => format!("a number from {min} to {max}"),
            ParamKind::String => "a string".into(),
            ParamKind::Bool => "true or false".into(),
        }
    }

    /// `None` when `v` fits; else what is wrong.
    pub(crate) fn problem(&self, v: &serde_json::Value) -> Option<String> {
        let fits = match &self.kind {
            // Written as a whole number (`4096`, not `4096.0`): what `u64_param` reads.
            ParamKind::WholeNumber { min, max } => {
                v.as_i64().is_some_and(|n| (*min..=*max).contains(&n))
            }
            ParamKind::Number { min, max } => v.as_f64().is_some_and(|n| n >= *min && n <= *max),
            ParamKind::String => v.is_string(),
            ParamKind::Bool => v.is_boolean(),
        };
        (!fits).then(|| format!("`{}` must be {}, got {v}", self.name, self.describe()))
    }
}

/// What validation knows of the registered in-process functions.
pub trait FunctionCatalog {
    /// Registered names.
    fn function_names(&self) -> Vec<&str>;
    /// The declared parameters of `name`, or `None` when it declares none (unchecked).
    fn declared_params(&self, name: &str) -> Option<&[ParamSpec]>;
}

/// Names only: nothing declared, so no parameter is checked.
impl FunctionCatalog for [&str] {
    fn function_names(&self) -> Vec<&str> {
        self.to_vec()
    }
    fn declared_params(&self, _name: &str) -> Option<&[ParamSpec]> {
        None
    }
}

/// A problem with one parameter: the key it is about (`None`: the `params` map as a whole).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParamProblem {
    pub key: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

/// Checks `given` against `declared`: unknown names (with a "did you mean"), kinds and
/// ranges, and required ones that are missing.
pub(crate) fn check(
    function: &str,
    declared: &[ParamSpec],
    given: &BTreeMap<String, serde_json::Value>,
) -> Result<(), ParamProblem> {
    let names: Vec<&str> = declared.iter().map(|p| p.name.as_str()).collect();
    let listing = if names.is_empty() {
        format!("`{function}` takes no params")
    } else {
        format!("`{function}` takes: {}", names.join(", "))
    };
    for (key, value) in given {
        let Some(spec) = declared.iter().find(|p| &p.name == key) else {
            return Err(ParamProblem {
                key: Some(key.clone()),
                message: format!("`{function}` has no param `{key}`"),
                hint: Some(match super::units::did_you_mean(key, &names) {
                    Some(s) => format!("did you mean `{s}`? {listing}"),
                    None => listing,
                }),
            });
        };
        if let Some(message) = spec.problem(value) {
            return Err(ParamProblem {
                key: Some(key.clone()),
                message,
                hint: None,
            });
        }
    }
    if let Some(missing) = declared
        .iter()
        .find(|p| p.required && !given.contains_key(&p.name))
    {
        return Err(ParamProblem {
            key: None,
            message: format!("`{function}` needs param `{}`", missing.name),
            hint: Some(format!("add `{}:` ({})", missing.name, missing.describe())),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn given(v: serde_json::Value) -> BTreeMap<String, serde_json::Value> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn kinds_ranges_unknown_and_required() {
        let decl = [
            ParamSpec::whole("size", 0, 100),
            ParamSpec::string("message").required(),
        ];
        assert!(check("f", &decl, &given(json!({"size": 5, "message": "x"}))).is_ok());
        let e = check("f", &decl, &given(json!({"size": -1, "message": "x"}))).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("size"));
        assert!(e.message.contains("a whole number from 0 to 100"), "{e:?}");
        for bad in [json!(2.5), json!(4.0), json!("4"), json!(101)] {
            let e = check("f", &decl, &given(json!({"size": bad, "message": "x"}))).unwrap_err();
            assert!(e.message.contains("whole number"), "{e:?}");
        }
        let e = check("f", &decl, &given(json!({"sise": 1, "message": "x"}))).unwrap_err();
        assert!(e.hint.unwrap().contains("did you mean `size`"));
        let e = check("f", &decl, &given(json!({}))).unwrap_err();
        assert_eq!(e.key, None);
        assert!(e.message.contains("needs param `message`"));
    }
}
