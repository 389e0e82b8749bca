//! The hand-written runtime: client, transport, retries, errors, pagination and streaming.

#![allow(dead_code, unused_imports)]

pub(crate) mod client;
pub(crate) mod connect;
pub(crate) mod error;
pub(crate) mod http;
pub(crate) mod json;
pub(crate) mod pagination;
pub(crate) mod sse;
#[cfg(test)]
mod test_server;

pub use bytes::Bytes;
pub use client::{
    CancellationToken, Client, ClientBuilder, RequestOptions, DEFAULT_MAX_RESPONSE_BYTES,
};
pub use connect::MessageStream;
pub use error::{ApiError, ApiErrorKind, Error, Problem};
pub use http::{Binary, FilePart, Multipart, Response, ResponseMeta};
pub use sse::{Event, EventStream};

pub(crate) use client::{ApiKeyIn, AuthScheme};
pub(crate) use connect::call_connect_stream;
pub(crate) use http::{
    call_binary, call_empty, call_json, call_json_or_empty, call_sse, call_text, segment, Req,
    Style,
};
pub(crate) use pagination::{items, next_cursor, next_link, next_offset, pages, Paginated};
