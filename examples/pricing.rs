//! Benchmark your own async code with perfgate: register functions in a `Registry` and hand
//! it to `perfgate::cli::main`. This binary is the whole `perfgate` command line, plus
//! `pricing.quote`.
//!
//! ```text
//! cargo run --release --example pricing -- run examples/pricing.yaml
//! ```

use std::process::ExitCode;
use std::time::Duration;

use perfgate::{CallContext, FnResult, Registry};

/// The code under test: price `qty` items, with a little simulated I/O.
async fn quote(ctx: CallContext) -> FnResult {
    let qty = ctx.u64_param("qty", 1)?;
    if qty == 0 {
        return Err("qty must be at least 1".into());
    }
    // Stand-in for a cache or database lookup.
    tokio::time::sleep(Duration::from_micros(200)).await;
    let unit_cents: u64 = (1..=qty).map(|i| 999 - (i % 7) * 10).sum();
    std::hint::black_box(unit_cents);
    Ok(())
}

fn main() -> ExitCode {
    let mut registry = Registry::with_builtins();
    registry.register("pricing.quote", quote);
    perfgate::cli::main(registry)
}
