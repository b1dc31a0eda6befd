//! Values that came from the environment through `${VAR}`: they are secrets, never printed
//! and never written. Every string that leaves the process through a report passes
//! [`Secrets::redact`].

use std::sync::Arc;

/// What a secret is replaced with.
pub(crate) const REDACTED: &str = "***";

#[derive(Debug, Clone, Default)]
pub struct Secrets {
    values: Arc<Vec<String>>,
}

impl Secrets {
    pub(crate) fn new(mut values: Vec<String>) -> Self {
        values.retain(|v| !v.is_empty());
        // Longest first, so a secret that contains another is replaced whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Secrets {
            values: Arc::new(values),
        }
    }

    /// These secrets and `more`.
    pub(crate) fn with(&self, more: Vec<String>) -> Secrets {
        if more.iter().all(String::is_empty) {
            return self.clone();
        }
        let mut all: Vec<String> = self.values.iter().cloned().collect();
        all.extend(more);
        Secrets::new(all)
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `s` with every secret value replaced by `***`.
    pub fn redact(&self, s: &str) -> String {
        let mut out = s.to_string();
        for v in self.values.iter() {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), REDACTED);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_every_occurrence_longest_first() {
        let s = Secrets::new(vec!["tok".into(), "token-123".into(), String::new()]);
        assert_eq!(
            s.redact("Bearer token-123 and tok and token-123"),
            "Bearer *** and *** and ***"
        );
        assert_eq!(s.redact("nothing here"), "nothing here");
    }
}
