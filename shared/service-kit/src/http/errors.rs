//! The JSON error body every REST endpoint answers with:
//! `{"error": {"code": …, "message": "…"}}`, the code being an [`ErrorKind`]'s.

use crate::error::{Classified, ErrorKind};
use actix_web::{HttpResponse, error, http::StatusCode, web};

pub fn json_error(status: StatusCode, code: &str, message: impl std::fmt::Display) -> HttpResponse {
    HttpResponse::build(status).json(serde_json::json!({ "error": { "code": code, "message": message.to_string() } }))
}

/// The one mapping from an operation's error to an HTTP answer (logged first when it is not
/// the caller's doing; unexpected details withheld).
pub fn error_response(error: &dyn Classified) -> HttpResponse {
    let kind = error.kind();
    let shown: &dyn std::fmt::Display = error;
    kind.log(shown);
    let mut response = json_error(kind.http_status(), kind.code(), kind.public_message(shown));
    if let Some(wait) = error.retry_after() {
        let seconds = crate::error::retry_after_seconds(wait).to_string();
        if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&seconds) {
            response.headers_mut().insert(actix_web::http::header::RETRY_AFTER, value);
        }
    }
    response
}

/// A kind and a message written for the caller, as an HTTP answer.
pub fn kind_response(kind: ErrorKind, message: impl std::fmt::Display) -> HttpResponse {
    kind.log(&message);
    json_error(kind.http_status(), kind.code(), kind.public_message(&message))
}

/// JSON extractor settings: a body limit, and malformed, oversized or mistyped JSON answered
/// with a 4xx that says what is wrong (actix's default is a bare text body).
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(limit).error_handler(|err, _| {
        let (status, code) = match &err {
            error::JsonPayloadError::Overflow { .. } | error::JsonPayloadError::OverflowKnownLength { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE")
            }
            error::JsonPayloadError::ContentType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE"),
            _ => (StatusCode::BAD_REQUEST, ErrorKind::InvalidInput.code()),
        };
        let response = json_error(status, code, &err);
        error::InternalError::from_response(err, response).into()
    })
}

/// Query-string settings: an unknown or malformed parameter is a 400 that says so.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _| {
        let response = json_error(StatusCode::BAD_REQUEST, ErrorKind::InvalidInput.code(), &err);
        error::InternalError::from_response(err, response).into()
    })
}
