//! The conformance driver's protocol engine (hand-written, the same for every contract): the
//! JSON-lines loop of conformance/PROTOCOL.md (version 1), the `hello` line, case decoding, client
//! and per-call options, cancellation plans, the canonical `result` lines and error mapping. Only
//! `dispatch.rs`, which calls the SDK's request builders for each operation, is generated.
//!
//! It prints a `hello` line, then answers every `case` line with one `result` line, running cases
//! concurrently, and every `load` line with one `load_result` line (the load section below); at
//! the end of stdin it finishes the cases in flight and exits 0. Logs go to stderr. The driver makes no assertions: it reports what the SDK surfaced, re-encoded with the
//! SDK's own serde types.
// Some helpers serve only contracts with streams, files or pages.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures::future::BoxFuture;
use futures::{Stream, StreamExt};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

use crate::dispatch::{dispatch, sdk, CAPABILITIES, SDK_NAME, SDK_VERSION};

type Out = Arc<tokio::sync::Mutex<tokio::io::Stdout>>;

/// Answers the cases read from stdin until it ends.
pub(crate) async fn serve() {
    let out: Out = Arc::new(tokio::sync::Mutex::new(tokio::io::stdout()));
    let hello = json!({
        "type": "hello",
        "protocol": 1,
        "sdk": "rust",
        "sdk_name": SDK_NAME,
        "sdk_version": SDK_VERSION,
        "capabilities": CAPABILITIES,
    });
    write_line(&out, &hello).await;
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut tasks = tokio::task::JoinSet::new();
    let signals = Signals::default();
    loop {
        match lines.next_line().await {
            Ok(Some(line)) if line.trim().is_empty() => {}
            Ok(Some(line)) => {
                let parsed: Option<Value> = serde_json::from_str(&line).ok();
                if let Some(id) = cancel_line(parsed.as_ref()) {
                    signals.cancel(&id);
                    continue;
                }
                let token = sdk::CancellationToken::new();
                let signal = on_signal_id(parsed.as_ref());
                if let Some(id) = &signal {
                    signals.register(id, &token);
                }
                let out = out.clone();
                let signals = signals.clone();
                tasks.spawn(async move {
                    let result = answer(line, token).await;
                    if let Some(id) = &signal {
                        signals.forget(id);
                    }
                    write_line(&out, &result).await;
                });
            }
            Ok(None) => break,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                let message = format!("a case line is not valid UTF-8: {e}");
                write_line(&out, &json!({"type": "log", "message": message})).await;
            }
            Err(e) => {
                eprintln!("polysdk_driver: cannot read stdin: {e}");
                break;
            }
        }
    }
    while let Some(joined) = tasks.join_next().await {
        if let Err(e) = joined {
            eprintln!("polysdk_driver: a writer task failed: {e}");
        }
    }
}

/// The cancellation tokens of the cases in flight that are cancelled on the runner's signal
/// (`cancel: {"on_signal": true}`), by case id.
#[derive(Clone, Default)]
struct Signals(Arc<std::sync::Mutex<std::collections::HashMap<String, sdk::CancellationToken>>>);

impl Signals {
    fn with<R>(
        &self,
        f: impl FnOnce(&mut std::collections::HashMap<String, sdk::CancellationToken>) -> R,
    ) -> R {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut map)
    }

    fn register(&self, id: &str, token: &sdk::CancellationToken) {
        self.with(|map| map.insert(id.to_owned(), token.clone()));
    }

    fn forget(&self, id: &str) {
        self.with(|map| map.remove(id));
    }

    /// Cancels a case in flight; a finished or unknown case is ignored.
    fn cancel(&self, id: &str) {
        if let Some(token) = self.with(|map| map.remove(id)) {
            token.cancel();
        }
    }
}

/// The case id of a `{"type": "cancel", "id": ...}` line.
fn cancel_line(line: Option<&Value>) -> Option<String> {
    let line = line?;
    (line.get("type").and_then(Value::as_str) == Some("cancel"))
        .then(|| line.get("id").map(Value::to_string).unwrap_or_default())
}

/// The id of a case line cancelled on the runner's signal.
fn on_signal_id(line: Option<&Value>) -> Option<String> {
    let line = line?;
    let on_signal = line
        .get("cancel")
        .and_then(|c| c.get("on_signal"))
        .and_then(Value::as_bool)
        == Some(true);
    on_signal.then(|| line.get("id").map(Value::to_string).unwrap_or_default())
}

async fn write_line(out: &Out, value: &Value) {
    let mut line = value.to_string();
    line.push('\n');
    let mut out = out.lock().await;
    let written = match out.write_all(line.as_bytes()).await {
        Ok(()) => out.flush().await,
        Err(e) => Err(e),
    };
    if let Err(e) = written {
        eprintln!("polysdk_driver: cannot write stdout: {e}");
    }
}

/// The line answering one case line: a result, or a log line when no id can be read.
async fn answer(line: String, token: sdk::CancellationToken) -> Value {
    let case: Value = match serde_json::from_str(&line) {
        Ok(case) => case,
        Err(e) => return json!({"type": "log", "message": format!("unreadable case line: {e}")}),
    };
    let Some(id) = case.get("id").filter(|id| !id.is_null()).cloned() else {
        return json!({"type": "log", "message": "a case line without an id"});
    };
    if case.get("type").and_then(Value::as_str) == Some("load") {
        return load(id, case).await;
    }
    if case.get("type").and_then(Value::as_str) != Some("case") {
        return result(
            id,
            Outcome::DriverError("the line's type is not \"case\"".to_owned()),
        );
    }
    // The case runs in its own task, so that a panic becomes this case's driver_error.
    let outcome = match tokio::spawn(run_case(case, token)).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(message)) => Outcome::DriverError(message),
        Err(e) => Outcome::DriverError(format!("the case's task failed: {e}")),
    };
    result(id, outcome)
}

/// What happened to one case.
pub(crate) enum Outcome {
    /// The SDK was called: its value or error, with what was consumed.
    Done(Box<Report>),
    /// The driver cannot express the case.
    Unsupported(String),
    /// The driver itself failed, e.g. on arguments it could not decode.
    DriverError(String),
}

#[derive(Default)]
pub(crate) struct Report {
    /// The value of a call.
    value: Option<Value>,
    /// `pages`, `items` or `events` with what was received.
    list: Option<(&'static str, Vec<Value>)>,
    http_status: Option<u16>,
    response_headers: Option<Map<String, Value>>,
    attempts: Option<u32>,
    error: Option<sdk::Error>,
    elapsed_ms: f64,
}

fn result(id: Value, outcome: Outcome) -> Value {
    let mut line = Map::new();
    line.insert("type".to_owned(), json!("result"));
    line.insert("id".to_owned(), id);
    match outcome {
        Outcome::Unsupported(message) => {
            line.insert("outcome".to_owned(), json!("unsupported"));
            line.insert("message".to_owned(), json!(message));
        }
        Outcome::DriverError(message) => {
            line.insert("outcome".to_owned(), json!("driver_error"));
            line.insert("message".to_owned(), json!(message));
        }
        Outcome::Done(report) => {
            let report = *report;
            if let Some((name, list)) = report.list {
                line.insert(name.to_owned(), Value::Array(list));
            }
            line.insert("attempts".to_owned(), json!(report.attempts));
            line.insert("elapsed_ms".to_owned(), json!(report.elapsed_ms));
            match report.error {
                Some(e) => {
                    line.insert("outcome".to_owned(), json!("error"));
                    line.insert("error".to_owned(), error_json(&e));
                }
                None => {
                    line.insert("outcome".to_owned(), json!("ok"));
                    if let Some(value) = report.value {
                        line.insert("value".to_owned(), value);
                    }
                    if let Some(status) = report.http_status {
                        line.insert("http_status".to_owned(), json!(status));
                    }
                    if let Some(headers) = report.response_headers {
                        line.insert("response_headers".to_owned(), Value::Object(headers));
                    }
                }
            }
        }
    }
    Value::Object(line)
}

/// An error's debug text, cut at MAX_DEBUG_BYTES (on a character boundary): a hostile body of
/// tens of MiB kept in an error would otherwise make a result line of hundreds of MiB.
fn debug_text(e: &sdk::Error) -> String {
    const MAX_DEBUG_BYTES: usize = 4096;
    let text = format!("{e:?}");
    if text.len() <= MAX_DEBUG_BYTES {
        return text;
    }
    let mut cut = MAX_DEBUG_BYTES;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}... ({} more bytes)", &text[..cut], text.len() - cut)
}

fn error_json(e: &sdk::Error) -> Value {
    // The server's error: an API error, or the one behind a timeout the server reported.
    let api = match e {
        sdk::Error::Timeout { server, .. } => server.as_deref(),
        _ => e.api(),
    };
    let mut error = json!({
        "kind": e.kind(),
        "status": e.status(),
        "code": api.and_then(|api| api.code.clone()),
        "message": e.to_string(),
        "request_id": api.and_then(|api| api.request_id.clone()),
        "debug": debug_text(e),
    });
    // A Connect error's or google.rpc.Status's details, raw, when the server sent them.
    if let (Some(details), Some(object)) = (
        api.and_then(|api| api.details.clone()),
        error.as_object_mut(),
    ) {
        object.insert("details".to_owned(), details);
    }
    error
}

// Cases ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Mode {
    Call,
    Pages,
    Items,
    Stream,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Cancel {
    Never,
    BeforeSend,
    AfterMs(u64),
    AfterEvents(usize),
    /// Cancelled when the runner sends `{"type": "cancel", "id": <case id>}`.
    OnSignal,
}

/// How to run one case, besides the operation's arguments.
pub(crate) struct Ctl {
    pub(crate) mode: Mode,
    take: Option<usize>,
    cancel: Cancel,
    token: sdk::CancellationToken,
    options: sdk::RequestOptions,
}

/// What the generated operation functions need besides the arguments to prepare a call: the
/// mode, and the per-call options (a case's hold its cancellation token; a load's have none).
pub(crate) struct Prep {
    pub(crate) mode: Mode,
    options: sdk::RequestOptions,
}

impl Prep {
    /// The per-call options with the arguments the SDK takes as options rather than parameters:
    /// the idempotency-key header (`idempotency`) and the resume header of an event stream
    /// (`resume`), each by its contract name.
    pub(crate) fn call_options(
        &self,
        a: &mut Args,
        idempotency: Option<&str>,
        resume: Option<&str>,
    ) -> Result<sdk::RequestOptions, String> {
        let mut options = self.options.clone();
        if let Some(name) = idempotency {
            if let Some(key) = a.arg::<String>(name)? {
                options = options.idempotency_key(key);
            }
        }
        if let Some(name) = resume {
            if let Some(id) = a.arg::<String>(name)? {
                options = options.header(name, id);
            }
        }
        Ok(options)
    }
}

impl Ctl {
    /// The per-call options, holding the case's cancellation token.
    pub(crate) fn options(&self) -> sdk::RequestOptions {
        self.options.clone().cancellation(self.token.clone())
    }

    /// Starts the clock and the cancellation plan, just before the call; the timer stops with
    /// the returned guard.
    fn begin(&self) -> Started {
        let start = Instant::now();
        let mut timer = None;
        match self.cancel {
            Cancel::BeforeSend => self.token.cancel(),
            Cancel::AfterMs(ms) => {
                let token = self.token.clone();
                timer = Some(tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    token.cancel();
                }));
            }
            Cancel::Never | Cancel::AfterEvents(_) | Cancel::OnSignal => {}
        }
        Started { start, timer }
    }

    fn taken(&self, count: usize) -> bool {
        self.take.is_some_and(|take| count >= take)
    }
}

struct Started {
    start: Instant,
    timer: Option<tokio::task::JoinHandle<()>>,
}

impl Started {
    fn finish(&self, mut report: Report) -> Outcome {
        report.elapsed_ms = self.start.elapsed().as_secs_f64() * 1000.0;
        Outcome::Done(Box::new(report))
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        if let Some(timer) = self.timer.take() {
            timer.abort();
        }
    }
}

async fn run_case(case: Value, token: sdk::CancellationToken) -> Result<Outcome, String> {
    let operation = match case.get("operation") {
        Some(Value::String(op)) => op.clone(),
        _ => return Err("the case has no \"operation\" string".to_owned()),
    };
    let mode = match case.get("mode") {
        None | Some(Value::Null) => Mode::Call,
        Some(Value::String(mode)) => match mode.as_str() {
            "call" => Mode::Call,
            "pages" => Mode::Pages,
            "items" => Mode::Items,
            "stream" => Mode::Stream,
            other => return Ok(Outcome::Unsupported(format!("unknown mode {other:?}"))),
        },
        Some(other) => return Err(format!("\"mode\" must be a string, not {other}")),
    };
    let take = match case.get("take") {
        None | Some(Value::Null) => None,
        Some(take) => Some(
            take.as_u64()
                .and_then(|t| usize::try_from(t).ok())
                .ok_or_else(|| format!("\"take\" must be a count, not {take}"))?,
        ),
    };
    let cancel = cancel_plan(case.get("cancel"))?;
    if matches!(cancel, Cancel::AfterEvents(_)) && mode != Mode::Stream {
        return Ok(Outcome::Unsupported(
            "cancel after_events applies to mode stream only".to_owned(),
        ));
    }
    let options = request_options(case.get("request"))?;
    let a = Args::new(case.get("args"))?;
    let client = match build_client(case.get("base_url"), case.get("client"))? {
        Ok(client) => client,
        Err(e) => {
            let started = Started {
                start: Instant::now(),
                timer: None,
            };
            let report = Report {
                error: Some(e),
                ..Report::default()
            };
            return Ok(started.finish(report));
        }
    };
    let c = Ctl {
        mode,
        take,
        cancel,
        token,
        options,
    };
    let p = Prep {
        mode,
        options: c.options(),
    };
    let mut a = a;
    Ok(match dispatch(&operation, &client, &mut a, &p)? {
        Prepared::Run { case, .. } => case(c).await,
        Prepared::Unsupported(why) => Outcome::Unsupported(why),
    })
}

fn cancel_plan(cancel: Option<&Value>) -> Result<Cancel, String> {
    let Some(cancel) = cancel.filter(|c| !c.is_null()) else {
        return Ok(Cancel::Never);
    };
    let Some(plan) = cancel.as_object() else {
        return Err(format!("\"cancel\" must be an object, not {cancel}"));
    };
    let count = |key: &str| {
        plan.get(key)
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("cancel {key:?} must be a count"))
    };
    if plan
        .get("before_send")
        .is_some_and(|v| v.as_bool() == Some(true))
    {
        Ok(Cancel::BeforeSend)
    } else if plan
        .get("on_signal")
        .is_some_and(|v| v.as_bool() == Some(true))
    {
        Ok(Cancel::OnSignal)
    } else if plan.contains_key("after_ms") {
        Ok(Cancel::AfterMs(count("after_ms")?))
    } else if plan.contains_key("after_events") {
        let n = usize::try_from(count("after_events")?).map_err(|e| e.to_string())?;
        Ok(Cancel::AfterEvents(n))
    } else if plan.is_empty() || plan.get("before_send") == Some(&Value::Bool(false)) {
        Ok(Cancel::Never)
    } else {
        Err(format!("unknown cancellation plan {cancel}"))
    }
}

fn object<'v>(
    value: Option<&'v Value>,
    what: &str,
) -> Result<Option<&'v Map<String, Value>>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(other) => Err(format!("{what} must be an object, not {other}")),
    }
}

fn member<'v>(map: Option<&'v Map<String, Value>>, key: &str) -> Option<&'v Value> {
    map.and_then(|m| m.get(key)).filter(|v| !v.is_null())
}

fn text(value: &Value, what: &str) -> Result<String, String> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{what} must be a string, not {value}"))
}

fn millis(value: &Value, what: &str) -> Result<Duration, String> {
    value
        .as_f64()
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        .ok_or_else(|| format!("{what} must be a non-negative number of milliseconds, not {value}"))
}

fn retries(value: &Value, what: &str) -> Result<u32, String> {
    value
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| format!("{what} must be a count, not {value}"))
}

fn bytes_limit(value: &Value, what: &str) -> Result<u64, String> {
    value
        .as_u64()
        .ok_or_else(|| format!("{what} must be a count of bytes, not {value}"))
}

fn header_pairs(
    map: Option<&Map<String, Value>>,
    what: &str,
) -> Result<Vec<(String, String)>, String> {
    let mut found = Vec::new();
    if let Some(headers) = object(member(map, "headers"), what)? {
        for (name, value) in headers {
            found.push((name.clone(), text(value, &format!("{what} {name:?}"))?));
        }
    }
    Ok(found)
}

fn request_options(request: Option<&Value>) -> Result<sdk::RequestOptions, String> {
    let request = object(request, "\"request\"")?;
    let mut options = sdk::RequestOptions::new();
    if let Some(ms) = member(request, "timeout_ms") {
        options = options.timeout(millis(ms, "request timeout_ms")?);
    }
    if let Some(n) = member(request, "max_retries") {
        options = options.max_retries(retries(n, "request max_retries")?);
    }
    for (name, value) in header_pairs(request, "request headers")? {
        options = options.header(name, value);
    }
    if let Some(key) = member(request, "idempotency_key") {
        options = options.idempotency_key(text(key, "request idempotency_key")?);
    }
    if let Some(limit) = member(request, "max_response_bytes") {
        options = options.max_response_bytes(bytes_limit(limit, "request max_response_bytes")?);
    }
    Ok(options)
}

/// Serialises client construction, the only time the driver changes its environment.
static ENV_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A fresh client for one case; the outer error is the driver's, the inner one the SDK's.
fn build_client(
    base_url: Option<&Value>,
    client: Option<&Value>,
) -> Result<Result<sdk::Client, sdk::Error>, String> {
    let client = object(client, "\"client\"")?;
    let mut builder = sdk::Client::builder();
    if let Some(url) = base_url.filter(|v| !v.is_null()) {
        builder = builder.base_url(text(url, "\"base_url\"")?);
    }
    if let Some(token) = member(client, "bearer_token") {
        builder = builder.bearer_token(text(token, "client bearer_token")?);
    }
    if let Some(key) = member(client, "api_key") {
        builder = builder.api_key(text(key, "client api_key")?);
    }
    if let Some(ms) = member(client, "timeout_ms") {
        builder = builder.timeout(millis(ms, "client timeout_ms")?);
    }
    if let Some(n) = member(client, "max_retries") {
        builder = builder.max_retries(retries(n, "client max_retries")?);
    }
    if let Some(limit) = member(client, "max_response_bytes") {
        builder = builder.max_response_bytes(bytes_limit(limit, "client max_response_bytes")?);
    }
    for (name, value) in header_pairs(client, "client headers")? {
        builder = builder.default_header(name, value);
    }
    let mut env = Vec::new();
    if let Some(vars) = object(member(client, "env"), "client env")? {
        for (name, value) in vars {
            let value = match value {
                Value::Null => None,
                other => Some(text(other, &format!("client env {name:?}"))?),
            };
            if name.is_empty()
                || name.contains(['=', '\0'])
                || value.as_ref().is_some_and(|v| v.contains('\0'))
            {
                return Err(format!("client env {name:?} cannot be set"));
            }
            env.push((name.clone(), value));
        }
    }
    // Every client is built under the lock, so a case never sees another case's variables. The
    // variables are set only while the lock is held and restored before it is released.
    let _guard = ENV_LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let saved: Vec<(String, Option<std::ffi::OsString>)> = env
        .iter()
        .map(|(name, _)| (name.clone(), std::env::var_os(name)))
        .collect();
    for (name, value) in &env {
        set_env(name, value.as_deref().map(std::ffi::OsStr::new));
    }
    let built = builder.build();
    for (name, value) in saved.iter().rev() {
        set_env(name, value.as_deref());
    }
    Ok(built)
}

/// Sets or removes one environment variable; only called with `ENV_LOCK` held.
///
/// Safety argument: `std::env::set_var` and `remove_var` are unsound only when another thread
/// reads the environment at the same time without Rust's own environment lock, i.e. through
/// libc (`getenv` inside `getaddrinfo` and the like). Every read this driver relies on (the SDK's
/// `<PREFIX>_*` defaults and reqwest's proxy variables, both read by `ClientBuilder::build`)
/// happens under `ENV_LOCK`, through `std::env`, which takes Rust's environment lock. The
/// conformance mock is reached by IP address, so no name resolution (the libc reader) runs
/// while a case's variables are set; the window is the few microseconds of one `build`.
fn set_env(name: &str, value: Option<&std::ffi::OsStr>) {
    // SAFETY: see the function's documentation. From edition 2024 on these functions are
    // unsafe; in earlier editions the block is merely unused.
    #[allow(unused_unsafe)]
    unsafe {
        match value {
            Some(value) => std::env::set_var(name, value),
            None => std::env::remove_var(name),
        }
    }
}

// Arguments -----------------------------------------------------------------------------------

/// A case's `args`, decoded on demand into each parameter's Rust type; `finish` refuses keys
/// that no parameter took, so a misspelt argument is a driver_error rather than silently unset.
pub(crate) struct Args {
    args: Map<String, Value>,
    used: std::collections::BTreeSet<String>,
    parts_used: std::collections::BTreeSet<String>,
    parts: bool,
}

fn decode<T: DeserializeOwned>(value: &Value, what: &str) -> Result<T, String> {
    T::deserialize(value).map_err(|e| format!("cannot decode {what}: {e}"))
}

fn decode_base64(value: &Value, what: &str) -> Result<Vec<u8>, String> {
    let encoded = text(value, what)?;
    base64::engine::general_purpose::STANDARD
        .decode(encoded.as_bytes())
        .map_err(|e| format!("{what} is not standard base64: {e}"))
}

/// A required argument.
pub(crate) fn need<T>(value: Option<T>, name: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("missing required argument {name:?}"))
}

impl Args {
    fn new(args: Option<&Value>) -> Result<Self, String> {
        Ok(Args {
            args: object(args, "\"args\"")?.cloned().unwrap_or_default(),
            used: Default::default(),
            parts_used: Default::default(),
            parts: false,
        })
    }

    /// A path, query, header or cookie parameter by its contract name; null is absent.
    pub(crate) fn arg<T: DeserializeOwned>(&mut self, name: &str) -> Result<Option<T>, String> {
        self.used.insert(name.to_owned());
        match self.args.get(name).filter(|v| !v.is_null()) {
            Some(value) => decode(value, &format!("argument {name:?}")).map(Some),
            None => Ok(None),
        }
    }

    /// The request body, decoded with the SDK's own types.
    pub(crate) fn body<T: DeserializeOwned>(&mut self) -> Result<Option<T>, String> {
        self.arg("body")
    }

    /// A binary body from base64.
    pub(crate) fn body_bytes(&mut self) -> Result<Option<sdk::Bytes>, String> {
        self.used.insert("body".to_owned());
        match self.args.get("body").filter(|v| !v.is_null()) {
            Some(value) => Ok(Some(decode_base64(value, "the binary body")?.into())),
            None => Ok(None),
        }
    }

    fn part_value(&mut self, name: &str) -> Result<Option<&Value>, String> {
        self.used.insert("body".to_owned());
        self.parts = true;
        self.parts_used.insert(name.to_owned());
        let body = object(self.args.get("body"), "the multipart or form body")?;
        Ok(member(body, name))
    }

    /// A field of a multipart body.
    pub(crate) fn part<T: DeserializeOwned>(&mut self, name: &str) -> Result<Option<T>, String> {
        match self.part_value(name)? {
            Some(value) => decode(value, &format!("body field {name:?}")).map(Some),
            None => Ok(None),
        }
    }

    /// A file of a multipart body: base64 text, or `{"base64", "filename", "content_type"}`.
    pub(crate) fn part_file(&mut self, name: &str) -> Result<Option<sdk::FilePart>, String> {
        let what = format!("body file {name:?}");
        let Some(value) = self.part_value(name)?.cloned() else {
            return Ok(None);
        };
        if value.is_string() {
            return Ok(Some(sdk::FilePart::new(decode_base64(&value, &what)?)));
        }
        let file = object(Some(&value), &what)?;
        let content = need(member(file, "base64"), &format!("{what} base64"))?;
        let mut part = sdk::FilePart::new(decode_base64(content, &what)?);
        if let Some(filename) = member(file, "filename") {
            part = part.filename(text(filename, &format!("{what} filename"))?);
        }
        if let Some(content_type) = member(file, "content_type") {
            part = part.content_type(text(content_type, &format!("{what} content_type"))?);
        }
        Ok(Some(part))
    }

    /// Refuses arguments that no parameter took.
    pub(crate) fn finish(&self) -> Result<(), String> {
        if let Some(unknown) = self.args.keys().find(|k| !self.used.contains(*k)) {
            return Err(format!("the operation has no parameter {unknown:?}"));
        }
        if self.parts {
            if let Some(body) = self.args.get("body").and_then(Value::as_object) {
                if let Some(unknown) = body.keys().find(|k| !self.parts_used.contains(*k)) {
                    return Err(format!("the body has no field {unknown:?}"));
                }
            }
        }
        Ok(())
    }
}

// Running calls -------------------------------------------------------------------------------

/// The SDK's value as the SDK writes it: through its JSON text, not `serde_json::to_value`, which
/// widens an `f32` to `f64` digits (0.00242 becomes 0.002420000033453107, which no SDK sends).
fn canonical<T: Serialize>(value: &T) -> Result<Value, String> {
    let text = serde_json::to_string(value)
        .map_err(|e| format!("cannot re-encode the SDK's value: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("cannot read the SDK's JSON back: {e}"))
}

fn response_headers(headers: &reqwest::header::HeaderMap) -> Map<String, Value> {
    let mut found = Map::new();
    for name in headers.keys() {
        if let Some(value) = headers.get(name) {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            found.insert(name.as_str().to_ascii_lowercase(), Value::String(value));
        }
    }
    found
}

/// An operation's call, prepared once from its decoded arguments: what a case runs once (and
/// reports in full), and what a load runs as often as it schedules it (counting only outcomes).
pub(crate) enum Prepared {
    Run {
        case: CaseRun,
        load: LoadRun,
    },
    /// The driver cannot run the operation in this mode, or at all.
    Unsupported(String),
}

/// Runs a prepared call once as a case.
pub(crate) type CaseRun = Box<dyn FnOnce(Ctl) -> BoxFuture<'static, Outcome> + Send>;
/// Makes a prepared call once more under load; shared by the load's workers.
pub(crate) type LoadRun = Arc<dyn Fn() -> BoxFuture<'static, Tally> + Send + Sync>;

/// What a load records of one call: the SDK's error kind (`None` on success) and the retries it
/// reported (attempts beyond the first, summed over each request of the call).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tally {
    kind: Option<&'static str>,
    retries: u64,
}

impl Tally {
    /// Counts a response's attempts.
    fn attempts(&mut self, attempts: u32) {
        self.retries += u64::from(attempts.saturating_sub(1));
    }

    /// Ends the call with an SDK error (and the attempts it reports).
    fn failed(mut self, e: &sdk::Error) -> Self {
        if let Some(attempts) = e.attempts() {
            self.attempts(attempts);
        }
        self.kind = Some(e.kind());
        self
    }
}

/// The two runs of a call made by `make` (a fresh future or stream per call, from the builder
/// the operation function decoded once).
fn prepared<M, C, L>(make: M, case: C, load: L) -> Prepared
where
    M: Send + Sync + 'static,
    C: for<'m> FnOnce(&'m M, Ctl) -> BoxFuture<'static, Outcome> + Send + 'static,
    L: Fn(&M) -> BoxFuture<'static, Tally> + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let once = make.clone();
    Prepared::Run {
        case: Box::new(move |c| case(&once, c)),
        load: Arc::new(move || load(&make)),
    }
}

pub(crate) fn unsupported_mode(p: &Prep) -> Prepared {
    Prepared::Unsupported(format!(
        "mode {:?} does not apply to this operation",
        p.mode
    ))
}

/// `call` mode: one request, its decoded value.
pub(crate) fn call<T, F, Fut>(make: F) -> Prepared
where
    T: Serialize + Send + 'static,
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<sdk::Response<T>, sdk::Error>> + Send + 'static,
{
    prepared(
        make,
        |make, c| {
            let future = make();
            Box::pin(async move { report_call(future, &c).await })
        },
        |make| {
            let future = make();
            Box::pin(async move {
                let tally = Tally::default();
                match future.await {
                    Ok(response) => Tally {
                        retries: u64::from(response.meta.attempts.saturating_sub(1)),
                        ..tally
                    },
                    Err(e) => tally.failed(&e),
                }
            })
        },
    )
}

/// `call` mode of a binary response: under load the body is read to its end chunk by chunk
/// (as the raw client reads it), not kept.
pub(crate) fn call_binary<F, Fut>(make: F) -> Prepared
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<sdk::Response<sdk::Binary>, sdk::Error>>
        + Send
        + 'static,
{
    prepared(
        make,
        |make, c| {
            let future = make();
            Box::pin(async move { report_binary(future, &c).await })
        },
        |make| {
            let future = make();
            Box::pin(async move {
                let mut tally = Tally::default();
                match future.await {
                    Ok(response) => {
                        tally.attempts(response.meta.attempts);
                        let mut chunks = std::pin::pin!(response.data.into_stream());
                        while let Some(chunk) = chunks.next().await {
                            if let Err(e) = chunk {
                                return tally.failed(&e);
                            }
                        }
                        tally
                    }
                    Err(e) => tally.failed(&e),
                }
            })
        },
    )
}

/// `pages` mode: every page; under load each page's attempts count.
pub(crate) fn pages<P, F, S>(make: F) -> Prepared
where
    P: Serialize + Send + 'static,
    F: Fn() -> S + Send + Sync + 'static,
    S: Stream<Item = Result<sdk::Response<P>, sdk::Error>> + Send + 'static,
{
    prepared(
        make,
        |make, c| {
            let stream = make();
            Box::pin(async move { report_pages(stream, &c).await })
        },
        |make| {
            let stream = make();
            Box::pin(async move {
                let mut tally = Tally::default();
                let mut stream = std::pin::pin!(stream);
                while let Some(page) = stream.next().await {
                    match page {
                        Ok(page) => tally.attempts(page.meta.attempts),
                        Err(e) => return tally.failed(&e),
                    }
                }
                tally
            })
        },
    )
}

/// `items` mode: every item of every page (the SDK reports attempts only with an error).
pub(crate) fn items<I, F, S>(make: F) -> Prepared
where
    I: Serialize + Send + 'static,
    F: Fn() -> S + Send + Sync + 'static,
    S: Stream<Item = Result<I, sdk::Error>> + Send + 'static,
{
    prepared(
        make,
        |make, c| {
            let stream = make();
            Box::pin(async move { report_items(stream, &c).await })
        },
        |make| {
            let stream = make();
            Box::pin(async move { drain(stream, Tally::default()).await })
        },
    )
}

/// `stream` mode of an event stream: every event to the end.
pub(crate) fn stream<T, F, Fut>(make: F) -> Prepared
where
    T: Serialize + DeserializeOwned + Send + 'static,
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<sdk::Response<sdk::EventStream<T>>, sdk::Error>>
        + Send
        + 'static,
{
    prepared(
        make,
        |make, c| {
            let future = make();
            Box::pin(async move { report_stream(future, &c).await })
        },
        |make| {
            let future = make();
            Box::pin(async move {
                let mut tally = Tally::default();
                match future.await {
                    Ok(response) => {
                        tally.attempts(response.meta.attempts);
                        drain(response.data, tally).await
                    }
                    Err(e) => tally.failed(&e),
                }
            })
        },
    )
}

/// `stream` mode of a Connect server stream: every message to the end.
pub(crate) fn messages<T, F, Fut>(make: F) -> Prepared
where
    T: Serialize + DeserializeOwned + Send + 'static,
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<sdk::Response<sdk::MessageStream<T>>, sdk::Error>>
        + Send
        + 'static,
{
    prepared(
        make,
        |make, c| {
            let future = make();
            Box::pin(async move { report_messages(future, &c).await })
        },
        |make| {
            let future = make();
            Box::pin(async move {
                let mut tally = Tally::default();
                match future.await {
                    Ok(response) => {
                        tally.attempts(response.meta.attempts);
                        drain(response.data, tally).await
                    }
                    Err(e) => tally.failed(&e),
                }
            })
        },
    )
}

/// Pulls every item of a stream, decoded by the SDK and dropped; the first error ends it.
async fn drain<T>(stream: impl Stream<Item = Result<T, sdk::Error>>, tally: Tally) -> Tally {
    let mut stream = std::pin::pin!(stream);
    while let Some(item) = stream.next().await {
        if let Err(e) = item {
            return tally.failed(&e);
        }
    }
    tally
}

/// One call: the decoded value with the response's status, headers and attempts.
async fn report_call<T: Serialize>(
    future: impl std::future::Future<Output = Result<sdk::Response<T>, sdk::Error>>,
    c: &Ctl,
) -> Outcome {
    let started = c.begin();
    let mut report = Report::default();
    match future.await {
        Ok(response) => {
            let (data, meta) = response.into_parts();
            report.value = match canonical(&data) {
                Ok(value) => Some(value),
                Err(message) => return Outcome::DriverError(message),
            };
            report.http_status = Some(meta.status);
            report.response_headers = Some(response_headers(&meta.headers));
            report.attempts = Some(meta.attempts);
        }
        Err(e) => {
            report.attempts = e.attempts();
            report.error = Some(e);
        }
    }
    started.finish(report)
}

/// One call with a binary response, read whole and reported as base64.
async fn report_binary(
    future: impl std::future::Future<Output = Result<sdk::Response<sdk::Binary>, sdk::Error>>,
    c: &Ctl,
) -> Outcome {
    let started = c.begin();
    let mut report = Report::default();
    match future.await {
        Ok(response) => {
            let (data, meta) = response.into_parts();
            report.attempts = Some(meta.attempts);
            match data.bytes().await {
                Ok(bytes) => {
                    let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
                    report.value = Some(json!({ "base64": encoded }));
                    report.http_status = Some(meta.status);
                    report.response_headers = Some(response_headers(&meta.headers));
                }
                Err(e) => report.error = Some(e),
            }
        }
        Err(e) => {
            report.attempts = e.attempts();
            report.error = Some(e);
        }
    }
    started.finish(report)
}

/// Page by page; attempts are the last page's (or the error's).
async fn report_pages<P: Serialize>(
    stream: impl Stream<Item = Result<sdk::Response<P>, sdk::Error>>,
    c: &Ctl,
) -> Outcome {
    let started = c.begin();
    let mut report = Report::default();
    let mut list = Vec::new();
    let mut stream = std::pin::pin!(stream);
    while !c.taken(list.len()) {
        match stream.next().await {
            Some(Ok(page)) => {
                report.attempts = Some(page.meta.attempts);
                match canonical(&page.data) {
                    Ok(value) => list.push(value),
                    Err(message) => return Outcome::DriverError(message),
                }
            }
            Some(Err(e)) => {
                report.attempts = e.attempts();
                report.error = Some(e);
                break;
            }
            None => break,
        }
    }
    report.list = Some(("pages", list));
    started.finish(report)
}

/// Item by item over every page; attempts are known only from an error.
async fn report_items<I: Serialize>(
    stream: impl Stream<Item = Result<I, sdk::Error>>,
    c: &Ctl,
) -> Outcome {
    let started = c.begin();
    let mut report = Report::default();
    let mut list = Vec::new();
    let mut stream = std::pin::pin!(stream);
    while !c.taken(list.len()) {
        match stream.next().await {
            Some(Ok(item)) => match canonical(&item) {
                Ok(value) => list.push(value),
                Err(message) => return Outcome::DriverError(message),
            },
            Some(Err(e)) => {
                report.attempts = e.attempts();
                report.error = Some(e);
                break;
            }
            None => break,
        }
    }
    report.list = Some(("items", list));
    started.finish(report)
}

/// An event stream: each event's decoded data. The case's cancellation token (after_ms,
/// on_signal, or after_events: cancelled once the N-th event is appended) ends the stream at
/// the SDK's next pull, which reports `Cancelled`.
async fn report_stream<T: Serialize + DeserializeOwned>(
    future: impl std::future::Future<Output = Result<sdk::Response<sdk::EventStream<T>>, sdk::Error>>,
    c: &Ctl,
) -> Outcome {
    let opened = async {
        let (events, meta) = future.await?.into_parts();
        Ok((
            events.map(|event| event.map(|event| event.data)),
            meta.attempts,
        ))
    };
    consume(opened, c).await
}

/// A Connect server stream: each message, as the `stream` mode reports events.
async fn report_messages<T: Serialize + DeserializeOwned>(
    future: impl std::future::Future<Output = Result<sdk::Response<sdk::MessageStream<T>>, sdk::Error>>,
    c: &Ctl,
) -> Outcome {
    let opened = async {
        let (messages, meta) = future.await?.into_parts();
        Ok((messages, meta.attempts))
    };
    consume(opened, c).await
}

/// Pulls a stream's items in the `stream` mode (see [`report_stream`]).
async fn consume<T: Serialize, S: Stream<Item = Result<T, sdk::Error>>>(
    opened: impl std::future::Future<Output = Result<(S, u32), sdk::Error>>,
    c: &Ctl,
) -> Outcome {
    let started = c.begin();
    let mut report = Report::default();
    let mut list = Vec::new();
    match opened.await {
        Ok((events, attempts)) => {
            report.attempts = Some(attempts);
            let mut events = std::pin::pin!(events);
            while !c.taken(list.len()) {
                if c.cancel == Cancel::AfterEvents(list.len()) && !c.token.is_cancelled() {
                    c.token.cancel();
                }
                match events.next().await {
                    Some(Ok(data)) => match canonical(&data) {
                        Ok(value) => list.push(value),
                        Err(message) => return Outcome::DriverError(message),
                    },
                    Some(Err(e)) => {
                        if let Some(attempts) = e.attempts() {
                            report.attempts = Some(attempts);
                        }
                        report.error = Some(e);
                        break;
                    }
                    None => break,
                }
            }
        }
        Err(e) => {
            report.attempts = e.attempts();
            report.error = Some(e);
        }
    }
    report.list = Some(("events", list));
    started.finish(report)
}

// Load lines ----------------------------------------------------------------------------------
//
// conformance/PROTOCOL.md, "Load lines": the whole load runs in-process with one client. Each
// mix entry is prepared once (its arguments decoded into the SDK's request builder, or its raw
// requests resolved), then `concurrency` workers claim the requests in order: request `i` is
// entry `sequence[i % len]`, due at `start + i / rate` (open model, latency from then) or as soon
// as the worker is free (closed model, latency from the call's start). Each worker keeps its own
// counts, merged at the end, so that recording takes no lock.

/// A load line, as the runner sends it.
#[derive(Deserialize)]
struct LoadLine {
    #[serde(default)]
    base_url: Value,
    #[serde(default)]
    client: Value,
    client_kind: String,
    model: String,
    #[serde(default)]
    rate_per_s: Option<f64>,
    concurrency: usize,
    duration_ms: f64,
    max_requests: u64,
    mix: Vec<LoadEntry>,
    sequence: Vec<usize>,
}

/// One kind of call of a mix: an SDK operation, or the same HTTP exchanges made with reqwest.
#[derive(Deserialize)]
struct LoadEntry {
    name: String,
    #[serde(default)]
    operation: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    args: Value,
    #[serde(default)]
    request: Value,
    #[serde(default)]
    raw: Vec<RawRequest>,
}

#[derive(Deserialize)]
struct RawRequest {
    method: String,
    path: String,
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    body_base64: Option<String>,
}

/// How the load is paced.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Model {
    /// A fixed arrival rate, in requests per second.
    Open(f64),
    Closed,
}

/// The bounds and pacing of a load, checked.
#[derive(Clone, Debug)]
struct Schedule {
    model: Model,
    concurrency: usize,
    duration: Duration,
    max_requests: u64,
    sequence: Arc<[usize]>,
}

/// Answers a load line with its `load_result` line, or with an error when it cannot run.
async fn load(id: Value, line: Value) -> Value {
    let failed = |why: String| json!({"type": "load_result", "id": id, "error": why});
    // Its own task: a panic in the SDK or here is this load's error, not the driver's end.
    match tokio::spawn(run_load(line)).await {
        Ok(Ok((started, wall, mut entries))) => {
            let mut answer = json!({
                "type": "load_result",
                "id": id,
                "started": started,
                "wall_ms": wall.as_micros() as f64 / 1000.0,
                "entries": entries.remove(0),
            });
            if let Some(raw) = entries.pop() {
                answer["raw_entries"] = raw; // a paired load's raw client
            }
            answer
        }
        Ok(Err(why)) => failed(why),
        Err(e) => failed(format!("the load's task failed: {e}")),
    }
}

/// Prepares and runs a load: the requests started, the wall time and each client's entry results
/// (the SDK's or the raw client's; for a paired load the SDK's, then the raw client's).
async fn run_load(line: Value) -> Result<(u64, Duration, Vec<Value>), String> {
    let l =
        LoadLine::deserialize(&line).map_err(|e| format!("cannot decode the load line: {e}"))?;
    let schedule = l.schedule()?;
    let clients = match l.client_kind.as_str() {
        "sdk" => vec![prepare_sdk(&l)?],
        "raw" => vec![prepare_raw(&l)?],
        "paired" if schedule.model == Model::Closed => vec![prepare_sdk(&l)?, prepare_raw(&l)?],
        "paired" => return Err("a paired load needs the closed model".to_owned()),
        other => return Err(format!("unknown client_kind {other:?}")),
    };
    let (started, wall, stats) = run_clients(&schedule, clients).await?;
    let entries = stats
        .iter()
        .map(|client| {
            let results = l.mix.iter().zip(client).map(|(e, s)| s.result(&e.name));
            Value::Array(results.collect())
        })
        .collect();
    Ok((started, wall, entries))
}

impl LoadLine {
    /// Refuses a load that is not bounded or does not say what to send.
    fn schedule(&self) -> Result<Schedule, String> {
        let model = match (self.model.as_str(), self.rate_per_s) {
            ("open", Some(rate)) if rate.is_finite() && rate > 0.0 => Model::Open(rate),
            ("open", _) => return Err("the open model needs a positive rate_per_s".to_owned()),
            ("closed", _) => Model::Closed,
            (other, _) => return Err(format!("unknown model {other:?}")),
        };
        if self.concurrency < 1 {
            return Err("concurrency must be at least 1".to_owned());
        }
        if !(self.duration_ms.is_finite() && self.duration_ms > 0.0) || self.max_requests < 1 {
            return Err("a load needs a positive duration_ms and max_requests".to_owned());
        }
        if self.mix.is_empty() || self.sequence.is_empty() {
            return Err("a load needs a mix and a sequence".to_owned());
        }
        if let Some(index) = self.sequence.iter().find(|&&i| i >= self.mix.len()) {
            return Err(format!("sequence index {index} outside the mix"));
        }
        Ok(Schedule {
            model,
            concurrency: self.concurrency,
            duration: Duration::try_from_secs_f64(self.duration_ms / 1000.0)
                .map_err(|e| format!("duration_ms: {e}"))?,
            max_requests: self.max_requests,
            sequence: self.sequence.clone().into(),
        })
    }
}

/// One SDK client for the whole load; each entry's arguments decoded into its request builder.
fn prepare_sdk(l: &LoadLine) -> Result<Vec<LoadRun>, String> {
    let client = build_client(Some(&l.base_url), Some(&l.client))?
        .map_err(|e| format!("the SDK refused the client: {e}"))?;
    let mut calls = Vec::with_capacity(l.mix.len());
    for (i, e) in l.mix.iter().enumerate() {
        let fail = |why: String| format!("entry {i} ({}): {why}", e.name);
        let operation = e
            .operation
            .as_deref()
            .ok_or_else(|| fail("no operation".to_owned()))?;
        let mode = match e.mode.as_deref().unwrap_or("call") {
            "call" => Mode::Call,
            "pages" => Mode::Pages,
            "items" => Mode::Items,
            "stream" => Mode::Stream,
            other => return Err(fail(format!("unknown mode {other:?}"))),
        };
        let mut a = Args::new(Some(&e.args)).map_err(fail)?;
        let options = request_options(Some(&e.request)).map_err(fail)?;
        let p = Prep { mode, options };
        match dispatch(operation, &client, &mut a, &p).map_err(fail)? {
            Prepared::Run { load, .. } => calls.push(load),
            Prepared::Unsupported(why) => return Err(fail(why)),
        }
    }
    Ok(calls)
}

/// One request of a raw entry, built once.
struct RawExchange {
    method: reqwest::Method,
    url: reqwest::Url,
    headers: reqwest::header::HeaderMap,
    body: Option<sdk::Bytes>,
}

/// One plain reqwest client for the whole load (keep-alive, its pool shared by the workers, the
/// SDK's timeout per request, no redirects as in the SDK's default client); each entry's
/// requests resolved against the base URL and their bodies decoded once.
fn prepare_raw(l: &LoadLine) -> Result<Vec<LoadRun>, String> {
    let base = l.base_url.as_str().ok_or("a raw load needs a base_url")?;
    let base = reqwest::Url::parse(base).map_err(|e| format!("base_url: {e}"))?;
    let mut builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    if let Some(ms) = member(l.client.as_object(), "timeout_ms") {
        builder = builder.timeout(millis(ms, "client timeout_ms")?);
    }
    let client = builder
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let mut calls = Vec::with_capacity(l.mix.len());
    for (i, e) in l.mix.iter().enumerate() {
        let fail = |why: String| format!("entry {i} ({}): {why}", e.name);
        if e.raw.is_empty() {
            return Err(fail("a raw entry needs requests".to_owned()));
        }
        let mut exchanges = Vec::with_capacity(e.raw.len());
        for (j, r) in e.raw.iter().enumerate() {
            let exchange =
                RawExchange::new(&base, r).map_err(|why| fail(format!("request {j}: {why}")))?;
            exchanges.push(exchange);
        }
        let exchanges: Arc<[RawExchange]> = exchanges.into();
        let client = client.clone();
        calls.push(Arc::new(move || -> BoxFuture<'static, Tally> {
            let (exchanges, client) = (exchanges.clone(), client.clone());
            Box::pin(async move {
                for exchange in exchanges.iter() {
                    if let Some(kind) = exchange.send(&client).await {
                        return Tally {
                            kind: Some(kind),
                            retries: 0,
                        };
                    }
                }
                Tally::default()
            })
        }) as LoadRun);
    }
    Ok(calls)
}

impl RawExchange {
    fn new(base: &reqwest::Url, r: &RawRequest) -> Result<Self, String> {
        let method = reqwest::Method::from_bytes(r.method.as_bytes())
            .map_err(|e| format!("method {:?}: {e}", r.method))?;
        let url = base
            .join(&r.path)
            .map_err(|e| format!("path {:?}: {e}", r.path))?;
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in &r.headers {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| format!("header {name:?}: {e}"))?;
            let value = reqwest::header::HeaderValue::from_str(value)
                .map_err(|e| format!("header {name:?}: {e}"))?;
            headers.insert(name, value);
        }
        let body = match &r.body_base64 {
            Some(encoded) => Some(decode_base64(&json!(encoded), "body_base64")?.into()),
            None => None,
        };
        Ok(RawExchange {
            method,
            url,
            headers,
            body,
        })
    }

    /// Makes the exchange as a hand-written call would: a status of 400 or more is an `api`
    /// error (its body read to the end, so that the connection goes back to the pool as the
    /// SDK's does); a success body is decoded by its Content-Type with serde_json's generic
    /// decoder (`application/json` whole, `text/event-stream` event by event), anything else
    /// read to its end. A body that does not decode is a `decode` error.
    async fn send(&self, client: &reqwest::Client) -> Option<&'static str> {
        let mut request = client
            .request(self.method.clone(), self.url.clone())
            .headers(self.headers.clone());
        if let Some(body) = &self.body {
            request = request.body(body.clone());
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return Some(raw_error_kind(&e)),
        };
        if response.status().as_u16() >= 400 {
            return Some(read_to_end(response).await.err().unwrap_or("api"));
        }
        let media = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::trim)
            .unwrap_or_default();
        if media.eq_ignore_ascii_case("application/json") {
            let body = match response.bytes().await {
                Ok(body) => body,
                Err(e) => return Some(raw_error_kind(&e)),
            };
            serde_json::from_slice::<Value>(&body)
                .err()
                .map(|_| "decode")
        } else if media.eq_ignore_ascii_case("text/event-stream") {
            read_events(response).await.err()
        } else {
            read_to_end(response).await.err()
        }
    }
}

/// Reads a body to its end, chunk by chunk, keeping nothing.
async fn read_to_end(mut response: reqwest::Response) -> Result<(), &'static str> {
    while response
        .chunk()
        .await
        .map_err(|e| raw_error_kind(&e))?
        .is_some()
    {}
    Ok(())
}

/// Reads an event stream as a hand-written client would: the body split into events at blank
/// lines as it arrives, each event's `data:` lines joined and decoded as JSON.
async fn read_events(mut response: reqwest::Response) -> Result<(), &'static str> {
    let mut pending: Vec<u8> = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| raw_error_kind(&e))? {
        pending.extend_from_slice(&chunk);
        let mut start = 0;
        while let Some(end) = find_blank_line(pending.get(start..).unwrap_or_default()) {
            decode_event(pending.get(start..start + end).unwrap_or_default())?;
            start += end + 2;
        }
        pending.drain(..start);
    }
    decode_event(&pending)
}

/// Where the first blank line (`\n\n`) of `text` starts.
fn find_blank_line(text: &[u8]) -> Option<usize> {
    text.windows(2).position(|pair| pair == b"\n\n")
}

/// Decodes the data of one event (nothing when it has no `data:` line).
fn decode_event(event: &[u8]) -> Result<(), &'static str> {
    let mut data: Vec<u8> = Vec::new();
    let mut any = false;
    for line in event.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(value) = line.strip_prefix(b"data:") {
            if any {
                data.push(b'\n');
            }
            data.extend_from_slice(value.strip_prefix(b" ").unwrap_or(value));
            any = true;
        }
    }
    if !any {
        return Ok(());
    }
    serde_json::from_slice::<Value>(&data)
        .map(drop)
        .map_err(|_| "decode")
}

/// A reqwest failure named with the SDK's error kinds.
fn raw_error_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_builder() {
        "invalid_request"
    } else {
        "connection"
    }
}

/// Runs the prepared calls on the schedule: the requests started, the wall time and each
/// entry's statistics (merged over the workers).
async fn run_schedule(
    schedule: &Schedule,
    calls: Vec<LoadRun>,
) -> Result<(u64, Duration, Vec<EntryStats>), String> {
    let (started, wall, mut stats) = run_clients(schedule, vec![calls]).await?;
    Ok((started, wall, stats.remove(0)))
}

/// Runs the prepared calls of one client, or of two (a paired load: request `i` is made by both,
/// one right after the other, the first client first when `i` is even, so that both see the same
/// machine call by call), on the schedule: the requests started, the wall time and each
/// client's entry statistics (merged over the workers).
async fn run_clients(
    schedule: &Schedule,
    clients: Vec<Vec<LoadRun>>,
) -> Result<(u64, Duration, Vec<Vec<EntryStats>>), String> {
    let clients: Arc<[Vec<LoadRun>]> = clients.into();
    let start = tokio::time::Instant::now();
    let deadline = start + schedule.duration;
    let next = Arc::new(AtomicU64::new(0));
    // A worker that failed (a panic in a call) stops the others from claiming more requests.
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..schedule.concurrency {
        let (schedule, clients) = (schedule.clone(), clients.clone());
        let (next, stop) = (next.clone(), stop.clone());
        workers.spawn(async move {
            let mut own: Vec<Vec<EntryStats>> = clients
                .iter()
                .map(|calls| vec![EntryStats::default(); calls.len()])
                .collect();
            while !stop.load(Ordering::Relaxed) {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= schedule.max_requests {
                    break;
                }
                let due = match schedule.model {
                    Model::Open(rate) => {
                        // Compared in seconds first: a request past the deadline has no due time.
                        let offset = i as f64 / rate;
                        if offset >= schedule.duration.as_secs_f64() {
                            break;
                        }
                        let due = start + Duration::from_secs_f64(offset);
                        tokio::time::sleep_until(due).await;
                        due
                    }
                    Model::Closed => tokio::time::Instant::now(),
                };
                if tokio::time::Instant::now() >= deadline {
                    break;
                }
                // `i % len` fits the sequence's index type: it is below its length.
                let entry = schedule.sequence[(i % schedule.sequence.len() as u64) as usize];
                let mut due = due;
                for n in 0..clients.len() {
                    // A paired load alternates which client goes first.
                    let c = (n + (i % 2) as usize) % clients.len();
                    if n > 0 {
                        due = tokio::time::Instant::now();
                    }
                    let tally = clients[c][entry]().await;
                    own[c][entry].record(due.elapsed(), tally);
                }
            }
            own
        });
    }
    let mut stats: Vec<Vec<EntryStats>> = clients
        .iter()
        .map(|calls| vec![EntryStats::default(); calls.len()])
        .collect();
    let mut failure = None;
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok(own) => {
                for (totals, own) in stats.iter_mut().zip(&own) {
                    for (total, own) in totals.iter_mut().zip(own) {
                        total.merge(own);
                    }
                }
            }
            Err(e) => {
                stop.store(true, Ordering::Relaxed);
                failure.get_or_insert(format!("a load worker failed: {e}"));
            }
        }
    }
    let wall = start.elapsed();
    match failure {
        Some(why) => Err(why),
        None => Ok((stats[0].iter().map(|s| s.count).sum(), wall, stats)),
    }
}

/// One entry's counts and latency histogram (one worker's, or merged).
#[derive(Clone, Debug, Default, PartialEq)]
struct EntryStats {
    count: u64,
    ok: u64,
    retries: u64,
    max_us: u64,
    errors: HashMap<&'static str, u64>,
    /// Calls by their latency in microseconds rounded down to three significant digits.
    latency: HashMap<u64, u64>,
}

impl EntryStats {
    fn record(&mut self, latency: Duration, tally: Tally) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.count += 1;
        self.retries += tally.retries;
        self.max_us = self.max_us.max(us);
        *self.latency.entry(three_digits(us)).or_default() += 1;
        match tally.kind {
            None => self.ok += 1,
            Some(kind) => *self.errors.entry(kind).or_default() += 1,
        }
    }

    fn merge(&mut self, other: &EntryStats) {
        self.count += other.count;
        self.ok += other.ok;
        self.retries += other.retries;
        self.max_us = self.max_us.max(other.max_us);
        for (bucket, n) in &other.latency {
            *self.latency.entry(*bucket).or_default() += n;
        }
        for (kind, n) in &other.errors {
            *self.errors.entry(kind).or_default() += n;
        }
    }

    /// The entry's part of the `load_result` line.
    fn result(&self, name: &str) -> Value {
        let latency: Map<String, Value> = self
            .latency
            .iter()
            .map(|(bucket, n)| (bucket.to_string(), json!(n)))
            .collect();
        let errors: Map<String, Value> = self
            .errors
            .iter()
            .map(|(kind, n)| ((*kind).to_owned(), json!(n)))
            .collect();
        json!({
            "name": name,
            "count": self.count,
            "ok": self.ok,
            "errors": errors,
            "retries": self.retries,
            "latency_us": latency,
            "max_us": self.max_us,
        })
    }
}

/// Rounds a value down to three significant digits (1234 -> 1230): the bucket of an HDR-style
/// histogram with at most 0.1% relative error, mergeable across processes.
fn three_digits(v: u64) -> u64 {
    let mut scale = 1;
    while v / scale >= 1000 {
        scale *= 10;
    }
    v / scale * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(value: Value) -> Args {
        Args::new(Some(&value)).unwrap()
    }

    #[tokio::test]
    async fn unreadable_lines_are_logged_and_bad_cases_answered() {
        let log = answer("{not json".to_owned(), sdk::CancellationToken::new()).await;
        assert_eq!(log["type"], "log");
        assert!(log["message"].as_str().unwrap().contains("unreadable"));
        let no_id = answer(
            r#"{"type":"case"}"#.to_owned(),
            sdk::CancellationToken::new(),
        )
        .await;
        assert_eq!(
            no_id,
            json!({"type": "log", "message": "a case line without an id"})
        );
        let wrong_type = answer(
            r#"{"type":"hello","id":7}"#.to_owned(),
            sdk::CancellationToken::new(),
        )
        .await;
        assert_eq!(wrong_type["type"], "result");
        assert_eq!(wrong_type["id"], 7);
        assert_eq!(wrong_type["outcome"], "driver_error");
        let no_operation = answer(
            r#"{"type":"case","id":"x"}"#.to_owned(),
            sdk::CancellationToken::new(),
        )
        .await;
        assert_eq!(no_operation["outcome"], "driver_error");
        assert!(no_operation["message"]
            .as_str()
            .unwrap()
            .contains("operation"));
    }

    #[tokio::test]
    async fn unknown_modes_and_misplaced_plans_are_unsupported() {
        let mode = answer(
            r#"{"type":"case","id":1,"operation":"x","mode":"fly"}"#.to_owned(),
            sdk::CancellationToken::new(),
        )
        .await;
        assert_eq!(mode["outcome"], "unsupported");
        let events = r#"{"type":"case","id":2,"operation":"x","cancel":{"after_events":1}}"#;
        assert_eq!(
            answer(events.to_owned(), sdk::CancellationToken::new()).await["outcome"],
            "unsupported"
        );
        let take = r#"{"type":"case","id":3,"operation":"x","take":-1}"#;
        assert_eq!(
            answer(take.to_owned(), sdk::CancellationToken::new()).await["outcome"],
            "driver_error"
        );
        let unknown = r#"{"type":"case","id":4,"operation":"noSuchOperation","base_url":"http://127.0.0.1:9"}"#;
        let unknown = answer(unknown.to_owned(), sdk::CancellationToken::new()).await;
        assert_eq!(unknown["outcome"], "driver_error");
        assert!(unknown["message"]
            .as_str()
            .unwrap()
            .contains("noSuchOperation"));
    }

    #[test]
    fn cancellation_plans() {
        assert_eq!(cancel_plan(None).unwrap(), Cancel::Never);
        assert_eq!(cancel_plan(Some(&Value::Null)).unwrap(), Cancel::Never);
        assert_eq!(cancel_plan(Some(&json!({}))).unwrap(), Cancel::Never);
        assert_eq!(
            cancel_plan(Some(&json!({"before_send": false}))).unwrap(),
            Cancel::Never
        );
        assert_eq!(
            cancel_plan(Some(&json!({"before_send": true}))).unwrap(),
            Cancel::BeforeSend
        );
        assert_eq!(
            cancel_plan(Some(&json!({"after_ms": 5}))).unwrap(),
            Cancel::AfterMs(5)
        );
        assert_eq!(
            cancel_plan(Some(&json!({"after_events": 2}))).unwrap(),
            Cancel::AfterEvents(2)
        );
        assert_eq!(
            cancel_plan(Some(&json!({"on_signal": true}))).unwrap(),
            Cancel::OnSignal
        );
        assert!(cancel_plan(Some(&json!({"after_ms": -1}))).is_err());
        assert!(cancel_plan(Some(&json!({"sometime": 1}))).is_err());
        assert!(cancel_plan(Some(&json!("now"))).is_err());
    }

    #[test]
    fn request_and_client_options_are_checked() {
        let request = json!({"timeout_ms": 250, "max_retries": 1, "headers": {"x-a": "b"}, "idempotency_key": "k", "max_response_bytes": 1024});
        let shown = format!("{:?}", request_options(Some(&request)).unwrap());
        assert!(shown.contains("250ms") && shown.contains("x-a"), "{shown}");
        assert!(shown.contains("Some(1024)"), "{shown}");
        assert!(request_options(Some(&json!({"max_response_bytes": -1}))).is_err());
        let limited = build_client(
            Some(&json!("http://127.0.0.1:9")),
            Some(&json!({"max_response_bytes": 2048})),
        );
        assert_eq!(limited.unwrap().unwrap().max_response_bytes(), 2048);
        assert!(build_client(None, Some(&json!({"max_response_bytes": "big"}))).is_err());
        assert!(request_options(Some(&json!({"timeout_ms": "soon"}))).is_err());
        assert!(request_options(Some(&json!({"headers": {"x-a": 1}}))).is_err());
        assert!(request_options(Some(&json!([]))).is_err());
        assert!(build_client(None, Some(&json!({"max_retries": -1}))).is_err());
        assert!(build_client(None, Some(&json!({"env": {"A=B": "x"}}))).is_err());
        let refused = build_client(Some(&json!("not a url")), None).unwrap();
        assert_eq!(refused.unwrap_err().kind(), "invalid_request");
        let built = build_client(
            Some(&json!("http://127.0.0.1:9/p/")),
            Some(&json!({"bearer_token": "t"})),
        );
        assert_eq!(built.unwrap().unwrap().base_url(), "http://127.0.0.1:9/p");
    }

    #[test]
    fn environment_variables_apply_while_building_only() {
        let name = "POLYSDK_DRIVER_ENGINE_TEST";
        let client = json!({"env": {name: "set"}});
        build_client(Some(&json!("http://127.0.0.1:9")), Some(&client))
            .unwrap()
            .unwrap();
        assert!(std::env::var_os(name).is_none(), "restored after the build");
    }

    #[test]
    fn arguments_decode_by_contract_name_and_unknown_ones_are_refused() {
        let mut a = args(json!({"id": "a/b", "limit": 5, "gone": null}));
        assert_eq!(a.arg::<String>("id").unwrap().as_deref(), Some("a/b"));
        assert_eq!(a.arg::<i64>("limit").unwrap(), Some(5));
        assert_eq!(a.arg::<i64>("absent").unwrap(), None);
        assert!(a.finish().is_err(), "\"gone\" was not taken");
        let mut a = args(json!({"limit": "five"}));
        assert!(a.arg::<i64>("limit").unwrap_err().contains("limit"));
        assert_eq!(
            need(None::<u8>, "id").unwrap_err(),
            "missing required argument \"id\""
        );
        assert!(Args::new(Some(&json!([1]))).is_err());
    }

    #[test]
    fn bodies_parts_and_files() {
        let mut a = args(
            json!({"body": {"name": "n", "file": {"base64": "aGk=", "filename": "a.txt"}, "x": 1}}),
        );
        assert_eq!(a.part::<String>("name").unwrap().as_deref(), Some("n"));
        assert!(a.part_file("file").unwrap().is_some());
        assert_eq!(a.finish().unwrap_err(), "the body has no field \"x\"");
        let mut a = args(json!({"body": "aGk="}));
        assert_eq!(&a.body_bytes().unwrap().unwrap()[..], b"hi");
        a.finish().unwrap();
        let mut a = args(json!({"body": "not base64!"}));
        assert!(a.body_bytes().unwrap_err().contains("base64"));
        let mut a = args(json!({"body": {"k": [1, 2]}}));
        assert_eq!(a.body::<Value>().unwrap(), Some(json!({"k": [1, 2]})));
    }

    #[test]
    fn values_are_canonical_as_the_sdk_writes_them() {
        // An f32 field (`format: float`) surfaces with the digits the SDK sends, not f64's.
        #[derive(Serialize)]
        struct Features {
            acousticness: f32,
            id: i64,
        }
        let value = canonical(&Features {
            acousticness: 0.00242,
            id: 9_007_199_254_740_993,
        })
        .unwrap();
        assert_eq!(
            value.to_string(),
            r#"{"acousticness":0.00242,"id":9007199254740993}"#
        );
    }

    #[test]
    fn result_lines_are_canonical() {
        let unsupported = result(json!("u"), Outcome::Unsupported("why".to_owned()));
        assert_eq!(
            unsupported,
            json!({"type": "result", "id": "u", "outcome": "unsupported", "message": "why"})
        );
        let report = Report {
            value: Some(json!({"a": 1})),
            http_status: Some(200),
            response_headers: Some(Map::new()),
            attempts: Some(1),
            elapsed_ms: 2.5,
            ..Report::default()
        };
        let ok = result(json!(1), Outcome::Done(Box::new(report)));
        assert_eq!(
            ok,
            json!({"type": "result", "id": 1, "outcome": "ok", "value": {"a": 1}, "http_status": 200,
                   "response_headers": {}, "attempts": 1, "elapsed_ms": 2.5})
        );
        let report = Report {
            list: Some(("items", vec![json!(1)])),
            error: Some(sdk::Error::Cancelled),
            ..Report::default()
        };
        let error = result(json!(2), Outcome::Done(Box::new(report)));
        assert_eq!(error["outcome"], "error");
        assert_eq!(error["items"], json!([1]));
        assert_eq!(error["attempts"], Value::Null);
        assert_eq!(error["error"]["kind"], "cancelled");
        assert!(error.get("value").is_none());
    }

    #[test]
    fn response_headers_are_lower_case() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("X-Request-Id", "r1".parse().unwrap());
        assert_eq!(
            response_headers(&headers),
            json!({"x-request-id": "r1"}).as_object().unwrap().clone()
        );
    }

    #[tokio::test]
    async fn an_sdk_error_is_reported_with_its_kind() {
        let c = Ctl {
            mode: Mode::Call,
            take: None,
            cancel: Cancel::BeforeSend,
            token: sdk::CancellationToken::new(),
            options: sdk::RequestOptions::new(),
        };
        let outcome = report_call(
            async { Err::<sdk::Response<Value>, _>(sdk::Error::Cancelled) },
            &c,
        )
        .await;
        let line = result(json!("c"), outcome);
        assert_eq!(line["outcome"], "error");
        assert!(line["elapsed_ms"].as_f64().unwrap() >= 0.0);
        assert_eq!(line["error"]["kind"], "cancelled");
    }

    #[test]
    fn cancel_lines_reach_only_the_cases_waiting_for_them() {
        let cancel = json!({"type": "cancel", "id": "c1"});
        assert_eq!(cancel_line(Some(&cancel)).as_deref(), Some("\"c1\""));
        assert_eq!(cancel_line(Some(&json!({"type": "case", "id": 1}))), None);
        let case = json!({"type": "case", "id": "c1", "cancel": {"on_signal": true}});
        assert_eq!(on_signal_id(Some(&case)).as_deref(), Some("\"c1\""));
        assert_eq!(on_signal_id(Some(&json!({"type": "case", "id": 2}))), None);
        let signals = Signals::default();
        let token = sdk::CancellationToken::new();
        signals.register("\"c1\"", &token);
        signals.cancel("\"unknown\"");
        assert!(!token.is_cancelled());
        signals.cancel("\"c1\"");
        assert!(token.is_cancelled());
        let late = sdk::CancellationToken::new();
        signals.register("2", &late);
        signals.forget("2");
        signals.cancel("2");
        assert!(!late.is_cancelled(), "a finished case ignores its signal");
    }

    #[test]
    fn idempotency_key_and_resume_header_arguments_become_options() {
        let c = Prep {
            mode: Mode::Call,
            options: sdk::RequestOptions::new(),
        };
        let mut a = args(json!({"Idempotency-Key": "k-1", "Last-Event-ID": "41"}));
        let options = c
            .call_options(&mut a, Some("Idempotency-Key"), Some("Last-Event-ID"))
            .unwrap();
        a.finish().unwrap();
        let shown = format!("{options:?}");
        assert!(shown.contains("k-1") && shown.contains("41"), "{shown}");
        let mut a = args(json!({"Idempotency-Key": "k-1"}));
        c.call_options(&mut a, None, None).unwrap();
        assert!(a.finish().is_err(), "not an argument of this operation");
    }

    // Load lines ------------------------------------------------------------------------------

    #[test]
    fn raw_events_are_split_at_blank_lines_and_their_data_decoded() {
        assert_eq!(find_blank_line(b"data: 1\n\ndata: 2"), Some(7));
        assert_eq!(find_blank_line(b"data: 1\n"), None);
        // Data lines joined with a newline, a CR before the LF dropped, other fields ignored.
        assert_eq!(
            decode_event(b"id: 1\r\nevent: x\ndata: [1,\ndata:2]"),
            Ok(())
        );
        assert_eq!(decode_event(b": a comment only"), Ok(()));
        assert_eq!(decode_event(b""), Ok(()));
        assert_eq!(decode_event(b"data: {\"a\": }"), Err("decode"));
        assert_eq!(decode_event(b"data: 1\ndata: 2"), Err("decode"));
    }

    fn load_line(extra: Value) -> Value {
        let mut line = json!({
            "type": "load", "id": "l", "base_url": "http://127.0.0.1:9/t/x/",
            "client": {"max_retries": 0, "timeout_ms": 2000},
            "client_kind": "sdk", "model": "closed", "concurrency": 2,
            "duration_ms": 5000, "max_requests": 10,
            "mix": [{"name": "health", "operation": "getHealth", "mode": "call", "args": {},
                     "request": {"idempotency_key": null},
                     "raw": [{"method": "GET", "path": "health", "headers": {}, "body_base64": null}]}],
            "sequence": [0],
        });
        for (key, value) in extra.as_object().unwrap() {
            line[key] = value.clone();
        }
        line
    }

    #[test]
    fn three_significant_digits() {
        let cases = [
            (0, 0),
            (7, 7),
            (812, 812),
            (999, 999),
            (1000, 1000),
            (1234, 1230),
        ];
        for (value, bucket) in cases {
            assert_eq!(three_digits(value), bucket, "{value}");
        }
        assert_eq!(three_digits(98_765), 98_700);
        assert_eq!(three_digits(u64::MAX), 18_400_000_000_000_000_000);
    }

    #[test]
    fn entry_stats_count_merge_and_encode() {
        let mut a = EntryStats::default();
        a.record(Duration::from_micros(1234), Tally::default());
        a.record(
            Duration::from_micros(1239),
            Tally {
                kind: Some("api"),
                retries: 2,
            },
        );
        let mut b = EntryStats::default();
        b.record(
            Duration::from_micros(98_765),
            Tally {
                kind: None,
                retries: 1,
            },
        );
        a.merge(&b);
        a.merge(&EntryStats::default());
        assert_eq!(
            a.result("get"),
            json!({"name": "get", "count": 3, "ok": 2, "errors": {"api": 1}, "retries": 3,
                   "latency_us": {"1230": 2, "98700": 1}, "max_us": 98_765})
        );
    }

    #[test]
    fn tallies_count_attempts_beyond_the_first() {
        let mut tally = Tally::default();
        tally.attempts(1);
        tally.attempts(3);
        tally.attempts(0);
        assert_eq!(tally.retries, 2);
        let failed = tally.failed(&sdk::Error::Cancelled);
        assert_eq!(failed.kind, Some("cancelled"));
        assert_eq!(failed.retries, 2, "an error without attempts adds none");
    }

    #[test]
    fn load_lines_are_checked_before_anything_is_sent() {
        let schedule = |extra: Value| {
            LoadLine::deserialize(&load_line(extra))
                .map_err(|e| e.to_string())
                .and_then(|l| l.schedule())
        };
        let ok = schedule(json!({})).unwrap();
        assert_eq!(ok.model, Model::Closed);
        assert_eq!((ok.concurrency, ok.max_requests), (2, 10));
        assert_eq!(ok.duration, Duration::from_secs(5));
        let open = schedule(json!({"model": "open", "rate_per_s": 50})).unwrap();
        assert_eq!(open.model, Model::Open(50.0));
        for (extra, why) in [
            (json!({"model": "open"}), "rate_per_s"),
            (json!({"model": "open", "rate_per_s": 0}), "rate_per_s"),
            (json!({"model": "poisson"}), "model"),
            (json!({"concurrency": 0}), "concurrency"),
            (json!({"duration_ms": 0}), "duration_ms"),
            (json!({"duration_ms": 1e300}), "duration_ms"),
            (json!({"max_requests": 0}), "max_requests"),
            (json!({"sequence": []}), "sequence"),
            (json!({"sequence": [1]}), "outside the mix"),
            (json!({"concurrency": -1}), "-1"),
        ] {
            let refused = schedule(extra.clone()).unwrap_err();
            assert!(refused.contains(why), "{extra}: {refused}");
        }
    }

    #[tokio::test]
    async fn a_load_it_cannot_run_is_answered_with_an_error() {
        for (extra, why) in [
            (json!({"client_kind": "curl"}), "client_kind"),
            (
                json!({"client_kind": "paired", "model": "open", "rate_per_s": 5}),
                "closed model",
            ),
            (
                json!({"mix": [{"name": "x", "operation": "noSuchOperation"}]}),
                "noSuchOperation",
            ),
            (
                json!({"mix": [{"name": "x", "operation": "getAgent", "args": {"agent_id": 5}}]}),
                "agent_id",
            ),
            (
                json!({"mix": [{"name": "x", "operation": "getHealth", "mode": "pages"}]}),
                "does not apply",
            ),
            (
                json!({"client_kind": "raw", "mix": [{"name": "x", "raw": []}]}),
                "needs requests",
            ),
            (
                json!({"client_kind": "raw", "mix": [{"name": "x", "raw": [
                    {"method": "GET", "path": "a", "body_base64": "not base64!"}]}]}),
                "base64",
            ),
        ] {
            let line = load_line(extra.clone());
            let answer = load(json!("l"), line).await;
            assert_eq!(answer["type"], "load_result");
            assert_eq!(answer["id"], "l");
            let error = answer["error"].as_str().unwrap_or_default();
            assert!(error.contains(why), "{extra}: {answer}");
        }
    }

    /// A prepared call that counts how often it ran and fails every third time.
    fn counting(calls: Arc<AtomicU64>) -> LoadRun {
        Arc::new(move || -> BoxFuture<'static, Tally> {
            let n = calls.fetch_add(1, Ordering::Relaxed);
            Box::pin(async move {
                tokio::task::yield_now().await;
                Tally {
                    kind: (n % 3 == 2).then_some("unavailable"),
                    retries: 1,
                }
            })
        })
    }

    fn schedule(model: Model, concurrency: usize, max_requests: u64) -> Schedule {
        Schedule {
            model,
            concurrency,
            duration: Duration::from_secs(60),
            max_requests,
            sequence: vec![0, 1, 0].into(),
        }
    }

    /// A prepared call that notes who made it.
    fn noting(who: &'static str, log: Arc<std::sync::Mutex<Vec<&'static str>>>) -> LoadRun {
        Arc::new(move || -> BoxFuture<'static, Tally> {
            log.lock().unwrap().push(who);
            Box::pin(async {
                Tally {
                    kind: None,
                    retries: 0,
                }
            })
        })
    }

    #[tokio::test]
    async fn a_paired_load_makes_each_request_with_both_clients_taking_turns() {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let one = Schedule {
            sequence: vec![0].into(),
            ..schedule(Model::Closed, 1, 4)
        };
        let clients = vec![
            vec![noting("sdk", log.clone())],
            vec![noting("raw", log.clone())],
        ];
        let (started, _, stats) = run_clients(&one, clients).await.unwrap();
        assert_eq!(started, 4);
        assert_eq!((stats[0][0].count, stats[1][0].count), (4, 4));
        let order = log.lock().unwrap().clone();
        assert_eq!(
            order,
            ["sdk", "raw", "raw", "sdk", "sdk", "raw", "raw", "sdk"]
        );
    }

    #[tokio::test]
    async fn the_closed_model_sends_exactly_max_requests_in_sequence_order() {
        let (first, second) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let calls = vec![counting(first.clone()), counting(second.clone())];
        let (started, _, stats) = run_schedule(&schedule(Model::Closed, 4, 30), calls)
            .await
            .unwrap();
        assert_eq!(started, 30);
        assert_eq!(first.load(Ordering::Relaxed), 20, "two of every three");
        assert_eq!(second.load(Ordering::Relaxed), 10);
        assert_eq!(stats[0].count, 20);
        assert_eq!((stats[1].count, stats[1].retries), (10, 10));
        let failed: u64 = stats.iter().map(|s| s.errors["unavailable"]).sum();
        assert_eq!(failed, 6 + 3, "every third call of each entry");
        assert_eq!(stats[0].ok + stats[1].ok, 21);
        let bucketed: u64 = stats[0].latency.values().sum();
        assert_eq!(bucketed, 20);
    }

    #[tokio::test]
    async fn the_open_model_measures_latency_from_the_scheduled_time() {
        // One worker, calls of at least 30 ms at 100 calls/s: request i is due at 10i ms but
        // cannot start before the calls ahead of it end (30i ms at the earliest), and its latency
        // counts that wait: at least 20i + 30 ms (no coordinated omission). Only lower bounds
        // are checked, which a slow machine cannot break; measured from each call's start, every
        // latency would be near 30 ms.
        let slow: LoadRun = Arc::new(|| -> BoxFuture<'static, Tally> {
            Box::pin(async {
                tokio::time::sleep(Duration::from_millis(30)).await;
                Tally::default()
            })
        });
        let mut open = schedule(Model::Open(100.0), 1, 5);
        open.sequence = vec![0].into();
        let (started, wall, stats) = run_schedule(&open, vec![slow]).await.unwrap();
        assert_eq!(started, 5);
        assert!(wall >= Duration::from_millis(150), "{wall:?}");
        let mut latencies: Vec<u64> = Vec::new();
        for (bucket, n) in &stats[0].latency {
            latencies.extend(std::iter::repeat(*bucket).take(usize::try_from(*n).unwrap()));
        }
        latencies.sort_unstable();
        assert_eq!(latencies.len(), 5);
        for (k, latency) in latencies.iter().enumerate() {
            let bound = (20 * k as u64 + 30) * 1000;
            assert!(*latency >= bound, "{k}: {latencies:?}");
        }
        assert!(stats[0].max_us >= 110_000, "{}", stats[0].max_us);
    }

    #[tokio::test]
    async fn nothing_is_scheduled_at_or_after_the_deadline() {
        let calls = Arc::new(AtomicU64::new(0));
        let mut open = schedule(Model::Open(10.0), 3, 1000);
        open.duration = Duration::from_millis(500);
        open.sequence = vec![0].into();
        let (started, _, stats) = run_schedule(&open, vec![counting(calls.clone())])
            .await
            .unwrap();
        // Due at 0, 100, 200, 300 and 400 ms; one that could not start before 500 ms is dropped.
        assert!((1..=5).contains(&started), "{started}");
        assert_eq!(calls.load(Ordering::Relaxed), started);
        assert_eq!(stats[0].count, started);
    }

    #[tokio::test]
    async fn a_panicking_call_fails_the_load_not_the_driver() {
        let panics: LoadRun =
            Arc::new(|| -> BoxFuture<'static, Tally> { Box::pin(async { panic!("boom") }) });
        let mut closed = schedule(Model::Closed, 2, 10);
        closed.sequence = vec![0].into();
        let failed = run_schedule(&closed, vec![panics]).await.unwrap_err();
        assert!(failed.contains("worker failed"), "{failed}");
    }

    #[tokio::test]
    async fn prepared_calls_run_again_for_a_load_and_once_for_a_case() {
        let made = Arc::new(AtomicU64::new(0));
        let counter = made.clone();
        let prepared = call(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            async { Err::<sdk::Response<Value>, _>(sdk::Error::Cancelled) }
        });
        let Prepared::Run { case, load } = prepared else {
            panic!("a call is runnable");
        };
        assert_eq!(load().await.kind, Some("cancelled"));
        assert_eq!(load().await.kind, Some("cancelled"));
        let c = Ctl {
            mode: Mode::Call,
            take: None,
            cancel: Cancel::Never,
            token: sdk::CancellationToken::new(),
            options: sdk::RequestOptions::new(),
        };
        let line = result(json!("c"), case(c).await);
        assert_eq!(line["error"]["kind"], "cancelled");
        assert_eq!(made.load(Ordering::Relaxed), 3);
    }
}
