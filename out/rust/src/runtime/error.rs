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
    /// The call timed out: an attempt outlasted its timeout (and no retry was left), a Connect
    /// stream outlived the caller's timeout, or the server answered with the code
    /// `deadline_exceeded` (a Connect error or a google.rpc.Status).
    #[error("{}", timeout_text(*attempts, server.as_deref()))]
    Timeout {
        /// How many attempts were made.
        attempts: u32,
        /// The server's `deadline_exceeded` error (status, code, message, details, headers)
        /// when the server reported the timeout; `None` when the SDK's own timeout fired.
        server: Option<Box<ApiError>>,
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
            Error::Api(api)
            | Error::Timeout {
                server: Some(api), ..
            } => Some(api.status),
            Error::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// How many attempts were made, when known.
    pub fn attempts(&self) -> Option<u32> {
        match self {
            Error::Api(api) => Some(api.attempts),
            Error::Timeout { attempts, .. } | Error::Connection { attempts, .. } => Some(*attempts),
            _ => None,
        }
    }

    /// A timeout of the SDK's own (no server error behind it), after `attempts` attempts.
    pub(crate) fn timeout(attempts: u32) -> Self {
        Error::Timeout {
            attempts,
            server: None,
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidRequest {
            message: message.into(),
        }
    }
}

/// The text of a timeout: what the server said when it reported it, else the attempts.
fn timeout_text(attempts: u32, server: Option<&ApiError>) -> String {
    let Some(api) = server else {
        return format!("the request timed out after {attempts} attempt(s)");
    };
    let code = api.code.as_deref().unwrap_or("deadline_exceeded");
    let mut text = format!(
        "the request timed out: the server answered {code} (status {}) after {attempts} attempt(s): {}",
        api.status, api.message
    );
    if let Some(id) = &api.request_id {
        text.push_str(&format!(" [request id {id}]"));
    }
    text
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
    /// The `details` array of a Connect error, as received (raw JSON), when it has one.
    pub details: Option<serde_json::Value>,
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

/// The first of the named members that is a string. A number is not taken as text: the Go and
/// TypeScript SDKs read these members as strings only, and the SDKs agree on every error (the
/// number stays in the error's body).
fn text_member(value: &serde_json::Value, names: &[&str]) -> Option<String> {
    names.iter().find_map(|name| match value.get(name) {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        _ => None,
    })
}

impl ApiError {
    /// Builds the error from a response's parts; never fails, whatever the body holds.
    pub(crate) fn from_parts(status: u16, headers: &HeaderMap, body: &[u8], attempts: u32) -> Self {
        let json = serde_json::from_slice::<serde_json::Value>(body).ok();
        ApiError::from_json(status, headers, body, json.as_ref(), attempts)
    }

    /// As [`ApiError::from_parts`], with the body already parsed (`json`, `None` when the body
    /// is not JSON).
    fn from_json(
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
        json: Option<&serde_json::Value>,
        attempts: u32,
    ) -> Self {
        let text = String::from_utf8_lossy(body).into_owned();
        let object = json.filter(|v| v.is_object());
        let problem = object.and_then(|v| serde_json::from_value::<Problem>(v.clone()).ok());
        let code = object.and_then(|v| text_member(v, &["code", "error_code", "error"]));
        let message = object
            .and_then(|v| text_member(v, &["detail", "message", "title", "error_description"]))
            .unwrap_or_else(|| format!("HTTP status {status}"));
        let request_id = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| object.and_then(|v| text_member(v, &["request_id"])));
        ApiError {
            status,
            kind: ApiErrorKind::from_status(status),
            code,
            message,
            request_id,
            headers: redact(headers),
            body: text,
            problem,
            details: None,
            attempts,
        }
    }

    /// This error with an RPC error's code, message (when it has one) and details; the code
    /// `deadline_exceeded` is a timeout, not an API error, and the timeout keeps this error as
    /// what the server reported.
    fn with_rpc(mut self, (code, message, details): RpcError) -> Error {
        let timeout = code == "deadline_exceeded";
        self.code = Some(code);
        if let Some(message) = message {
            self.message = message;
        }
        self.details = details;
        if timeout {
            return Error::Timeout {
                attempts: self.attempts,
                server: Some(Box::new(self)),
            };
        }
        Error::Api(Box::new(self))
    }

    /// The error of a Connect call's non-200 response: Connect error JSON (an object with a
    /// string `code`) gives the code, message and details; any other body a code from the HTTP
    /// status. The code `deadline_exceeded` is a timeout, not an API error.
    pub(crate) fn from_connect(
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
        attempts: u32,
    ) -> Error {
        let json = serde_json::from_slice::<serde_json::Value>(body).ok();
        let mut error = ApiError::from_json(status, headers, body, json.as_ref(), attempts);
        error.problem = None;
        error.message = format!("HTTP status {status}");
        match json.as_ref().and_then(|json| rpc_error(json, false)) {
            Some(rpc) => error.with_rpc(rpc),
            None => {
                error.code = Some(connect_code_of_status(status).to_owned());
                Error::Api(Box::new(error))
            }
        }
    }

    /// The error of a transcoded gRPC method's response: a google.rpc.Status body
    /// (`{"code": 5, "message", "details"}`) names its gRPC code (5 → `not_found`; a string code
    /// is kept as it is) and keeps its details; any other body is read as for REST. The code
    /// `deadline_exceeded` is a timeout, not an API error.
    pub(crate) fn from_status(
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
        attempts: u32,
    ) -> Error {
        let json = serde_json::from_slice::<serde_json::Value>(body).ok();
        let error = ApiError::from_json(status, headers, body, json.as_ref(), attempts);
        match json.as_ref().and_then(|json| rpc_error(json, true)) {
            Some(rpc) => error.with_rpc(rpc),
            None => Error::Api(Box::new(error)),
        }
    }

    /// The error an end-of-stream envelope of a Connect stream carries (`error` of its JSON):
    /// it has no HTTP status of its own, so the status is the code's HTTP equivalent.
    pub(crate) fn from_end_of_stream(
        error: &serde_json::Value,
        headers: &HeaderMap,
        body: &[u8],
        attempts: u32,
    ) -> Error {
        let rpc = rpc_error(error, false).unwrap_or_else(|| ("unknown".to_owned(), None, None));
        let status = connect_status_of_code(&rpc.0);
        let mut error = ApiError::from_json(status, headers, body, None, attempts);
        error.message = format!("the stream ended with {}", rpc.0);
        error.with_rpc(rpc)
    }
}

/// The code, message and details of an RPC error object.
type RpcError = (String, Option<String>, Option<serde_json::Value>);

/// The code, message and details of an RPC error object: Connect error JSON has a string
/// `code`; a google.rpc.Status (`numeric`) may have a gRPC code number instead, named here.
fn rpc_error(value: &serde_json::Value, numeric: bool) -> Option<RpcError> {
    let code = match value.get("code")? {
        serde_json::Value::String(code) => code.clone(),
        serde_json::Value::Number(n) if numeric => {
            grpc_code_name(n.as_u64().unwrap_or(u64::MAX)).to_owned()
        }
        _ => return None,
    };
    let message = value
        .get("message")
        .and_then(serde_json::Value::as_str)
        .filter(|m| !m.is_empty())
        .map(str::to_owned);
    let details = value.get("details").filter(|d| !d.is_null()).cloned();
    Some((code, message, details))
}

/// The name of a gRPC status code number (as Connect writes it); numbers this SDK does not know
/// are `unknown`.
pub(crate) fn grpc_code_name(code: u64) -> &'static str {
    match code {
        1 => "canceled",
        3 => "invalid_argument",
        4 => "deadline_exceeded",
        5 => "not_found",
        6 => "already_exists",
        7 => "permission_denied",
        8 => "resource_exhausted",
        9 => "failed_precondition",
        10 => "aborted",
        11 => "out_of_range",
        12 => "unimplemented",
        13 => "internal",
        14 => "unavailable",
        15 => "data_loss",
        16 => "unauthenticated",
        _ => "unknown",
    }
}

/// The Connect code of an HTTP status, for an error response without Connect error JSON.
pub(crate) fn connect_code_of_status(status: u16) -> &'static str {
    match status {
        400 => "internal",
        401 => "unauthenticated",
        403 => "permission_denied",
        404 => "unimplemented",
        429 | 502 | 503 | 504 => "unavailable",
        _ => "unknown",
    }
}

/// The HTTP equivalent of a Connect code (an end-of-stream error has no status of its own);
/// codes this SDK does not know are 500.
pub(crate) fn connect_status_of_code(code: &str) -> u16 {
    match code {
        "canceled" => 499,
        "invalid_argument" | "failed_precondition" | "out_of_range" => 400,
        "deadline_exceeded" => 504,
        "not_found" => 404,
        "already_exists" | "aborted" => 409,
        "permission_denied" => 403,
        "resource_exhausted" => 429,
        "unimplemented" => 501,
        "unavailable" => 503,
        "unauthenticated" => 401,
        _ => 500,
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
    fn a_numeric_code_stays_in_the_body_as_in_the_other_sdks() {
        let body = br#"{"code":50035,"message":"Invalid Form Body"}"#;
        let err = ApiError::from_parts(400, &HeaderMap::new(), body, 1);
        assert_eq!(err.code, None);
        assert_eq!(err.message, "Invalid Form Body");
        assert!(err.body.contains("50035"));
    }

    #[test]
    fn connect_error_json_gives_code_message_and_raw_details() {
        let body =
            br#"{"code":"not_found","message":"no run","details":[{"type":"x","value":"AQ=="}]}"#;
        let err = ApiError::from_connect(404, &HeaderMap::new(), body, 1);
        let api = err.api().expect("an API error");
        assert_eq!((api.status, api.kind), (404, ApiErrorKind::NotFound));
        assert_eq!(api.code.as_deref(), Some("not_found"));
        assert_eq!(api.message, "no run");
        assert_eq!(
            api.details,
            Some(serde_json::json!([{"type": "x", "value": "AQ=="}]))
        );
        assert_eq!(err.to_string(), "API error 404 (not_found): no run");
        // Without Connect error JSON, the code comes from the status.
        for (status, code) in [
            (400, "internal"),
            (401, "unauthenticated"),
            (403, "permission_denied"),
            (404, "unimplemented"),
            (429, "unavailable"),
            (502, "unavailable"),
            (503, "unavailable"),
            (504, "unavailable"),
            (500, "unknown"),
            (418, "unknown"),
        ] {
            for body in [&b"<html>"[..], br#"{"code":1}"#, br#"["x"]"#, b""] {
                let err = ApiError::from_connect(status, &HeaderMap::new(), body, 2);
                let api = err.api().expect("an API error");
                assert_eq!(api.code.as_deref(), Some(code), "{status}");
                assert_eq!(api.details, None);
                assert_eq!(err.attempts(), Some(2));
            }
        }
        let late = br#"{"code":"deadline_exceeded","message":"too slow","details":[{"type":"t","value":"AA"}]}"#;
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", "req_7".parse().unwrap());
        let err = ApiError::from_connect(504, &headers, late, 3);
        assert_eq!((err.kind(), err.attempts()), ("timeout", Some(3)));
        assert_eq!((err.status(), err.api().map(|_| ())), (Some(504), None));
        let Error::Timeout {
            server: Some(api), ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(
            (api.code.as_deref(), api.message.as_str()),
            (Some("deadline_exceeded"), "too slow")
        );
        assert_eq!(
            api.details,
            Some(serde_json::json!([{"type": "t", "value": "AA"}]))
        );
        assert_eq!(
            err.to_string(),
            "the request timed out: the server answered deadline_exceeded (status 504) after 3 \
             attempt(s): too slow [request id req_7]"
        );
        assert_eq!(
            Error::timeout(2).to_string(),
            "the request timed out after 2 attempt(s)"
        );
    }

    #[test]
    fn google_rpc_status_bodies_name_their_grpc_code() {
        let body = br#"{"code":5,"message":"no agent","details":[{"@type":"t","reason":"R"}]}"#;
        let err = ApiError::from_status(404, &HeaderMap::new(), body, 1);
        let api = err.api().expect("an API error");
        assert_eq!((api.status, api.code.as_deref()), (404, Some("not_found")));
        assert_eq!(api.message, "no agent");
        assert_eq!(
            api.details,
            Some(serde_json::json!([{"@type": "t", "reason": "R"}]))
        );
        for (body, code) in [
            (
                &br#"{"code":7,"message":"not yours"}"#[..],
                "permission_denied",
            ),
            (br#"{"code":99}"#, "unknown"),
            (br#"{"code":-1}"#, "unknown"),
            (br#"{"code":"conflict","message":"busy"}"#, "conflict"),
        ] {
            let err = ApiError::from_status(409, &HeaderMap::new(), body, 1);
            assert_eq!(err.api().unwrap().code.as_deref(), Some(code));
            assert_eq!(err.api().unwrap().details, None);
        }
        let late = br#"{"code":4,"message":"upstream deadline","details":[{"@type":"t"}]}"#;
        let err = ApiError::from_status(504, &HeaderMap::new(), late, 2);
        assert_eq!((err.kind(), err.attempts()), ("timeout", Some(2)));
        let Error::Timeout {
            server: Some(api), ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(
            (api.status, api.code.as_deref(), api.message.as_str()),
            (504, Some("deadline_exceeded"), "upstream deadline")
        );
        assert_eq!(api.details, Some(serde_json::json!([{"@type": "t"}])));
        // Without a message, the timeout keeps the status's.
        let err = ApiError::from_status(408, &HeaderMap::new(), br#"{"code":4}"#, 1);
        let Error::Timeout {
            server: Some(api), ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(
            (api.message.as_str(), api.details.as_ref()),
            ("HTTP status 408", None)
        );
        // Anything else is read as any REST error body.
        let err = ApiError::from_status(502, &HeaderMap::new(), b"<html>", 1);
        assert_eq!(err.api().unwrap().code, None);
    }

    #[test]
    fn end_of_stream_errors_take_the_codes_status() {
        let cases = [
            ("canceled", 499),
            ("unknown", 500),
            ("invalid_argument", 400),
            ("not_found", 404),
            ("already_exists", 409),
            ("permission_denied", 403),
            ("resource_exhausted", 429),
            ("failed_precondition", 400),
            ("aborted", 409),
            ("out_of_range", 400),
            ("unimplemented", 501),
            ("internal", 500),
            ("unavailable", 503),
            ("data_loss", 500),
            ("unauthenticated", 401),
            ("something_new", 500),
        ];
        for (code, status) in cases {
            let error = serde_json::json!({"code": code, "message": "m"});
            let err = ApiError::from_end_of_stream(&error, &HeaderMap::new(), b"{}", 1);
            let api = err.api().expect("an API error");
            assert_eq!((api.status, api.code.as_deref()), (status, Some(code)));
            assert_eq!(api.kind, ApiErrorKind::from_status(status));
        }
        let error = serde_json::json!({"code": "deadline_exceeded"});
        let err = ApiError::from_end_of_stream(&error, &HeaderMap::new(), b"{}", 1);
        assert_eq!((err.kind(), err.status()), ("timeout", Some(504)));
        assert!(
            err.to_string()
                .contains("the stream ended with deadline_exceeded"),
            "{err}"
        );
    }

    #[test]
    fn garbage_bodies_never_fail() {
        let err = ApiError::from_parts(502, &HeaderMap::new(), b"\xff<html>", 3);
        assert_eq!(err.message, "HTTP status 502");
        assert!(err.problem.is_none());
        assert_eq!(Error::Api(Box::new(err)).attempts(), Some(3));
    }
}
