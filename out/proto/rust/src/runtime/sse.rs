//! Server-sent events per the HTML standard, decoded into typed events, resumed with
//! `Last-Event-ID` after a dropped connection.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{Stream, StreamExt};
use serde::de::DeserializeOwned;

use super::client::{CancellationToken, Client, RequestOptions};
use super::error::Error;
use super::http::{check_media, decode_json, meta_taken, ByteStream, Cancellable, Req, Response};

/// One server-sent event with its data decoded.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Event<T> {
    /// The event type (`message` when the server names none).
    pub event: String,
    /// The event id, if the server set one.
    pub id: Option<String>,
    /// The reconnection delay the server asked for with this event, if any.
    pub retry: Option<Duration>,
    /// The decoded data.
    pub data: T,
}

/// A raw event as parsed from the wire.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RawEvent {
    pub(crate) event: String,
    pub(crate) data: String,
    pub(crate) id: Option<String>,
    pub(crate) retry: Option<Duration>,
}

/// An incremental parser: feed bytes, take complete events. Linear in its input: each byte is
/// looked at once, and it holds at most `limit` bytes for one event (the pending line plus the
/// event's data).
#[derive(Debug)]
pub(crate) struct Parser {
    /// The pending line, not yet ended.
    line: Vec<u8>,
    /// The last byte was a CR: an LF right after it ends nothing (CRLF is one line end).
    after_cr: bool,
    /// No line has ended yet (the stream's first line may start with a byte order mark).
    first: bool,
    event: String,
    data: String,
    has_data: bool,
    retry: Option<Duration>,
    /// The last event id seen (kept across events, as the standard says).
    pub(crate) last_id: Option<String>,
    limit: usize,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new(usize::MAX)
    }
}

/// An event (its pending line plus its data) longer than the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooLarge;

impl Parser {
    pub(crate) fn new(limit: usize) -> Self {
        Parser {
            line: Vec::new(),
            after_cr: false,
            first: true,
            event: String::new(),
            data: String::new(),
            has_data: false,
            retry: None,
            last_id: None,
            limit,
        }
    }

    fn held(&self) -> usize {
        self.line.len() + self.data.len() + self.event.len()
    }

    pub(crate) fn feed(&mut self, chunk: &[u8], out: &mut Vec<RawEvent>) -> Result<(), TooLarge> {
        let mut rest = chunk;
        if self.after_cr && !rest.is_empty() {
            self.after_cr = false;
            if rest.first() == Some(&b'\n') {
                rest = rest.get(1..).unwrap_or_default();
            }
        }
        while !rest.is_empty() {
            match rest.iter().position(|b| *b == b'\n' || *b == b'\r') {
                Some(end) => {
                    let (text, tail) = rest.split_at(end);
                    if self.held() + text.len() > self.limit {
                        return Err(TooLarge);
                    }
                    self.line.extend_from_slice(text);
                    let line = std::mem::take(&mut self.line);
                    self.line(&String::from_utf8_lossy(&line), out);
                    self.line = line;
                    self.line.clear();
                    if self.held() > self.limit {
                        return Err(TooLarge);
                    }
                    let cr = tail.first() == Some(&b'\r');
                    rest = tail.get(1..).unwrap_or_default();
                    if cr {
                        match rest.first() {
                            Some(b'\n') => rest = rest.get(1..).unwrap_or_default(),
                            Some(_) => {}
                            None => self.after_cr = true,
                        }
                    }
                }
                None => {
                    if self.held() + rest.len() > self.limit {
                        return Err(TooLarge);
                    }
                    self.line.extend_from_slice(rest);
                    rest = &[];
                }
            }
        }
        Ok(())
    }

    fn line(&mut self, line: &str, out: &mut Vec<RawEvent>) {
        let line = if std::mem::take(&mut self.first) {
            line.strip_prefix('\u{feff}').unwrap_or(line)
        } else {
            line
        };
        if line.is_empty() {
            if self.has_data {
                let mut data = std::mem::take(&mut self.data);
                if data.ends_with('\n') {
                    data.pop();
                }
                out.push(RawEvent {
                    event: if self.event.is_empty() {
                        "message".to_owned()
                    } else {
                        self.event.clone()
                    },
                    data,
                    id: self.last_id.clone(),
                    retry: self.retry.take(),
                });
            }
            self.event.clear();
            self.data.clear();
            self.has_data = false;
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => value.clone_into(&mut self.event),
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.last_id = Some(value.to_owned()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                if let Ok(ms) = value.parse::<u64>() {
                    self.retry = Some(Duration::from_millis(ms));
                }
            }
            _ => {}
        }
    }
}

struct State {
    client: Client,
    req: Req,
    options: RequestOptions,
    body: Option<ByteStream>,
    status: u16,
    parser: Parser,
    pending: std::collections::VecDeque<RawEvent>,
    reconnects: u32,
    delay: Option<Duration>,
    /// An error to report once the events parsed before it are taken.
    failed: Option<Error>,
}

/// A stream of typed server-sent events. Dropping it closes the connection; the call's
/// cancellation token ends it with [`Error::Cancelled`] at the next pull.
pub struct EventStream<T> {
    inner: Pin<Box<dyn Stream<Item = Result<RawEvent, Error>> + Send>>,
    _type: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for EventStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream").finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned> Stream for EventStream<T> {
    type Item = Result<Event<T>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(raw))) => {
                let decoded = decode_json::<T>(raw.data.as_bytes(), 200).map(|data| Event {
                    event: raw.event,
                    id: raw.id,
                    retry: raw.retry,
                    data,
                });
                Poll::Ready(Some(decoded))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Whether a response is an event stream (by its Content-Type).
fn check_event_stream(response: &reqwest::Response) -> Result<(), Error> {
    check_media(response, "text/event-stream", "an event stream")
}

/// The stream's state between events, boxed: it moves in and out of every pull, and a pointer
/// moves for free where the whole state would be copied.
type Boxed = Box<State>;

/// The stream's end after an error: nothing more is pulled.
fn ended(mut state: Boxed, error: Error) -> Option<(Result<RawEvent, Error>, Boxed)> {
    state.body = None;
    state.reconnects = u32::MAX;
    Some((Err(error), state))
}

async fn next_event(mut state: Boxed) -> Option<(Result<RawEvent, Error>, Boxed)> {
    loop {
        if let Some(event) = state.pending.pop_front() {
            if let Some(retry) = event.retry {
                state.delay = Some(retry);
            }
            return Some((Ok(event), state));
        }
        if let Some(error) = state.failed.take() {
            return ended(state, error);
        }
        if state.reconnects == u32::MAX {
            return None; // ended by an error
        }
        if state.body.is_none() {
            // Reconnect after a dropped connection, resuming after the last event seen.
            let id = state.parser.last_id.clone()?;
            state.reconnects += 1;
            let delay = state
                .delay
                .unwrap_or_else(|| super::http::backoff(&state.client, state.reconnects));
            tokio::time::sleep(delay).await;
            let req = state.req.resumed(&id);
            match state.client.execute(&req, &state.options).await {
                Ok((response, _)) => {
                    if let Err(e) = check_event_stream(&response) {
                        return ended(state, e);
                    }
                    state.status = response.status().as_u16();
                    state.body = Some(Box::pin(response.bytes_stream()));
                }
                Err(e) => return ended(state, e),
            }
            continue;
        }
        let chunk = match state.body.as_mut() {
            Some(body) => body.next().await,
            None => None,
        };
        match chunk {
            Some(Ok(bytes)) => {
                let mut out = Vec::new();
                let fed = state.parser.feed(&bytes, &mut out);
                state.pending.extend(out);
                if fed.is_err() {
                    let limit = state.client.response_limit(&state.options);
                    let error = Error::Decode {
                        message: format!("an event exceeds max_response_bytes ({limit} bytes)"),
                        status: state.status,
                        body: String::new(),
                    };
                    state.body = None;
                    state.failed = Some(error);
                }
            }
            Some(Err(error)) => {
                // A dropped connection: reconnect (bounded) when an event id says where to
                // resume; replaying from the start would repeat events.
                state.body = None;
                let limit = state
                    .options
                    .max_retries
                    .unwrap_or(state.client.inner.max_retries);
                let attempts = state.reconnects + 1;
                if let Error::Decode { .. } = super::http::body_error(error, state.status, attempts)
                {
                    let error = Error::Decode {
                        message: "cannot decompress the event stream".to_owned(),
                        status: state.status,
                        body: String::new(),
                    };
                    return ended(state, error);
                }
                if state.parser.last_id.is_none() || state.reconnects >= limit {
                    let error = Error::Connection {
                        message: "the event stream was interrupted".to_owned(),
                        attempts,
                    };
                    return ended(state, error);
                }
                // The pending line and event are lost with the connection.
                let last_id = state.parser.last_id.take();
                state.parser = Parser::new(state.parser.limit);
                state.parser.last_id = last_id;
            }
            None => return None, // a clean end
        }
    }
}

impl Client {
    /// Opens an event stream; reconnects after a dropped connection (up to the retry limit)
    /// when an event id was received.
    pub(crate) async fn send_sse<T: DeserializeOwned>(
        &self,
        mut req: Req,
        options: &RequestOptions,
    ) -> Result<Response<EventStream<T>>, Error> {
        req.streaming();
        let (mut response, attempts) = self.execute(&req, options).await?;
        check_event_stream(&response)?;
        let meta = meta_taken(&mut response, attempts);
        let limit = usize::try_from(self.response_limit(options)).unwrap_or(usize::MAX);
        let mut parser = Parser::new(limit);
        parser.last_id = req.caller_resume_id(self, options);
        let state = Box::new(State {
            client: self.clone(),
            req,
            options: options.clone(),
            body: Some(Box::pin(response.bytes_stream())),
            status: meta.status,
            parser,
            pending: Default::default(),
            reconnects: 0,
            delay: None,
            failed: None,
        });
        let raw = futures::stream::unfold(state, next_event);
        let inner = Cancellable::new(Box::pin(raw), options.cancel.clone());
        Ok(Response {
            data: EventStream {
                inner: Box::pin(inner),
                _type: PhantomData,
            },
            meta,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_server::{serve, Reply};
    use super::*;

    #[test]
    fn parses_the_html_standard_forms() {
        let mut parser = Parser::default();
        let mut out = Vec::new();
        parser
            .feed(b": comment\r\nevent: step\r\ndata: {\"a\":\r", &mut out)
            .unwrap();
        assert!(out.is_empty());
        parser
            .feed(b"\ndata: 1}\nid: 7\nretry: 250\n\ndata:x\n\n", &mut out)
            .unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].event, "step");
        assert_eq!(out[0].data, "{\"a\":\n1}");
        assert_eq!(out[0].id.as_deref(), Some("7"));
        assert_eq!(out[0].retry, Some(Duration::from_millis(250)));
        assert_eq!(out[1].event, "message");
        assert_eq!(out[1].id.as_deref(), Some("7"));
        parser.feed(b"event: empty\n\n", &mut out).unwrap();
        assert_eq!(out.len(), 2, "an event without data is not dispatched");
    }

    #[tokio::test]
    async fn resumes_with_last_event_id_then_ends_cleanly() {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n";
        // The first connection promises more bytes than it sends: a dropped connection.
        let first = format!("{head}content-length: 1000\r\n\r\nid: 1\ndata: {{\"n\":1}}\n\n");
        let second = format!("{head}\r\nid: 2\ndata: {{\"n\":2}}\n\n");
        let server = serve(vec![
            Reply::Raw(first.into_bytes()),
            Reply::Raw(second.into_bytes()),
        ]);
        let client = Client::builder()
            .base_url(&server.url)
            .initial_retry_delay(Duration::from_millis(1))
            .build()
            .unwrap();
        let mut req = Req::new("GET", "/events".to_owned());
        req.accept("text/event-stream");
        req.resume("Last-Event-ID");
        let stream = client
            .send_sse::<serde_json::Value>(req, &RequestOptions::new())
            .await
            .unwrap()
            .data;
        let events: Vec<_> = stream.collect().await;
        let data: Vec<_> = events
            .into_iter()
            .map(|e| e.unwrap().data["n"].clone())
            .collect();
        assert_eq!(data, vec![serde_json::json!(1), serde_json::json!(2)]);
        let seen = server.requests();
        assert_eq!(seen[1].header("last-event-id").as_deref(), Some("1"));
        assert_eq!(
            seen[0].header("accept").as_deref(),
            Some("text/event-stream")
        );
    }

    fn feed_all(parser: &mut Parser, chunks: &[&[u8]]) -> Vec<RawEvent> {
        let mut out = Vec::new();
        for chunk in chunks {
            parser.feed(chunk, &mut out).unwrap();
        }
        out
    }

    #[test]
    fn a_bare_cr_ends_a_line_wherever_the_chunks_split() {
        let wire = b"event: a\rdata: 1\r\rdata: 2\r\n\r\ndata: 3\n\r";
        let whole = feed_all(&mut Parser::default(), &[wire]);
        let bytes: Vec<&[u8]> = wire.chunks(1).collect();
        let split = feed_all(&mut Parser::default(), &bytes);
        for out in [whole, split] {
            let data: Vec<_> = out.iter().map(|e| e.data.as_str()).collect();
            assert_eq!(data, ["1", "2", "3"]);
            assert_eq!(out[0].event, "a");
            assert_eq!(out[1].event, "message");
        }
        let out = feed_all(&mut Parser::default(), &[b"data: x\r", b"\n", b"\r", b"\n"]);
        assert_eq!(out.len(), 1, "CRLF split across chunks is one line end");
        let out = feed_all(&mut Parser::default(), &[b"\xEF\xBB", b"\xBFdata: 1\n\n"]);
        assert_eq!(out[0].data, "1", "a leading byte order mark is ignored");
    }

    #[test]
    fn parsing_is_linear_and_bounded() {
        let chunk = vec![b'x'; 8192];
        let mut parser = Parser::new(64 << 20);
        let mut out = Vec::new();
        // A 24 MB line in 8 kB chunks (a rescanning parser would take minutes; the speed itself
        // is measured by `nox -s bench`, not asserted here).
        parser.feed(b"data: ", &mut out).unwrap();
        for _ in 0..(24 << 20) / chunk.len() {
            parser.feed(&chunk, &mut out).unwrap();
        }
        parser.feed(b"\n\n", &mut out).unwrap();
        assert_eq!(out[0].data.len(), 24 << 20);

        let mut parser = Parser::new(100);
        let line = parser.feed(&[b'x'; 101], &mut out);
        assert_eq!(line, Err(TooLarge), "a line without an end");
        let mut parser = Parser::new(100);
        let mut held = Ok(());
        for _ in 0..20 {
            held = held.and(parser.feed(b"data: 0123456789\n", &mut out));
        }
        assert_eq!(held, Err(TooLarge), "data lines without an event end");
        let mut parser = Parser::new(100);
        for _ in 0..100 {
            parser
                .feed(b": a comment of some length\n", &mut out)
                .unwrap();
            parser.feed(b"data: 1\n\n", &mut out).unwrap();
        }
    }

    fn stream_client(url: &str) -> Client {
        Client::builder()
            .base_url(url)
            .initial_retry_delay(Duration::from_millis(1))
            .build()
            .unwrap()
    }

    fn events_req() -> Req {
        let mut req = Req::new("GET", "/events".to_owned());
        req.accept("text/event-stream");
        req.resume("Last-Event-ID");
        req
    }

    #[tokio::test]
    async fn a_non_event_stream_response_is_a_decode_error() {
        let server = serve(vec![super::super::test_server::respond(
            200,
            &[("content-type", "text/html")],
            "<html>login</html>",
        )]);
        let err = stream_client(&server.url)
            .send_sse::<serde_json::Value>(events_req(), &RequestOptions::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "decode");
    }

    #[tokio::test]
    async fn a_drop_before_any_id_is_a_connection_error_without_reconnecting() {
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: 1000\r\n\r\n";
        let server = serve(vec![
            Reply::Raw(format!("{head}data: {{\"n\":1}}\n\n").into_bytes()),
            Reply::Raw(format!("{head}data: {{\"n\":1}}\n\n").into_bytes()),
        ]);
        let stream = stream_client(&server.url)
            .send_sse::<serde_json::Value>(events_req(), &RequestOptions::new())
            .await
            .unwrap()
            .data;
        let events: Vec<_> = stream.collect().await;
        assert_eq!(events.len(), 2);
        assert!(events[0].is_ok());
        assert_eq!(events[1].as_ref().unwrap_err().kind(), "connection");
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn the_callers_last_event_id_is_sent_and_resumed_from() {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n";
        let first = format!("{head}content-length: 1000\r\n\r\n: nothing yet\n");
        let second = format!("{head}connection: close\r\n\r\nid: 4\ndata: 4\n\n");
        let server = serve(vec![
            Reply::Raw(first.into_bytes()),
            Reply::Raw(second.into_bytes()),
        ]);
        let options = RequestOptions::new().header("last-event-id", "3");
        let stream = stream_client(&server.url)
            .send_sse::<serde_json::Value>(events_req(), &options)
            .await
            .unwrap()
            .data;
        let events: Vec<_> = stream.collect().await;
        assert_eq!(events.len(), 1);
        let seen = server.requests();
        assert_eq!(seen[0].header("last-event-id").as_deref(), Some("3"));
        assert_eq!(seen[1].header("last-event-id").as_deref(), Some("3"));
    }

    #[tokio::test]
    async fn an_event_over_the_limit_is_a_decode_error_naming_it() {
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
        let body = format!("{head}data: 1\n\ndata: {}\n\n", "9".repeat(200));
        let server = serve(vec![Reply::Raw(body.into_bytes())]);
        let options = RequestOptions::new().max_response_bytes(100);
        let stream = stream_client(&server.url)
            .send_sse::<serde_json::Value>(events_req(), &options)
            .await
            .unwrap()
            .data;
        let events: Vec<_> = stream.collect().await;
        let kinds: Vec<_> = events
            .iter()
            .map(|e| e.as_ref().map_or_else(|e| e.kind(), |_| "event"))
            .collect();
        assert_eq!(kinds, ["event", "decode"]);
        let message = events[1].as_ref().unwrap_err().to_string();
        assert!(
            message.contains("max_response_bytes (100 bytes)"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn a_cancelled_token_ends_the_stream_at_the_next_pull() {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n";
        let body = format!("{head}id: 1\ndata: 1\n\nid: 2\ndata: 2\n\n");
        let server = serve(vec![
            Reply::RawThenStall(body.clone().into_bytes()),
            Reply::RawThenStall(body.into_bytes()),
        ]);
        let client = stream_client(&server.url);
        // Cancelled with an event ready: the next pull is the cancellation, then the end.
        let token = CancellationToken::new();
        let options = RequestOptions::new().cancellation(token.clone());
        let mut stream = client
            .send_sse::<serde_json::Value>(events_req(), &options)
            .await
            .unwrap()
            .data;
        assert_eq!(stream.next().await.unwrap().unwrap().data, 1);
        token.cancel();
        assert_eq!(
            stream.next().await.unwrap().unwrap_err().kind(),
            "cancelled"
        );
        assert!(stream.next().await.is_none());
        // Cancelled while waiting for bytes that never come.
        let token = CancellationToken::new();
        let options = RequestOptions::new().cancellation(token.clone());
        let mut stream = client
            .send_sse::<serde_json::Value>(events_req(), &options)
            .await
            .unwrap()
            .data;
        assert!(stream.next().await.unwrap().is_ok());
        assert!(stream.next().await.unwrap().is_ok());
        let cancel = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            token.cancel();
        };
        let (next, ()) = tokio::join!(stream.next(), cancel);
        assert_eq!(next.unwrap().unwrap_err().kind(), "cancelled");
    }
}
