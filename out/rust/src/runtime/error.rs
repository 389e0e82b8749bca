//! The error taxonomy shared by every SDK: api, timeout, cancelled, connection, decode and
//! invalid request. Nothing here ever prints a credential.

use reqwest::header::HeaderMap;

/// Everything that can go wrong with a call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a status that is not a success.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// An attempt took longer than its timeout (after `attempts` attempts).
    #[error("the request timed out after {attempts} attempt(s)")]
    Timeout {
        /// How many attempts were made.
        attempts: u32,
    },
    /// The call was cancelled before it completed. Dropping a call's future cancels it without
    /// producing a value; this kind exists for wrappers that turn a cancellation into an error
    /// (the conformance driver does), so that every SDK reports the same kinds.
    #[error("the request was cancelled")]
    Cancelled,
    /// The server could not be reached or the connection broke.
    #[error("connection error after {attempts} attempt(s): {message}")]
    Connection {
        /// What went wrong, without credentials.
        message: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The response body was malformed or not what the contract describes.
    #[error("could not decode the response (status {status}): {message}")]
    Decode {
        /// What went wrong.
        message: String,
        /// The HTTP status of the response.
        status: u16,
        /// The raw body, as far as it was read.
        body: String,
    },
    /// The request was refused before sending, e.g. a header value holding a line break.
    #[error("invalid request: {message}")]
    InvalidRequest {
        /// What is wrong with the request.
        message: String,
    },
}

impl Error {
    /// The error kind as the conformance kit names it: `api`, `timeout`, `cancelled`,
    /// `connection`, `decode` or `invalid_request`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Api(_) => "api",
            Error::Timeout { .. } => "timeout",
            Error::Cancelled => "cancelled",
            Error::Connection { .. } => "connection",
            Error::Decode { .. } => "decode",
            Error::InvalidRequest { .. } => "invalid_request",
        }
    }

    /// The API error, when the server answered with an error status.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(api) => Some(api),
            _ => None,
        }
    }

    /// The HTTP status of the response that caused the error, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(api) => Some(api.status),
            Error::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// How many attempts were made, when known.
    pub fn attempts(&self) -> Option<u32> {
        match self {
            Error::Api(api) => Some(api.attempts),
            Error::Timeout { attempts } | Error::Connection { attempts, .. } => Some(*attempts),
            _ => None,
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidRequest {
            message: message.into(),
        }
    }
}

/// The kind of an API error, by status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiErrorKind {
    /// 400
    BadRequest,
    /// 401
    Unauthorized,
    /// 403
    Forbidden,
    /// 404
    NotFound,
    /// 408
    RequestTimeout,
    /// 409
    Conflict,
    /// 413
    PayloadTooLarge,
    /// 422
    UnprocessableEntity,
    /// 429
    RateLimited,
    /// 500
    InternalServerError,
    /// 502
    BadGateway,
    /// 503
    ServiceUnavailable,
    /// 504
    GatewayTimeout,
    /// Any other status.
    Other,
}

impl ApiErrorKind {
    /// The kind of a status code.
    pub fn from_status(status: u16) -> Self {
        match status {
            400 => Self::BadRequest,
            401 => Self::Unauthorized,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            408 => Self::RequestTimeout,
            409 => Self::Conflict,
            413 => Self::PayloadTooLarge,
            422 => Self::UnprocessableEntity,
            429 => Self::RateLimited,
            500 => Self::InternalServerError,
            502 => Self::BadGateway,
            503 => Self::ServiceUnavailable,
            504 => Self::GatewayTimeout,
            _ => Self::Other,
        }
    }
}

/// RFC 9457 problem details, when the error body is `application/problem+json` (or any JSON
/// object with these members).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[non_exhaustive]
pub struct Problem {
    /// A URI reference identifying the problem type.
    #[serde(default, rename = "type")]
    pub type_: Option<String>,
    /// A short summary of the problem type.
    #[serde(default)]
    pub title: Option<String>,
    /// The HTTP status the server set in the body.
    #[serde(default)]
    pub status: Option<u16>,
    /// An explanation specific to this occurrence.
    #[serde(default)]
    pub detail: Option<String>,
    /// A URI reference identifying this occurrence.
    #[serde(default)]
    pub instance: Option<String>,
    /// Every other member of the body.
    #[serde(flatten)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

/// An error response from the server.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status code.
    pub status: u16,
    /// The kind of error, by status.
    pub kind: ApiErrorKind,
    /// The machine-readable error code from the body (`code` or `error`), if any.
    pub code: Option<String>,
    /// A human-readable message: the body's `detail`, `message` or `title`, else the status.
    pub message: String,
    /// The request id from the `X-Request-Id` header or the body's `request_id`.
    pub request_id: Option<String>,
    /// The response headers (credential-like headers redacted).
    pub headers: HeaderMap,
    /// The raw response body.
    pub body: String,
    /// The problem details, when the body is a JSON object.
    pub problem: Option<Problem>,
    /// How many attempts were made.
    pub attempts: u32,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "API error {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

/// Header names whose values are never shown or kept in errors.
pub(crate) fn is_secret_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie" | "x-api-key" | "api-key"
    ) || matches!(crate::AUTH.api_key, Some((_, key)) if key.eq_ignore_ascii_case(&name))
}

/// A copy of the headers with credential-like values replaced by `[redacted]`.
pub(crate) fn redact(headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if is_secret_header(name.as_str()) {
            out.append(
                name.clone(),
                reqwest::header::HeaderValue::from_static("[redacted]"),
            );
        } else {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

fn text_member(value: &serde_json::Value, names: &[&str]) -> Option<String> {
    names.iter().find_map(|name| match value.get(name) {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

impl ApiError {
    /// Builds the error from a response's parts; never fails, whatever the body holds.
    pub(crate) fn from_parts(status: u16, headers: &HeaderMap, body: &[u8], attempts: u32) -> Self {
        let text = String::from_utf8_lossy(body).into_owned();
        let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let object = json.filter(|v| v.is_object());
        let problem = object
            .as_ref()
            .and_then(|v| serde_json::from_value::<Problem>(v.clone()).ok());
        let code = object
            .as_ref()
            .and_then(|v| text_member(v, &["code", "error_code", "error"]));
        let message = object
            .as_ref()
            .and_then(|v| text_member(v, &["detail", "message", "title", "error_description"]))
            .unwrap_or_else(|| format!("HTTP status {status}"));
        let request_id = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| {
                object
                    .as_ref()
                    .and_then(|v| text_member(v, &["request_id"]))
            });
        ApiError {
            status,
            kind: ApiErrorKind::from_status(status),
            code,
            message,
            request_id,
            headers: redact(headers),
            body: text,
            problem,
            attempts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_json_fields_are_read() {
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", "req_1".parse().unwrap());
        headers.insert("authorization", "Bearer secret".parse().unwrap());
        let body = br#"{"type":"https://e/x","title":"Not found","status":404,"detail":"no agent","code":"agent_not_found","extra":1}"#;
        let err = ApiError::from_parts(404, &headers, body, 1);
        assert_eq!(err.kind, ApiErrorKind::NotFound);
        assert_eq!(err.code.as_deref(), Some("agent_not_found"));
        assert_eq!(err.message, "no agent");
        assert_eq!(err.request_id.as_deref(), Some("req_1"));
        let problem = err.problem.clone().unwrap();
        assert_eq!(problem.title.as_deref(), Some("Not found"));
        assert_eq!(problem.extensions.get("extra"), Some(&serde_json::json!(1)));
        let shown = format!("{err:?} {err}");
        assert!(!shown.contains("secret"), "{shown}");
    }

    #[test]
    fn garbage_bodies_never_fail() {
        let err = ApiError::from_parts(502, &HeaderMap::new(), b"\xff<html>", 3);
        assert_eq!(err.message, "HTTP status 502");
        assert!(err.problem.is_none());
        assert_eq!(Error::Api(Box::new(err)).attempts(), Some(3));
    }
}
