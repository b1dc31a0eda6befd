//! The one error type of the report writers: what failed, and for a file, which file.

use std::path::PathBuf;

/// A report could not be rendered or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// plotters failed while drawing (before the chart's name is known).
    #[error("{0}")]
    Plot(String),
    /// plotters failed while drawing the named chart.
    #[error("drawing the {chart} chart: {message}")]
    Chart {
        chart: &'static str,
        message: String,
    },
    /// The font embedded in the binary did not load.
    #[error("the embedded DejaVu Sans font could not be loaded")]
    Font,
    /// A bitmap could not be PNG-encoded.
    #[error("encoding {file}: {source}")]
    Encode {
        file: String,
        #[source]
        source: image::ImageError,
    },
    /// The result could not be serialized.
    #[error("serializing the result as JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A reporter failed for the file it renders.
    #[error("rendering {file}: {source}")]
    Render {
        file: String,
        #[source]
        source: Box<ReportError>,
    },
    /// A folder or file could not be created, written or appended to.
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ReportError {
    /// An I/O failure of `action` ("writing", "creating", "appending to") on `path`.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        ReportError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

impl<E> From<plotters::drawing::DrawingAreaErrorKind<E>> for ReportError
where
    E: std::error::Error + Send + Sync,
{
    fn from(e: plotters::drawing::DrawingAreaErrorKind<E>) -> Self {
        ReportError::Plot(e.to_string())
    }
}
