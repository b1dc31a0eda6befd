//! The committed JSON Schemas, `scenarios/schema/scenario.schema.json` (for editor completion
//! and checks of scenario files) and `scenarios/schema/result.schema.json` (for readers of
//! `result.json`), as the Rust types generate them with `schemars`.
//!
//! A unit test fails when the committed files differ from what the types generate; run
//! `PERFGATE_BLESS=1 cargo test --lib schema` to rewrite them.

use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::Schema;
use serde_json::Value;

use crate::result::RunResult;

/// The schema of a scenario file (draft-07).
pub fn scenario() -> Value {
    crate::scenario::json_schema()
}

/// The schema of `result.json` as perfgate writes it (draft-07).
pub fn result() -> Value {
    let generator = settings().for_serialize().into_generator();
    generator.into_root_schema_for::<RunResult>().to_value()
}

/// Each committed schema file (relative to the crate root) with the text it must hold.
pub fn files() -> [(&'static str, String); 2] {
    [
        ("scenarios/schema/scenario.schema.json", pretty(&scenario())),
        ("scenarios/schema/result.schema.json", pretty(&result())),
    ]
}

/// Draft-07 (what YAML editors understand best), tidied for editors.
pub(crate) fn settings() -> SchemaSettings {
    SchemaSettings::draft07().with_transform(RecursiveTransform(tidy))
}

/// Doc comments are wrapped at 100 columns; an editor's hover reflows text itself. A
/// `"default": null` (what `#[serde(default)]` on an `Option` says) would make an editor's
/// completion insert `null`, so it goes.
fn tidy(schema: &mut Schema) {
    if schema.get("default").is_some_and(Value::is_null) {
        schema.remove("default");
    }
    if let Some(Value::String(d)) = schema.get_mut("description") {
        *d = d
            .split("\n\n")
            .map(|p| p.replace('\n', " "))
            .collect::<Vec<_>>()
            .join("\n\n");
    }
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails when a type changed and the committed schema did not follow.
    #[test]
    fn committed_schemas_match_the_types() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let bless = std::env::var_os("PERFGATE_BLESS").is_some_and(|v| v == "1");
        for (path, text) in files() {
            let file = root.join(path);
            if bless {
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(&file, &text).unwrap();
                continue;
            }
            let committed = std::fs::read_to_string(&file).unwrap_or_default();
            assert!(
                committed == text,
                "{path} differs from what the Rust types generate (a field, a doc comment or a \
                 #[schemars] attribute changed). Regenerate it with \
                 `PERFGATE_BLESS=1 cargo test --lib schema` and commit the result."
            );
        }
    }
}
