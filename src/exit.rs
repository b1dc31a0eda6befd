//! The process's exit codes, a contract with CI (README "Exit codes", `--help`): one type, one
//! mapping to [`std::process::ExitCode`] and to the `exit_code` number in `result.json`.

use crate::result::Verdict;

/// What a perfgate command tells its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExitCode {
    /// 0: the run completed and every gate passed (or the command did its job).
    Pass,
    /// 1: the run completed and a gate failed: a threshold, or a regression against the
    /// baseline.
    Fail,
    /// 2: invalid input: command line, scenario file, baseline or result file.
    Input,
    /// 3: the run could not complete: target unreachable at preflight, aborted by signal,
    /// internal error.
    Run,
}

impl ExitCode {
    /// The number the process exits with (and `result.json` records).
    pub const fn code(self) -> i32 {
        match self {
            ExitCode::Pass => 0,
            ExitCode::Fail => 1,
            ExitCode::Input => 2,
            ExitCode::Run => 3,
        }
    }

    /// The exit code of a judged run: pass 0, fail 1, aborted 3.
    pub const fn of(verdict: Verdict) -> ExitCode {
        match verdict {
            Verdict::Pass => ExitCode::Pass,
            Verdict::Fail => ExitCode::Fail,
            Verdict::Aborted => ExitCode::Run,
        }
    }

    /// The exit code for a number, `None` for one perfgate never uses.
    pub const fn from_code(code: i32) -> Option<ExitCode> {
        match code {
            0 => Some(ExitCode::Pass),
            1 => Some(ExitCode::Fail),
            2 => Some(ExitCode::Input),
            3 => Some(ExitCode::Run),
            _ => None,
        }
    }

    /// Ends the process at once with this code (the second Ctrl-C).
    pub(crate) fn exit_now(self) -> ! {
        std::process::exit(self.code())
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(c: ExitCode) -> Self {
        std::process::ExitCode::from(c.code() as u8)
    }
}

impl From<Verdict> for ExitCode {
    fn from(v: Verdict) -> Self {
        ExitCode::of(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_the_documented_ones() {
        let all = [
            ExitCode::Pass,
            ExitCode::Fail,
            ExitCode::Input,
            ExitCode::Run,
        ];
        assert_eq!(all.map(ExitCode::code), [0, 1, 2, 3]);
        for c in all {
            assert_eq!(ExitCode::from_code(c.code()), Some(c));
        }
        assert_eq!(ExitCode::from_code(4), None);
        assert_eq!(ExitCode::of(Verdict::Aborted), ExitCode::Run);
        assert_eq!(ExitCode::of(Verdict::Fail).code(), 1);
    }
}
