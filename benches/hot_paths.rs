//! Benchmarks of the paths every request or window goes through: a worker's record (one
//! event appended), the aggregator's record into a histogram, merging windows, parsing a
//! scenario, and one in-process call through the whole engine (worker loop, recorder,
//! aggregator), measured per request. Each is short enough for
//! `cargo bench --bench hot_paths -- --quick`. The HTTP path is held against wrk by
//! `scripts/bench-vs-wrk.sh`, not here.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

use perfgate::client::{PlanTarget, Registry};
use perfgate::engine::{self, schedule, StopSignal};
use perfgate::metrics::{Aggregator, Batch, ErrorClass, Outcome, ReqStats};
use perfgate::result::LevelUnit;
use perfgate::scenario::{self, LoadPlan, Model, Stage};

/// Latencies (µs) spread like a real run: mostly around 0.5 ms, a tail to 40 ms.
fn latencies(n: usize) -> Vec<u64> {
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            match x % 100 {
                0 => 5_000 + x % 35_000,
                1..=9 => 1_000 + x % 4_000,
                _ => 200 + x % 600,
            }
        })
        .collect()
}

fn record(c: &mut Criterion) {
    let lat = latencies(4096);
    let ok = Outcome::ok(200, 2);
    let mut err = Outcome::error(ErrorClass::Http5xx, "HTTP 503");
    err.status = 503;
    let mut g = c.benchmark_group("record");
    g.throughput(Throughput::Elements(lat.len() as u64));
    g.bench_function("ReqStats::record ok x4096", |b| {
        let mut s = ReqStats::new();
        b.iter(|| {
            for l in &lat {
                s.record(black_box(*l), &ok);
            }
        })
    });
    // What a worker does per request: append a 24-byte event (the aggregator folds it).
    g.bench_function("Batch::record ok x4096", |b| {
        let mut batch = Batch::new(0);
        b.iter(|| {
            batch.events.clear();
            for l in &lat {
                batch.record(0, black_box(*l), &ok);
            }
        })
    });
    g.bench_function("ReqStats::record 1% 5xx x4096", |b| {
        let mut s = ReqStats::new();
        b.iter(|| {
            for (i, l) in lat.iter().enumerate() {
                s.record(black_box(*l), if i % 100 == 0 { &err } else { &ok });
            }
        })
    });
    g.finish();
}

/// One window's batch from one worker: `requests` recorded into each of `names` requests.
fn batch(window: u32, names: usize, requests: usize) -> Batch {
    let lat = latencies(requests);
    let mut b = Batch::new(window);
    b.phase = Some(0);
    for req in 0..names {
        for l in &lat {
            b.record(req, *l, &Outcome::ok(200, 2));
        }
    }
    b
}

fn merge(c: &mut Criterion) {
    let mut g = c.benchmark_group("merge");
    let mut one = ReqStats::new();
    for l in latencies(2_000) {
        one.record(l, &Outcome::ok(200, 2));
    }
    g.bench_function("ReqStats::merge (2k samples)", |b| {
        let mut acc = ReqStats::new();
        b.iter(|| acc.merge(black_box(&one)))
    });
    // A 64-worker second with 3 requests each: absorb every batch, then close the window.
    let names: Vec<String> = ["list", "create", "get"].map(String::from).to_vec();
    let spans: Vec<_> = schedule::phases(&LoadPlan {
        model: Model::Closed {
            think_time: Duration::ZERO,
        },
        warmup: Duration::ZERO,
        stages: vec![Stage {
            level: 64.0,
            duration: Duration::from_secs(3600),
            ramp: Duration::ZERO,
        }],
        from_preset: false,
    })
    .iter()
    .map(schedule::Phase::span)
    .collect();
    let workers: Vec<Batch> = (0..64).map(|_| batch(0, names.len(), 500)).collect();
    g.throughput(Throughput::Elements(workers.len() as u64));
    g.bench_function("Aggregator absorb 64 batches + close_until", |b| {
        b.iter_batched(
            || {
                let copies = workers
                    .iter()
                    .map(|w| Batch {
                        window: w.window,
                        phase: w.phase,
                        events: w.events.clone(),
                        dropped: 0,
                        samples: Vec::new(),
                    })
                    .collect::<Vec<_>>();
                (
                    Aggregator::new(names.clone(), spans.clone(), LevelUnit::Vus),
                    copies,
                )
            },
            |(mut agg, copies)| {
                for w in copies {
                    agg.absorb(w);
                }
                black_box(agg.close_until(1).len())
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

const SCENARIO: &str = r#"# Checkout flow under load.
name: checkout
kind: load
description: Browse, add to cart, check out.
target:
  base_url: ${BASE_URL:-http://127.0.0.1:8080}
  timeout: 2s
  headers: { Authorization: "Bearer ${API_TOKEN:-dev}", Accept: application/json }
requests:
  - name: list-items
    method: GET
    path: /items?page=1
    weight: 6
    expect: { status: [200], body_contains: '"id"' }
  - name: get-item
    path: /items/42
    weight: 3
  - name: add-to-cart
    method: POST
    path: /cart
    headers: { Content-Type: application/json }
    body: '{"item":42,"qty":1}'
    weight: 2
    expect: { status: [200, 201] }
  - name: price
    call: builtin.sha256
    params: { size: 1024 }
load:
  model: closed
  warmup: 5s
  think_time: 10ms
  stages:
    - { concurrency: 10, duration: 30s }
    - { concurrency: 50, duration: 2m }
    - { concurrency: 10, duration: 30s }
thresholds:
  - p95 < 200ms
  - list-items.p99 < 400ms
  - error_rate < 1%
  - throughput > 100/s
baseline:
  tolerance: { p95: 10%, throughput: 5% }
"#;

fn parse(c: &mut Criterion) {
    let registry = Registry::with_builtins();
    let names = registry.names();
    c.bench_function("scenario::parse (realistic, 50 lines)", |b| {
        b.iter(|| {
            let plan = scenario::parse(
                black_box(SCENARIO),
                Path::new("checkout.yaml"),
                &names,
                |_| None,
            );
            black_box(plan.is_ok())
        })
    });
}

/// Closed model, `vus` users calling `builtin.noop` for `millis`: (requests, wall time).
fn engine_run(rt: &tokio::runtime::Runtime, target: &Arc<PlanTarget>, vus: f64) -> (u64, Duration) {
    let load = LoadPlan {
        model: Model::Closed {
            think_time: Duration::ZERO,
        },
        warmup: Duration::ZERO,
        stages: vec![Stage {
            level: vus,
            duration: Duration::from_millis(100),
            ramp: Duration::ZERO,
        }],
        from_preset: false,
    };
    let started = Instant::now();
    let out = rt.block_on(engine::drive(
        Arc::clone(target),
        vec!["noop".into()],
        vec![1],
        &load,
        StopSignal::new(),
        None,
    ));
    (out.metrics.totals.requests, started.elapsed())
}

fn engine(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let registry = Registry::with_builtins();
    let yaml = "name: noop\nkind: load\nrequests:\n  - { name: noop, call: builtin.noop }\nload:\n  stages:\n    - { concurrency: 1, duration: 1s }\n";
    let plan = scenario::parse(yaml, Path::new("noop.yaml"), &registry.names(), |_| None)
        .expect("scenario");
    let target = Arc::new(
        rt.block_on(PlanTarget::prepare(&plan, None, &registry))
            .expect("target"),
    );
    let mut g = c.benchmark_group("engine");
    g.sample_size(10);
    for vus in [1.0, 64.0] {
        // Each sample is one 100 ms run; the time per request is what it reports.
        g.bench_function(format!("builtin.noop per request, {vus} VUs"), |b| {
            b.iter_custom(|iters| {
                let (requests, wall) = engine_run(&rt, &target, vus);
                wall.div_f64(requests.max(1) as f64).mul_f64(iters as f64)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, record, merge, parse, engine);
criterion_main!(benches);
