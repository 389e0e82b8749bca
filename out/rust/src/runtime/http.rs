//! Request building, sending with retries, and response decoding.

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use serde::Serialize;

#[cfg(test)]
use super::client::AuthScheme;
use super::client::{ApiKeyIn, Client, RequestOptions};
use super::error::{ApiError, Error};

/// A successful response: the decoded value and the response's metadata.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Response<T> {
    /// The decoded body.
    pub data: T,
    /// Status, headers and attempts.
    pub meta: ResponseMeta,
}

impl<T> Response<T> {
    /// The decoded body and the metadata, apart.
    pub fn into_parts(self) -> (T, ResponseMeta) {
        (self.data, self.meta)
    }
}

/// What every call reports besides its value.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ResponseMeta {
    /// The HTTP status code.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// How many attempts the call took (1 when it was not retried).
    pub attempts: u32,
    /// The URL of the last attempt.
    pub url: String,
}

impl ResponseMeta {
    /// The `X-Request-Id` response header, if any.
    pub fn request_id(&self) -> Option<&str> {
        self.headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
    }
}

/// A file for a multipart request.
#[derive(Debug, Clone)]
pub struct FilePart {
    pub(crate) bytes: Bytes,
    pub(crate) filename: Option<String>,
    pub(crate) content_type: Option<String>,
}

impl FilePart {
    /// A file from its content.
    pub fn new(bytes: impl Into<Bytes>) -> Self {
        FilePart {
            bytes: bytes.into(),
            filename: None,
            content_type: None,
        }
    }

    /// The part's file name.
    pub fn filename(mut self, name: impl Into<String>) -> Self {
        self.filename = Some(name.into());
        self
    }

    /// The part's content type (default: the contract's encoding, else octet-stream).
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }
}

#[derive(Debug, Clone)]
enum PartBody {
    Text(String),
    File(FilePart),
}

/// A multipart/form-data body built part by part.
#[derive(Debug, Clone, Default)]
pub struct Multipart {
    parts: Vec<(String, PartBody, Option<String>)>,
}

impl Multipart {
    /// An empty body.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a text field.
    pub fn text(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.parts
            .push((name.into(), PartBody::Text(value.into()), None));
        self
    }

    /// Adds a file.
    pub fn file(mut self, name: impl Into<String>, file: FilePart) -> Self {
        self.parts.push((name.into(), PartBody::File(file), None));
        self
    }

    /// Adds a value: strings, numbers and booleans as text, anything else as a JSON part
    /// (or text when `content_type` says so). Null and absent values add nothing.
    pub(crate) fn value<T: Serialize>(
        &mut self,
        name: &str,
        value: &T,
        json: bool,
    ) -> Result<(), Error> {
        // Written by the value's own Serialize, not through a serde_json::Value, whose map
        // sorts keys: a JSON part keeps the contract's field order, as the other SDKs send it.
        let text = serde_json::to_string(value).map_err(|e| Error::invalid(e.to_string()))?;
        let (text, content_type) = match text.as_bytes().first() {
            _ if text == "null" => return Ok(()),
            Some(b'"') if !json => (
                serde_json::from_str::<String>(&text).map_err(|e| Error::invalid(e.to_string()))?,
                None,
            ),
            Some(b't' | b'f' | b'-' | b'0'..=b'9') if !json => (text, None),
            _ => (text, Some("application/json".to_owned())),
        };
        self.parts
            .push((name.to_owned(), PartBody::Text(text), content_type));
        Ok(())
    }

    /// Whether no part was added.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    pub(crate) fn file_part(&mut self, name: &str, file: &FilePart, default_type: &str) {
        let mut file = file.clone();
        if file.content_type.is_none() && !default_type.is_empty() {
            file.content_type = Some(default_type.to_owned());
        }
        self.parts
            .push((name.to_owned(), PartBody::File(file), None));
    }

    fn form(&self) -> Result<reqwest::multipart::Form, Error> {
        let mut form = reqwest::multipart::Form::new();
        for (name, body, content_type) in &self.parts {
            let part = match body {
                PartBody::Text(text) => reqwest::multipart::Part::text(text.clone()),
                PartBody::File(file) => {
                    let mut part = reqwest::multipart::Part::stream(file.bytes.clone());
                    if let Some(filename) = &file.filename {
                        part = part.file_name(filename.clone());
                    } else {
                        part = part.file_name(name.clone());
                    }
                    part.mime_str(
                        file.content_type
                            .as_deref()
                            .unwrap_or("application/octet-stream"),
                    )
                    .map_err(|e| Error::invalid(format!("bad content type: {e}")))?
                }
            };
            let part = match content_type {
                Some(ct) => part
                    .mime_str(ct)
                    .map_err(|e| Error::invalid(format!("bad content type: {e}")))?,
                None => part,
            };
            form = form.part(name.clone(), part);
        }
        Ok(form)
    }
}

/// How a query parameter is serialized (OpenAPI `style`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Form,
    SpaceDelimited,
    PipeDelimited,
    DeepObject,
}

#[derive(Debug, Clone)]
enum Body {
    None,
    Bytes(Bytes, String),
    Multipart(Multipart),
}

/// The wire protocol of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// Plain HTTP: success by 2xx, errors by status, the REST retry rule.
    Rest,
    /// A Connect unary call: JSON in and out, success only by 200, Connect error JSON, the
    /// Connect retry rule, `Connect-Protocol-Version` and `Connect-Timeout-Ms` headers.
    Connect,
    /// A Connect server stream: as `Connect`, with an enveloped request body and response.
    ConnectStream,
}

/// The media type of a Connect stream's enveloped request and response (JSON codec).
pub(crate) const CONNECT_STREAM_MEDIA: &str = "application/connect+json";

/// One Connect envelope: the flag byte, the 4-byte big-endian length, the message.
pub(crate) fn envelope(flags: u8, message: &[u8]) -> Result<Vec<u8>, Error> {
    let length = u32::try_from(message.len())
        .map_err(|_| Error::invalid("a message longer than 4 GiB cannot be enveloped"))?;
    let mut out = Vec::with_capacity(message.len() + 5);
    out.push(flags);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(message);
    Ok(out)
}

/// One logical call, rebuilt into a fresh HTTP request on every attempt.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    method: reqwest::Method,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Body,
    accept: Option<String>,
    bearer: bool,
    api_key: bool,
    idempotency_header: Option<&'static str>,
    resume_header: Option<&'static str>,
    /// The last event id a resumed event stream sends in `resume_header`.
    resume_id: Option<String>,
    retryable: bool,
    streaming: bool,
    protocol: Protocol,
    /// Error bodies are google.rpc.Status JSON (a transcoded gRPC method).
    status_errors: bool,
    error: Option<String>,
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn scalar(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Percent-encodes as the WHATWG `application/x-www-form-urlencoded` serializer does
/// (`URLSearchParams`): ASCII alphanumerics and `*-._` stay, a space becomes `+`, every other
/// byte of the UTF-8 text is `%XX` with upper-case hex.
pub(crate) fn form_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'*' | b'-' | b'.' | b'_') {
            out.push(char::from(byte));
        } else if byte == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn form_pairs(key: &str, value: &super::json::Ordered, out: &mut Vec<(String, String)>) {
    use super::json::Ordered;
    match value {
        Ordered::Null => {}
        Ordered::Scalar(text) => out.push((key.to_owned(), text.clone())),
        Ordered::Object(members) => {
            for (sub, v) in members {
                form_pairs(&format!("{key}[{sub}]"), v, out);
            }
        }
        Ordered::Array(items) if items.iter().all(|i| matches!(i, Ordered::Scalar(_))) => {
            for item in items {
                form_pairs(key, item, out);
            }
        }
        Ordered::Array(items) => {
            for (index, v) in items.iter().enumerate() {
                form_pairs(&format!("{key}[{index}]"), v, out);
            }
        }
    }
}

/// The text of a path parameter: a scalar, or a list's items joined by commas.
fn segment_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(scalar).collect();
            parts.join(",")
        }
        other => scalar(other),
    }
}

/// A path parameter as one percent-encoded segment (`a/b` stays one segment: `a%2Fb`). `.` and
/// `..` never get here: `path_param` refuses them before the request is built.
pub(crate) fn segment<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(v) => encode(&segment_text(&v)),
        Err(_) => String::new(),
    }
}

/// Refuses header names and values that could split or smuggle a header.
pub(crate) fn check_header(name: &str, value: &str) -> Result<(), Error> {
    if value.contains(['\r', '\n', '\0']) {
        return Err(Error::invalid(format!(
            "the value of header {name:?} contains a line break"
        )));
    }
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Error::invalid(format!("invalid header name {name:?}")))?;
    HeaderValue::from_str(value)
        .map_err(|_| Error::invalid(format!("invalid value for header {name:?}")))?;
    Ok(())
}

impl Req {
    pub(crate) fn new(method: &str, path: String) -> Self {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
        Req {
            method,
            path,
            query: Vec::new(),
            headers: Vec::new(),
            body: Body::None,
            accept: None,
            bearer: true,
            api_key: true,
            idempotency_header: None,
            resume_header: None,
            resume_id: None,
            retryable: true,
            streaming: false,
            protocol: Protocol::Rest,
            status_errors: false,
            error: None,
        }
    }

    /// Error bodies are google.rpc.Status JSON, whose numeric gRPC code is named (5 →
    /// `not_found`) and whose details are kept (a method transcoded by `google.api.http`).
    pub(crate) fn status_errors(&mut self) {
        self.status_errors = true;
    }

    /// The call speaks the Connect protocol: a unary call, or (`stream`) a server stream.
    /// Without a body, the request message is `{}` (enveloped for a stream).
    pub(crate) fn connect(&mut self, stream: bool) {
        self.protocol = if stream {
            Protocol::ConnectStream
        } else {
            Protocol::Connect
        };
    }

    /// The request message of a Connect server stream: its JSON as one envelope.
    pub(crate) fn envelope<T: Serialize>(&mut self, body: &T) {
        match serde_json::to_vec(body)
            .map_err(|e| Error::invalid(e.to_string()))
            .and_then(|json| envelope(0, &json))
        {
            Ok(bytes) => self.body = Body::Bytes(bytes.into(), CONNECT_STREAM_MEDIA.to_owned()),
            Err(e) => self.fail(format!("cannot serialize the body: {e}")),
        }
    }

    /// The body sent: the request's own, else the empty message a Connect call sends.
    fn sent_body(&self) -> Cow<'_, Body> {
        match (&self.body, self.protocol) {
            (Body::None, Protocol::Connect) => Cow::Owned(Body::Bytes(
                Bytes::from_static(b"{}"),
                "application/json".to_owned(),
            )),
            (Body::None, Protocol::ConnectStream) => Cow::Owned(Body::Bytes(
                Bytes::from_static(b"\0\0\0\0\x02{}"),
                CONNECT_STREAM_MEDIA.to_owned(),
            )),
            (body, _) => Cow::Borrowed(body),
        }
    }

    fn fail(&mut self, message: String) {
        if self.error.is_none() {
            self.error = Some(message);
        }
    }

    fn value_of<T: Serialize>(&mut self, value: &T) -> serde_json::Value {
        match serde_json::to_value(value) {
            Ok(v) => v,
            Err(e) => {
                self.fail(format!("cannot serialize a parameter: {e}"));
                serde_json::Value::Null
            }
        }
    }

    /// Adds a query parameter; `None` adds nothing.
    pub(crate) fn query<T: Serialize>(
        &mut self,
        name: &str,
        style: Style,
        explode: bool,
        value: &T,
    ) {
        let value = self.value_of(value);
        match value {
            serde_json::Value::Null => {}
            serde_json::Value::Array(items) => {
                let items: Vec<String> = items.iter().map(scalar).collect();
                let sep = match style {
                    Style::SpaceDelimited => " ",
                    Style::PipeDelimited => "|",
                    _ => ",",
                };
                if explode && style == Style::Form {
                    for item in items {
                        self.query.push((name.to_owned(), item));
                    }
                } else {
                    self.query.push((name.to_owned(), items.join(sep)));
                }
            }
            serde_json::Value::Object(map) => {
                if style == Style::DeepObject {
                    for (key, v) in &map {
                        self.query.push((format!("{name}[{key}]"), scalar(v)));
                    }
                } else if explode {
                    for (key, v) in &map {
                        self.query.push((key.clone(), scalar(v)));
                    }
                } else {
                    let parts: Vec<String> = map
                        .iter()
                        .flat_map(|(k, v)| [k.clone(), scalar(v)])
                        .collect();
                    self.query.push((name.to_owned(), parts.join(",")));
                }
            }
            other => self.query.push((name.to_owned(), scalar(&other))),
        }
    }

    /// Adds a header parameter (simple style); `None` adds nothing.
    pub(crate) fn header<T: Serialize>(&mut self, name: &str, value: &T) {
        let text = match self.value_of(value) {
            serde_json::Value::Null => return,
            serde_json::Value::Array(items) => {
                items.iter().map(scalar).collect::<Vec<_>>().join(",")
            }
            other => scalar(&other),
        };
        self.headers.push((name.to_owned(), text));
    }

    /// Adds a cookie parameter; `None` adds nothing.
    pub(crate) fn cookie<T: Serialize>(&mut self, name: &str, value: &T) {
        let text = match self.value_of(value) {
            serde_json::Value::Null => return,
            other => scalar(&other),
        };
        self.headers
            .push(("cookie".to_owned(), format!("{name}={}", encode(&text))));
    }

    /// Checks a path parameter before sending: an empty value is refused, and so are `.` and
    /// `..`, which URL normalisation resolves away even percent-encoded (the request would reach
    /// another resource); all three SDKs refuse them alike.
    pub(crate) fn path_param<T: Serialize>(&mut self, name: &str, value: &T) {
        let text = segment_text(&self.value_of(value));
        if text.is_empty() {
            self.fail(format!("the path parameter {name:?} is empty"));
        } else if text == "." || text == ".." {
            self.fail(format!(
                "the path parameter {name:?} is {text:?}, which cannot be sent as a path segment"
            ));
        }
    }

    /// A JSON body (absent and null fields stay as the model says).
    pub(crate) fn json<T: Serialize>(&mut self, body: &T) {
        self.json_as(body, "application/json");
    }

    /// A JSON body sent with another JSON media type (e.g. `application/merge-patch+json`).
    pub(crate) fn json_as<T: Serialize>(&mut self, body: &T, content_type: &str) {
        match serde_json::to_vec(body) {
            Ok(bytes) => self.body = Body::Bytes(bytes.into(), content_type.to_owned()),
            Err(e) => self.fail(format!("cannot serialize the body: {e}")),
        }
    }

    /// A form-urlencoded body from an object's fields, in the schema's order (then additional
    /// fields in the caller's): arrays of scalars repeat the key, nested objects use brackets
    /// (`metadata[key]=value`, `items[0][price]=p`), nulls are left out. Encoded as the WHATWG
    /// serializer does (see [`form_encode`]).
    pub(crate) fn form<T: Serialize>(&mut self, body: &T) {
        let value = match serde_json::to_vec(body)
            .map_err(|e| e.to_string())
            .and_then(|text| super::json::ordered(&text))
        {
            Ok(value) => value,
            Err(e) => return self.fail(format!("cannot serialize the body: {e}")),
        };
        let mut pairs = Vec::new();
        if let super::json::Ordered::Object(members) = &value {
            for (key, v) in members {
                form_pairs(key, v, &mut pairs);
            }
        }
        let body: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
            .collect();
        self.body = Body::Bytes(
            body.join("&").into_bytes().into(),
            "application/x-www-form-urlencoded".to_owned(),
        );
    }

    /// A raw body with its content type.
    pub(crate) fn bytes(&mut self, body: Bytes, content_type: &str) {
        self.body = Body::Bytes(body, content_type.to_owned());
    }

    /// A multipart/form-data body.
    pub(crate) fn multipart(&mut self, body: Multipart) {
        self.body = Body::Multipart(body);
    }

    /// The Accept header the operation sends (the generator decides it; headers the user sets
    /// on the client or the call take precedence).
    pub(crate) fn accept(&mut self, media: &str) {
        self.accept = Some(media.to_owned());
    }

    /// Which configured credentials the operation sends: the bearer token and the API key it
    /// accepts (both false for `security: []`). By default, whatever is configured.
    pub(crate) fn auth(&mut self, bearer: bool, api_key: bool) {
        self.bearer = bearer;
        self.api_key = api_key;
    }

    /// The header carrying the per-call idempotency key, if the operation declares one.
    pub(crate) fn idempotency(&mut self, header: &'static str) {
        self.idempotency_header = Some(header);
    }

    /// The header carrying the last event id when an event stream resumes.
    pub(crate) fn resume(&mut self, header: &'static str) {
        self.resume_header = Some(header);
    }

    /// Whether the call may be retried (idempotent, or made safe by an idempotency key).
    pub(crate) fn retryable(&mut self, yes: bool) {
        self.retryable = yes;
    }

    /// The response is read as a stream: the timeout covers only the response headers.
    pub(crate) fn streaming(&mut self) {
        self.streaming = true;
    }

    /// The call resumed after the event `id`: it sends the id in the resume header (the
    /// operation's, else `Last-Event-ID`), over any value the caller set.
    pub(crate) fn resumed(&self, id: &str) -> Req {
        let mut next = self.clone();
        next.resume_id = Some(id.to_owned());
        next
    }

    fn resume_name(&self) -> &'static str {
        self.resume_header.unwrap_or("Last-Event-ID")
    }

    /// The last event id the caller gave in the resume header, if any.
    pub(crate) fn caller_resume_id(
        &self,
        client: &Client,
        options: &RequestOptions,
    ) -> Option<String> {
        let name = self.resume_name();
        let found = |headers: &[(String, String)]| {
            headers
                .iter()
                .rev()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        found(&options.headers)
            .or_else(|| found(&self.headers))
            .or_else(|| found(&client.inner.headers))
            .filter(|id| !id.is_empty())
    }

    /// The call's URL joined to the client's parsed base URL (its host is not parsed again),
    /// when that gives what parsing [`Req::url`]'s text gives: no per-call URL or base URL, a
    /// path from the root, and no `?` or `#` in the path or `#` in the query.
    fn joined_url(&self, client: &Client, options: &RequestOptions) -> Option<reqwest::Url> {
        let base = client.inner.base.as_ref()?;
        if options.url.is_some()
            || options
                .base_url
                .as_deref()
                .is_some_and(|url| !url.is_empty())
            || !(self.path.is_empty() || self.path.starts_with('/'))
            || self.path.contains(['?', '#'])
        {
            return None;
        }
        let mut url = base.clone();
        let prefix = if base.path() == "/" { "" } else { base.path() };
        url.set_path(&format!("{prefix}{}", self.path));
        if !self.query.is_empty() {
            let mut query = String::new();
            for (i, (name, value)) in self.query.iter().enumerate() {
                if i > 0 {
                    query.push('&');
                }
                query.push_str(&encode(name));
                query.push('=');
                query.push_str(&encode(value));
            }
            url.set_query(Some(&query));
        }
        Some(url)
    }

    fn url(&self, client: &Client, options: &RequestOptions) -> Result<String, Error> {
        if let Some(url) = &options.url {
            return Ok(url.clone());
        }
        let base = options
            .base_url
            .as_deref()
            .filter(|url| !url.is_empty())
            .unwrap_or(&client.inner.base_url)
            .trim_end_matches('/');
        if base.is_empty() {
            return Err(super::client::missing_base_url());
        }
        let mut url = format!("{base}{}", self.path);
        for (i, (name, value)) in self.query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&encode(name));
            url.push('=');
            url.push_str(&encode(value));
        }
        Ok(url)
    }
}

fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    hasher.write_u128(nanos);
    hasher.finish()
}

/// A random UUID (version 4) for an idempotency key.
pub(crate) fn idempotency_key() -> String {
    let (a, b) = (random_u64(), random_u64());
    let a = (a & 0xffff_ffff_ffff_0fff) | 0x4000;
    let b = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

const RETRY_AFTER_CAP: Duration = Duration::from_secs(60);

/// The server's requested delay: `Retry-After-Ms`, `Retry-After` seconds or HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let delay = if let Some(ms) = get("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        Duration::try_from_secs_f64(ms / 1000.0).ok()
    } else if let Some(value) = get("retry-after") {
        if let Ok(secs) = value.parse::<f64>() {
            Duration::try_from_secs_f64(secs).ok()
        } else {
            let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .ok()?
                .as_secs_f64();
            let at = date.timestamp() as f64;
            Some(Duration::try_from_secs_f64((at - now).max(0.0)).unwrap_or_default())
        }
    } else {
        None
    }?;
    (delay <= RETRY_AFTER_CAP).then_some(delay)
}

/// Exponential backoff with jitter: `initial * 2^(retry-1)`, capped, minus up to 25 %.
pub(crate) fn backoff(client: &Client, retry: u32) -> Duration {
    let initial = client.inner.initial_retry_delay;
    let factor = 2u32.saturating_pow(retry.saturating_sub(1).min(16));
    let delay = initial
        .saturating_mul(factor)
        .min(client.inner.max_retry_delay);
    let jitter = (random_u64() % 1000) as f64 / 4000.0;
    delay.mul_f64(1.0 - jitter)
}

/// Whether a status is worth another attempt, `x-should-retry` first.
pub(crate) fn should_retry(status: u16, headers: &HeaderMap) -> bool {
    match headers.get("x-should-retry").and_then(|v| v.to_str().ok()) {
        Some("true") => true,
        Some("false") => false,
        _ => matches!(status, 408 | 409 | 429 | 500 | 502 | 503 | 504),
    }
}

/// Whether a Connect call's error status is worth another attempt, `x-should-retry` first:
/// 503 (`unavailable`), and 429 (`resource_exhausted`) only with a retry hint.
pub(crate) fn should_retry_connect(status: u16, headers: &HeaderMap) -> bool {
    match headers.get("x-should-retry").and_then(|v| v.to_str().ok()) {
        Some("true") => true,
        Some("false") => false,
        _ => {
            status == 503
                || (status == 429
                    && (headers.contains_key("retry-after")
                        || headers.contains_key("retry-after-ms")))
        }
    }
}

fn transport_error(error: reqwest::Error, attempts: u32) -> Error {
    if error.is_timeout() {
        return Error::timeout(attempts);
    }
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    Error::Connection { message, attempts }
}

/// Whether a body read error comes from decompressing the body (a corrupt gzip stream) rather
/// than from the connection: the decoder reports an I/O error of its own, while a broken
/// connection surfaces as the HTTP library's error.
fn is_decompression_error(error: &reqwest::Error) -> bool {
    error.is_decode()
        && std::error::Error::source(error)
            .is_some_and(|source| source.downcast_ref::<std::io::Error>().is_some())
}

/// The error of a body that could not be read: `decode` for a corrupt compressed body,
/// `timeout` or `connection` otherwise.
pub(crate) fn body_error(error: reqwest::Error, status: u16, attempts: u32) -> Error {
    if is_decompression_error(&error) {
        let mut message = "cannot decompress the response body".to_owned();
        if let Some(source) = std::error::Error::source(&error) {
            message.push_str(&format!(": {source}"));
        }
        return Error::Decode {
            message,
            status,
            body: String::new(),
        };
    }
    transport_error(error, attempts)
}

/// The decode error of a body over the limit.
pub(crate) fn too_large(limit: u64, status: u16, body: &[u8]) -> Error {
    let kept = body.get(..body.len().min(limit_len(limit))).unwrap_or(body);
    Error::Decode {
        message: format!("response body exceeds max_response_bytes ({limit} bytes)"),
        status,
        body: String::from_utf8_lossy(kept).into_owned(),
    }
}

fn limit_len(limit: u64) -> usize {
    usize::try_from(limit).unwrap_or(usize::MAX)
}

/// Reads a body chunk by chunk, never holding more than `limit + 1` bytes; the flag says
/// whether the body was longer than `limit`.
pub(crate) async fn read_limited(
    response: &mut reqwest::Response,
    limit: u64,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let room = limit_len(limit).saturating_add(1);
    // One allocation when the length is announced (never more than the limit allows: the
    // announcement is the server's word, the limit is ours).
    let announced = response
        .content_length()
        .map_or(0, |len| usize::try_from(len).unwrap_or(usize::MAX));
    let mut body = Vec::with_capacity(announced.min(room));
    while let Some(chunk) = response.chunk().await? {
        let left = room.saturating_sub(body.len());
        if chunk.len() >= left {
            body.extend_from_slice(chunk.get(..left).unwrap_or_default());
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

/// The statuses the SDK follows as redirects.
fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// How many redirects one attempt follows; the response of the next one is the call's error.
pub(crate) const MAX_REDIRECTS: u32 = 10;

/// Whether two URLs share an origin (scheme, host and port).
fn same_origin(a: &reqwest::Url, b: &reqwest::Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// The redirect target of a response: a redirect status with a `Location` that resolves
/// (against the response's URL) to an http(s) URL.
fn redirect_target(response: &reqwest::Response) -> Option<reqwest::Url> {
    if !is_redirect(response.status().as_u16()) {
        return None;
    }
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)?
        .to_str()
        .ok()?;
    let next = response.url().join(location.trim()).ok()?;
    matches!(next.scheme(), "http" | "https").then_some(next)
}

/// One hop of an attempt: where it goes, with which method, and what it may carry.
struct Hop {
    /// The redirect target (`None`: the call's own URL).
    url: Option<reqwest::Url>,
    method: reqwest::Method,
    /// Whether the body (and its Content-Type) is sent.
    body: bool,
    /// Whether credentials are sent: false once a redirect crossed origins.
    credentials: bool,
}

impl Hop {
    fn first(req: &Req) -> Self {
        Hop {
            url: None,
            method: req.method.clone(),
            body: true,
            credentials: true,
        }
    }

    /// The hop after a redirect response with this status from `from` to `to`.
    fn follow(&mut self, status: u16, from: &reqwest::Url, to: reqwest::Url) {
        let post = self.method == reqwest::Method::POST;
        if (status == 303 && self.method != reqwest::Method::HEAD)
            || (matches!(status, 301 | 302) && post)
        {
            self.method = reqwest::Method::GET;
            self.body = false;
        }
        if !same_origin(from, &to) {
            self.credentials = false;
        }
        self.url = Some(to);
    }
}

/// Whether a header carries a credential that must not cross origins.
fn is_credential_header(name: &str, api_key: Option<&str>) -> bool {
    name.eq_ignore_ascii_case("authorization")
        || name.eq_ignore_ascii_case("cookie")
        || api_key.is_some_and(|key| name.eq_ignore_ascii_case(key))
}

impl Client {
    /// The bearer token a request carries: when the contract has a bearer scheme, the operation
    /// accepts it and one is configured.
    fn bearer_for(&self, req: &Req) -> Option<&str> {
        let inner = &self.inner;
        let token = inner.bearer_token.as_ref()?;
        (inner.auth.bearer && req.bearer).then_some(token.0.as_str())
    }

    /// Where and what API key a request carries: only when it carries no bearer token, the
    /// contract has an API-key scheme, the operation accepts it and one is configured.
    fn api_key_for(&self, req: &Req) -> Option<(ApiKeyIn, &'static str, &str)> {
        let inner = &self.inner;
        let key = inner.api_key.as_ref()?;
        let (location, name) = inner.auth.api_key?;
        (req.api_key && self.bearer_for(req).is_none()).then_some((location, name, key.0.as_str()))
    }

    /// The largest body read into memory for a call.
    pub(crate) fn response_limit(&self, options: &RequestOptions) -> u64 {
        options
            .max_response_bytes
            .unwrap_or(self.inner.max_response_bytes)
    }

    fn build_request(
        &self,
        req: &Req,
        options: &RequestOptions,
        key: Option<&str>,
        hop: &Hop,
    ) -> Result<reqwest::Request, Error> {
        if let Some(message) = &req.error {
            return Err(Error::invalid(message.clone()));
        }
        let inner = &self.inner;
        let credentials = hop.credentials;
        let api_key = self.api_key_for(req).filter(|_| credentials);
        let joined = match (&hop.url, api_key) {
            (None, None | Some((ApiKeyIn::Header | ApiKeyIn::Cookie, _, _))) => {
                req.joined_url(self, options)
            }
            _ => None,
        };
        let mut url = match (&joined, &hop.url) {
            (Some(_), _) => String::new(),
            (None, Some(url)) => url.to_string(),
            (None, None) => req.url(self, options)?,
        };
        if let (None, Some((ApiKeyIn::Query, name, key))) = (&joined, api_key) {
            let parsed = reqwest::Url::parse(&url)
                .map_err(|e| Error::invalid(format!("invalid URL: {e}")))?;
            if !parsed.query_pairs().any(|(n, _)| n == name) {
                let separator = if parsed.query().is_some() { '&' } else { '?' };
                url = format!("{url}{separator}{}={}", encode(name), encode(key));
            }
        }
        let api_key_header = match inner.auth.api_key {
            Some((ApiKeyIn::Header, name)) => Some(name),
            _ => None,
        };
        let mut headers = HeaderMap::new();
        let put =
            |headers: &mut HeaderMap, name: &str, value: &str, append: bool| -> Result<(), Error> {
                check_header(name, value)?;
                if !credentials && is_credential_header(name, api_key_header) {
                    return Ok(());
                }
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| Error::invalid(format!("invalid header name {name:?}")))?;
                let value = HeaderValue::from_str(value)
                    .map_err(|_| Error::invalid("invalid header value"))?;
                if append {
                    headers.append(name, value);
                } else {
                    headers.insert(name, value);
                }
                Ok(())
            };
        match &inner.user_agent_value {
            Some(value) => {
                headers.insert(reqwest::header::USER_AGENT, value.clone());
            }
            None => put(&mut headers, "user-agent", &inner.user_agent, false)?,
        }
        if let Some(accept) = &req.accept {
            put(&mut headers, "accept", accept, false)?;
        }
        if let Some(token) = self.bearer_for(req).filter(|_| credentials) {
            match &inner.authorization {
                Some(value) => {
                    headers.insert(reqwest::header::AUTHORIZATION, value.clone());
                }
                None => put(
                    &mut headers,
                    "authorization",
                    &format!("Bearer {token}"),
                    false,
                )?,
            }
        }
        match api_key {
            Some((ApiKeyIn::Header, name, key)) => put(&mut headers, name, key, false)?,
            Some((ApiKeyIn::Cookie, name, key)) => {
                put(&mut headers, "cookie", &format!("{name}={key}"), true)?
            }
            _ => {}
        }
        if let (Some(header), Some(key)) = (req.idempotency_header, key) {
            put(&mut headers, header, key, false)?;
        }
        for (name, value) in &inner.headers {
            put(&mut headers, name, value, false)?;
        }
        for (name, value) in &req.headers {
            put(&mut headers, name, value, name == "cookie")?;
        }
        for (name, value) in &options.headers {
            put(&mut headers, name, value, false)?;
        }
        if let Some(id) = &req.resume_id {
            put(&mut headers, req.resume_name(), id, false)?;
        }
        let timeout = options.timeout.or(inner.timeout);
        if req.protocol != Protocol::Rest {
            put(&mut headers, "connect-protocol-version", "1", false)?;
            if let Some(timeout) = timeout {
                // Whole milliseconds, at least 1 (0 would mean no time at all) and at most the
                // 10 digits Connect allows; a Connect-Timeout-Ms the caller set is kept.
                let ms = u64::try_from(timeout.as_millis())
                    .unwrap_or(u64::MAX)
                    .clamp(1, 9_999_999_999);
                headers
                    .entry("connect-timeout-ms")
                    .or_insert_with(|| HeaderValue::from(ms));
            }
        }
        let builder = match joined {
            Some(joined) => inner.http.request(hop.method.clone(), joined),
            None => inner.http.request(hop.method.clone(), url),
        };
        let mut builder = builder.headers(headers);
        match (req.sent_body().as_ref(), hop.body) {
            (_, false) | (Body::None, _) => {}
            (Body::Bytes(bytes, content_type), true) => {
                builder = builder
                    .header(reqwest::header::CONTENT_TYPE, content_type.as_str())
                    .body(bytes.clone());
            }
            (Body::Multipart(multipart), true) => builder = builder.multipart(multipart.form()?),
        }
        if let (Some(timeout), false) = (timeout, req.streaming) {
            builder = builder.timeout(timeout);
        }
        let mut request = builder.build().map_err(|e| {
            Error::invalid(format!("cannot build the request: {}", e.without_url()))
        })?;
        if !hop.body {
            request.headers_mut().remove(reqwest::header::CONTENT_TYPE);
            request
                .headers_mut()
                .remove(reqwest::header::CONTENT_LENGTH);
        }
        Ok(request)
    }

    /// One attempt: the request and the redirects it leads to (at most [`MAX_REDIRECTS`]),
    /// followed here so that credentials never cross origins. Gives the last response.
    async fn send_attempt(
        &self,
        req: &Req,
        options: &RequestOptions,
        key: Option<&str>,
    ) -> Result<reqwest::Response, Result<reqwest::Error, Error>> {
        let timeout = options.timeout.or(self.inner.timeout);
        let mut hop = Hop::first(req);
        let mut redirects = 0u32;
        loop {
            let request = self.build_request(req, options, key, &hop).map_err(Err)?;
            let sent = self.inner.http.execute(request);
            let response = match (timeout, req.streaming) {
                (Some(timeout), true) => match tokio::time::timeout(timeout, sent).await {
                    Ok(result) => result.map_err(Ok)?,
                    Err(_) => return Err(Err(Error::timeout(0))),
                },
                _ => sent.await.map_err(Ok)?,
            };
            if redirects >= MAX_REDIRECTS {
                return Ok(response);
            }
            let Some(next) = redirect_target(&response) else {
                return Ok(response);
            };
            redirects += 1;
            let status = response.status().as_u16();
            let from = response.url().clone();
            drop(response); // a redirect's body is never read
            hop.follow(status, &from, next);
        }
    }

    /// Sends a call, retrying per the retry rules; returns a success response or an error.
    pub(crate) async fn execute(
        &self,
        req: &Req,
        options: &RequestOptions,
    ) -> Result<(reqwest::Response, u32), Error> {
        self.execute_timed(req, options)
            .await
            .map(|(response, attempts, _)| (response, attempts))
    }

    /// As [`Client::execute`], also giving the moment the successful attempt started (a Connect
    /// stream's deadline runs from there).
    pub(crate) async fn execute_timed(
        &self,
        req: &Req,
        options: &RequestOptions,
    ) -> Result<(reqwest::Response, u32, tokio::time::Instant), Error> {
        let key = req.idempotency_header.map(|_| {
            options
                .idempotency_key
                .clone()
                .unwrap_or_else(idempotency_key)
        });
        let max_retries = options.max_retries.unwrap_or(self.inner.max_retries);
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let started = tokio::time::Instant::now();
            let result = self.send_attempt(req, options, key.as_deref()).await;
            let can_retry = req.retryable && attempts <= max_retries;
            match result {
                Err(Err(Error::Timeout { .. })) => {
                    if can_retry {
                        tokio::time::sleep(backoff(self, attempts)).await;
                        continue;
                    }
                    return Err(Error::timeout(attempts));
                }
                Err(Err(error)) => return Err(error),
                Err(Ok(error)) => {
                    if can_retry && !error.is_builder() {
                        tokio::time::sleep(backoff(self, attempts)).await;
                        continue;
                    }
                    return Err(transport_error(error, attempts));
                }
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    let connect = req.protocol != Protocol::Rest;
                    let success = if connect {
                        status == 200
                    } else {
                        response.status().is_success()
                    };
                    if success {
                        return Ok((response, attempts, started));
                    }
                    let retry = if connect {
                        should_retry_connect(status, response.headers())
                    } else {
                        should_retry(status, response.headers())
                    };
                    if can_retry && retry {
                        let delay = retry_after(response.headers())
                            .unwrap_or_else(|| backoff(self, attempts));
                        drop(response);
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    let headers = response.headers().clone();
                    // An error body over the limit is kept truncated: the API error stands.
                    let limit = self.response_limit(options);
                    let mut body = read_limited(&mut response, limit)
                        .await
                        .map(|(body, _)| body)
                        .unwrap_or_default();
                    body.truncate(limit_len(limit));
                    if connect {
                        return Err(ApiError::from_connect(status, &headers, &body, attempts));
                    }
                    if req.status_errors {
                        return Err(ApiError::from_status(status, &headers, &body, attempts));
                    }
                    return Err(Error::Api(Box::new(ApiError::from_parts(
                        status, &headers, &body, attempts,
                    ))));
                }
            }
        }
    }

    /// Sends a call and reads its success body (bounded by the call's limit).
    async fn body(
        &self,
        req: &Req,
        options: &RequestOptions,
    ) -> Result<(Vec<u8>, ResponseMeta), Error> {
        let (mut response, attempts) = self.execute(req, options).await?;
        let status = response.status().as_u16();
        let limit = self.response_limit(options);
        let (body, over) = read_limited(&mut response, limit)
            .await
            .map_err(|e| body_error(e, status, attempts))?;
        if over {
            return Err(too_large(limit, status, &body));
        }
        Ok((body, meta_taken(&mut response, attempts)))
    }

    /// Sends a call whose success body is JSON.
    pub(crate) async fn send_json<T: DeserializeOwned>(
        &self,
        req: Req,
        options: &RequestOptions,
    ) -> Result<Response<T>, Error> {
        let (body, meta) = self.body(&req, options).await?;
        let data = decode_json(&body, meta.status)?;
        Ok(Response { data, meta })
    }

    /// Sends a call whose success body is JSON or empty (e.g. 204 next to 200).
    pub(crate) async fn send_json_or_empty<T: DeserializeOwned>(
        &self,
        req: Req,
        options: &RequestOptions,
    ) -> Result<Response<Option<T>>, Error> {
        let (body, meta) = self.body(&req, options).await?;
        if meta.status == 204 || body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Response { data: None, meta });
        }
        let data = decode_json(&body, meta.status)?;
        Ok(Response {
            data: Some(data),
            meta,
        })
    }

    /// Sends a call whose success body is text.
    pub(crate) async fn send_text(
        &self,
        req: Req,
        options: &RequestOptions,
    ) -> Result<Response<String>, Error> {
        let (body, meta) = self.body(&req, options).await?;
        match String::from_utf8(body) {
            Ok(data) => Ok(Response { data, meta }),
            Err(e) => Err(Error::Decode {
                message: e.utf8_error().to_string(),
                status: meta.status,
                body: String::from_utf8_lossy(e.as_bytes()).into_owned(),
            }),
        }
    }

    /// Sends a call whose success response has no body (any body is read and dropped).
    pub(crate) async fn send_empty(
        &self,
        req: Req,
        options: &RequestOptions,
    ) -> Result<Response<()>, Error> {
        let (_, meta) = self.body(&req, options).await?;
        Ok(Response { data: (), meta })
    }

    /// Sends a call whose success body is binary, handed over unread.
    pub(crate) async fn send_binary(
        &self,
        mut req: Req,
        options: &RequestOptions,
    ) -> Result<Response<Binary>, Error> {
        req.streaming();
        let (response, attempts) = self.execute(&req, options).await?;
        let meta = meta(&response, attempts);
        Ok(Response {
            data: Binary {
                response,
                attempts,
                limit: self.response_limit(options),
                cancel: options.cancel.clone(),
            },
            meta,
        })
    }
}

// Entry points of the generated operations: owned parts, so that each operation's future is a
// plain (non-async) function's return value and the async code is written (and checked) once.

/// Runs a call, ending it with `Error::Cancelled` as soon as its options' token is cancelled.
pub(crate) async fn cancellable<T>(
    options: &RequestOptions,
    call: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    match options.cancel.clone() {
        Some(token) => until_cancelled(&token, call).await,
        None => call.await,
    }
}

/// Sends a built request whose success body is JSON.
pub(crate) async fn call_json<T: DeserializeOwned>(
    client: Client,
    req: Result<Req, Error>,
    options: RequestOptions,
) -> Result<Response<T>, Error> {
    cancellable(&options, client.send_json(req?, &options)).await
}

/// Sends a built request whose success body is JSON or empty.
pub(crate) async fn call_json_or_empty<T: DeserializeOwned>(
    client: Client,
    req: Result<Req, Error>,
    options: RequestOptions,
) -> Result<Response<Option<T>>, Error> {
    cancellable(&options, client.send_json_or_empty(req?, &options)).await
}

/// Sends a built request whose success body is text.
pub(crate) async fn call_text(
    client: Client,
    req: Result<Req, Error>,
    options: RequestOptions,
) -> Result<Response<String>, Error> {
    cancellable(&options, client.send_text(req?, &options)).await
}

/// Sends a built request whose success response has no body.
pub(crate) async fn call_empty(
    client: Client,
    req: Result<Req, Error>,
    options: RequestOptions,
) -> Result<Response<()>, Error> {
    cancellable(&options, client.send_empty(req?, &options)).await
}

/// Sends a built request whose success body is binary.
pub(crate) async fn call_binary(
    client: Client,
    req: Result<Req, Error>,
    options: RequestOptions,
) -> Result<Response<Binary>, Error> {
    cancellable(&options, client.send_binary(req?, &options)).await
}

/// Opens an event stream from a built request.
pub(crate) async fn call_sse<T: DeserializeOwned>(
    client: Client,
    req: Result<Req, Error>,
    options: RequestOptions,
) -> Result<Response<super::sse::EventStream<T>>, Error> {
    cancellable(&options, client.send_sse(req?, &options)).await
}

/// A response body as it arrives, chunk by chunk.
pub(crate) type ByteStream =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<Bytes, reqwest::Error>> + Send>>;

/// Whether a stream's response has the media type `media` (by its Content-Type); anything else
/// is a decode error naming the stream expected (`what`) rather than an empty stream.
pub(crate) fn check_media(
    response: &reqwest::Response,
    media: &str,
    what: &str,
) -> Result<(), Error> {
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let found = content_type.split(';').next().unwrap_or_default().trim();
    if found.eq_ignore_ascii_case(media) {
        return Ok(());
    }
    Err(Error::Decode {
        message: format!("expected {what} ({media}), got content type {content_type:?}"),
        status: response.status().as_u16(),
        body: String::new(),
    })
}

/// The meta of a response whose headers are no longer needed: they move into it (no copy).
pub(crate) fn meta_taken(response: &mut reqwest::Response, attempts: u32) -> ResponseMeta {
    ResponseMeta {
        status: response.status().as_u16(),
        headers: std::mem::take(response.headers_mut()),
        attempts,
        url: response.url().to_string(),
    }
}

pub(crate) fn meta(response: &reqwest::Response, attempts: u32) -> ResponseMeta {
    ResponseMeta {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        attempts,
        url: response.url().to_string(),
    }
}

/// Decodes a JSON body: serde_json with duplicate keys refused too (see [`super::json::check`]),
/// then into the type.
pub(crate) fn decode_json<T: DeserializeOwned>(body: &[u8], status: u16) -> Result<T, Error> {
    let decode_error = |message: String| Error::Decode {
        message,
        status,
        body: String::from_utf8_lossy(body).into_owned(),
    };
    super::json::check(body).map_err(decode_error)?;
    serde_json::from_slice(body).map_err(|e| decode_error(e.to_string()))
}

/// A binary response body, not yet read: take it whole with [`Binary::bytes`] or chunk by
/// chunk with [`Binary::into_stream`]. Dropping it releases the connection.
#[derive(Debug)]
pub struct Binary {
    response: reqwest::Response,
    attempts: u32,
    limit: u64,
    cancel: Option<super::client::CancellationToken>,
}

impl Binary {
    /// The `Content-Type` of the body, if any.
    pub fn content_type(&self) -> Option<&str> {
        self.response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }

    /// Reads the whole body, at most the call's `max_response_bytes` (a longer body is an
    /// [`Error::Decode`]); the call's cancellation token ends the read.
    pub async fn bytes(mut self) -> Result<Bytes, Error> {
        let (attempts, limit) = (self.attempts, self.limit);
        let status = self.response.status().as_u16();
        let cancel = self.cancel.take();
        let read = async move {
            let (body, over) = read_limited(&mut self.response, limit)
                .await
                .map_err(|e| body_error(e, status, attempts))?;
            if over {
                return Err(too_large(limit, status, &body));
            }
            Ok(Bytes::from(body))
        };
        match cancel {
            Some(token) => until_cancelled(&token, read).await,
            None => read.await,
        }
    }

    /// The body as a stream of chunks (not bounded); the call's cancellation token ends it with
    /// [`Error::Cancelled`].
    pub fn into_stream(self) -> impl futures::Stream<Item = Result<Bytes, Error>> + Send {
        use futures::StreamExt;
        let attempts = self.attempts;
        let status = self.response.status().as_u16();
        let chunks = self
            .response
            .bytes_stream()
            .map(move |chunk| chunk.map_err(|e| body_error(e, status, attempts)));
        Cancellable::new(Box::pin(chunks), self.cancel)
    }
}

/// Runs a future unless the token is cancelled first.
pub(crate) async fn until_cancelled<T>(
    token: &super::client::CancellationToken,
    future: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    if token.is_cancelled() {
        return Err(Error::Cancelled);
    }
    let cancelled = std::pin::pin!(token.cancelled());
    let future = std::pin::pin!(future);
    match futures::future::select(future, cancelled).await {
        futures::future::Either::Left((result, _)) => result,
        futures::future::Either::Right(_) => Err(Error::Cancelled),
    }
}

type Cancelled = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// A stream that ends with one [`Error::Cancelled`] as soon as its token is cancelled: the next
/// pull gives it even when items are ready, and the inner stream (its connection) is dropped.
pub(crate) struct Cancellable<S> {
    inner: Option<std::pin::Pin<Box<S>>>,
    cancelled: Option<Cancelled>,
}

impl<S> Cancellable<S> {
    pub(crate) fn new(
        inner: std::pin::Pin<Box<S>>,
        token: Option<super::client::CancellationToken>,
    ) -> Self {
        let cancelled =
            token.map(|token| -> Cancelled { Box::pin(async move { token.cancelled().await }) });
        Cancellable {
            inner: Some(inner),
            cancelled,
        }
    }
}

impl<S, T> futures::Stream for Cancellable<S>
where
    S: futures::Stream<Item = Result<T, Error>>,
{
    type Item = Result<T, Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        if let Some(cancelled) = this.cancelled.as_mut() {
            if cancelled.as_mut().poll(cx).is_ready() {
                this.inner = None;
                this.cancelled = None;
                return Poll::Ready(Some(Err(Error::Cancelled)));
            }
        }
        match inner.as_mut().poll_next(cx) {
            Poll::Ready(None) => {
                this.inner = None;
                Poll::Ready(None)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_server::{gzip, respond, respond_bytes, serve, Reply};
    use super::*;

    fn client(url: &str) -> Client {
        Client::builder()
            .base_url(url)
            .auth_scheme(AuthScheme {
                bearer: true,
                api_key: Some((ApiKeyIn::Header, "x-api-key")),
            })
            .bearer_token("tok")
            .initial_retry_delay(Duration::from_millis(1))
            .max_retry_delay(Duration::from_millis(5))
            .build()
            .unwrap()
    }

    #[test]
    fn path_segments_and_queries_are_encoded() {
        assert_eq!(segment(&"a/b c?#%é"), "a%2Fb%20c%3F%23%25%C3%A9");
        assert_eq!(segment(&"a/../b"), "a%2F..%2Fb");
        assert_eq!(segment(&"a.b"), "a.b");
        assert_eq!(segment(&42), "42");
        let mut req = Req::new("GET", "/x".to_owned());
        req.query("tags", Style::Form, true, &vec!["a", "b"]);
        req.query("csv", Style::Form, false, &vec!["a", "b"]);
        req.query("sp", Style::SpaceDelimited, false, &vec!["a", "b"]);
        req.query("pipe", Style::PipeDelimited, false, &vec!["a", "b"]);
        req.query("f", Style::DeepObject, true, &serde_json::json!({"k": "v"}));
        req.query("none", Style::Form, true, &None::<String>);
        let c = client("http://127.0.0.1:1/api/");
        assert_eq!(
            req.url(&c, &RequestOptions::new()).unwrap(),
            "http://127.0.0.1:1/api/x?tags=a&tags=b&csv=a%2Cb&sp=a%20b&pipe=a%7Cb&f%5Bk%5D=v"
        );
    }

    #[test]
    fn joined_urls_are_the_urls_the_text_parses_to() {
        let options = RequestOptions::new();
        for base in [
            "http://127.0.0.1:1",
            "http://127.0.0.1:1/api/",
            "https://h.example/a/b",
            "http://H.example:80/x%20y",
        ] {
            let c = client(base);
            for (path, query) in [
                ("/x", vec![]),
                ("/v1/a%2Fb/runs:stream", vec![("q", "a b&c"), ("c", "2")]),
                ("", vec![("é", "#")]),
            ] {
                let mut req = Req::new("GET", path.to_owned());
                for (name, value) in query {
                    req.query(name, Style::Form, true, &value);
                }
                let text = req.url(&c, &options).unwrap();
                if let Some(joined) = req.joined_url(&c, &options) {
                    assert_eq!(joined, reqwest::Url::parse(&text).unwrap(), "{base} {path}");
                }
            }
        }
        let plain = Req::new("GET", "/x".to_owned());
        let joined = plain.joined_url(&client("http://127.0.0.1:1/api/"), &options);
        assert_eq!(joined.unwrap().as_str(), "http://127.0.0.1:1/api/x");
        // A base URL that parsing normalises is parsed with each call's path instead.
        assert!(plain
            .joined_url(&client("http://H.example:80/"), &options)
            .is_none());
    }

    #[test]
    fn connect_timeout_ms_is_the_callers_timeout_in_whole_milliseconds() {
        let sent = |builder: super::super::client::ClientBuilder,
                    protocol: Option<bool>,
                    options: RequestOptions| {
            let client = builder.base_url("http://127.0.0.1:9").build().unwrap();
            let mut req = Req::new("POST", "/pkg.Svc/Ping".to_owned());
            if let Some(stream) = protocol {
                req.connect(stream);
            }
            let request = client
                .build_request(&req, &options, None, &Hop::first(&req))
                .unwrap();
            let header = request.headers().get("connect-timeout-ms");
            header.map(|value| value.to_str().unwrap().to_owned())
        };
        let connect = |options: RequestOptions| sent(Client::builder(), Some(false), options);
        let timed = || Client::builder().timeout(Duration::from_millis(1500));
        assert_eq!(connect(RequestOptions::new()), None, "no timeout set");
        assert_eq!(
            sent(timed(), Some(true), RequestOptions::new()).as_deref(),
            Some("1500"),
            "the client's timeout"
        );
        let call = RequestOptions::new().timeout(Duration::from_millis(2500));
        assert_eq!(
            sent(timed(), Some(false), call).as_deref(),
            Some("2500"),
            "the call's timeout wins"
        );
        for (timeout, header) in [
            (Duration::from_micros(2999), "2"),
            (Duration::from_micros(500), "1"),
            (Duration::ZERO, "1"),
            (Duration::MAX, "9999999999"),
        ] {
            let options = RequestOptions::new().timeout(timeout);
            assert_eq!(connect(options).as_deref(), Some(header), "{timeout:?}");
        }
        let own = RequestOptions::new()
            .timeout(Duration::from_secs(3))
            .header("Connect-Timeout-Ms", "77");
        assert_eq!(connect(own).as_deref(), Some("77"), "the caller's header");
        let own = timed().default_header("connect-timeout-ms", "88");
        assert_eq!(
            sent(own, Some(false), RequestOptions::new()).as_deref(),
            Some("88")
        );
        let rest = RequestOptions::new().timeout(Duration::from_secs(3));
        assert_eq!(sent(Client::builder(), None, rest), None, "REST sends none");
    }

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", "150".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(150)));
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert("retry-after", "3600".parse().unwrap());
        assert_eq!(retry_after(&h), None, "above the cap");
        let mut h = HeaderMap::new();
        h.insert("x-should-retry", "false".parse().unwrap());
        assert!(!should_retry(503, &h));
        h.insert("x-should-retry", "true".parse().unwrap());
        assert!(should_retry(400, &h));
        assert!(!should_retry(404, &HeaderMap::new()));
    }

    #[test]
    fn idempotency_keys_look_like_uuids() {
        let a = idempotency_key();
        assert_eq!(a.len(), 36);
        assert_ne!(a, idempotency_key());
    }

    #[tokio::test]
    async fn retries_reuse_the_idempotency_key_and_count_attempts() {
        let server = serve(vec![
            respond(503, &[("retry-after-ms", "1")], ""),
            respond(429, &[], "{}"),
            respond(200, &[("x-request-id", "r1")], r#"{"ok":true}"#),
        ]);
        let c = client(&server.url);
        let mut req = Req::new("POST", "/v1/things".to_owned());
        req.idempotency("Idempotency-Key");
        req.json(&serde_json::json!({"a": null}));
        let out: Response<serde_json::Value> =
            c.send_json(req, &RequestOptions::new()).await.unwrap();
        assert_eq!(out.meta.attempts, 3);
        assert_eq!(out.meta.request_id(), Some("r1"));
        assert_eq!(out.data, serde_json::json!({"ok": true}));
        let seen = server.requests();
        assert_eq!(seen.len(), 3);
        let keys: Vec<_> = seen.iter().map(|r| r.header("idempotency-key")).collect();
        assert!(keys[0].is_some());
        assert!(keys.iter().all(|k| *k == keys[0]));
        assert_eq!(
            seen[0].header("authorization").as_deref(),
            Some("Bearer tok")
        );
        assert_eq!(seen[0].body, br#"{"a":null}"#);
        assert!(seen[0].header("user-agent").unwrap().ends_with("(rust)"));
    }

    #[tokio::test]
    async fn non_idempotent_calls_are_not_retried_and_errors_are_typed() {
        let server = serve(vec![respond(
            503,
            &[
                ("content-type", "application/problem+json"),
                ("x-request-id", "r9"),
            ],
            r#"{"title":"down","code":"unavailable"}"#,
        )]);
        let c = client(&server.url);
        let mut req = Req::new("POST", "/v1/x".to_owned());
        req.retryable(false);
        let err = c.send_empty(req, &RequestOptions::new()).await.unwrap_err();
        let api = err.api().unwrap();
        assert_eq!((api.status, api.attempts), (503, 1));
        assert_eq!(api.code.as_deref(), Some("unavailable"));
        assert_eq!(api.request_id.as_deref(), Some("r9"));
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn retries_are_bounded_and_malformed_bodies_are_decode_errors() {
        let server = serve(vec![
            respond(500, &[], "oops"),
            respond(500, &[], "oops"),
            respond(500, &[], "oops"),
        ]);
        let err = client(&server.url)
            .send_empty(Req::new("GET", "/".to_owned()), &RequestOptions::new())
            .await
            .unwrap_err();
        assert_eq!(err.attempts(), Some(3));
        assert_eq!(err.status(), Some(500));

        let server = serve(vec![respond(200, &[], "{\"trunc")]);
        let err = client(&server.url)
            .send_json::<serde_json::Value>(Req::new("GET", "/".to_owned()), &RequestOptions::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "decode");
    }

    #[tokio::test]
    async fn connection_errors_and_timeouts() {
        let c = Client::builder()
            .base_url("http://127.0.0.1:9")
            .max_retries(0)
            .build()
            .unwrap();
        let err = c
            .send_empty(Req::new("GET", "/".to_owned()), &RequestOptions::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "connection");

        let server = serve(vec![super::super::test_server::Reply::Stall]);
        let err = client(&server.url)
            .send_empty(
                Req::new("GET", "/".to_owned()),
                &RequestOptions::new()
                    .timeout(Duration::from_millis(100))
                    .max_retries(0),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "timeout");
    }

    #[tokio::test]
    async fn a_cancelled_token_ends_the_call_during_backoff() {
        let server = serve(vec![respond(503, &[("retry-after", "30")], "")]);
        let token = super::super::client::CancellationToken::new();
        let options = RequestOptions::new().cancellation(token.clone());
        let call = call_empty(
            client(&server.url),
            Ok(Req::new("GET", "/".to_owned())),
            options.clone(),
        );
        let cancel = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            token.cancel();
        };
        let (result, ()) = tokio::join!(call, cancel);
        assert_eq!(result.unwrap_err().kind(), "cancelled");
        let again = call_empty(
            client(&server.url),
            Ok(Req::new("GET", "/".to_owned())),
            options,
        );
        assert_eq!(
            again.await.unwrap_err().kind(),
            "cancelled",
            "cancelled before sending"
        );
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn header_injection_is_refused_before_sending() {
        let server = serve(vec![]);
        let mut req = Req::new("GET", "/".to_owned());
        req.header("x-a", &"a\r\nx-b: c");
        let err = client(&server.url)
            .send_empty(req, &RequestOptions::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "invalid_request");
        assert!(server.requests().is_empty());
    }

    #[tokio::test]
    async fn unauthenticated_calls_send_no_credentials_and_text_204_binary_work() {
        let server = serve(vec![
            respond(200, &[("content-type", "text/plain")], "up 1"),
            respond(204, &[], ""),
            respond(
                200,
                &[("content-type", "application/octet-stream")],
                "\u{1}\u{2}",
            ),
        ]);
        let c = client(&server.url);
        let mut req = Req::new("GET", "/metrics".to_owned());
        req.auth(false, false);
        assert_eq!(
            c.send_text(req, &RequestOptions::new()).await.unwrap().data,
            "up 1"
        );
        let empty = c
            .send_json_or_empty::<serde_json::Value>(
                Req::new("GET", "/".to_owned()),
                &RequestOptions::new(),
            )
            .await
            .unwrap();
        assert_eq!((empty.data, empty.meta.status), (None, 204));
        let bin = c
            .send_binary(Req::new("GET", "/b".to_owned()), &RequestOptions::new())
            .await
            .unwrap();
        assert_eq!(&bin.data.bytes().await.unwrap()[..], b"\x01\x02");
        assert_eq!(server.requests()[0].header("authorization"), None);
    }

    #[tokio::test]
    async fn credentials_follow_the_contract_and_the_operation() {
        let server = serve((0..5).map(|_| respond(200, &[], "{}")).collect());
        let build = |auth: AuthScheme, bearer: Option<&str>| {
            let mut builder = Client::builder().base_url(&server.url).auth_scheme(auth);
            if auth.api_key.is_some() {
                builder = builder.api_key("k1"); // build refuses a key no scheme takes
            }
            if let Some(token) = bearer {
                builder = builder.bearer_token(token);
            }
            builder.build().unwrap()
        };
        let send = |c: Client, bearer: bool, api_key: bool| async move {
            let mut req = Req::new("GET", "/x?a=1".to_owned());
            req.auth(bearer, api_key);
            req.accept("application/vnd.test+json");
            c.send_json::<serde_json::Value>(req, &RequestOptions::new())
                .await
                .unwrap();
        };
        let query = AuthScheme {
            bearer: true,
            api_key: Some((ApiKeyIn::Query, "key")),
        };
        let cookie = AuthScheme {
            bearer: false,
            api_key: Some((ApiKeyIn::Cookie, "sid")),
        };
        let none = AuthScheme {
            bearer: true,
            api_key: None,
        };
        send(build(query, Some("tok")), true, true).await; // the bearer token only
        send(build(query, Some("tok")), false, true).await; // the operation takes no bearer
        send(build(cookie, None), true, true).await; // the contract takes no bearer
        send(build(none, None), true, true).await; // no API-key scheme and no token: nothing
        send(build(query, None), false, false).await; // security: []
        let seen = server.requests();
        assert_eq!(
            seen[0].header("authorization").as_deref(),
            Some("Bearer tok")
        );
        assert_eq!(seen[0].target(), "/x?a=1");
        assert_eq!(seen[1].header("authorization"), None);
        assert_eq!(seen[1].target(), "/x?a=1&key=k1");
        assert_eq!(seen[2].header("authorization"), None);
        assert_eq!(seen[2].header("cookie").as_deref(), Some("sid=k1"));
        assert_eq!(seen[3].header("authorization").as_deref(), None);
        assert_eq!(seen[3].target(), "/x?a=1");
        assert_eq!(seen[4].target(), "/x?a=1");
        assert!(seen
            .iter()
            .all(|r| r.header("accept").as_deref() == Some("application/vnd.test+json")));
    }

    #[tokio::test]
    async fn the_callers_accept_header_wins_and_none_is_sent_by_default() {
        let server = serve(vec![respond(200, &[], "{}"), respond(200, &[], "{}")]);
        let c = client(&server.url);
        let mut req = Req::new("GET", "/x".to_owned());
        req.accept("application/json");
        let options = RequestOptions::new().header("Accept", "text/plain");
        c.send_json::<serde_json::Value>(req, &options)
            .await
            .unwrap();
        let req = Req::new("GET", "/x".to_owned());
        c.send_json::<serde_json::Value>(req, &RequestOptions::new())
            .await
            .unwrap();
        let seen = server.requests();
        assert_eq!(seen[0].header("accept").as_deref(), Some("text/plain"));
        assert_ne!(
            seen[1].header("accept").as_deref(),
            Some("application/json")
        );
    }

    #[tokio::test]
    async fn form_and_multipart_bodies() {
        let server = serve(vec![respond(200, &[], "{}"), respond(200, &[], "{}")]);
        let c = client(&server.url);
        let mut req = Req::new("POST", "/token".to_owned());
        #[derive(Serialize)]
        struct Token {
            grant_type: &'static str,
            scope: &'static str,
            meta: serde_json::Value,
            tags: Vec<&'static str>,
            x: Option<u8>,
            odd: &'static str,
        }
        req.form(&Token {
            grant_type: "client_credentials",
            scope: "a b",
            meta: serde_json::json!({"k": "v"}),
            tags: vec!["x", "y"],
            x: None,
            odd: "~*-._!é+&=",
        });
        c.send_empty(req, &RequestOptions::new()).await.unwrap();
        let mut req = Req::new("POST", "/upload".to_owned());
        let mut body = Multipart::new();
        body.file_part(
            "file",
            &FilePart::new(&b"hello"[..]).filename("a.txt"),
            "application/octet-stream",
        );
        // A JSON part keeps the type's field order (a serde_json::Value would sort the keys).
        #[derive(Serialize)]
        struct Meta {
            zeta: u8,
            alpha: u8,
        }
        body.value("metadata", &Meta { zeta: 1, alpha: 2 }, true)
            .unwrap();
        body.value("note", &"plain", false).unwrap();
        req.multipart(body);
        c.send_empty(req, &RequestOptions::new()).await.unwrap();
        let seen = server.requests();
        assert_eq!(
            String::from_utf8_lossy(&seen[0].body),
            "grant_type=client_credentials&scope=a+b&meta%5Bk%5D=v&tags=x&tags=y&odd=%7E*-._%21%C3%A9%2B%26%3D"
        );
        let text = String::from_utf8_lossy(&seen[1].body).into_owned();
        assert!(text.contains("filename=\"a.txt\""), "{text}");
        assert!(text.contains("{\"zeta\":1,\"alpha\":2}"), "{text}");
        assert!(text.contains("\r\n\r\nplain\r\n"), "{text}");
        assert!(seen[1]
            .header("content-type")
            .unwrap()
            .starts_with("multipart/form-data"));
    }

    fn limited(url: &str, limit: u64) -> Client {
        Client::builder()
            .base_url(url)
            .max_response_bytes(limit)
            .max_retries(0)
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn merge_patch_bodies_carry_their_media_type() {
        let server = serve(vec![respond(200, &[], "{}")]);
        let mut req = Req::new("PATCH", "/v1/x".to_owned());
        req.json_as(
            &serde_json::json!({"a": null}),
            "application/merge-patch+json",
        );
        client(&server.url)
            .send_empty(req, &RequestOptions::new())
            .await
            .unwrap();
        let seen = server.requests();
        assert_eq!(
            seen[0].header("content-type").as_deref(),
            Some("application/merge-patch+json")
        );
        assert_eq!(seen[0].body, br#"{"a":null}"#);
    }

    #[tokio::test]
    async fn empty_and_dot_path_parameters_are_refused_before_sending() {
        let server = serve(vec![]);
        for value in ["", ".", ".."] {
            let mut req = Req::new("GET", format!("/v1/things/{}", segment(&value)));
            req.path_param("id", &value);
            let err = client(&server.url)
                .send_empty(req, &RequestOptions::new())
                .await
                .unwrap_err();
            assert_eq!(err.kind(), "invalid_request", "{value:?}");
            assert!(err.to_string().contains("\"id\""), "{err}");
        }
        let mut req = Req::new("GET", "/x".to_owned());
        req.path_param("id", &"..a");
        req.path_param("n", &0);
        assert!(req.error.is_none());
        assert!(server.requests().is_empty());
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_decode_errors_naming_it() {
        let body = format!("{{\"a\":\"{}\"}}", "x".repeat(100)); // 108 bytes
        let server = serve(vec![
            respond(200, &[], &body),
            respond(200, &[], &body),
            respond(200, &[], &body),
            respond(200, &[("content-type", "text/plain")], &body),
        ]);
        let c = limited(&server.url, 107);
        let req = || Req::new("GET", "/".to_owned());
        let err = c
            .send_json::<serde_json::Value>(req(), &RequestOptions::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "decode");
        assert!(
            err.to_string()
                .contains("response body exceeds max_response_bytes (107 bytes)"),
            "{err}"
        );
        let Error::Decode { body: kept, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(kept.len(), 107, "the body is kept up to the limit");
        // Exactly at the limit is fine; the call's option wins over the client's.
        let ok = c
            .send_json::<serde_json::Value>(req(), &RequestOptions::new().max_response_bytes(108))
            .await
            .unwrap();
        assert_eq!(ok.data["a"].as_str().map(str::len), Some(100));
        let err = limited(&server.url, 1 << 20)
            .send_json::<serde_json::Value>(req(), &RequestOptions::new().max_response_bytes(10))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("(10 bytes)"), "{err}");
        let err = c
            .send_text(req(), &RequestOptions::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "decode");
    }

    #[tokio::test]
    async fn error_bodies_over_the_limit_keep_the_api_error_truncated() {
        let body = format!("{{\"code\":\"x\",\"detail\":\"{}\"}}", "y".repeat(500));
        let server = serve(vec![respond(
            422,
            &[("content-type", "application/json")],
            &body,
        )]);
        let err = limited(&server.url, 64)
            .send_empty(Req::new("GET", "/".to_owned()), &RequestOptions::new())
            .await
            .unwrap_err();
        let api = err.api().expect("an API error");
        assert_eq!(api.status, 422);
        assert!(api.body.len() <= 64, "{}", api.body.len());
    }

    #[tokio::test]
    async fn gzip_is_asked_for_and_decompressed_within_the_limit() {
        let json = br#"{"hello":"world"}"#;
        let big = vec![b' '; 5000];
        let mut corrupt = gzip(json);
        let at = corrupt.len() - 6;
        corrupt[at] ^= 0xff; // the CRC no longer matches
        let gz = [("content-encoding", "gzip")];
        let server = serve(vec![
            respond_bytes(200, &gz, &gzip(json)),
            respond_bytes(200, &gz, &gzip(&big)),
            respond_bytes(200, &gz, &corrupt),
            respond_bytes(200, &gz, b"not gzip at all"),
        ]);
        let c = limited(&server.url, 1024);
        let req = || Req::new("GET", "/".to_owned());
        let out = c
            .send_json::<serde_json::Value>(req(), &RequestOptions::new())
            .await
            .unwrap();
        assert_eq!(out.data, serde_json::json!({"hello": "world"}));
        assert_eq!(
            server.requests()[0].header("accept-encoding").as_deref(),
            Some("gzip")
        );
        let err = c
            .send_empty(req(), &RequestOptions::new())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("(1024 bytes)"), "a bomb: {err}");
        for _ in 0..2 {
            let err = c
                .send_json::<serde_json::Value>(req(), &RequestOptions::new())
                .await
                .unwrap_err();
            assert_eq!(err.kind(), "decode", "corrupt gzip: {err:?}");
        }
    }

    #[tokio::test]
    async fn truncated_bodies_are_connection_errors() {
        let head = "HTTP/1.1 200 OK\r\ncontent-length: 1000\r\nconnection: close\r\n";
        let truncated = || {
            Reply::Raw(format!("{head}content-type: application/json\r\n\r\n{{\"a\":").into_bytes())
        };
        let server = serve(vec![truncated(), truncated(), truncated(), truncated()]);
        let c = limited(&server.url, 1 << 20);
        let req = || Req::new("GET", "/".to_owned());
        let err = c
            .send_json::<serde_json::Value>(req(), &RequestOptions::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "connection", "{err:?}");
        let err = c
            .send_text(req(), &RequestOptions::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "connection", "{err:?}");
        let bin = c.send_binary(req(), &RequestOptions::new()).await.unwrap();
        assert_eq!(bin.data.bytes().await.unwrap_err().kind(), "connection");
        let bin = c.send_binary(req(), &RequestOptions::new()).await.unwrap();
        let chunks: Vec<_> = futures::StreamExt::collect(bin.data.into_stream()).await;
        let last = chunks.last().unwrap().as_ref().unwrap_err();
        assert_eq!(last.kind(), "connection");
    }

    #[tokio::test]
    async fn json_corners_are_decode_errors() {
        for body in [
            r#"{"a":1,"a":2}"#,
            "\u{feff}{}",
            r#"{"a":"\ud800"}"#,
            "{} {}",
            r#"{"n":1e400}"#,
        ] {
            let server = serve(vec![respond(200, &[], body)]);
            let err = client(&server.url)
                .send_json::<serde_json::Value>(
                    Req::new("GET", "/".to_owned()),
                    &RequestOptions::new(),
                )
                .await
                .unwrap_err();
            assert_eq!(err.kind(), "decode", "{body}");
        }
    }

    #[tokio::test]
    async fn should_retry_true_retries_only_retryable_calls() {
        let server = serve(vec![
            respond(400, &[("x-should-retry", "true")], ""),
            respond(400, &[("x-should-retry", "true")], ""),
            respond(200, &[], ""),
        ]);
        let c = client(&server.url);
        let mut post = Req::new("POST", "/".to_owned());
        post.retryable(false);
        let err = c
            .send_empty(post, &RequestOptions::new())
            .await
            .unwrap_err();
        assert_eq!((err.status(), err.attempts()), (Some(400), Some(1)));
        let out = c
            .send_empty(Req::new("GET", "/".to_owned()), &RequestOptions::new())
            .await
            .unwrap();
        assert_eq!(out.meta.attempts, 2);
    }

    #[tokio::test]
    async fn same_origin_redirects_keep_credentials_and_follow_the_method_rules() {
        let server = serve(vec![
            respond(303, &[("location", "/see-other")], "ignored"),
            respond(200, &[], "{}"),
            respond(307, &[("location", "/again?x=1")], ""),
            respond(200, &[], "{}"),
            respond(302, &[("location", "/found")], ""),
            respond(200, &[], "{}"),
        ]);
        let c = client(&server.url);
        let post = || {
            let mut req = Req::new("POST", "/start".to_owned());
            req.json(&serde_json::json!({"k": 1}));
            req
        };
        for _ in 0..3 {
            let out = c.send_empty(post(), &RequestOptions::new()).await.unwrap();
            assert_eq!(out.meta.attempts, 1, "hops are not attempts");
        }
        let seen = server.requests();
        let line = |i: usize| seen[i].head.lines().next().unwrap().to_owned();
        assert_eq!(line(1), "GET /see-other HTTP/1.1");
        assert!(seen[1].body.is_empty());
        assert_eq!(seen[1].header("content-type"), None);
        assert_eq!(line(3), "POST /again?x=1 HTTP/1.1");
        assert_eq!(seen[3].body, br#"{"k":1}"#);
        assert_eq!(
            seen[3].header("content-type").as_deref(),
            Some("application/json")
        );
        assert_eq!(line(5), "GET /found HTTP/1.1");
        assert!(seen
            .iter()
            .all(|r| r.header("authorization").as_deref() == Some("Bearer tok")));
    }

    #[tokio::test]
    async fn cross_origin_redirects_drop_every_credential_for_good() {
        // home → other (cross-origin) → other/back (relative, same origin) → back_home (a
        // third origin): nothing is re-added once dropped.
        let back_home = serve(vec![respond(200, &[], "{}")]);
        let back = format!("{}/final", back_home.url);
        let other = serve(vec![
            respond(302, &[("location", "/back")], ""),
            respond(307, &[("location", back.as_str())], ""),
        ]);
        let target = format!("{}/there", other.url);
        let home = serve(vec![respond(302, &[("location", target.as_str())], "")]);
        let c = Client::builder()
            .base_url(&home.url)
            .auth_scheme(AuthScheme {
                bearer: false,
                api_key: Some((ApiKeyIn::Header, "x-api-key")),
            })
            .api_key("k1")
            .default_header("Cookie", "session=s")
            .build()
            .unwrap();
        let mut req = Req::new("GET", "/start".to_owned());
        req.cookie("pref", &"p");
        let options = RequestOptions::new().header("Authorization", "Basic abc");
        c.send_empty(req, &options).await.unwrap();
        let first = &home.requests()[0];
        assert_eq!(first.header("x-api-key").as_deref(), Some("k1"));
        assert!(first.header("authorization").is_some());
        let mut later = other.requests();
        later.extend(back_home.requests());
        assert_eq!(later.len(), 3);
        for r in &later {
            assert_eq!(r.header("x-api-key"), None, "{}", r.head);
            assert_eq!(r.header("authorization"), None, "{}", r.head);
            assert_eq!(r.header("cookie"), None, "{}", r.head);
            assert!(r.header("user-agent").is_some());
        }
    }

    #[tokio::test]
    async fn an_api_key_query_parameter_stays_on_its_origin() {
        let other = serve(vec![respond(200, &[], "{}")]);
        let there = format!("{}/there?a=1", other.url);
        let home = serve(vec![
            respond(307, &[("location", "/same")], ""),
            respond(302, &[("location", there.as_str())], ""),
        ]);
        let c = Client::builder()
            .base_url(&home.url)
            .auth_scheme(AuthScheme {
                bearer: false,
                api_key: Some((ApiKeyIn::Query, "key")),
            })
            .api_key("k1")
            .build()
            .unwrap();
        c.send_empty(Req::new("GET", "/start".to_owned()), &RequestOptions::new())
            .await
            .unwrap();
        let seen = home.requests();
        assert_eq!(seen[0].target(), "/start?key=k1");
        assert_eq!(seen[1].target(), "/same?key=k1", "same origin: kept");
        assert_eq!(other.requests()[0].target(), "/there?a=1", "not added");
    }

    #[tokio::test]
    async fn redirects_are_capped_and_bad_ones_are_api_errors() {
        let mut replies: Vec<Reply> = (0..11)
            .map(|i| respond(302, &[("location", &format!("/hop{i}"))], ""))
            .collect();
        replies.push(respond(302, &[], ""));
        let server = serve(replies);
        let c = client(&server.url);
        let err = c
            .send_empty(Req::new("GET", "/".to_owned()), &RequestOptions::new())
            .await
            .unwrap_err();
        assert_eq!((err.kind(), err.status()), ("api", Some(302)));
        assert_eq!(
            server.requests().len(),
            11,
            "the first request and ten hops"
        );
        let err = c
            .send_empty(Req::new("GET", "/".to_owned()), &RequestOptions::new())
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(302), "no Location");
    }

    #[tokio::test]
    async fn a_cancelled_token_ends_a_binary_body_being_read() {
        let head = "HTTP/1.1 200 OK\r\ncontent-length: 100\r\ncontent-type: application/octet-stream\r\n\r\n";
        let server = serve(vec![
            Reply::RawThenStall(format!("{head}0123").into_bytes()),
            Reply::RawThenStall(format!("{head}0123").into_bytes()),
        ]);
        let c = client(&server.url);
        for whole in [true, false] {
            let token = super::super::client::CancellationToken::new();
            let options = RequestOptions::new().cancellation(token.clone());
            let bin = c
                .send_binary(Req::new("GET", "/".to_owned()), &options)
                .await
                .unwrap()
                .data;
            let cancel = async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                token.cancel();
            };
            let read = async {
                if whole {
                    bin.bytes().await.map(|_| ())
                } else {
                    let mut stream = std::pin::pin!(bin.into_stream());
                    loop {
                        match futures::StreamExt::next(&mut stream).await {
                            Some(Ok(_)) => {}
                            Some(Err(e)) => break Err(e),
                            None => break Ok(()),
                        }
                    }
                }
            };
            let (result, ()) = tokio::join!(read, cancel);
            assert_eq!(result.unwrap_err().kind(), "cancelled");
        }
    }
}
