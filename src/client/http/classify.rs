//! Error classification: which class (`connect`, `timeout`, `reset`, `tls`, `protocol`) a
//! transport error belongs to, and its message. One place, so I/O, hyper and reqwest errors
//! are judged alike on every transport.

use std::error::Error;
use std::io;

use crate::metrics::ErrorClass;

/// The class of an I/O error by its kind, when the kind says it.
pub(super) fn classify_io(e: &io::Error) -> Option<ErrorClass> {
    use io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused | AddrNotAvailable | NotFound | HostUnreachable | NetworkUnreachable => {
            Some(ErrorClass::Connect)
        }
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => Some(ErrorClass::Reset),
        TimedOut => Some(ErrorClass::Timeout),
        _ => None,
    }
}

/// Walks an error's sources for an I/O error with a telling kind.
fn io_in_chain(e: &(dyn Error + 'static)) -> Option<ErrorClass> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<io::Error>() {
            if let Some(c) = classify_io(io) {
                return Some(c);
            }
        }
        cur = err.source();
    }
    None
}

pub(super) fn classify_hyper(e: &hyper::Error) -> ErrorClass {
    if e.is_parse() || e.is_parse_status() || e.is_parse_too_large() {
        return ErrorClass::Protocol;
    }
    if let Some(c) = io_in_chain(e) {
        return c;
    }
    if e.is_incomplete_message() || e.is_canceled() || e.is_closed() {
        return ErrorClass::Reset;
    }
    if e.is_timeout() {
        return ErrorClass::Timeout;
    }
    ErrorClass::Protocol
}

pub(super) fn classify_reqwest(e: &reqwest::Error) -> ErrorClass {
    if e.is_timeout() {
        return ErrorClass::Timeout;
    }
    // rustls errors reach us wrapped in I/O errors; their text is the reliable signal.
    let mut cur: Option<&(dyn Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let t = err.to_string().to_ascii_lowercase();
        if t.contains("certificate")
            || t.contains("tls")
            || t.contains("handshake")
            || t.contains("corrupt message")
            || t.contains("invalid content type")
        {
            return ErrorClass::Tls;
        }
        if let Some(h) = err.downcast_ref::<hyper::Error>() {
            return classify_hyper(h);
        }
        cur = err.source();
    }
    if let Some(c) = io_in_chain(e) {
        return c;
    }
    if e.is_connect() {
        ErrorClass::Connect
    } else {
        ErrorClass::Protocol
    }
}

/// An error's message with its sources, each said once.
pub(super) fn error_chain(e: &(dyn Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    s
}
