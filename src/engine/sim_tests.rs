//! Deterministic engine tests: a fake target whose requests take scripted times and end in
//! scripted outcomes, driven by the real engine under tokio's paused clock. Time only moves
//! when every task waits, and then straight to the next timer, so request counts, the window
//! and stage each request lands in, open-model arrival times, drops, the end-of-run rule and
//! an abort are exact, however loaded the machine running the tests is.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::{drive, EngineOutput, StopSignal};
use crate::client::{Session, Target};
use crate::metrics::{ErrorClass, Outcome};
use crate::scenario::{LoadPlan, Model, Stage};

/// What one request does: how long it takes and how it ends.
type Script = dyn Fn(usize) -> (Duration, Outcome) + Send + Sync;

/// One request as the fake target saw it, in ms since the engine started.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Sent {
    worker: usize,
    request: usize,
    start_ms: u64,
}

/// The fake target: every session follows `script` and logs what it was asked to send.
struct Fake {
    script: Arc<Script>,
    origin: Instant,
    log: Arc<Mutex<Vec<Sent>>>,
    sessions: Mutex<usize>,
}

struct FakeSession {
    worker: usize,
    script: Arc<Script>,
    origin: Instant,
    log: Arc<Mutex<Vec<Sent>>>,
}

impl Target for Fake {
    type Session = FakeSession;
    fn session(&self) -> FakeSession {
        let mut n = self.sessions.lock().unwrap();
        *n += 1;
        FakeSession {
            worker: *n - 1,
            script: Arc::clone(&self.script),
            origin: self.origin,
            log: Arc::clone(&self.log),
        }
    }
}

impl Session for FakeSession {
    async fn execute(&mut self, request: usize) -> Outcome {
        let start_ms = ms_since(self.origin);
        self.log.lock().unwrap().push(Sent {
            worker: self.worker,
            request,
            start_ms,
        });
        let (took, outcome) = (self.script)(request);
        tokio::time::sleep(took).await;
        outcome
    }
}

fn ms_since(origin: Instant) -> u64 {
    Instant::now().duration_since(origin).as_millis() as u64
}

/// Every request takes `ms` and answers 200.
fn takes(ms: u64) -> Arc<Script> {
    Arc::new(move |_| (Duration::from_millis(ms), Outcome::ok(200, 2)))
}

fn closed(stages: &[(f64, u64)], think_ms: u64) -> LoadPlan {
    plan(
        Model::Closed {
            think_time: Duration::from_millis(think_ms),
        },
        stages,
    )
}

fn open(stages: &[(f64, u64)], max_in_flight: u32) -> LoadPlan {
    plan(Model::Open { max_in_flight }, stages)
}

fn plan(model: Model, stages: &[(f64, u64)]) -> LoadPlan {
    LoadPlan {
        model,
        warmup: Duration::ZERO,
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

/// What a run under the paused clock produced, with when it returned.
struct Sim {
    out: EngineOutput,
    sent: Vec<Sent>,
    /// When the engine returned, in ms since it started.
    returned_ms: u64,
}

impl Sim {
    fn starts(&self) -> Vec<u64> {
        self.sent.iter().map(|s| s.start_ms).collect()
    }
    fn starts_of(&self, worker: usize) -> Vec<u64> {
        self.sent
            .iter()
            .filter(|s| s.worker == worker)
            .map(|s| s.start_ms)
            .collect()
    }
    fn per_window(&self) -> Vec<u64> {
        self.out
            .metrics
            .timeseries
            .iter()
            .map(|w| w.requests)
            .collect()
    }
    fn per_stage(&self) -> Vec<u64> {
        self.out
            .metrics
            .stages
            .iter()
            .map(|s| s.metrics.requests)
            .collect()
    }
}

/// Runs `load` against a fake following `script`, one request name per weight. Call it from
/// a `start_paused` test; `abort_at` aborts the run at that many ms.
async fn simulate(
    load: &LoadPlan,
    script: Arc<Script>,
    weights: &[u32],
    abort_at: Option<u64>,
) -> Sim {
    let origin = Instant::now();
    let log = Arc::new(Mutex::new(Vec::new()));
    let fake = Arc::new(Fake {
        script,
        origin,
        log: Arc::clone(&log),
        sessions: Mutex::new(0),
    });
    let names = (0..weights.len()).map(|i| format!("r{i}")).collect();
    let stop = StopSignal::new();
    if let Some(ms) = abort_at {
        let s = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            s.abort();
        });
    }
    let out = drive(fake, names, weights.to_vec(), load, stop, None).await;
    let returned_ms = ms_since(origin);
    let mut sent = log.lock().unwrap().clone();
    sent.sort_by_key(|s| (s.start_ms, s.worker));
    Sim {
        out,
        sent,
        returned_ms,
    }
}

/// Asserts a latency read back from an HDR histogram: exact to its 3 significant digits.
#[track_caller]
fn assert_ms(observed: f64, expected: f64) {
    assert!(
        (observed - expected).abs() <= expected * 1e-3,
        "{observed} ms, expected {expected} ms"
    );
}

/// `0, step, 2·step, …` while below `end`, each plus `offset`.
fn every(step: u64, offset: u64, end: u64) -> Vec<u64> {
    (0..)
        .map(|k| offset + k * step)
        .take_while(|t| *t < end)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn closed_model_counts_and_stage_boundaries_are_exact() {
    // 1 user for 1 s, then 2 users for 1 s; every request takes 7 ms. User 0 sends at 0, 7,
    // 14, … while the run lasts (286 requests, the last from 1,995 to 2,002 ms); user 1
    // waits for the second stage and sends at 1,000, 1,007, … (143, the last ending at
    // 2,001 ms).
    let sim = simulate(
        &closed(&[(1.0, 1000), (2.0, 1000)], 0),
        takes(7),
        &[1],
        None,
    )
    .await;
    assert_eq!(sim.starts_of(0), every(7, 0, 2000));
    assert_eq!(sim.starts_of(1), every(7, 1000, 2000));
    let t = &sim.out.metrics.totals;
    assert_eq!((t.requests, t.ok, t.errors), (429, 429, 0));
    // A request counts in the second it completed in: 7..994 ms in the first (142),
    // 1,001..1,995 ms from both users in the second (143 + 142), and the two still in flight
    // at the deadline in a third. A stage counts the requests that started in it: user 0's
    // 143 from 0 to 994 ms (the last completing at 1,001 ms) in the first, the rest
    // (including the two the deadline caught) in the second.
    assert_eq!(sim.per_window(), [142, 285, 2]);
    assert_eq!(sim.per_stage(), [143, 286]);
    let stages = &sim.out.metrics.stages;
    assert_eq!((stages[0].target, stages[1].target), (1.0, 2.0));
    assert_eq!(
        (stages[0].start_s, stages[0].end_s, stages[1].end_s),
        (0.0, 1.0, 2.0)
    );
    assert_ms(t.latency_ms.min, 7.0);
    assert_ms(t.latency_ms.max, 7.0);
    // The in-flight requests were awaited: the engine returned when the last one ended.
    assert_eq!(sim.returned_ms, 2002);
    assert_eq!(sim.out.elapsed, Duration::from_secs(2));
    assert!(!sim.out.aborted);
}

#[tokio::test(start_paused = true)]
async fn think_time_spaces_a_users_requests() {
    // 4 ms of work and 6 ms of thought: one request every 10 ms, 100 in the second.
    let sim = simulate(&closed(&[(1.0, 1000)], 6), takes(4), &[1], None).await;
    assert_eq!(sim.starts(), every(10, 0, 1000));
    assert_eq!(sim.per_window(), [100]);
}

#[tokio::test(start_paused = true)]
async fn open_model_sends_each_arrival_at_its_scheduled_time() {
    // 100/s for 1 s, 15 ms each, at most 2 in flight: never more than 2 are needed, so
    // every arrival is sent exactly on time, and none is dropped.
    let sim = simulate(&open(&[(100.0, 1000)], 2), takes(15), &[1], None).await;
    assert_eq!(sim.starts(), every(10, 0, 1000));
    let t = &sim.out.metrics.totals;
    assert_eq!((t.requests, t.dropped), (100, 0));
    // The arrival at 990 ms completes at 1,005 ms, after the deadline: awaited, counted in
    // the second it completed in.
    assert_eq!(sim.per_window(), [99, 1]);
    assert_eq!(sim.returned_ms, 1005);
    assert_ms(t.latency_ms.min, 15.0);
    assert_ms(t.latency_ms.max, 15.0);
}

#[tokio::test(start_paused = true)]
async fn open_model_drops_the_arrivals_nobody_could_take() {
    // 10/s for 1 s (arrivals at 0, 100, …, 900 ms), 250 ms each, one in flight. The worker
    // sends at 0; back at 250 it finds the arrivals of 100 and 200 ms past due and drops
    // them, waits for 300, and so on: 4 sent (0, 300, 600, 900), 6 dropped.
    let sim = simulate(&open(&[(10.0, 1000)], 1), takes(250), &[1], None).await;
    assert_eq!(sim.starts(), [0, 300, 600, 900]);
    let t = &sim.out.metrics.totals;
    assert_eq!((t.requests, t.dropped), (4, 6));
    assert_eq!(t.dropped_rate, 0.6);
    assert_eq!(sim.per_window(), [3, 1]);
    let dropped: Vec<u64> = sim
        .out
        .metrics
        .timeseries
        .iter()
        .map(|w| w.dropped)
        .collect();
    assert_eq!(dropped, [6, 0]);
    assert_ms(t.latency_ms.min, 250.0);
    assert_ms(t.latency_ms.max, 250.0);
}

#[tokio::test(start_paused = true)]
async fn open_model_times_a_late_send_from_its_scheduled_arrival() {
    // 10/s, 104 ms each, one in flight. Back at 104 ms the worker is 4 ms late for the
    // arrival of 100 ms: it sends at once and the latency counts from 100 (108 ms), so a
    // slow server cannot hide behind the generator; at 208 for 200 (112 ms); at 312 it is
    // 12 ms late for 300, more than a worker may be late: dropped. The pattern repeats from
    // 400 and 800.
    let sim = simulate(&open(&[(10.0, 1000)], 1), takes(104), &[1], None).await;
    assert_eq!(sim.starts(), [0, 104, 208, 400, 504, 608, 800, 904]);
    let t = &sim.out.metrics.totals;
    assert_eq!((t.requests, t.dropped), (8, 2));
    assert_eq!(sim.per_window(), [7, 1]);
    assert_ms(t.latency_ms.min, 104.0);
    assert_ms(t.latency_ms.max, 112.0);
}

#[tokio::test(start_paused = true)]
async fn open_model_grows_its_pool_and_sends_every_arrival() {
    // 100/s of 300 ms answers need 30 in flight: more than the 16 workers the pool starts
    // with, fewer than max_in_flight. The pool grows; nothing is dropped.
    let sim = simulate(&open(&[(100.0, 1000)], 60), takes(300), &[1], None).await;
    let t = &sim.out.metrics.totals;
    assert_eq!((t.requests, t.dropped), (100, 0));
    let workers = sim.sent.iter().map(|s| s.worker).max().unwrap() + 1;
    assert!((17..=60).contains(&workers), "{workers} workers");
}

#[tokio::test(start_paused = true)]
async fn weights_and_scripted_outcomes_are_counted_per_request() {
    // Two requests weighted 3:1; the second always fails with a 503 after 2 ms.
    let script: Arc<Script> = Arc::new(|req| match req {
        0 => (Duration::from_millis(5), Outcome::ok(200, 10)),
        _ => (
            Duration::from_millis(2),
            Outcome::error(ErrorClass::Http5xx, "HTTP 503"),
        ),
    });
    let sim = simulate(&closed(&[(2.0, 1000)], 0), script, &[3, 1], None).await;
    let m = &sim.out.metrics;
    let (a, b) = (&m.requests["r0"], &m.requests["r1"]);
    let sent = |r| sim.sent.iter().filter(|s| s.request == r).count() as u64;
    assert_eq!((a.requests, b.requests), (sent(0), sent(1)));
    assert_eq!((a.errors, b.ok), (0, 0));
    assert_eq!(b.errors_by_class.http_5xx, b.requests);
    assert_eq!(m.totals.requests, sim.sent.len() as u64);
    assert_eq!(m.totals.bytes_received, 10 * a.requests);
    let share = a.requests as f64 / m.totals.requests as f64;
    assert!((0.7..0.8).contains(&share), "share {share}");
}

#[tokio::test(start_paused = true)]
async fn an_in_flight_request_outlasting_the_run_is_awaited_and_counted_where_it_ended() {
    // One user, a 1 s run, a 1.5 s request: it is the run's only request, recorded in the
    // second it ended in (the second after the deadline), and the engine waits for it.
    let sim = simulate(&closed(&[(1.0, 1000)], 0), takes(1500), &[1], None).await;
    assert_eq!(sim.starts(), [0]);
    assert_eq!(sim.per_window(), [0, 1]);
    assert_eq!(sim.per_stage(), [1]);
    assert_eq!(sim.returned_ms, 1500);
    assert_ms(sim.out.metrics.totals.latency_ms.max, 1500.0);
}

#[tokio::test(start_paused = true)]
async fn an_abort_leaves_the_grace_period_then_counts_what_is_in_flight_as_interrupted() {
    // A 10 s run of 3 s requests, aborted at 500 ms: the one request in flight gets the
    // 500 ms grace, is cut off at 1,000 ms and counted as interrupted.
    let sim = simulate(&closed(&[(1.0, 10_000)], 0), takes(3000), &[1], Some(500)).await;
    assert!(sim.out.aborted);
    assert_eq!(sim.returned_ms, 1000);
    let t = &sim.out.metrics.totals;
    assert_eq!((t.requests, t.errors), (1, 1));
    assert_eq!(t.errors_by_class.interrupted, 1);
    assert_eq!(sim.out.elapsed, Duration::from_millis(500));
}

#[tokio::test(start_paused = true)]
async fn an_abort_lets_a_request_that_ends_within_the_grace_period_finish() {
    // 200 ms requests, aborted at 500 ms: the request sent at 400 ms ends at 600, within the
    // grace period, and counts as an answer; no new request starts after the abort.
    let sim = simulate(&closed(&[(1.0, 10_000)], 0), takes(200), &[1], Some(500)).await;
    assert!(sim.out.aborted);
    assert_eq!(sim.starts(), [0, 200, 400]);
    assert_eq!(sim.returned_ms, 600);
    let t = &sim.out.metrics.totals;
    assert_eq!((t.requests, t.ok, t.errors_by_class.interrupted), (3, 3, 0));
}

#[tokio::test(start_paused = true)]
async fn a_halt_from_the_window_hook_cuts_the_run_like_an_abort_but_is_not_one() {
    // A 10 s run of 3 s requests; the hook halts the run at the first closed window (1.1 s):
    // the request in flight gets the 500 ms grace, is cut off at 1,600 ms and counted as
    // interrupted, and the run is not `aborted` (it stopped itself; the gate judges it).
    let origin = Instant::now();
    let fake = Arc::new(Fake {
        script: takes(3000),
        origin,
        log: Arc::new(Mutex::new(Vec::new())),
        sessions: Mutex::new(0),
    });
    let stop = StopSignal::new();
    let halt = stop.clone();
    let hook: super::WindowHook = Box::new(move |_| halt.halt());
    let load = closed(&[(1.0, 10_000)], 0);
    let out = drive(
        fake,
        vec!["r0".into()],
        vec![1],
        &load,
        stop.clone(),
        Some(hook),
    )
    .await;
    assert_eq!(ms_since(origin), 1600);
    assert!(!out.aborted && stop.is_halted());
    assert_eq!(out.elapsed, Duration::from_millis(1100));
    let t = &out.metrics.totals;
    assert_eq!((t.requests, t.errors_by_class.interrupted), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn per_second_counts_match_the_targets_log_while_the_pool_grows() {
    // The rate steps 100/300/100 per second, 400 ms each: the pool grows past its first 16
    // workers in the second stage, and in the third its workers idle over a second between
    // slots while holding what they recorded. Each request counts in the second it ended in:
    // exactly what the target's own log says, second by second; and in the stage it was due
    // in.
    let load = open(&[(100.0, 1000), (300.0, 1000), (100.0, 1000)], 300);
    let sim = simulate(&load, takes(400), &[1], None).await;
    let t = &sim.out.metrics.totals;
    assert_eq!((t.requests, t.dropped), (500, 0));
    let mut by_second = vec![0u64; 4];
    for s in &sim.sent {
        by_second[((s.start_ms + 400) / 1000) as usize] += 1;
    }
    assert_eq!(sim.per_window(), by_second);
    // A stage counts the arrivals due in it, wherever they ended.
    assert_eq!(sim.per_stage(), [100, 300, 100]);
}

/// Runs a scenario's in-process calls (the real target, the builtins) under the paused clock.
async fn simulate_calls(yaml: &str) -> (EngineOutput, u64) {
    let registry = crate::client::Registry::with_builtins();
    let plan = crate::scenario::parse(
        yaml,
        std::path::Path::new("sim.yaml"),
        &registry.names(),
        |_| None,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let target = crate::client::PlanTarget::prepare(&plan, None, &registry)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let names = plan.requests.iter().map(|r| r.name.clone()).collect();
    let weights = plan.requests.iter().map(|r| r.weight).collect();
    let origin = Instant::now();
    let out = drive(
        Arc::new(target),
        names,
        weights,
        &plan.load,
        StopSignal::new(),
        None,
    )
    .await;
    (out, ms_since(origin))
}

#[tokio::test(start_paused = true)]
async fn an_in_process_call_that_outlasts_the_timeout_is_cut_at_the_timeout() {
    // Two users, 250 ms, a 100 ms timeout on 5 s calls: each user's calls are cut at 100,
    // 200 and 300 ms (the last one was in flight at the deadline): six timeouts of exactly
    // 100 ms, not 5 s.
    let (out, returned_ms) = simulate_calls(
        "name: slowcall
kind: load
target: { timeout: 100ms }
requests:
  - { name: nap, call: builtin.sleep, params: { ms: 5000 } }
load:
  stages:
    - { concurrency: 2, duration: 250ms }
",
    )
    .await;
    let t = &out.metrics.totals;
    assert_eq!((t.requests, t.errors_by_class.timeout), (6, 6));
    assert_ms(t.failed_latency_ms.min, 100.0);
    assert_ms(t.failed_latency_ms.max, 100.0);
    assert_eq!(returned_ms, 300);
    assert!(out
        .metrics
        .error_samples
        .iter()
        .any(|s| s.class.name() == "timeout" && s.message.contains("100ms")));
}

#[tokio::test(start_paused = true)]
async fn a_sub_second_warmup_leaves_the_stage_its_own_requests_and_rate() {
    // Warm-up 500 ms, then one stage of 1 s, 2 users, 10 ms each: 100 requests per user per
    // second. The stage's 200 requests started from 500 ms on, half of them in window 0;
    // counted by window they would be split 100 / 100 between warm-up and stage, and the
    // stage would read 100/s over its 1 s.
    let mut load = closed(&[(2.0, 1000)], 0);
    load.warmup = Duration::from_millis(500);
    let sim = simulate(&load, takes(10), &[1], None).await;
    let m = &sim.out.metrics;
    assert_eq!(m.warmup.as_ref().map(|w| w.requests), Some(100));
    assert_eq!(sim.per_stage(), [200]);
    assert!((m.stages[0].metrics.throughput_rps - 200.0).abs() < 1e-9);
    assert_eq!(m.totals.requests, 200);
    // By completion: 99 per user in [0, 1 s), the rest after.
    assert_eq!(sim.per_window(), [198, 102]);
}

/// Users active at `ms`: those that started a request then or in the 10 ms before (each
/// request takes 10 ms, no think time).
fn users_at(sim: &Sim, ms: u64) -> usize {
    let mut w: Vec<usize> = sim
        .sent
        .iter()
        .filter(|s| s.start_ms <= ms && s.start_ms + 10 > ms)
        .map(|s| s.worker)
        .collect();
    w.sort_unstable();
    w.dedup();
    w.len()
}

#[tokio::test(start_paused = true)]
async fn a_closed_ramp_adds_users_at_exact_instants() {
    // 0 → 10 users over the first 2 s of a 3 s stage: user i joins at (i + 1) × 200 ms.
    let mut load = closed(&[(10.0, 3000)], 0);
    load.stages[0].ramp = Duration::from_secs(2);
    let sim = simulate(&load, takes(10), &[1], None).await;
    for i in 0..10 {
        let first = sim.starts_of(i).first().copied();
        assert_eq!(first, Some((i as u64 + 1) * 200), "user {i}");
    }
    assert_eq!(users_at(&sim, 195), 0);
    assert_eq!(users_at(&sim, 205), 1);
    assert_eq!(users_at(&sim, 1005), 5);
    assert_eq!(users_at(&sim, 1995), 9);
    assert_eq!(users_at(&sim, 2005), 10);
    assert_eq!(users_at(&sim, 2995), 10);
    // The windows' level follows the ramp at their middle: 2.5, 7.5, then 10.
    let active: Vec<f64> = sim
        .out
        .metrics
        .timeseries
        .iter()
        .map(|w| w.active)
        .collect();
    assert_eq!(&active[..3], &[2.5, 7.5, 10.0]);
}

#[tokio::test(start_paused = true)]
async fn a_ramp_down_lets_users_go_at_exact_instants() {
    // 10 users for 1 s, then down to 2 over 800 ms: user i (≥ 2) sends while the level is at
    // least i + 1, i.e. until 1,000 + (10 − (i + 1)) × 100 ms.
    let mut load = closed(&[(10.0, 1000), (2.0, 1000)], 0);
    load.stages[1].ramp = Duration::from_millis(800);
    let sim = simulate(&load, takes(10), &[1], None).await;
    for i in 2..10u64 {
        let last = sim.starts_of(i as usize).last().copied().unwrap();
        let leaves = 1000 + (10 - (i + 1)) * 100;
        assert!(
            last <= leaves && last + 10 > leaves,
            "user {i}: last start {last}"
        );
    }
    assert_eq!(users_at(&sim, 1905), 2);
    assert_eq!(sim.starts_of(0).len(), 200);
}

#[tokio::test(start_paused = true)]
async fn an_open_ramp_sends_arrivals_under_the_rising_rate() {
    // 0 → 200/s over 1 s (100 arrivals, the k-th at sqrt(k / 100) s), then 200/s for 1 s.
    let mut load = open(&[(200.0, 2000)], 100);
    load.stages[0].ramp = Duration::from_secs(1);
    let sim = simulate(&load, takes(1), &[1], None).await;
    let t = &sim.out.metrics.totals;
    assert_eq!((t.requests, t.dropped), (300, 0));
    let starts = sim.starts();
    // Arrival k is due at sqrt(k / 100) s: 7, 18, 32 and 43 in the ramp's quarters.
    let within = |a: u64, b: u64| starts.iter().filter(|&&s| s >= a && s < b).count();
    assert_eq!(
        [
            within(0, 250),
            within(250, 500),
            within(500, 750),
            within(750, 1000)
        ],
        [7, 18, 32, 43]
    );
    assert_eq!(within(1000, 2000), 200);
    assert_eq!(sim.per_window(), [100, 200]);
}
