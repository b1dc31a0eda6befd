//! The `perfgate` binary: the builtin functions and the command line. Everything else is in
//! the library, so a user's own binary is this same line with more functions registered.

use std::process::ExitCode;

fn main() -> ExitCode {
    perfgate::cli::main(perfgate::Registry::with_builtins())
}
