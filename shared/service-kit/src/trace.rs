//! W3C trace context (`traceparent`), carried from the gateway through gRPC metadata and Kafka
//! headers to the tablet, so one order can be followed through every service's logs.

use std::fmt::Write as _;

/// The header (HTTP, gRPC metadata, Kafka record header) that carries it.
pub const HEADER: &str = "traceparent";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent {
    trace_id: String,
    span_id: String,
}

impl TraceParent {
    /// `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`; `None` for anything else (or
    /// the all-zero ids the standard forbids).
    pub fn parse(header: &str) -> Option<Self> {
        let mut parts = header.trim().split('-');
        let (version, trace_id, span_id, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let hex =
            |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        let valid = parts.next().is_none()
            && version == "00"
            && hex(trace_id, 32)
            && hex(span_id, 16)
            && hex(flags, 2)
            && trace_id.bytes().any(|b| b != b'0')
            && span_id.bytes().any(|b| b != b'0');
        valid.then(|| Self { trace_id: trace_id.to_owned(), span_id: span_id.to_owned() })
    }

    /// A new trace (the gateway starts one per request that brings none).
    pub fn generate() -> Self {
        Self { trace_id: uuid::Uuid::new_v4().simple().to_string(), span_id: new_span_id() }
    }

    /// The same trace, one hop further.
    pub fn child(&self) -> Self {
        Self { trace_id: self.trace_id.clone(), span_id: new_span_id() }
    }

    pub fn trace_id(&self) -> &str {
        &self.trace_id
    }

    pub fn header(&self) -> String {
        format!("00-{}-{}-01", self.trace_id, self.span_id)
    }
}

fn new_span_id() -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    bytes[..8].iter().fold(String::with_capacity(16), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::TraceParent;

    #[test]
    fn parses_what_the_standard_allows_and_nothing_else() {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let parsed = TraceParent::parse(header).expect("valid");
        assert_eq!(parsed.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(parsed.header(), header);
        for bad in [
            "",
            "garbage",
            "00-0000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad}");
        }
        let child = parsed.child();
        assert_eq!(child.trace_id(), parsed.trace_id());
        assert_ne!(child.header(), parsed.header());
        assert!(TraceParent::parse(&TraceParent::generate().header()).is_some());
    }
}
