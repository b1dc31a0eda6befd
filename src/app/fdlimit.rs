//! The file-descriptor limit. Every virtual user (closed model) or in-flight slot (open model)
//! holds one connection, so a run of 10,000 users needs 10,000 descriptors, and the usual
//! soft limit is 1,024. At start the soft limit is raised to the hard limit (what wrk and k6
//! users otherwise do by hand with `ulimit -n`); a run that still cannot fit under it is
//! refused before the load starts (exit 2, with the numbers), instead of spinning on `EMFILE`.

use crate::scenario::diag::{locate, Seg};
use crate::scenario::{BaseUrl, Model, Plan, ScenarioError};

/// Descriptors kept for perfgate itself beside the connections: standard streams, the
/// runtime's epoll and wake-up descriptors, `/proc` reads, the result and report files, the
/// embedded demo server's listener.
pub(crate) const RESERVE: u64 = 64;

/// The open-files limits of this process: soft (what applies now) and hard (what the soft
/// limit may be raised to); `None`: unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub soft: Option<u64>,
    pub hard: Option<u64>,
}

/// Raises the soft open-files limit to the hard limit and returns the limits in force
/// afterwards (`None` where they cannot be read, off Unix). A raise the system refuses
/// leaves the soft limit as it was.
pub(crate) fn raise() -> Option<Limits> {
    #[cfg(unix)]
    {
        use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
        let now = getrlimit(Resource::Nofile);
        if now.current != now.maximum {
            let _ = setrlimit(
                Resource::Nofile,
                Rlimit {
                    current: now.maximum,
                    maximum: now.maximum,
                },
            );
        }
        let after = getrlimit(Resource::Nofile);
        Some(Limits {
            soft: after.current,
            hard: after.maximum,
        })
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Descriptors `plan` needs when run here: one connection per virtual user (closed) or
/// in-flight slot (open), twice that when the embedded demo server answers in this process,
/// plus [`RESERVE`]. Zero for a plan without HTTP requests (in-process functions).
pub(crate) fn needed(plan: &Plan, base_url_override: bool) -> u64 {
    if !plan.uses_http() {
        return 0;
    }
    let connections = connections(plan);
    let embedded = !base_url_override && matches!(plan.target.base_url, Some(BaseUrl::Embedded));
    connections * if embedded { 2 } else { 1 } + RESERVE
}

/// Connections the load opens at its peak.
fn connections(plan: &Plan) -> u64 {
    match plan.load.model {
        Model::Closed { .. } => plan.load.peak().ceil().max(0.0) as u64,
        Model::Open { max_in_flight } => u64::from(max_in_flight),
    }
}

/// Raises the soft limit, then refuses `plan` (exit 2, at the field that sets the load) when
/// it needs more descriptors than the limit allows. `base_url_override`: `--base-url` sends
/// the requests elsewhere than the scenario says (so no embedded server in this process).
pub(crate) fn ensure(plan: &Plan, base_url_override: bool) -> Result<(), ScenarioError> {
    let need = needed(plan, base_url_override);
    if need == 0 {
        return Ok(());
    }
    let Some(Limits {
        soft: Some(soft), ..
    }) = raise()
    else {
        return Ok(());
    };
    if need <= soft {
        return Ok(());
    }
    let text = std::fs::read_to_string(&plan.file).ok();
    Err(refusal(plan, need, soft, text.as_deref()))
}

/// The diagnostic for a plan that needs `need` descriptors where `limit` are allowed;
/// `text`: the scenario file's text, to point at the field that sets the load.
fn refusal(plan: &Plan, need: u64, limit: u64, text: Option<&str>) -> ScenarioError {
    let (field, what) = match plan.load.model {
        Model::Closed { .. } => (
            peak_field(plan),
            format!("{} virtual users", connections(plan)),
        ),
        Model::Open { .. } => (
            vec![Seg::Key("load".into()), Seg::Key("max_in_flight".into())],
            format!("max_in_flight {}", connections(plan)),
        ),
    };
    let embedded = need - RESERVE > connections(plan);
    let (line, column) = text.map_or((0, 0), |t| locate(t, &field));
    let fit = limit.saturating_sub(RESERVE) / if embedded { 2 } else { 1 };
    ScenarioError {
        file: plan.file.clone(),
        line,
        column,
        field: crate::scenario::diag::path_string(&field),
        message: format!(
            "{what} need {need} open files ({}one connection each{}, and {RESERVE} for perfgate), \
             but this process may open {limit} (the hard limit, `ulimit -Hn`)",
            if embedded { "two " } else { "" },
            if embedded {
                ", counting the embedded demo server's side"
            } else {
                ""
            },
        ),
        hint: Some(format!(
            "at most {fit} fit here: raise the hard limit (`ulimit -Hn` as root, \
             LimitNOFILE= for a systemd unit, --ulimit nofile= for docker) or split the \
             load over several generators"
        )),
    }
}

/// Where the peak level is set: `load.peak` for a preset, else the first stage at the peak.
fn peak_field(plan: &Plan) -> Vec<Seg> {
    let load = Seg::Key("load".into());
    if plan.load.from_preset {
        return vec![load, Seg::Key("peak".into())];
    }
    let peak = plan.load.peak();
    let i = plan
        .load
        .stages
        .iter()
        .position(|s| s.level >= peak)
        .unwrap_or(0);
    vec![
        load,
        Seg::Key("stages".into()),
        Seg::Index(i),
        Seg::Key("concurrency".into()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const HTTP: &str = "name: t
kind: load
target: { base_url: 'http://127.0.0.1:9' }
requests: [{ name: a, path: / }]
load:
  stages:
    - { concurrency: 10, duration: 1s }
    - { concurrency: 5000, duration: 1s }
";

    fn plan(yaml: &str) -> Plan {
        crate::scenario::parse(yaml, Path::new("t.yaml"), &[], |_| None)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_connection_per_user_or_slot_and_the_embedded_server_counts_twice() {
        assert_eq!(needed(&plan(HTTP), false), 5000 + RESERVE);
        let open = HTTP.replace(
            "load:\n  stages:\n    - { concurrency: 10, duration: 1s }\n    - { concurrency: 5000, duration: 1s }",
            "load: { model: open, max_in_flight: 300, stages: [{ rate: 100/s, duration: 1s }] }",
        );
        assert_eq!(needed(&plan(&open), false), 300 + RESERVE);
        let embedded = HTTP.replace("'http://127.0.0.1:9'", "embedded");
        assert_eq!(needed(&plan(&embedded), false), 2 * 5000 + RESERVE);
        // --base-url sends the requests elsewhere: no server in this process.
        assert_eq!(needed(&plan(&embedded), true), 5000 + RESERVE);
    }

    #[test]
    fn in_process_functions_need_no_descriptors() {
        let yaml = "name: t
kind: load
requests: [{ name: a, call: builtin.noop }]
load: { peak: 20000, duration: 1s }
";
        let p = crate::scenario::parse(yaml, Path::new("t.yaml"), &["builtin.noop"], |_| None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(needed(&p, false), 0);
    }

    #[test]
    fn the_refusal_points_at_the_peak_stage_with_the_numbers() {
        let p = plan(HTTP);
        let e = refusal(&p, needed(&p, false), 1024, Some(HTTP));
        assert_eq!(e.field, "load.stages[1].concurrency");
        assert_eq!((e.line, e.column), (8, 9));
        assert!(
            e.message
                .contains("5000 virtual users need 5064 open files"),
            "{e}"
        );
        assert!(e.message.contains("may open 1024"), "{e}");
        assert!(
            e.hint
                .as_deref()
                .is_some_and(|h| h.contains("at most 960 fit")),
            "{e}"
        );
    }
}
