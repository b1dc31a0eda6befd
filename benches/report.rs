//! Rendering `report.html` (with its four SVG charts) for a one-hour soak result: 3,600
//! one-second windows. Goal: well under one second.

use criterion::{criterion_group, criterion_main, Criterion};
use perfgate::report::html::render_html;
use perfgate::report::ReportContext;

#[path = "../tests/it/support/results.rs"]
mod common;

fn soak_html(c: &mut Criterion) {
    let soak = common::soak();
    let base = common::baseline();
    let ctx = ReportContext {
        baseline: Some(&base),
    };
    let mut group = c.benchmark_group("report");
    group.sample_size(10);
    group.bench_function("html_soak_3600_windows", |b| {
        b.iter(|| render_html(std::hint::black_box(&soak), &ctx).map(|s| s.len()))
    });
    group.finish();
}

criterion_group!(benches, soak_html);
criterion_main!(benches);
