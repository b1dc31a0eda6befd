//! Escaping of text that reaches markup. Every string that comes from a scenario, the
//! environment or a server (names, URLs, error messages, status text) passes through here
//! before it is written into HTML, SVG or XML. Strings are already secret-redacted by their
//! producer; this module only escapes.

/// Escapes `& < > " '` so the text is safe in HTML/XML element content and in quoted
/// attribute values. Control characters that XML 1.0 forbids are replaced by U+FFFD.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    push_html(&mut out, text);
    out
}

/// [`html`], appending to `out` instead of allocating.
pub(crate) fn push_html(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{fffe}' || c == '\u{ffff}' => {
                out.push('\u{fffd}')
            }
            c => out.push(c),
        }
    }
}

/// XML escaping for JUnit: the same rules as [`html`] (which are valid XML 1.0).
pub(crate) fn xml(text: &str) -> String {
    html(text)
}

/// Text for one Markdown table cell: HTML-escaped (GitHub renders inline HTML), pipes
/// escaped, and line breaks folded into spaces so the row stays one line.
pub(crate) fn markdown_cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in html(text).chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\n' | '\r' | '\t' => out.push(' '),
            '`' => out.push_str("&#96;"),
            c => out.push(c),
        }
    }
    out
}

/// Text for one line of Markdown prose (a reason, a list item): `&`, `<`, backticks, `*`,
/// brackets and pipes made inert (GitHub does not read `_` inside a word as emphasis), line breaks folded into spaces; `>` and `%` stay readable
/// (`p99 412 ms > limit 300 ms`), since without `<` no tag can open.
pub(crate) fn markdown_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '`' => out.push_str("&#96;"),
            '*' | '[' | ']' | '\\' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_characters() {
        assert_eq!(
            html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn replaces_control_characters() {
        assert_eq!(html("a\u{1}b\nc"), "a\u{fffd}b\nc");
    }

    #[test]
    fn markdown_lines_keep_comparisons_readable_and_open_no_tag() {
        assert_eq!(
            markdown_line("list_items p99 412 ms > limit 300 ms <img src=x>\n*"),
            "list_items p99 412 ms > limit 300 ms &lt;img src=x> \\*"
        );
    }

    #[test]
    fn markdown_cells_stay_on_one_line() {
        assert_eq!(markdown_cell("a|b\n<c>"), "a\\|b &lt;c&gt;");
    }
}
