//! Integration tests of every report format against fixture results built in code.

mod common;

use perfgate::report::charts::Chart;
use perfgate::report::png::PngChart;
use perfgate::report::{ReportContext, Reporter};

#[test]
#[ignore = "writes preview files to $PERFGATE_PREVIEW_DIR for a person to look at"]
fn preview() {
    let dir = std::path::PathBuf::from(std::env::var("PERFGATE_PREVIEW_DIR").unwrap());
    std::fs::create_dir_all(&dir).unwrap();
    let base = common::baseline();
    let ctx = ReportContext { baseline: Some(&base) };
    for (name, r) in [("realistic", common::realistic()), ("empty", common::empty()), ("single", common::single_window())] {
        for p in PngChart::all() {
            let bytes = p.render(&r, &ctx).unwrap();
            std::fs::write(dir.join(format!("{name}-{}", p.file_name())), bytes).unwrap();
        }
    }
    let _ = Chart::ALL;
}
