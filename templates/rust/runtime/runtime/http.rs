//! Request building, sending with retries, and response decoding.

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
        let value = serde_json::to_value(value).map_err(|e| Error::invalid(e.to_string()))?;
        let (text, content_type) = match value {
            serde_json::Value::Null => return Ok(()),
            serde_json::Value::String(s) if !json => (s, None),
            serde_json::Value::Number(n) if !json => (n.to_string(), None),
            serde_json::Value::Bool(b) if !json => (b.to_string(), None),
            other => (other.to_string(), Some("application/json".to_owned())),
        };
        self.parts
            .push((name.to_owned(), PartBody::Text(text), content_type));
        Ok(())
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
    retryable: bool,
    streaming: bool,
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

fn form_pairs(key: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Null => {}
        serde_json::Value::Object(map) => {
            for (sub, v) in map {
                form_pairs(&format!("{key}[{sub}]"), v, out);
            }
        }
        serde_json::Value::Array(items)
            if items.iter().all(|i| !i.is_object() && !i.is_array()) =>
        {
            out.extend(items.iter().map(|i| (key.to_owned(), scalar(i))));
        }
        serde_json::Value::Array(items) => {
            for (index, v) in items.iter().enumerate() {
                form_pairs(&format!("{key}[{index}]"), v, out);
            }
        }
        other => out.push((key.to_owned(), scalar(other))),
    }
}

/// A path parameter as one percent-encoded segment (`a/b` stays one segment: `a%2Fb`).
pub(crate) fn segment<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Array(items)) => {
            let parts: Vec<String> = items.iter().map(scalar).collect();
            encode(&parts.join(","))
        }
        Ok(v) => encode(&scalar(&v)),
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
            retryable: true,
            streaming: false,
            error: None,
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

    /// A JSON body (absent and null fields stay as the model says).
    pub(crate) fn json<T: Serialize>(&mut self, body: &T) {
        match serde_json::to_vec(body) {
            Ok(bytes) => self.body = Body::Bytes(bytes.into(), "application/json".to_owned()),
            Err(e) => self.fail(format!("cannot serialize the body: {e}")),
        }
    }

    /// A form-urlencoded body from an object's fields: arrays of scalars repeat the key, nested
    /// objects use brackets (`metadata[key]=value`, `items[0][price]=p`), nulls are left out.
    pub(crate) fn form<T: Serialize>(&mut self, body: &T) {
        let value = self.value_of(body);
        let mut pairs = Vec::new();
        if let serde_json::Value::Object(map) = &value {
            for (key, v) in map {
                form_pairs(key, v, &mut pairs);
            }
        }
        let body: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
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

    pub(crate) fn with_header(&self, name: &str, value: &str) -> Req {
        let mut next = self.clone();
        next.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        next.headers.push((name.to_owned(), value.to_owned()));
        next
    }

    pub(crate) fn resume_header(&self) -> Option<&'static str> {
        self.resume_header
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

fn transport_error(error: reqwest::Error, attempts: u32) -> Error {
    if error.is_timeout() {
        return Error::Timeout { attempts };
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

    fn build_request(
        &self,
        req: &Req,
        options: &RequestOptions,
        key: Option<&str>,
    ) -> Result<reqwest::Request, Error> {
        if let Some(message) = &req.error {
            return Err(Error::invalid(message.clone()));
        }
        let inner = &self.inner;
        let mut url = req.url(self, options)?;
        let api_key = self.api_key_for(req);
        if let Some((ApiKeyIn::Query, name, key)) = api_key {
            let parsed = reqwest::Url::parse(&url)
                .map_err(|e| Error::invalid(format!("invalid URL: {e}")))?;
            if !parsed.query_pairs().any(|(n, _)| n == name) {
                let separator = if parsed.query().is_some() { '&' } else { '?' };
                url = format!("{url}{separator}{}={}", encode(name), encode(key));
            }
        }
        let mut headers = HeaderMap::new();
        let mut put = |name: &str, value: &str, append: bool| -> Result<(), Error> {
            check_header(name, value)?;
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::invalid(format!("invalid header name {name:?}")))?;
            let value =
                HeaderValue::from_str(value).map_err(|_| Error::invalid("invalid header value"))?;
            if append {
                headers.append(name, value);
            } else {
                headers.insert(name, value);
            }
            Ok(())
        };
        put("user-agent", &inner.user_agent, false)?;
        if let Some(accept) = &req.accept {
            put("accept", accept, false)?;
        }
        if let Some(token) = self.bearer_for(req) {
            put("authorization", &format!("Bearer {token}"), false)?;
        }
        match api_key {
            Some((ApiKeyIn::Header, name, key)) => put(name, key, false)?,
            Some((ApiKeyIn::Cookie, name, key)) => put("cookie", &format!("{name}={key}"), true)?,
            _ => {}
        }
        if let (Some(header), Some(key)) = (req.idempotency_header, key) {
            put(header, key, false)?;
        }
        for (name, value) in &inner.headers {
            put(name, value, false)?;
        }
        for (name, value) in &req.headers {
            put(name, value, name == "cookie")?;
        }
        for (name, value) in &options.headers {
            put(name, value, false)?;
        }
        let mut builder = inner.http.request(req.method.clone(), url).headers(headers);
        match &req.body {
            Body::None => {}
            Body::Bytes(bytes, content_type) => {
                builder = builder
                    .header(reqwest::header::CONTENT_TYPE, content_type.as_str())
                    .body(bytes.clone());
            }
            Body::Multipart(multipart) => builder = builder.multipart(multipart.form()?),
        }
        let timeout = options.timeout.or(inner.timeout);
        if let (Some(timeout), false) = (timeout, req.streaming) {
            builder = builder.timeout(timeout);
        }
        builder
            .build()
            .map_err(|e| Error::invalid(format!("cannot build the request: {}", e.without_url())))
    }

    /// Sends a call, retrying per the retry rules; returns a success response or an error.
    pub(crate) async fn execute(
        &self,
        req: &Req,
        options: &RequestOptions,
    ) -> Result<(reqwest::Response, u32), Error> {
        let key = req.idempotency_header.map(|_| {
            options
                .idempotency_key
                .clone()
                .unwrap_or_else(idempotency_key)
        });
        let max_retries = options.max_retries.unwrap_or(self.inner.max_retries);
        let timeout = options.timeout.or(self.inner.timeout);
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let request = self.build_request(req, options, key.as_deref())?;
            let sent = self.inner.http.execute(request);
            let result = match (timeout, req.streaming) {
                (Some(timeout), true) => match tokio::time::timeout(timeout, sent).await {
                    Ok(result) => result,
                    Err(_) => {
                        if req.retryable && attempts <= max_retries {
                            tokio::time::sleep(backoff(self, attempts)).await;
                            continue;
                        }
                        return Err(Error::Timeout { attempts });
                    }
                },
                _ => sent.await,
            };
            let can_retry = req.retryable && attempts <= max_retries;
            match result {
                Err(error) => {
                    if can_retry && !error.is_builder() {
                        tokio::time::sleep(backoff(self, attempts)).await;
                        continue;
                    }
                    return Err(transport_error(error, attempts));
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    if response.status().is_success() {
                        return Ok((response, attempts));
                    }
                    if can_retry && should_retry(status, response.headers()) {
                        let delay = retry_after(response.headers())
                            .unwrap_or_else(|| backoff(self, attempts));
                        drop(response);
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    let headers = response.headers().clone();
                    let body = response.bytes().await.unwrap_or_default();
                    return Err(Error::Api(Box::new(ApiError::from_parts(
                        status, &headers, &body, attempts,
                    ))));
                }
            }
        }
    }

    async fn body(
        &self,
        req: &Req,
        options: &RequestOptions,
    ) -> Result<(Bytes, ResponseMeta), Error> {
        let (response, attempts) = self.execute(req, options).await?;
        let meta = meta(&response, attempts);
        let body = response
            .bytes()
            .await
            .map_err(|e| transport_error(e, attempts))?;
        Ok((body, meta))
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
        match String::from_utf8(body.to_vec()) {
            Ok(data) => Ok(Response { data, meta }),
            Err(e) => Err(Error::Decode {
                message: e.to_string(),
                status: meta.status,
                body: String::from_utf8_lossy(&body).into_owned(),
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
            data: Binary { response, attempts },
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
    let Some(token) = options.cancel.clone() else {
        return call.await;
    };
    if token.is_cancelled() {
        return Err(Error::Cancelled);
    }
    let cancelled = std::pin::pin!(token.cancelled());
    let call = std::pin::pin!(call);
    match futures::future::select(call, cancelled).await {
        futures::future::Either::Left((result, _)) => result,
        futures::future::Either::Right(_) => Err(Error::Cancelled),
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

pub(crate) fn meta(response: &reqwest::Response, attempts: u32) -> ResponseMeta {
    ResponseMeta {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        attempts,
        url: response.url().to_string(),
    }
}

pub(crate) fn decode_json<T: DeserializeOwned>(body: &[u8], status: u16) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| Error::Decode {
        message: e.to_string(),
        status,
        body: String::from_utf8_lossy(body).into_owned(),
    })
}

/// A binary response body, not yet read: take it whole with [`Binary::bytes`] or chunk by
/// chunk with [`Binary::into_stream`]. Dropping it releases the connection.
#[derive(Debug)]
pub struct Binary {
    response: reqwest::Response,
    attempts: u32,
}

impl Binary {
    /// The `Content-Type` of the body, if any.
    pub fn content_type(&self) -> Option<&str> {
        self.response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }

    /// Reads the whole body.
    pub async fn bytes(self) -> Result<Bytes, Error> {
        let attempts = self.attempts;
        self.response
            .bytes()
            .await
            .map_err(|e| transport_error(e, attempts))
    }

    /// The body as a stream of chunks.
    pub fn into_stream(self) -> impl futures::Stream<Item = Result<Bytes, Error>> + Send {
        use futures::StreamExt;
        let attempts = self.attempts;
        self.response
            .bytes_stream()
            .map(move |chunk| chunk.map_err(|e| transport_error(e, attempts)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_server::{respond, serve};
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
        let started = std::time::Instant::now();
        let (result, ()) = tokio::join!(call, cancel);
        assert_eq!(result.unwrap_err().kind(), "cancelled");
        assert!(started.elapsed() < Duration::from_secs(5));
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
            let mut builder = Client::builder()
                .base_url(&server.url)
                .api_key("k1")
                .auth_scheme(auth);
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
        send(build(cookie, Some("tok")), true, true).await; // the contract takes no bearer
        send(build(none, None), true, true).await; // no API-key scheme: the key is never sent
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
        req.form(&serde_json::json!({
            "grant_type": "client_credentials",
            "meta": {"k": "v"},
            "scope": "a b",
            "tags": ["x", "y"],
            "x": null
        }));
        c.send_empty(req, &RequestOptions::new()).await.unwrap();
        let mut req = Req::new("POST", "/upload".to_owned());
        let mut body = Multipart::new();
        body.file_part(
            "file",
            &FilePart::new(&b"hello"[..]).filename("a.txt"),
            "application/octet-stream",
        );
        body.value("metadata", &serde_json::json!({"k": 1}), true)
            .unwrap();
        req.multipart(body);
        c.send_empty(req, &RequestOptions::new()).await.unwrap();
        let seen = server.requests();
        assert_eq!(
            String::from_utf8_lossy(&seen[0].body),
            "grant_type=client_credentials&meta%5Bk%5D=v&scope=a%20b&tags=x&tags=y"
        );
        let text = String::from_utf8_lossy(&seen[1].body).into_owned();
        assert!(text.contains("filename=\"a.txt\""), "{text}");
        assert!(text.contains("{\"k\":1}"), "{text}");
        assert!(seen[1]
            .header("content-type")
            .unwrap()
            .starts_with("multipart/form-data"));
    }
}
