//! `monitor:` validated: each entry names exactly one of `pid`, `pid_file`, `process`.
//! Whether the process runs is a fact of the run, not of the file: the monitor reports it.

use std::path::PathBuf;

use super::diag::{ScenarioError, Seg};
use super::model::RawMonitor;
use super::plan::{MonitorTarget, Threshold};
use super::validate::{k, Context};

const HINT: &str =
    "write one of `- pid: 1234`, `- pid_file: run/server.pid`, `- process: my-server`";

/// The targets of `monitor:`, in the file's order.
pub(super) fn validate(
    raw: Option<Vec<RawMonitor>>,
    ctx: &Context,
) -> Result<Vec<MonitorTarget>, ScenarioError> {
    let mut out = Vec::new();
    for (i, m) in raw.into_iter().flatten().enumerate() {
        let at = |field: Option<&str>| {
            let mut p = vec![k("monitor"), Seg::Index(i)];
            p.extend(field.map(k));
            p
        };
        let target = match (m.pid, m.pid_file, m.process) {
            (Some(pid), None, None) => {
                let pid = u32::try_from(pid).ok().filter(|p| *p >= 1).ok_or_else(|| {
                    ctx.err(
                        &at(Some("pid")),
                        format!("`{pid}` is not a process id"),
                        Some("a process id is a whole number ≥ 1".into()),
                    )
                })?;
                MonitorTarget::Pid(pid)
            }
            (None, Some(f), None) if !f.trim().is_empty() => {
                MonitorTarget::PidFile(PathBuf::from(f.trim()))
            }
            (None, None, Some(n)) if !n.trim().is_empty() => {
                MonitorTarget::Process(n.trim().to_string())
            }
            (None, Some(_), None) | (None, None, Some(_)) => {
                return Err(ctx.err(
                    &at(None),
                    "an empty process name or pid file",
                    Some(HINT.into()),
                ))
            }
            _ => {
                return Err(ctx.err(
                    &at(None),
                    "a monitor entry names exactly one of `pid`, `pid_file` and `process`",
                    Some(HINT.into()),
                ))
            }
        };
        out.push(target);
    }
    Ok(out)
}

/// A `sut.*` threshold needs something to watch: `monitor:`, or an in-process target (which
/// watches perfgate itself). Otherwise it could only fail for want of data: refused here.
pub(super) fn check_thresholds(
    thresholds: &[Threshold],
    monitor: &[MonitorTarget],
    uses_http: bool,
    ctx: &Context,
) -> Result<(), ScenarioError> {
    if !monitor.is_empty() || !uses_http {
        return Ok(());
    }
    match thresholds.iter().position(|t| t.metric.is_sut()) {
        Some(i) => Err(ctx.err(
            &[k("thresholds"), Seg::Index(i)],
            format!(
                "`{}` judges the system under test, but nothing watches it",
                thresholds[i].expr
            ),
            Some(format!(
                "add `monitor:` with the server's process, e.g. {HINT_SHORT}"
            )),
        )),
        None => Ok(()),
    }
}

const HINT_SHORT: &str = "`monitor: [{ pid: 1234 }]` or `monitor: [{ process: my-server }]`";
