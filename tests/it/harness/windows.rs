//! Windows tell the time: a request is counted in the 1-second window in which it completed,
//! whatever the open model's worker pool does while the rate steps up and down, so the
//! per-second counts in `result.json` match a counting server's per-second log.

use std::time::Duration;

use perfgate::client::Registry;

use crate::support::counting::CountingServer;
use crate::support::{assert_totals_add_up, run_yaml};

#[test]
fn per_second_counts_match_the_servers_while_the_pool_grows() {
    let s = CountingServer::start();
    // 300/s of 400 ms answers need ~120 in flight: the pool grows past its first 16
    // workers in the second stage; in the third, at 100/s, each of them waits over a second
    // for its next slot while holding what it recorded (it must hand that over first).
    let r = run_yaml(
        &format!(
            "name: steps\nkind: load\ntarget: {{ base_url: '{}', timeout: 2s }}\nrequests:\n  - {{ name: slow, path: /slow/400 }}\nload:\n  model: open\n  max_in_flight: 300\n  stages:\n    - {{ rate: 100/s, duration: 1s }}\n    - {{ rate: 300/s, duration: 1s }}\n    - {{ rate: 100/s, duration: 1s }}\n",
            s.url()
        ),
        &Registry::with_builtins(),
    );
    assert_totals_add_up(&r);
    assert_eq!(r.totals.errors, 0, "{:?}", r.error_samples);
    assert_eq!(r.totals.dropped, 0);
    let log = s.received();
    assert_eq!(r.totals.requests, log.len() as u64);
    assert!(log
        .iter()
        .all(|x| x.method == "GET" && x.path == "/slow/400"));
    // The server's answers, by the second they completed in: each arrived at the first
    // arrival's offset (the run's start, give or take a connect) and took 400 ms.
    let origin = log.iter().map(|x| x.at).min().unwrap();
    let mut server = vec![0u64; r.timeseries.len().max(4)];
    for x in &log {
        let done = x.at.duration_since(origin) + Duration::from_millis(400);
        let w = done.as_secs() as usize;
        if w >= server.len() {
            server.resize(w + 1, 0);
        }
        server[w] += 1;
    }
    let ours: Vec<u64> = r.timeseries.iter().map(|w| w.requests).collect();
    assert_eq!(ours.len(), server.len(), "ours {ours:?} server {server:?}");
    for (w, (a, b)) in ours.iter().zip(&server).enumerate() {
        // Requests completing within a few ms of a boundary may fall either side.
        assert!(
            a.abs_diff(*b) <= 4,
            "second {w}: ours {a}, server {b} (ours {ours:?}, server {server:?})"
        );
    }
    // Every scheduled arrival was sent and counted once: 100 + 300 + 100.
    assert_eq!(ours.iter().sum::<u64>(), 500, "{ours:?}");
}

/// Each window says how noisy the machine was (Linux: from `/proc`): CPU steal, the machine's
/// busy share and perfgate's own CPU use, as percentages, and whether it was saturated.
#[test]
#[cfg(target_os = "linux")]
fn windows_record_the_machine_steal_and_generator_cpu() {
    let r = run_yaml(
        "name: machine\nkind: load\nrequests:\n  - { name: nap, call: builtin.sleep, params: { ms: 5 } }\nload:\n  stages:\n    - { concurrency: 2, duration: 1500ms }\n",
        &Registry::with_builtins(),
    );
    assert!(
        !r.warnings.iter().any(|w| w.contains("/proc")),
        "{:?}",
        r.warnings
    );
    // The first second is always whole, so always sampled.
    let w = &r.timeseries[0];
    let pct = |v: Option<f64>| v.is_some_and(|v| (0.0..=100.0).contains(&v));
    assert!(pct(w.steal_pct), "{w:?}");
    assert!(pct(w.cpu_busy_pct), "{w:?}");
    assert!(pct(w.generator_cpu_pct), "{w:?}");
    assert!(w.saturated.is_some(), "{w:?}");
    let json = serde_json::to_value(&r).unwrap();
    let first = &json["timeseries"][0];
    for key in [
        "steal_pct",
        "cpu_busy_pct",
        "generator_cpu_pct",
        "saturated",
    ] {
        assert!(!first[key].is_null(), "{key}: {first}");
    }
}
