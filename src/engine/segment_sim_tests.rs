//! Segments driven by the real engine under tokio's paused clock: the generators of one
//! run, each driven alone, send together exactly what one generator sends for the whole
//! load, stage by stage and (open model) arrival by arrival.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::{drive_segment, Segment, StopSignal};
use crate::client::{Session, Target};
use crate::metrics::Outcome;
use crate::result::StageResult;
use crate::scenario::{LoadPlan, Model, Stage};

/// Every request takes 50 ms; the start of each (ms since the engine started) is logged.
struct Fake {
    origin: Instant,
    log: Arc<Mutex<Vec<u64>>>,
}

struct FakeSession {
    origin: Instant,
    log: Arc<Mutex<Vec<u64>>>,
}

impl Target for Fake {
    type Session = FakeSession;
    fn session(&self) -> FakeSession {
        FakeSession {
            origin: self.origin,
            log: Arc::clone(&self.log),
        }
    }
}

impl Session for FakeSession {
    async fn execute(&mut self, _request: usize) -> Outcome {
        let ms = Instant::now().duration_since(self.origin).as_millis() as u64;
        self.log.lock().unwrap().push(ms);
        tokio::time::sleep(Duration::from_millis(50)).await;
        Outcome::ok(200, 2)
    }
}

fn plan(model: Model, stages: &[(f64, u64)]) -> LoadPlan {
    LoadPlan {
        model,
        warmup: Duration::from_millis(500),
        stages: stages
            .iter()
            .map(|&(level, ms)| Stage {
                level,
                duration: Duration::from_millis(ms),
                ramp: Duration::ZERO,
            })
            .collect(),
        from_preset: false,
    }
}

/// The request starts and the stages of one segment's run.
async fn run(load: &LoadPlan, segment: Segment) -> (Vec<u64>, Vec<StageResult>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let target = Arc::new(Fake {
        origin: Instant::now(),
        log: Arc::clone(&log),
    });
    let out = drive_segment(
        target,
        vec!["r".into()],
        vec![1],
        load,
        segment,
        StopSignal::new(),
        None,
    )
    .await;
    let starts = log.lock().unwrap().clone();
    (starts, out.metrics.stages)
}

/// The whole load, and the union of its `n` segments: request starts (sorted), per stage
/// the requests and the level.
async fn whole_and_split(load: &LoadPlan, n: u64) -> [(Vec<u64>, Vec<(u64, f64)>); 2] {
    let summary = |stages: &[StageResult]| -> Vec<(u64, f64)> {
        stages
            .iter()
            .map(|s| (s.metrics.requests, s.target))
            .collect()
    };
    let (mut whole, stages) = run(load, Segment::WHOLE).await;
    whole.sort_unstable();
    let mut split = Vec::new();
    let mut sums = vec![(0, 0.0); load.stages.len()];
    for i in 1..=n {
        let (starts, stages) = run(load, Segment::new(i, n).unwrap()).await;
        split.extend(starts);
        for (sum, (requests, level)) in sums.iter_mut().zip(summary(&stages)) {
            sum.0 += requests;
            sum.1 += level;
        }
    }
    split.sort_unstable();
    [(whole, summary(&stages)), (split, sums)]
}

#[tokio::test(start_paused = true)]
async fn closed_segments_send_what_one_generator_sends() {
    // 3, then 10, then 4 users over 3 generators (4+3+3 at the peak), 100 ms think time.
    let load = plan(
        Model::Closed {
            think_time: Duration::from_millis(100),
        },
        &[(3.0, 1000), (10.0, 1000), (4.0, 1000)],
    );
    let [whole, split] = whole_and_split(&load, 3).await;
    assert_eq!(whole.1, split.1, "per stage: requests and level");
    assert_eq!(whole.1[1].1, 10.0);
    assert_eq!(whole.0, split.0, "every request at the same moment");
}

#[tokio::test(start_paused = true)]
async fn open_segments_interleave_to_one_generators_arrivals() {
    // 100/s then 250/s over 4 generators: each takes every 4th arrival.
    let load = plan(
        Model::Open { max_in_flight: 64 },
        &[(100.0, 1000), (250.0, 1000)],
    );
    let [whole, split] = whole_and_split(&load, 4).await;
    assert_eq!(
        whole.0.len(),
        50 + 100 + 250,
        "warm-up at the first rate, then each stage"
    );
    assert_eq!(whole.0, split.0, "the same arrival times");
    assert_eq!(whole.1, split.1, "per stage: requests and level");
}
