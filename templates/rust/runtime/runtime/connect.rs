//! Server streams of the Connect protocol (`application/connect+json`): enveloped messages (a
//! flag byte, a 4-byte big-endian length, the JSON message), ended by an end-of-stream envelope
//! that may carry an error. Unary Connect calls need nothing here: the transport's `Protocol`
//! gives them their headers, error JSON and retry rule.

use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use futures::{Stream, StreamExt};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;

use super::client::{Client, RequestOptions};
use super::error::{ApiError, Error};
use super::http::{
    body_error, cancellable, check_media, decode_json, meta, ByteStream, Cancellable, Req,
    Response, CONNECT_STREAM_MEDIA,
};

/// The flag of a message envelope.
const MESSAGE: u8 = 0x00;
/// The flag of the end-of-stream envelope.
const END_STREAM: u8 = 0x02;
/// The size of an envelope's prefix: the flag byte and the length.
const PREFIX: usize = 5;

/// The messages of a Connect server stream, each decoded as a `T`. It ends after the server's
/// end-of-stream envelope, with the error that envelope carries, if any; the envelope's metadata
/// are then the stream's [trailers](MessageStream::trailers). Dropping it closes the connection;
/// the call's cancellation token ends it with [`Error::Cancelled`] at the next pull.
pub struct MessageStream<T> {
    inner: Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>,
    /// Set by the reader, inside `inner`, when it reads the end-of-stream envelope.
    trailers: Arc<OnceLock<HeaderMap>>,
    _type: PhantomData<fn() -> T>,
}

impl<T> MessageStream<T> {
    /// The stream's trailers: the metadata of the server's end-of-stream message (empty when it
    /// had none), also when that message carried an error. `None` until the stream has ended,
    /// and when it ended without that message (cut, timed out, cancelled or unreadable).
    pub fn trailers(&self) -> Option<&HeaderMap> {
        self.trailers.get()
    }
}

impl<T> std::fmt::Debug for MessageStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageStream")
            .field("trailers", &self.trailers.get())
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned> Stream for MessageStream<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(message))) => Poll::Ready(Some(decode_json::<T>(&message, 200))),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The reading side of one stream: the body, the bytes received but not yet taken.
struct Reader {
    /// `None` once the stream ended (normally or in an error).
    body: Option<ByteStream>,
    buffer: BytesMut,
    limit: usize,
    status: u16,
    headers: HeaderMap,
    attempts: u32,
    /// The caller's timeout is the whole stream's deadline (as `Connect-Timeout-Ms` told the
    /// server): a stream still open then ends in a timeout error.
    deadline: Option<tokio::time::Instant>,
    /// The end-of-stream envelope's metadata, shared with the [`MessageStream`].
    trailers: Arc<OnceLock<HeaderMap>>,
}

impl Reader {
    fn decode_error(&self, message: String) -> Error {
        Error::Decode {
            message,
            status: self.status,
            body: String::new(),
        }
    }

    /// Whether the stream's deadline has passed: a stream the server cut then timed out.
    fn expired(&self) -> bool {
        self.deadline
            .is_some_and(|deadline| tokio::time::Instant::now() >= deadline)
    }

    /// The next chunk of the body; `Err` once the deadline passes first.
    async fn chunk(&mut self) -> Result<Option<Result<Bytes, reqwest::Error>>, ()> {
        let deadline = self.deadline;
        let Some(body) = self.body.as_mut() else {
            return Ok(None);
        };
        match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, body.next())
                .await
                .map_err(|_| ()),
            None => Ok(body.next().await),
        }
    }

    /// The next complete envelope (flag, message) in the buffer; an error for a flag this SDK
    /// cannot read or a length over the limit, checked before the message is read.
    fn envelope(&mut self) -> Option<Result<(u8, Bytes), Error>> {
        let prefix = self.buffer.get(..PREFIX)?;
        let flags = prefix.first().copied().unwrap_or_default();
        let mut length = [0u8; 4];
        length.copy_from_slice(prefix.get(1..PREFIX).unwrap_or(&[0; 4]));
        let length = usize::try_from(u32::from_be_bytes(length)).unwrap_or(usize::MAX);
        if flags & 0x01 != 0 {
            let message = "a compressed envelope, but no compression was asked for".to_owned();
            return Some(Err(self.decode_error(message)));
        }
        if flags != MESSAGE && flags != END_STREAM {
            let message = format!("an envelope with unknown flags 0x{flags:02x}");
            return Some(Err(self.decode_error(message)));
        }
        if length > self.limit {
            let message = format!(
                "a stream message exceeds max_response_bytes ({} bytes)",
                self.limit
            );
            return Some(Err(self.decode_error(message)));
        }
        if self.buffer.len() - PREFIX < length {
            return None;
        }
        self.buffer.advance(PREFIX);
        Some(Ok((flags, self.buffer.split_to(length).freeze())))
    }

    /// The stream's end as the end-of-stream envelope says: `None` for a normal end, else its
    /// error (or a decode error when the envelope is not the JSON it should be). Its metadata
    /// become the stream's trailers.
    fn end(&self, message: &[u8]) -> Option<Error> {
        let json = match decode_json::<serde_json::Value>(message, self.status) {
            Ok(json) => json,
            Err(e) => return Some(e),
        };
        let invalid = || {
            Some(Error::Decode {
                message: "the end-of-stream message is not a valid Connect end-of-stream"
                    .to_owned(),
                status: self.status,
                body: String::from_utf8_lossy(message).into_owned(),
            })
        };
        let Some(object) = json.as_object() else {
            return invalid();
        };
        let error = match object.get("error") {
            None | Some(serde_json::Value::Null) => None,
            Some(error) if error.is_object() => Some(error),
            Some(_) => return invalid(),
        };
        let Some(trailers) = metadata(object.get("metadata")) else {
            return invalid();
        };
        // A stream has one end-of-stream envelope (nothing is read after it): this is the first
        // and only value.
        let _ = self.trailers.set(trailers);
        error
            .map(|error| ApiError::from_end_of_stream(error, &self.headers, message, self.attempts))
    }
}

/// The `metadata` of an end-of-stream envelope (`{"name": ["value", ...]}`) as headers, empty
/// when it is absent or null; `None` when it is not an object of string arrays whose names and
/// values can be HTTP headers.
fn metadata(value: Option<&serde_json::Value>) -> Option<HeaderMap> {
    let mut headers = HeaderMap::new();
    let Some(value) = value.filter(|value| !value.is_null()) else {
        return Some(headers);
    };
    for (name, values) in value.as_object()? {
        let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
        for value in values.as_array()? {
            headers.append(&name, HeaderValue::from_str(value.as_str()?).ok()?);
        }
    }
    Some(headers)
}

/// The stream's end: nothing more is read.
fn ended(mut reader: Reader, error: Error) -> Option<(Result<Bytes, Error>, Reader)> {
    reader.body = None;
    reader.buffer = BytesMut::new();
    Some((Err(error), reader))
}

async fn next_message(mut reader: Reader) -> Option<(Result<Bytes, Error>, Reader)> {
    loop {
        reader.body.as_ref()?;
        match reader.envelope() {
            Some(Ok((MESSAGE, message))) => return Some((Ok(message), reader)),
            Some(Ok((_, message))) => {
                // End of stream: whatever follows it is ignored.
                return reader.end(&message).and_then(|error| ended(reader, error));
            }
            Some(Err(error)) => return ended(reader, error),
            None => {}
        }
        let Ok(chunk) = reader.chunk().await else {
            let attempts = reader.attempts;
            return ended(reader, Error::timeout(attempts));
        };
        if !matches!(chunk, Some(Ok(_))) && reader.expired() {
            // The server cut the stream at the deadline it was told.
            let attempts = reader.attempts;
            return ended(reader, Error::timeout(attempts));
        }
        match chunk {
            Some(Ok(bytes)) => reader.buffer.extend_from_slice(&bytes),
            Some(Err(error)) => {
                let error = body_error(error, reader.status, reader.attempts);
                return ended(reader, error);
            }
            None if reader.buffer.is_empty() => {
                let error = reader.decode_error("stream ended without end-of-stream".to_owned());
                return ended(reader, error);
            }
            None => {
                let error = Error::Connection {
                    message: "the stream ended inside an envelope".to_owned(),
                    attempts: reader.attempts,
                };
                return ended(reader, error);
            }
        }
    }
}

impl Client {
    /// Opens a Connect server stream. The call is retried like any other until the response
    /// arrives; an error at the end of the stream never is (messages may have been delivered).
    pub(crate) async fn send_connect_stream<T: DeserializeOwned>(
        &self,
        mut req: Req,
        options: &RequestOptions,
    ) -> Result<Response<MessageStream<T>>, Error> {
        req.streaming();
        req.connect(true);
        let (response, attempts, started) = self.execute_timed(&req, options).await?;
        check_media(&response, CONNECT_STREAM_MEDIA, "a Connect stream")?;
        let meta = meta(&response, attempts);
        let timeout = options.timeout.or(self.inner.timeout);
        let trailers = Arc::new(OnceLock::new());
        let reader = Reader {
            deadline: timeout.and_then(|timeout| started.checked_add(timeout)),
            buffer: BytesMut::new(),
            limit: usize::try_from(self.response_limit(options)).unwrap_or(usize::MAX),
            status: meta.status,
            headers: meta.headers.clone(),
            attempts,
            body: Some(Box::pin(response.bytes_stream())),
            trailers: Arc::clone(&trailers),
        };
        let raw = futures::stream::unfold(reader, next_message);
        let inner = Cancellable::new(Box::pin(raw), options.cancel.clone());
        Ok(Response {
            data: MessageStream {
                inner: Box::pin(inner),
                trailers,
                _type: PhantomData,
            },
            meta,
        })
    }
}

/// Opens a Connect server stream from a built request.
pub(crate) async fn call_connect_stream<T: DeserializeOwned>(
    client: Client,
    req: Result<Req, Error>,
    options: RequestOptions,
) -> Result<Response<MessageStream<T>>, Error> {
    cancellable(&options, client.send_connect_stream(req?, &options)).await
}

#[cfg(test)]
mod tests {
    use super::super::http::envelope;
    use super::super::test_server::{respond, respond_bytes, serve, Reply};
    use super::*;
    use std::time::Duration;

    fn client(url: &str) -> Client {
        Client::builder()
            .base_url(url)
            .auth_scheme(crate::runtime::AuthScheme {
                bearer: true,
                api_key: None,
            })
            .bearer_token("tok")
            .initial_retry_delay(Duration::from_millis(1))
            .build()
            .unwrap()
    }

    fn frame(flags: u8, message: &str) -> Vec<u8> {
        envelope(flags, message.as_bytes()).unwrap()
    }

    /// A 200 Connect stream response with these envelopes (and a content length).
    fn stream_reply(frames: &[Vec<u8>]) -> Reply {
        respond_bytes(
            200,
            &[("content-type", CONNECT_STREAM_MEDIA)],
            &frames.concat(),
        )
    }

    fn stream_req() -> Req {
        let mut req = Req::new("POST", "/pkg.Svc/Watch".to_owned());
        req.envelope(&serde_json::json!({"runId": "r1", "afterSequence": "5"}));
        req.accept(CONNECT_STREAM_MEDIA);
        req.connect(true);
        req
    }

    async fn collect(
        client: &Client,
        options: &RequestOptions,
    ) -> Result<Vec<Result<serde_json::Value, Error>>, Error> {
        let stream = client
            .send_connect_stream::<serde_json::Value>(stream_req(), options)
            .await?
            .data;
        Ok(stream.collect().await)
    }

    fn kinds(items: &[Result<serde_json::Value, Error>]) -> Vec<String> {
        items
            .iter()
            .map(|item| match item {
                Ok(value) => value.to_string(),
                Err(e) => e.kind().to_owned(),
            })
            .collect()
    }

    #[tokio::test]
    async fn messages_then_a_clean_end_and_an_enveloped_request() {
        let server = serve(vec![stream_reply(&[
            frame(0, r#"{"n":1}"#),
            frame(0, r#"{"n":2}"#),
            frame(2, r#"{"metadata":{"x":["y"]}}"#),
            frame(0, r#"{"n":3}"#), // after the end: ignored
        ])]);
        let c = client(&server.url);
        let options = RequestOptions::new().timeout(Duration::from_millis(2500));
        let items = collect(&c, &options).await.unwrap();
        assert_eq!(kinds(&items), [r#"{"n":1}"#, r#"{"n":2}"#]);
        let seen = &server.requests()[0];
        assert_eq!(
            seen.header("content-type").as_deref(),
            Some(CONNECT_STREAM_MEDIA)
        );
        assert_eq!(
            seen.header("connect-protocol-version").as_deref(),
            Some("1")
        );
        assert_eq!(seen.header("connect-timeout-ms").as_deref(), Some("2500"));
        let json = seen.body.get(5..).unwrap_or_default();
        let sent: serde_json::Value = serde_json::from_slice(json).unwrap();
        assert_eq!(
            sent,
            serde_json::json!({"runId": "r1", "afterSequence": "5"})
        );
        assert_eq!(seen.body.first(), Some(&0u8));
        assert_eq!(
            seen.body.get(1..5),
            Some(&(json.len() as u32).to_be_bytes()[..])
        );
    }

    #[tokio::test]
    async fn an_end_of_stream_error_ends_the_stream_in_that_error() {
        let end = r#"{"error":{"code":"resource_exhausted","message":"quota","details":[{"type":"t","value":"AA"}]}}"#;
        let server = serve(vec![
            stream_reply(&[frame(0, r#"{"n":1}"#), frame(2, end)]),
            stream_reply(&[frame(
                2,
                r#"{"error":{"code":"deadline_exceeded","message":"too late","details":[{"type":"t","value":"AA"}]}}"#,
            )]),
        ]);
        let c = client(&server.url);
        let items = collect(&c, &RequestOptions::new()).await.unwrap();
        assert_eq!(kinds(&items), [r#"{"n":1}"#, "api"]);
        let Some(Err(err)) = items.last() else {
            panic!("{items:?}")
        };
        let api = err.api().unwrap();
        assert_eq!(
            (api.status, api.code.as_deref()),
            (429, Some("resource_exhausted"))
        );
        assert_eq!(api.message, "quota");
        assert_eq!(
            api.details,
            Some(serde_json::json!([{"type": "t", "value": "AA"}]))
        );
        assert_eq!(err.attempts(), Some(1));
        let items = collect(&c, &RequestOptions::new()).await.unwrap();
        assert_eq!(kinds(&items), ["timeout"]);
        // The server's deadline_exceeded is a timeout that keeps what the server said.
        let Some(Err(
            err @ Error::Timeout {
                server: Some(api), ..
            },
        )) = items.first()
        else {
            panic!("{items:?}")
        };
        assert_eq!(
            (api.status, api.code.as_deref(), api.message.as_str()),
            (504, Some("deadline_exceeded"), "too late")
        );
        assert_eq!(
            api.details,
            Some(serde_json::json!([{"type": "t", "value": "AA"}]))
        );
        assert_eq!((err.status(), err.attempts()), (Some(504), Some(1)));
        assert!(err.to_string().contains("too late"), "{err}");
        assert_eq!(
            server.requests().len(),
            2,
            "an end-of-stream error is never retried"
        );
    }

    #[tokio::test]
    async fn broken_streams_are_typed_errors() {
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: {CONNECT_STREAM_MEDIA}\r\nconnection: close\r\n\r\n"
        );
        let raw = |frames: &[u8]| {
            let mut bytes = head.clone().into_bytes();
            bytes.extend_from_slice(frames);
            Reply::Raw(bytes)
        };
        let mut half = frame(0, r#"{"n":1}"#);
        half.truncate(8);
        let cases: Vec<(Reply, &str, &str)> = vec![
            (
                raw(&frame(0, r#"{"n":1}"#)),
                "decode",
                "without end-of-stream",
            ),
            (raw(&half), "connection", "inside an envelope"),
            (
                raw(&frame(0, r#"{"n":1}"#)[..3]),
                "connection",
                "inside an envelope",
            ),
            (raw(&frame(1, r#"{"n":1}"#)), "decode", "compressed"),
            (raw(&frame(0x80, r#"{"n":1}"#)), "decode", "unknown flags"),
            (raw(&frame(0, "not json")), "decode", ""),
            (raw(&frame(2, "[]")), "decode", "end-of-stream"),
            (
                raw(&frame(2, r#"{"error":"x"}"#)),
                "decode",
                "end-of-stream",
            ),
            (raw(&frame(2, r#"{"a":1,"a":2}"#)), "decode", ""),
            (
                raw(&frame(2, r#"{"metadata":["x"]}"#)),
                "decode",
                "end-of-stream",
            ),
            (
                raw(&frame(2, r#"{"metadata":{"x":"y"}}"#)),
                "decode",
                "end-of-stream",
            ),
            (
                raw(&frame(2, r#"{"metadata":{"x":[1]}}"#)),
                "decode",
                "end-of-stream",
            ),
            (
                raw(&frame(2, r#"{"metadata":{"a name":["y"]}}"#)),
                "decode",
                "end-of-stream",
            ),
            (
                respond(200, &[("content-type", "application/json")], "{}"),
                "decode",
                "expected a Connect stream",
            ),
        ];
        for (reply, kind, text) in cases {
            let server = serve(vec![reply]);
            let c = client(&server.url);
            let err = match collect(&c, &RequestOptions::new()).await {
                Ok(items) => match items.into_iter().last() {
                    Some(Err(e)) => e,
                    other => panic!("{kind} {text}: {other:?}"),
                },
                Err(e) => e,
            };
            assert_eq!(err.kind(), kind, "{text}: {err:?}");
            assert!(err.to_string().contains(text), "{text}: {err}");
        }
    }

    #[tokio::test]
    async fn a_message_over_the_limit_is_refused_before_it_is_read() {
        // The prefix announces 1 GiB; the server sends nothing more and keeps the connection.
        let mut bytes =
            format!("HTTP/1.1 200 OK\r\ncontent-type: {CONNECT_STREAM_MEDIA}\r\n\r\n").into_bytes();
        bytes.extend_from_slice(&frame(0, r#"{"n":1}"#));
        bytes.extend_from_slice(&[0, 0x40, 0, 0, 0]);
        let server = serve(vec![Reply::RawThenStall(bytes)]);
        let c = client(&server.url);
        let options = RequestOptions::new().max_response_bytes(100);
        let items = collect(&c, &options).await.unwrap();
        assert_eq!(kinds(&items), [r#"{"n":1}"#, "decode"]);
        let message = items[1].as_ref().unwrap_err().to_string();
        assert!(
            message.contains("max_response_bytes (100 bytes)"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn error_responses_are_connect_errors_and_follow_the_connect_retry_rule() {
        let unavailable = r#"{"code":"unavailable","message":"later"}"#;
        let server = serve(vec![
            respond(503, &[("content-type", "application/json")], unavailable),
            respond(
                404,
                &[("content-type", "application/json")],
                r#"{"code":"not_found","message":"no run","details":[]}"#,
            ),
        ]);
        let c = client(&server.url);
        let err = collect(&c, &RequestOptions::new()).await.unwrap_err();
        let api = err.api().unwrap();
        assert_eq!((api.status, api.code.as_deref()), (404, Some("not_found")));
        assert_eq!(api.details, Some(serde_json::json!([])));
        assert_eq!(err.attempts(), Some(2), "503 is retried");
    }

    #[tokio::test]
    async fn unary_calls_send_connect_headers_and_an_empty_message() {
        let server = serve(vec![
            respond(
                200,
                &[("content-type", "application/json")],
                r#"{"id":"m1"}"#,
            ),
            respond(200, &[("content-type", "application/json")], "{}"),
        ]);
        let c = client(&server.url);
        let mut req = Req::new("POST", "/pkg.Svc/Get".to_owned());
        req.json(&serde_json::json!({"id": "m1"}));
        req.connect(false);
        let out = c
            .send_json::<serde_json::Value>(req, &RequestOptions::new())
            .await
            .unwrap();
        assert_eq!(out.data["id"], "m1");
        let mut req = Req::new("POST", "/pkg.Svc/Ping".to_owned());
        req.connect(false);
        let options = RequestOptions::new().timeout(Duration::from_secs(3));
        c.send_empty(req, &options).await.unwrap();
        let seen = server.requests();
        assert_eq!(seen[0].body, br#"{"id":"m1"}"#);
        assert_eq!(
            seen[0].header("connect-protocol-version").as_deref(),
            Some("1")
        );
        assert_eq!(seen[0].header("connect-timeout-ms"), None, "no timeout set");
        assert_eq!(seen[1].body, b"{}");
        assert_eq!(
            seen[1].header("content-type").as_deref(),
            Some("application/json")
        );
        assert_eq!(
            seen[1].header("connect-timeout-ms").as_deref(),
            Some("3000")
        );
        // A Connect stream without a request message sends the empty one, enveloped.
        let server = serve(vec![stream_reply(&[frame(2, "{}")])]);
        let mut req = Req::new("POST", "/pkg.Svc/Watch".to_owned());
        req.connect(true);
        let stream = client(&server.url)
            .send_connect_stream::<serde_json::Value>(req, &RequestOptions::new())
            .await
            .unwrap()
            .data;
        assert_eq!(stream.collect::<Vec<_>>().await.len(), 0);
        assert_eq!(server.requests()[0].body, b"\0\0\0\0\x02{}");
    }

    #[tokio::test]
    async fn unary_errors_follow_the_connect_rules() {
        let json = [("content-type", "application/json")];
        let server = serve(vec![
            // 429 without a retry hint: not retried.
            respond(
                429,
                &json,
                r#"{"code":"resource_exhausted","message":"slow down"}"#,
            ),
            // 429 with a hint: retried; then 503: retried; then a 201 is no success.
            respond(429, &[("retry-after-ms", "1")], ""),
            respond(503, &[], "unavailable"),
            respond(201, &json, "{}"),
            // A non-retryable call is never retried.
            respond(503, &json, r#"{"code":"unavailable"}"#),
            // deadline_exceeded is a timeout.
            respond(
                504,
                &json,
                r#"{"code":"deadline_exceeded","message":"late"}"#,
            ),
            // x-should-retry: false wins.
            respond(503, &[("x-should-retry", "false")], ""),
            // 500 is not retried.
            respond(500, &json, r#"{"code":"internal","message":"boom"}"#),
        ]);
        let c = client(&server.url);
        let options = RequestOptions::new().max_retries(5);
        let call = |retryable: bool| {
            let mut req = Req::new("POST", "/pkg.Svc/Get".to_owned());
            req.connect(false);
            req.retryable(retryable);
            c.send_json::<serde_json::Value>(req, &options)
        };
        let err = call(true).await.unwrap_err();
        let api = err.api().unwrap();
        assert_eq!(
            (api.status, api.code.as_deref()),
            (429, Some("resource_exhausted"))
        );
        assert_eq!((api.message.as_str(), api.attempts), ("slow down", 1));
        let err = call(true).await.unwrap_err();
        let api = err.api().unwrap();
        assert_eq!((api.status, api.code.as_deref()), (201, Some("unknown")));
        assert_eq!(api.attempts, 3);
        let err = call(false).await.unwrap_err();
        assert_eq!((err.status(), err.attempts()), (Some(503), Some(1)));
        let err = call(true).await.unwrap_err();
        assert_eq!((err.kind(), err.attempts()), ("timeout", Some(1)));
        let err = call(true).await.unwrap_err();
        assert_eq!((err.status(), err.attempts()), (Some(503), Some(1)));
        let err = call(true).await.unwrap_err();
        let api = err.api().unwrap();
        assert_eq!((api.code.as_deref(), api.attempts), (Some("internal"), 1));
        assert_eq!(server.requests().len(), 8);
    }

    #[tokio::test]
    async fn the_timeout_is_the_whole_streams_deadline() {
        let mut bytes =
            format!("HTTP/1.1 200 OK\r\ncontent-type: {CONNECT_STREAM_MEDIA}\r\n\r\n").into_bytes();
        bytes.extend_from_slice(&frame(0, r#"{"n":1}"#));
        let server = serve(vec![Reply::RawThenStall(bytes)]);
        let options = RequestOptions::new().timeout(Duration::from_millis(300));
        let items = collect(&client(&server.url), &options).await.unwrap();
        assert_eq!(kinds(&items), [r#"{"n":1}"#, "timeout"]);
        let err = items[1].as_ref().unwrap_err();
        assert!(
            matches!(err, Error::Timeout { server: None, .. }),
            "{err:?}"
        );
        assert_eq!((err.attempts(), err.status()), (Some(1), None));
    }

    #[tokio::test]
    async fn the_end_of_stream_metadata_are_the_trailers() {
        let metadata = r#""metadata":{"X-Custom":["a","b"],"other":["c"]}"#;
        let server = serve(vec![
            stream_reply(&[frame(0, r#"{"n":1}"#), frame(2, &format!("{{{metadata}}}"))]),
            stream_reply(&[frame(
                2,
                &format!(r#"{{"error":{{"code":"aborted"}},{metadata}}}"#),
            )]),
            stream_reply(&[frame(2, r#"{"metadata":null}"#)]),
            stream_reply(&[frame(0, r#"{"n":1}"#)]),
        ]);
        let c = client(&server.url);
        let open = || async {
            c.send_connect_stream::<serde_json::Value>(stream_req(), &RequestOptions::new())
                .await
                .unwrap()
                .data
        };
        let values = |trailers: &HeaderMap, name: &str| -> Vec<String> {
            trailers
                .get_all(name)
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect()
        };
        let mut stream = open().await;
        assert_eq!(stream.next().await.unwrap().unwrap()["n"], 1);
        assert!(stream.trailers().is_none(), "none before the end");
        assert!(stream.next().await.is_none());
        let trailers = stream.trailers().expect("trailers at the end");
        assert_eq!(values(trailers, "x-custom"), ["a", "b"]);
        assert_eq!(values(trailers, "other"), ["c"]);
        assert_eq!(trailers.len(), 3);
        // An end-of-stream error comes with its trailers too.
        let mut stream = open().await;
        let err = stream.next().await.unwrap().unwrap_err();
        assert_eq!(err.api().unwrap().code.as_deref(), Some("aborted"));
        assert_eq!(values(stream.trailers().unwrap(), "x-custom"), ["a", "b"]);
        // No metadata: the stream ended, without trailers.
        let mut stream = open().await;
        assert!(stream.next().await.is_none());
        assert_eq!(stream.trailers().map(HeaderMap::len), Some(0));
        // A stream cut before its end-of-stream message has none.
        let mut stream = open().await;
        assert!(stream.next().await.unwrap().is_ok());
        assert_eq!(stream.next().await.unwrap().unwrap_err().kind(), "decode");
        assert!(stream.next().await.is_none());
        assert!(stream.trailers().is_none());
    }

    #[tokio::test]
    async fn a_cancelled_token_ends_the_stream_at_the_next_pull() {
        let mut bytes =
            format!("HTTP/1.1 200 OK\r\ncontent-type: {CONNECT_STREAM_MEDIA}\r\n\r\n").into_bytes();
        bytes.extend_from_slice(&frame(0, r#"{"n":1}"#));
        bytes.extend_from_slice(&frame(0, r#"{"n":2}"#));
        let server = serve(vec![Reply::RawThenStall(bytes)]);
        let token = super::super::client::CancellationToken::new();
        let options = RequestOptions::new().cancellation(token.clone());
        let mut stream = client(&server.url)
            .send_connect_stream::<serde_json::Value>(stream_req(), &options)
            .await
            .unwrap()
            .data;
        assert_eq!(stream.next().await.unwrap().unwrap()["n"], 1);
        token.cancel();
        assert_eq!(
            stream.next().await.unwrap().unwrap_err().kind(),
            "cancelled"
        );
        assert!(stream.next().await.is_none());
    }
}
