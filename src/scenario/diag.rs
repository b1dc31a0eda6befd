//! Scenario diagnostics: every problem names the file, line, column and field, with a hint.
//! Also the locator that finds where a field sits in the YAML text, for problems found after
//! parsing (a zero concurrency, an unknown function name).

use std::fmt;
use std::path::{Path, PathBuf};

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use super::units::did_you_mean;

/// A problem with a scenario file. Exit code 2.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    pub file: PathBuf,
    /// 1-based; 0 when the problem has no position (an unreadable file).
    pub line: usize,
    pub column: usize,
    /// Dotted path of the field, e.g. `load.stages[0].concurrency`; empty for the whole file.
    pub field: String,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        f.write_str(": ")?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

impl ScenarioError {
    pub(crate) fn whole_file(
        file: &Path,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Self {
        ScenarioError {
            file: file.to_path_buf(),
            line: 0,
            column: 0,
            field: String::new(),
            message: message.into(),
            hint,
        }
    }

    /// Turns a serde_yaml error on `text` into a diagnostic: the position, the field path
    /// serde reports, a message in plain words (no Rust type names), and a hint (a "did you
    /// mean" for an unknown field or variant).
    pub(crate) fn from_yaml(file: &Path, err: &serde_yaml::Error, source: &str) -> Self {
        let (line, column) = err
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        let mut text = err.to_string();
        if let Some(i) = text.rfind(" at line ") {
            text.truncate(i);
        }
        // serde_yaml prefixes the path of the failing node: `requests[0].weight: invalid …`.
        let (mut field, mut message) = match text.split_once(": ") {
            Some((p, m)) if !p.contains(' ') => (p.to_string(), m.to_string()),
            _ => (String::new(), text.clone()),
        };
        let mut hint = None;
        if let Some(name) = between(&message, "unknown field `", "`") {
            let expected = expected_list(&message);
            let names: Vec<&str> = expected.iter().map(String::as_str).collect();
            hint = Some(match did_you_mean(&name, &names) {
                Some(s) => format!("did you mean `{s}`? (fields here: {})", names.join(", ")),
                None => format!("fields here: {}", names.join(", ")),
            });
            field = if field.is_empty() {
                name.clone()
            } else {
                format!("{field}.{name}")
            };
            message = format!("unknown field `{name}`");
        } else if let Some(name) = between(&message, "unknown variant `", "`") {
            let expected = expected_list(&message);
            let names: Vec<&str> = expected.iter().map(String::as_str).collect();
            hint = Some(match did_you_mean(&name, &names) {
                Some(s) => format!("did you mean `{s}`? (one of: {})", names.join(", ")),
                None => format!("one of: {}", names.join(", ")),
            });
            message = format!("unknown value `{name}`");
        } else if let Some(name) = between(&message, "missing field `", "`") {
            hint = Some(format!("add `{name}:` here"));
            field = if field.is_empty() {
                name.clone()
            } else {
                format!("{field}.{name}")
            };
            message = format!("missing required field `{name}`");
        } else if let Some(name) = between(&message, "duplicate field `", "`") {
            // serde_yaml points at the mapping (or at 1:1); the second occurrence is the news.
            let (line, column) =
                locate_duplicate(source, &parse_path(&field), &name).unwrap_or((line, column));
            let shown = if field.is_empty() {
                name.clone()
            } else {
                format!("{field}.{name}")
            };
            return ScenarioError {
                file: file.to_path_buf(),
                line,
                column,
                field: shown,
                message: format!("`{name}` is given twice"),
                hint: Some("a key appears once in a mapping; remove one of the two".into()),
            };
        } else if message.starts_with("invalid type") || message.starts_with("invalid value") {
            message = plain_types(&message);
            hint =
                Some("check the value's type against the scenario reference in README.md".into());
        } else if field.is_empty() && line > 0 {
            hint = Some(
                "the file is not valid YAML here: check indentation, colons and quotes".into(),
            );
        }
        ScenarioError {
            file: file.to_path_buf(),
            line,
            column,
            field,
            message,
            hint,
        }
    }
}

/// A serde message (YAML or JSON) with Rust type names put in plain words: "expected a
/// whole number, got the text \"x\"" rather than "invalid type: string \"x\", expected u64".
/// A trailing " at line N column M" is kept.
pub(crate) fn plain_words(message: &str) -> String {
    let (body, at) = match message.rfind(" at line ") {
        Some(i) => message.split_at(i),
        None => (message, ""),
    };
    format!("{}{at}", plain_types(body))
}

/// serde's words for types, as a person would say them.
fn plain_types(message: &str) -> String {
    let Some(rest) = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
    else {
        return message.to_string();
    };
    let (got, expected) = rest.rsplit_once(", expected ").unwrap_or((rest, ""));
    if let Some(n) = got
        .strip_suffix(" as u128")
        .or_else(|| got.strip_suffix(" as i128"))
    {
        let n = n.trim_start_matches("integer ");
        return format!("{n} is too large: expected {}", plain_expected(expected));
    }
    let got = plain_value(got);
    let expected = plain_expected(expected);
    if expected.is_empty() {
        format!("wrong type: got {got}")
    } else {
        format!("expected {expected}, got {got}")
    }
}

fn plain_value(got: &str) -> String {
    if let Some(v) = got.strip_prefix("integer ") {
        format!("the whole number {v}")
    } else if let Some(v) = got.strip_prefix("floating point ") {
        format!("the number {v}")
    } else if let Some(v) = got.strip_prefix("string ") {
        format!("the text {v}")
    } else if let Some(v) = got.strip_prefix("boolean ") {
        v.to_string()
    } else {
        match got {
            "sequence" => "a list".into(),
            "map" => "a map".into(),
            "unit value" => "an empty value".into(),
            "string" => "text".into(),
            other => other.to_string(),
        }
    }
}

fn plain_expected(expected: &str) -> String {
    let e = expected.trim();
    match e {
        "i8" | "i16" | "i32" | "i64" | "i128" | "u8" | "u16" | "u32" | "u64" | "u128" | "isize"
        | "usize" => "a whole number".into(),
        "f32" | "f64" => "a number".into(),
        "a sequence" => "a list".into(),
        "a boolean" => "true or false".into(),
        "a string" => "text".into(),
        "a map" => "a map of `key: value` entries".into(),
        "struct RawScenario" => {
            "a scenario: a map with `name:`, `kind:`, `requests:` and the rest".into()
        }
        _ if e.starts_with("struct ") => "a map of fields".into(),
        _ if e.starts_with("enum ") => "one of the documented values".into(),
        _ => e.to_string(),
    }
}

/// Parses a serde path (`requests[0].expect`) back into segments.
fn parse_path(s: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in s.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Seg::Key(key.to_string()));
        }
        while let Some(r) = rest.strip_prefix('[') {
            let Some(j) = r.find(']') else { break };
            if let Ok(i) = r[..j].parse() {
                out.push(Seg::Index(i));
            }
            rest = &r[j + 1..];
        }
    }
    out
}

fn between(s: &str, start: &str, end: &str) -> Option<String> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(s[i..j].to_string())
}

fn expected_list(message: &str) -> Vec<String> {
    let Some(i) = message.find("expected") else {
        return Vec::new();
    };
    message[i..]
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// One step of a field path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// Renders a path the way serde_yaml does: `load.stages[0].concurrency`.
pub(crate) fn path_string(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Finds the 1-based (line, column) of the node at `path` in `text`: for a mapping entry the
/// position of its key, for a sequence item the item itself. Falls back to the deepest
/// ancestor that exists.
pub(crate) fn locate(text: &str, path: &[Seg]) -> (usize, usize) {
    let mut finder = Finder {
        target: path.to_vec(),
        stack: Vec::new(),
        best: (0, (1, 1)),
        dup: None,
    };
    let mut parser = Parser::new_from_str(text);
    let _ = parser.load(&mut finder, false);
    finder.best.1
}

/// The position of the second `key` in the mapping at `path`, if there is one.
pub(crate) fn locate_duplicate(text: &str, path: &[Seg], key: &str) -> Option<(usize, usize)> {
    let mut finder = Finder {
        target: path.to_vec(),
        stack: Vec::new(),
        best: (0, (1, 1)),
        dup: Some(Dup {
            key: key.to_string(),
            seen: 0,
            at: None,
        }),
    };
    let mut parser = Parser::new_from_str(text);
    let _ = parser.load(&mut finder, false);
    finder.dup.and_then(|d| d.at)
}

struct Dup {
    key: String,
    seen: usize,
    at: Option<(usize, usize)>,
}

enum Frame {
    Map {
        key: Option<String>,
        key_mark: (usize, usize),
        expecting_key: bool,
    },
    Seq {
        index: usize,
    },
}

struct Finder {
    target: Vec<Seg>,
    stack: Vec<Frame>,
    /// Depth of the deepest matched prefix and its position.
    best: (usize, (usize, usize)),
    /// When looking for a duplicate key in the mapping at `target`.
    dup: Option<Dup>,
}

impl Finder {
    fn current_path(&self) -> Vec<Seg> {
        self.stack
            .iter()
            .filter_map(|f| match f {
                Frame::Map { key, .. } => key.clone().map(Seg::Key),
                Frame::Seq { index } => Some(Seg::Index(*index)),
            })
            .collect()
    }

    /// A node (scalar or collection) starts at `mark` in the current position.
    fn node(&mut self, mark: (usize, usize)) {
        let path = self.current_path();
        let pos = match self.stack.last() {
            Some(Frame::Map { key_mark, .. }) => *key_mark,
            _ => mark,
        };
        if path.len() > self.best.0 && self.target.starts_with(&path) {
            self.best = (path.len(), pos);
        }
    }

    /// A key of the innermost mapping: counts it when looking for a duplicate there.
    fn key_seen(&mut self, value: &str, pos: (usize, usize)) {
        let Some(d) = self.dup.as_ref() else {
            return;
        };
        if d.key != value {
            return;
        }
        let depth = self.stack.len().saturating_sub(1);
        let here: Vec<Seg> = self.stack[..depth]
            .iter()
            .filter_map(|f| match f {
                Frame::Map { key, .. } => key.clone().map(Seg::Key),
                Frame::Seq { index } => Some(Seg::Index(*index)),
            })
            .collect();
        if here == self.target {
            if let Some(d) = self.dup.as_mut() {
                d.seen += 1;
                if d.seen == 2 && d.at.is_none() {
                    d.at = Some(pos);
                }
            }
        }
    }

    fn after_value(&mut self) {
        match self.stack.last_mut() {
            Some(Frame::Map {
                key, expecting_key, ..
            }) => {
                *key = None;
                *expecting_key = true;
            }
            Some(Frame::Seq { index }) => *index += 1,
            None => {}
        }
    }
}

impl MarkedEventReceiver for Finder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let pos = (mark.line(), mark.col() + 1);
        match ev {
            Event::Scalar(value, ..) => {
                let is_key = matches!(
                    self.stack.last(),
                    Some(Frame::Map {
                        expecting_key: true,
                        ..
                    })
                );
                if is_key {
                    self.key_seen(&value, pos);
                    if let Some(Frame::Map {
                        key,
                        key_mark,
                        expecting_key,
                    }) = self.stack.last_mut()
                    {
                        *key = Some(value);
                        *key_mark = pos;
                        *expecting_key = false;
                    }
                    return;
                }
                self.node(pos);
                self.after_value();
            }
            Event::MappingStart(..) => {
                self.node(pos);
                self.stack.push(Frame::Map {
                    key: None,
                    key_mark: pos,
                    expecting_key: true,
                });
            }
            Event::SequenceStart(..) => {
                self.node(pos);
                self.stack.push(Frame::Seq { index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.after_value();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "name: x\nload:\n  stages:\n    - { concurrency: 0, duration: 20s }\n    - concurrency: 5\n      duration: 1s\nrequests:\n  - name: a\n    call: nope\n";

    fn key(s: &str) -> Seg {
        Seg::Key(s.into())
    }

    #[test]
    fn locates_keys_in_block_and_flow_mappings() {
        assert_eq!(locate(DOC, &[key("name")]), (1, 1));
        assert_eq!(
            locate(
                DOC,
                &[
                    key("load"),
                    key("stages"),
                    Seg::Index(0),
                    key("concurrency")
                ]
            ),
            (4, 9)
        );
        assert_eq!(
            locate(
                DOC,
                &[key("load"), key("stages"), Seg::Index(1), key("duration")]
            ),
            (6, 7)
        );
        assert_eq!(
            locate(DOC, &[key("requests"), Seg::Index(0), key("call")]),
            (9, 5)
        );
    }

    #[test]
    fn falls_back_to_the_deepest_existing_ancestor() {
        assert_eq!(locate(DOC, &[key("load"), key("warmup")]), (2, 1));
    }

    #[test]
    fn path_strings_look_like_serde_paths() {
        assert_eq!(
            path_string(&[key("load"), key("stages"), Seg::Index(2), key("rate")]),
            "load.stages[2].rate"
        );
    }
}
