//! Amounts of memory as the reports and reasons print them (`sut.rss`, `sut_rss_bytes`).

const NA: &str = "n/a";

/// An amount of memory in the largest power-of-1024 unit it reaches: `812 KB`, `123.4 MB`,
/// `1.50 GB` (KB, MB and GB are powers of 1024, as `sut.rss` thresholds read them).
pub(crate) fn bytes(v: f64) -> String {
    if !v.is_finite() {
        return NA.into();
    }
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut x = v;
    let mut i = 0;
    while x >= 1024.0 && i < UNITS.len() - 1 {
        x /= 1024.0;
        i += 1;
    }
    match i {
        0 => format!("{x:.0} B"),
        _ if x >= 100.0 => format!("{x:.0} {}", UNITS[i]),
        _ if x >= 10.0 => format!("{x:.1} {}", UNITS[i]),
        _ => format!("{x:.2} {}", UNITS[i]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_reads_in_the_unit_it_reaches() {
        assert_eq!(bytes(500.0 * 1024.0 * 1024.0), "500 MB");
        assert_eq!(bytes(1536.0), "1.50 KB");
        assert_eq!(bytes(12.34 * 1024.0 * 1024.0 * 1024.0), "12.3 GB");
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(f64::NAN), "n/a");
    }
}
