//! `${VAR}` and `${VAR:-default}` interpolation over the scenario text, before YAML parsing,
//! so any field may use it. Values taken from the environment become [`Secrets`]; defaults
//! written in the file do not. `$$` is a literal `$`.

use super::secrets::Secrets;

/// A variable that is referenced but not set (and has no default).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct MissingVar {
    pub name: String,
    /// 1-based line and column of the `${` in the original text.
    pub line: usize,
    pub column: usize,
}

/// Where a substitution changed the length of a line, to map columns back to the file.
#[derive(Debug, Clone)]
struct Shift {
    line: usize,
    /// Column (1-based, in the interpolated text) from which `delta` applies.
    from_col: usize,
    delta: isize,
}

#[derive(Debug, Clone)]
pub(super) struct Interpolated {
    pub text: String,
    pub secrets: Secrets,
    shifts: Vec<Shift>,
}

impl Interpolated {
    /// Maps a (line, column) in the interpolated text back to the original file.
    pub(super) fn original_column(&self, line: usize, column: usize) -> usize {
        let mut col = column as isize;
        for s in self.shifts.iter().rev().filter(|s| s.line == line) {
            if column >= s.from_col {
                col -= s.delta;
            }
        }
        col.max(1) as usize
    }
}

/// Interpolates `src` with `lookup` (normally `std::env::var`).
pub(super) fn interpolate(
    src: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Interpolated, MissingVar> {
    let mut out = String::with_capacity(src.len());
    let mut secrets = Vec::new();
    let mut shifts = Vec::new();
    for (li, line) in src.split_inclusive('\n').enumerate() {
        let lineno = li + 1;
        let mut rest = line;
        let mut col_in = 1usize; // column in the original line
        let mut col_out = 1usize; // column in the interpolated line
        while let Some(pos) = rest.find('$') {
            let (before, after) = rest.split_at(pos);
            out.push_str(before);
            col_in += before.chars().count();
            col_out += before.chars().count();
            if let Some(tail) = after.strip_prefix("$$") {
                out.push('$');
                shifts.push(Shift {
                    line: lineno,
                    from_col: col_out + 1,
                    delta: -1,
                });
                col_in += 2;
                col_out += 1;
                rest = tail;
                continue;
            }
            let Some(body_end) = after.strip_prefix("${").and_then(|b| b.find('}')) else {
                out.push('$');
                col_in += 1;
                col_out += 1;
                rest = &after[1..];
                continue;
            };
            let expr = &after[2..2 + body_end];
            let written_len = body_end + 3;
            let (name, default) = match expr.split_once(":-") {
                Some((n, d)) => (n.trim(), Some(d)),
                None => (expr.trim(), None),
            };
            let value = match lookup(name) {
                Some(v) => {
                    secrets.push(v.clone());
                    v
                }
                None => match default {
                    Some(d) => d.to_string(),
                    None => {
                        return Err(MissingVar {
                            name: name.to_string(),
                            line: lineno,
                            column: col_in,
                        })
                    }
                },
            };
            let vlen = value.chars().count();
            out.push_str(&value);
            shifts.push(Shift {
                line: lineno,
                from_col: col_out + vlen,
                delta: vlen as isize - expr.chars().count() as isize - 3,
            });
            col_in += written_len;
            col_out += vlen;
            rest = &after[written_len..];
        }
        out.push_str(rest);
    }
    Ok(Interpolated {
        text: out,
        secrets: Secrets::new(secrets),
        shifts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("s3cr3t".into()),
            "USERS" => Some("25".into()),
            _ => None,
        }
    }

    #[test]
    fn substitutes_and_records_secrets() {
        let i = interpolate("a: Bearer ${TOKEN}\nb: ${USERS}\n", env).unwrap();
        assert_eq!(i.text, "a: Bearer s3cr3t\nb: 25\n");
        assert_eq!(i.secrets.redact("x s3cr3t y"), "x *** y");
    }

    #[test]
    fn defaults_are_not_secrets() {
        let i = interpolate("a: ${NOPE:-hello}", env).unwrap();
        assert_eq!(i.text, "a: hello");
        assert!(i.secrets.is_empty());
    }

    #[test]
    fn missing_variable_names_line_and_column() {
        let e = interpolate("a: 1\nb: x ${MISSING}\n", env).unwrap_err();
        assert_eq!(
            e,
            MissingVar {
                name: "MISSING".into(),
                line: 2,
                column: 6
            }
        );
    }

    #[test]
    fn dollar_escapes_and_columns_map_back() {
        let i = interpolate("a: $$5 ${TOKEN} z", env).unwrap();
        assert_eq!(i.text, "a: $5 s3cr3t z");
        // `z` is at column 14 in the output and column 17 in the file.
        assert_eq!(i.original_column(1, 14), 17);
        assert_eq!(i.original_column(1, 2), 2);
    }
}
