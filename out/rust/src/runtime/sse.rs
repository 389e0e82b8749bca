//! Server-sent events per the HTML standard, decoded into typed events, resumed with
//! `Last-Event-ID` after a dropped connection.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde::de::DeserializeOwned;

use super::client::{Client, RequestOptions};
use super::error::Error;
use super::http::{decode_json, meta, Req, Response};

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

/// An incremental parser: feed bytes, take complete events.
#[derive(Debug, Default)]
pub(crate) struct Parser {
    buffer: Vec<u8>,
    event: String,
    data: String,
    has_data: bool,
    retry: Option<Duration>,
    /// The last event id seen (kept across events, as the standard says).
    pub(crate) last_id: Option<String>,
    id_changed: bool,
}

impl Parser {
    pub(crate) fn feed(&mut self, chunk: &[u8], out: &mut Vec<RawEvent>) {
        self.buffer.extend_from_slice(chunk);
        let mut start = 0;
        let mut i = 0;
        while i < self.buffer.len() {
            let byte = self.buffer.get(i).copied().unwrap_or(b'\n');
            if byte == b'\n' || byte == b'\r' {
                if byte == b'\r' && i + 1 == self.buffer.len() {
                    break; // a CR at the end may start a CRLF: wait for more
                }
                let line = String::from_utf8_lossy(self.buffer.get(start..i).unwrap_or_default())
                    .into_owned();
                self.line(&line, out);
                let crlf = byte == b'\r' && self.buffer.get(i + 1) == Some(&b'\n');
                i += if crlf { 2 } else { 1 };
                start = i;
            } else {
                i += 1;
            }
        }
        self.buffer.drain(..start.min(self.buffer.len()));
    }

    fn line(&mut self, line: &str, out: &mut Vec<RawEvent>) {
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
            "event" => self.event = value.to_owned(),
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "id" if !value.contains('\0') => {
                self.last_id = Some(value.to_owned());
                self.id_changed = true;
            }
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                if let Ok(ms) = value.parse::<u64>() {
                    self.retry = Some(Duration::from_millis(ms));
                }
            }
            _ => {}
        }
    }
}

type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, reqwest::Error>> + Send>>;

struct State {
    client: Client,
    req: Req,
    options: RequestOptions,
    body: Option<ByteStream>,
    parser: Parser,
    pending: std::collections::VecDeque<RawEvent>,
    reconnects: u32,
    delay: Option<Duration>,
}

/// A stream of typed server-sent events. Dropping it closes the connection.
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

async fn next_event(mut state: State) -> Option<(Result<RawEvent, Error>, State)> {
    loop {
        if let Some(event) = state.pending.pop_front() {
            if let Some(retry) = event.retry {
                state.delay = Some(retry);
            }
            return Some((Ok(event), state));
        }
        if state.body.is_none() {
            // Reconnect after a dropped connection, resuming after the last event seen.
            let limit = state
                .options
                .max_retries
                .unwrap_or(state.client.inner.max_retries);
            if state.reconnects >= limit {
                return None;
            }
            state.reconnects += 1;
            let delay = state
                .delay
                .unwrap_or_else(|| super::http::backoff(&state.client, state.reconnects));
            tokio::time::sleep(delay).await;
            let mut req = state.req.clone();
            if let (Some(header), Some(id)) = (req.resume_header(), state.parser.last_id.clone()) {
                req = req.with_header(header, &id);
            } else if let Some(id) = state.parser.last_id.clone() {
                req = req.with_header("Last-Event-ID", &id);
            }
            match state.client.execute(&req, &state.options).await {
                Ok((response, _)) => state.body = Some(Box::pin(response.bytes_stream())),
                Err(e) => {
                    return Some((
                        Err(e),
                        State {
                            body: None,
                            reconnects: u32::MAX,
                            ..state
                        },
                    ))
                }
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
                state.parser.feed(&bytes, &mut out);
                state.pending.extend(out);
            }
            Some(Err(_)) => {
                // A dropped connection: reconnect (bounded), unless the limit is reached.
                state.body = None;
                let limit = state
                    .options
                    .max_retries
                    .unwrap_or(state.client.inner.max_retries);
                if state.reconnects >= limit {
                    let attempts = state.reconnects + 1;
                    let error = Error::Connection {
                        message: "the event stream was interrupted".to_owned(),
                        attempts,
                    };
                    return Some((
                        Err(error),
                        State {
                            reconnects: u32::MAX,
                            ..state
                        },
                    ));
                }
            }
            None => return None, // a clean end
        }
    }
}

impl Client {
    /// Opens an event stream; reconnects after a dropped connection (up to the retry limit).
    pub(crate) async fn send_sse<T: DeserializeOwned>(
        &self,
        mut req: Req,
        options: &RequestOptions,
    ) -> Result<Response<EventStream<T>>, Error> {
        req.streaming();
        let (response, attempts) = self.execute(&req, options).await?;
        let meta = meta(&response, attempts);
        let state = State {
            client: self.clone(),
            req,
            options: options.clone(),
            body: Some(Box::pin(response.bytes_stream())),
            parser: Parser::default(),
            pending: Default::default(),
            reconnects: 0,
            delay: None,
        };
        let inner = futures::stream::unfold(state, next_event);
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
        parser.feed(b": comment\r\nevent: step\r\ndata: {\"a\":\r", &mut out);
        assert!(out.is_empty());
        parser.feed(b"\ndata: 1}\nid: 7\nretry: 250\n\ndata:x\n\n", &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].event, "step");
        assert_eq!(out[0].data, "{\"a\":\n1}");
        assert_eq!(out[0].id.as_deref(), Some("7"));
        assert_eq!(out[0].retry, Some(Duration::from_millis(250)));
        assert_eq!(out[1].event, "message");
        assert_eq!(out[1].id.as_deref(), Some("7"));
        parser.feed(b"event: empty\n\n", &mut out);
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
}
