//! Scenario files: the serde model, `${ENV}` interpolation, validation with
//! file:line:column diagnostics, and the presets that turn a kind into stages.
//! The output is a [`Plan`]; this module knows nothing of the engine.

pub mod plan;
pub mod secrets;
pub mod units;

pub use plan::*;
pub use secrets::Secrets;
