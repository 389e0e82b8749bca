//! The client, its builder and per-request options.

use std::sync::Arc;
use std::time::Duration;

use super::error::{is_secret_header, Error};

/// A secret string that never shows in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(pub(crate) String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Where the contract's API key goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApiKeyIn {
    Header,
    Query,
    Cookie,
}

/// How the contract authenticates: whether a scheme takes a bearer token, and where the API key
/// goes (`None` when the contract has no API-key scheme: a configured key is then never sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AuthScheme {
    pub(crate) bearer: bool,
    pub(crate) api_key: Option<(ApiKeyIn, &'static str)>,
}

/// The error of a call made while no base URL is known: the contract names no absolute server,
/// and neither the builder, the call's options nor `<PREFIX>_BASE_URL` supplied one.
pub(crate) fn missing_base_url() -> Error {
    Error::invalid(format!(
        "no base URL: the contract names no server; set one with ClientBuilder::base_url or the {}_BASE_URL environment variable",
        crate::ENV_PREFIX
    ))
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    /// "" when no base URL is known (every call then fails with `missing_base_url`).
    pub(crate) base_url: String,
    pub(crate) bearer_token: Option<Secret>,
    pub(crate) api_key: Option<Secret>,
    pub(crate) auth: AuthScheme,
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_retries: u32,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) user_agent: String,
    /// Made once for every request: the parsed base URL (when its text parses back to itself,
    /// so that joining a path to it is the same as parsing the joined text), the User-Agent
    /// value and the bearer token's Authorization value. `None` falls back to building each
    /// per request.
    pub(crate) base: Option<reqwest::Url>,
    pub(crate) user_agent_value: Option<reqwest::header::HeaderValue>,
    pub(crate) authorization: Option<reqwest::header::HeaderValue>,
    pub(crate) initial_retry_delay: Duration,
    pub(crate) max_retry_delay: Duration,
    pub(crate) max_response_bytes: u64,
}

/// The default of [`ClientBuilder::max_response_bytes`]: 32 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 32 * 1024 * 1024;

/// The API client. Cheap to clone: clones share one connection pool and configuration.
///
/// Build one with [`Client::builder`] (or [`Client::new`] for the environment's defaults) and
/// reach the operations through its resource methods.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("bearer_token", &self.inner.bearer_token)
            .field("api_key", &self.inner.api_key)
            .field("timeout", &self.inner.timeout)
            .field("max_retries", &self.inner.max_retries)
            .field("user_agent", &self.inner.user_agent)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder with every option at its default (environment variables included).
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from the environment: base URL, bearer token and API key variables.
    pub fn new() -> Result<Client, Error> {
        ClientBuilder::default().build()
    }

    /// The base URL requests are sent to.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The maximum number of retries after the first attempt.
    pub fn max_retries(&self) -> u32 {
        self.inner.max_retries
    }

    /// The largest response body read into memory.
    pub fn max_response_bytes(&self) -> u64 {
        self.inner.max_response_bytes
    }
}

/// Configures a [`Client`].
#[derive(Default)]
pub struct ClientBuilder {
    base_url: Option<String>,
    bearer_token: Option<Secret>,
    api_key: Option<Secret>,
    auth: Option<AuthScheme>,
    http: Option<reqwest::Client>,
    timeout: Option<Duration>,
    max_retries: Option<u32>,
    headers: Vec<(String, String)>,
    user_agent: Option<String>,
    initial_retry_delay: Option<Duration>,
    max_retry_delay: Option<Duration>,
    max_response_bytes: Option<u64>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("bearer_token", &self.bearer_token)
            .field("api_key", &self.api_key)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .finish_non_exhaustive()
    }
}

fn env(suffix: &str) -> Option<String> {
    std::env::var(format!("{}_{suffix}", crate::ENV_PREFIX))
        .ok()
        .filter(|v| !v.is_empty())
}

impl ClientBuilder {
    /// The base URL (default: the `<PREFIX>_BASE_URL` environment variable, else the contract's
    /// first absolute server, if it names one). A path prefix such as `https://host/api/` is kept.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Authenticates with `Authorization: Bearer <token>` (default: `<PREFIX>_BEARER_TOKEN`).
    /// Without a bearer-token scheme in the contract, [`build`](Self::build) refuses it.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(Secret(token.into()));
        self
    }

    /// Authenticates with the contract's API key header, query parameter or cookie (default:
    /// `<PREFIX>_API_KEY`). Without an API-key scheme in the contract, [`build`](Self::build)
    /// refuses it, since the key would never be sent.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(Secret(key.into()));
        self
    }

    /// Sends requests through this `reqwest::Client` (its own timeouts and proxies apply). Build
    /// it with `redirect(reqwest::redirect::Policy::none())`: the SDK follows redirects itself
    /// and strips credentials on a cross-origin hop, which a client following redirects on its
    /// own would not do.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The timeout of each attempt (default: none). A Connect call also sends it to the server
    /// as `Connect-Timeout-Ms`, and it bounds a whole Connect server stream.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Retries after the first attempt (default 2).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = Some(retries);
        self
    }

    /// A header sent with every request.
    pub fn default_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The User-Agent header (default: `<sdk-name>/<version> (rust)`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// The first backoff delay (default 0.5 s), doubled on each retry up to the maximum.
    pub fn initial_retry_delay(mut self, delay: Duration) -> Self {
        self.initial_retry_delay = Some(delay);
        self
    }

    /// The longest backoff delay (default 8 s).
    pub fn max_retry_delay(mut self, delay: Duration) -> Self {
        self.max_retry_delay = Some(delay);
        self
    }

    /// The largest response body read into memory (default 32 MiB), counted after
    /// decompression: JSON, text and error bodies, [`Binary::bytes`](super::Binary::bytes), and
    /// for an event stream the bytes held for one event. A larger success body is a
    /// [`Error::Decode`] naming the limit; a larger error body is kept truncated to the limit.
    /// Streamed downloads ([`Binary::into_stream`](super::Binary::into_stream)) are not bounded.
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.max_response_bytes = Some(limit);
        self
    }

    /// Another contract's authentication schemes (the runtime's own tests).
    #[cfg(test)]
    pub(crate) fn auth_scheme(mut self, auth: AuthScheme) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Builds the client; fails on a malformed base URL or header, or on a credential no
    /// security scheme of the contract takes (it would be left out of every request).
    pub fn build(self) -> Result<Client, Error> {
        let auth = self.auth.unwrap_or(crate::AUTH);
        if self.api_key.is_some() && auth.api_key.is_none() {
            return Err(Error::invalid(
                "api_key was set, but the API declares no API-key security scheme, so the key would never be sent",
            ));
        }
        if self.bearer_token.is_some() && !auth.bearer {
            return Err(Error::invalid(
                "bearer_token was set, but the API declares no bearer-token security scheme, so the token would never be sent",
            ));
        }
        let base_url = self
            .base_url
            .filter(|url| !url.is_empty())
            .or_else(|| env("BASE_URL"))
            .unwrap_or_else(|| crate::DEFAULT_BASE_URL.to_owned());
        if !base_url.is_empty() {
            let parsed = reqwest::Url::parse(&base_url)
                .map_err(|e| Error::invalid(format!("invalid base URL: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(Error::invalid("the base URL must be http or https"));
            }
        }
        for (name, value) in &self.headers {
            super::http::check_header(name, value)?;
        }
        let user_agent = self
            .user_agent
            .unwrap_or_else(|| format!("{}/{} (rust)", crate::SDK_NAME, crate::SDK_VERSION));
        super::http::check_header("user-agent", &user_agent)?;
        let http = match self.http {
            Some(http) => http,
            // Redirects are followed by the SDK itself (credentials never cross origins).
            None => reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| Error::invalid(format!("cannot build the HTTP client: {e}")))?,
        };
        let base_url = base_url.trim_end_matches('/').to_owned();
        // The environment's variable of a credential the contract never takes is not read.
        let bearer_token = self
            .bearer_token
            .or_else(|| env("BEARER_TOKEN").filter(|_| auth.bearer).map(Secret));
        let header_value = |text: &str| reqwest::header::HeaderValue::from_str(text).ok();
        let authorization = bearer_token
            .as_ref()
            .and_then(|token| header_value(&format!("Bearer {}", token.0)));
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base: joinable_base(&base_url),
                user_agent_value: header_value(&user_agent),
                authorization,
                base_url,
                bearer_token,
                api_key: self.api_key.or_else(|| {
                    env("API_KEY")
                        .filter(|_| auth.api_key.is_some())
                        .map(Secret)
                }),
                auth,
                timeout: self.timeout,
                max_retries: self.max_retries.unwrap_or(2),
                headers: self.headers,
                user_agent,
                initial_retry_delay: self
                    .initial_retry_delay
                    .unwrap_or(Duration::from_millis(500)),
                max_retry_delay: self.max_retry_delay.unwrap_or(Duration::from_secs(8)),
                max_response_bytes: self
                    .max_response_bytes
                    .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
            }),
        })
    }
}

/// The base URL parsed, when paths can be joined to it without parsing the whole URL again:
/// http(s), no query or fragment, and text that parses back to itself (nothing normalised).
fn joinable_base(base_url: &str) -> Option<reqwest::Url> {
    let parsed = reqwest::Url::parse(base_url).ok()?;
    let same = parsed.as_str() == base_url
        || parsed.as_str().strip_suffix('/') == Some(base_url) && parsed.path() == "/";
    (same
        && matches!(parsed.scheme(), "http" | "https")
        && parsed.query().is_none()
        && parsed.fragment().is_none()
        && !parsed.cannot_be_a_base())
    .then_some(parsed)
}

/// Options for one call, overriding the client's.
#[derive(Clone, Default)]
pub struct RequestOptions {
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_retries: Option<u32>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) base_url: Option<String>,
    /// An absolute URL replacing the operation's (pagination by Link header).
    pub(crate) url: Option<String>,
    pub(crate) cancel: Option<CancellationToken>,
    pub(crate) max_response_bytes: Option<u64>,
}

/// Cancels calls from elsewhere: a call given a token ends with [`Error::Cancelled`] as soon as
/// the token is cancelled (also during a backoff sleep). Dropping a call's future cancels it too.
#[derive(Clone)]
pub struct CancellationToken {
    cancelled: Arc<std::sync::atomic::AtomicBool>,
    sender: Arc<std::sync::Mutex<Option<futures::channel::oneshot::Sender<()>>>>,
    receiver: futures::future::Shared<futures::channel::oneshot::Receiver<()>>,
}

impl Default for CancellationToken {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for CancellationToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancellationToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl CancellationToken {
    /// A token not yet cancelled.
    pub fn new() -> Self {
        use futures::FutureExt;
        let (sender, receiver) = futures::channel::oneshot::channel();
        CancellationToken {
            cancelled: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            sender: Arc::new(std::sync::Mutex::new(Some(sender))),
            receiver: receiver.shared(),
        }
    }

    /// Cancels every call holding this token (or a clone of it).
    pub fn cancel(&self) {
        self.cancelled
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let sender = match self.sender.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(sender) = sender {
            let _ = sender.send(());
        }
    }

    /// Whether the token was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Resolves when the token is cancelled (never, if it cannot be any more).
    pub(crate) async fn cancelled(&self) {
        if self.receiver.clone().await.is_err() {
            futures::future::pending::<()>().await;
        }
    }
}

impl std::fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                let shown = if is_secret_header(k) {
                    "[redacted]"
                } else {
                    v.as_str()
                };
                (k.as_str(), shown)
            })
            .collect();
        f.debug_struct("RequestOptions")
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("headers", &headers)
            .field("idempotency_key", &self.idempotency_key)
            .field("base_url", &self.base_url)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

impl RequestOptions {
    /// Options that change nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// The timeout of each attempt of this call (instead of the client's). A Connect call also
    /// sends it to the server as `Connect-Timeout-Ms`, and it bounds a whole Connect server
    /// stream.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Retries after the first attempt for this call.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = Some(retries);
        self
    }

    /// An extra header for this call (replaces a default header of the same name).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The idempotency key to send (default: one generated per call, reused on every retry).
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Another base URL for this call.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Ends this call with [`Error::Cancelled`] when the token is cancelled: while it is sent,
    /// and afterwards while its event stream or binary body is being read.
    pub fn cancellation(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// The largest response body read into memory for this call (see
    /// [`ClientBuilder::max_response_bytes`]).
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.max_response_bytes = Some(limit);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_credentials() {
        let client = Client::builder()
            .base_url("http://127.0.0.1:1/prefix/")
            .auth_scheme(AuthScheme {
                bearer: true,
                api_key: Some((ApiKeyIn::Header, "x-api-key")),
            })
            .bearer_token("tok-secret")
            .api_key("key-secret")
            .build()
            .unwrap();
        let shown = format!("{client:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert_eq!(client.base_url(), "http://127.0.0.1:1/prefix");
        assert_eq!(client.max_retries(), 2);
        let options = RequestOptions::new().header("Authorization", "Bearer opt-secret");
        assert!(!format!("{options:?}").contains("secret"));
    }

    #[test]
    fn environment_supplies_defaults_and_the_builder_wins() {
        let var = |suffix: &str| format!("{}_{suffix}", crate::ENV_PREFIX);
        std::env::set_var(var("BASE_URL"), "http://127.0.0.1:7/from-env");
        std::env::set_var(var("API_KEY"), "env-key");
        let client = Client::new().unwrap();
        let explicit = Client::builder()
            .base_url("http://127.0.0.1:8")
            .build()
            .unwrap();
        std::env::remove_var(var("BASE_URL"));
        std::env::remove_var(var("API_KEY"));
        assert_eq!(client.base_url(), "http://127.0.0.1:7/from-env");
        // Read only when the contract takes an API key.
        let key = crate::AUTH.api_key.map(|_| Secret("env-key".to_owned()));
        assert_eq!(client.inner.api_key, key);
        assert_eq!(explicit.base_url(), "http://127.0.0.1:8");
    }

    #[test]
    fn a_credential_the_contract_never_takes_is_refused() {
        let build = |bearer: bool, api_key: Option<(ApiKeyIn, &'static str)>| {
            Client::builder()
                .base_url("http://127.0.0.1:1")
                .auth_scheme(AuthScheme { bearer, api_key })
        };
        let no_key = build(true, None).api_key("k").build().unwrap_err();
        assert_eq!(no_key.kind(), "invalid_request");
        assert!(
            no_key.to_string().contains("no API-key security scheme"),
            "{no_key}"
        );
        let no_bearer = build(false, Some((ApiKeyIn::Query, "key")))
            .bearer_token("t")
            .build()
            .unwrap_err();
        assert!(
            no_bearer
                .to_string()
                .contains("no bearer-token security scheme"),
            "{no_bearer}"
        );
        assert!(build(false, None).api_key("k").build().is_err());
        assert!(build(true, None).bearer_token("t").build().is_ok());
    }

    #[test]
    fn no_base_url_names_the_environment_variable() {
        let err = missing_base_url();
        assert_eq!(err.kind(), "invalid_request");
        let message = err.to_string();
        let var = format!("{}_BASE_URL", crate::ENV_PREFIX);
        assert!(message.contains(&var), "{message}");
    }

    #[tokio::test]
    async fn a_call_without_a_base_url_fails_before_sending() {
        let var = format!("{}_BASE_URL", crate::ENV_PREFIX);
        // Whatever the contract's default, this client knows no base URL.
        let mut client = Client::builder()
            .base_url("http://127.0.0.1:1")
            .build()
            .unwrap();
        let inner = Arc::get_mut(&mut client.inner).unwrap();
        inner.base_url = String::new();
        inner.base = None;
        let req = super::super::http::Req::new("GET", "/x".to_owned());
        let err = client
            .send_json::<serde_json::Value>(req, &RequestOptions::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "invalid_request");
        assert!(err.to_string().contains(&var), "{err}");
    }

    #[test]
    fn bad_configuration_is_refused() {
        let err = Client::builder().base_url("not a url").build().unwrap_err();
        assert_eq!(err.kind(), "invalid_request");
        let err = Client::builder()
            .base_url("http://127.0.0.1:1")
            .default_header("x-a", "b\r\nc")
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), "invalid_request");
    }
}
