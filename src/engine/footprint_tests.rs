//! What one virtual user costs before it sends anything: the size of its worker future (the
//! tokio task holds it inline: the session, the recorder and every await point's state,
//! including the HTTP client's). Ten thousand users multiply it, so it is held under a bound.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::schedule::{self, Phase};
use super::worker::{self, Pacing, Picker, WorkerCtx};
use super::StopSignal;
use crate::client::demo::{DemoOptions, DemoServer};
use crate::client::{PlanTarget, Registry, Target};
use crate::metrics::Recorder;

#[tokio::test]
async fn a_virtual_user_s_future_stays_small() {
    let yaml = "name: t
kind: load
target: { base_url: 'http://127.0.0.1:9' }
requests: [{ name: a, path: / }, { name: b, method: POST, path: /x, body: '{}' }]
load: { peak: 2, duration: 1s }
";
    let registry = Registry::with_builtins();
    let plan = crate::scenario::parse(yaml, Path::new("t.yaml"), &[], |_| None)
        .unwrap_or_else(|e| panic!("{e}"));
    let server = DemoServer::start(([127, 0, 0, 1], 0).into(), DemoOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let target = PlanTarget::prepare(&plan, Some(&server.base_url()), &registry)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let phases: Arc<Vec<Phase>> = Arc::new(schedule::phases(&plan.load));
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let start = Instant::now();
    let fut = worker::work(
        target.session(),
        Pacing::Closed {
            index: 0,
            think: Duration::from_secs(1),
            phases,
        },
        Picker::new(&[1, 1], 1),
        Recorder::new(2, tx),
        Arc::new(WorkerCtx {
            start,
            end: start + Duration::from_secs(1),
            stop: StopSignal::new(),
        }),
        || {},
    );
    let size = std::mem::size_of_val(&fut);
    eprintln!("worker future: {size} bytes");
    assert!(size < 4096, "a virtual user's future is {size} bytes");
}
