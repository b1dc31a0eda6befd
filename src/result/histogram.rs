//! The stored form of a latency histogram (`RunResult::histograms`): HDR V2 serialization,
//! base64 (standard alphabet). The aggregator, `result.json`, baselines, the folds (`--repeat`
//! medians, `merge`) and the distribution chart all read and write histograms through these
//! functions.

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2Serializer};
use hdrhistogram::Histogram;

/// Encodes `h` (µs values); an empty string if serialization fails.
pub(crate) fn encode_histogram(h: &Histogram<u64>) -> String {
    let mut buf = Vec::new();
    match V2Serializer::new().serialize(h, &mut buf) {
        Ok(_) => base64::engine::general_purpose::STANDARD.encode(buf),
        Err(_) => String::new(),
    }
}

/// Decodes a stored histogram (any HDR serialization format), auto-resizing so it can take
/// further values or merges.
pub(crate) fn decode_histogram(encoded: &str) -> Result<Histogram<u64>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|e| format!("histogram is not valid base64: {e}"))?;
    let mut h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("histogram is not a valid HDR histogram: {e:?}"))?;
    h.auto(true);
    Ok(h)
}

/// Sums stored histograms; `None` if any fails to decode or there are none.
pub(crate) fn merge_encoded<'a>(encoded: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut total: Option<Histogram<u64>> = None;
    for e in encoded {
        let h = decode_histogram(e).ok()?;
        match &mut total {
            None => total = Some(h),
            Some(t) => t.add(&h).ok()?,
        }
    }
    total.map(|t| encode_histogram(&t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_merges() {
        let mut a = Histogram::<u64>::new(3).unwrap();
        a.record(1_000).unwrap();
        let mut b = Histogram::<u64>::new(3).unwrap();
        b.record(2_000_000).unwrap();
        let ea = encode_histogram(&a);
        assert_eq!(decode_histogram(&ea).unwrap().len(), 1);
        let m = merge_encoded([ea.as_str(), encode_histogram(&b).as_str()]).unwrap();
        let h = decode_histogram(&m).unwrap();
        assert_eq!(h.len(), 2);
        assert!(h.max() >= 1_999_000);
        assert!(decode_histogram("not base64!").is_err());
        assert!(merge_encoded(["AAAA"]).is_none());
        assert!(merge_encoded(std::iter::empty()).is_none());
    }
}
