//! The Connect conformance suite's client under test for the Rust SDK that polysdk generates from
//! the suite's own connectrpc/conformance/v1 protos.
//!
//! Usage: `polysdk-connect-conformance-client <descriptor set>` (protoc --include_imports output
//! for client_compat.proto). It reads size-prefixed ClientCompatRequest messages (protobuf binary)
//! from stdin, makes each call through the generated SDK and writes a size-prefixed
//! ClientCompatResponse per call to stdout. prost-reflect is used only here, at the edge: request
//! messages become proto3 JSON, which the SDK's own types decode; the SDK's responses are written
//! back as JSON and read into the suite's messages. The SDK itself speaks only JSON over HTTP/1.1.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use conformance_sdk::{ApiError, CancellationToken, Client, Error, MessageStream, ResponseMeta};
use futures::StreamExt;
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, Value};
use serde_json::{json, Value as Json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex;

const SERVICE: &str = "connectrpc.conformance.v1.ConformanceService";
const PKG: &str = "connectrpc.conformance.v1";

type Failure = String;

struct Harness {
    pool: DescriptorPool,
    out: Mutex<tokio::io::Stdout>,
}

impl Harness {
    fn message(&self, name: &str) -> MessageDescriptor {
        self.pool
            .get_message_by_name(name)
            .unwrap_or_else(|| panic!("the descriptor set lacks {name}"))
    }

    async fn write(&self, message: &DynamicMessage) {
        let data = message.encode_to_vec();
        let mut frame = Vec::with_capacity(4 + data.len());
        frame.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
        frame.extend_from_slice(&data);
        let mut out = self.out.lock().await;
        if let Err(e) = out.write_all(&frame).await {
            eprintln!("conformance-client: writing a result: {e}");
        }
        let _ = out.flush().await;
    }

    async fn handle(self: Arc<Self>, data: Vec<u8>) {
        let request = match DynamicMessage::decode(
            self.message(&format!("{PKG}.ClientCompatRequest")),
            data.as_slice(),
        ) {
            Ok(request) => request,
            Err(e) => {
                eprintln!("conformance-client: a malformed ClientCompatRequest: {e}");
                return;
            }
        };
        // The request as proto3 JSON (camelCase names, enums by name, Any with "@type").
        let request = serde_json::to_value(&request).unwrap_or(Json::Null);
        let test_name = request["testName"].as_str().unwrap_or_default().to_owned();
        let (response, details) = match invoke(&request).await {
            Ok((result, details)) => (json!({"testName": test_name, "response": result}), details),
            Err(message) => (
                json!({"testName": test_name, "error": {"message": message}}),
                Vec::new(),
            ),
        };
        let descriptor = self.message(&format!("{PKG}.ClientCompatResponse"));
        let mut message = match DynamicMessage::deserialize(descriptor.clone(), response.clone()) {
            Ok(message) => message,
            Err(e) => {
                let fallback = json!({"testName": test_name, "error": {"message": format!("the SDK's result {response} is not a ClientCompatResponse: {e}")}});
                DynamicMessage::deserialize(descriptor, fallback).expect("a ClientCompatResponse")
            }
        };
        if !details.is_empty() {
            self.set_details(&mut message, details);
        }
        self.write(&message).await;
    }

    /// Sets the error details (type, bytes) as Any messages: their content stays binary.
    fn set_details(&self, message: &mut DynamicMessage, details: Vec<(String, Vec<u8>)>) {
        let any = self.message("google.protobuf.Any");
        let anys = details
            .into_iter()
            .map(|(type_name, value)| {
                let mut detail = DynamicMessage::new(any.clone());
                detail.set_field_by_name(
                    "type_url",
                    Value::String(format!("type.googleapis.com/{type_name}")),
                );
                detail.set_field_by_name("value", Value::Bytes(value.into()));
                Value::Message(detail)
            })
            .collect();
        if let Some(Value::Message(result)) = message.get_field_by_name_mut("response") {
            if let Some(Value::Message(error)) = result.get_field_by_name_mut("error") {
                error.set_field_by_name("details", Value::List(anys));
            }
        }
    }
}

type Details = Vec<(String, Vec<u8>)>;

/// Makes the call a request describes: the ClientResponseResult as JSON and the error's details.
/// An error means the call could not be made at all.
async fn invoke(req: &Json) -> Result<(Json, Details), Failure> {
    let method = req["method"].as_str().unwrap_or_default();
    if req["service"].as_str() != Some(SERVICE) {
        return Err(format!("unknown service {}", req["service"]));
    }
    let messages = req["requestMessages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if messages.len() != 1 {
        return Err(format!(
            "{method} takes one request message, got {}",
            messages.len()
        ));
    }
    let compression = req["compression"]
        .as_str()
        .unwrap_or("COMPRESSION_UNSPECIFIED");
    if req["httpVersion"] != "HTTP_VERSION_1"
        || req["protocol"] != "PROTOCOL_CONNECT"
        || req["codec"] != "CODEC_JSON"
        || !matches!(
            compression,
            "COMPRESSION_IDENTITY" | "COMPRESSION_UNSPECIFIED"
        )
        || !req["serverTlsCert"].is_null()
    {
        return Err(format!("unsupported configuration {req}"));
    }
    let client = Client::builder()
        .base_url(format!(
            "http://{}:{}",
            req["host"].as_str().unwrap_or_default(),
            req["port"]
        ))
        .max_retries(0) // the suite expects exactly one attempt per call
        .build()
        .map_err(|e| e.to_string())?;
    let token = CancellationToken::new();
    let mut options = conformance_sdk::RequestOptions::new().cancellation(token.clone());
    for header in req["requestHeaders"].as_array().into_iter().flatten() {
        // One value per name: several values travel as one comma-separated value, which HTTP
        // defines as equivalent (as the Go and TypeScript clients send them).
        let name = header["name"].as_str().unwrap_or_default();
        let values: Vec<&str> = header["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .collect();
        options = options.header(name, values.join(", "));
    }
    if let Some(ms) = req["timeoutMs"].as_u64() {
        options = options.timeout(Duration::from_millis(ms));
    }
    if let Some(limit) = req["messageReceiveLimit"]
        .as_u64()
        .filter(|limit| *limit > 0)
    {
        options = options.max_response_bytes(limit);
    }
    let cancel = &req["cancel"];
    let cancel_after_close = || {
        if let Some(ms) = cancel["afterCloseSendMs"].as_u64() {
            let token = token.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                token.cancel();
            });
        } else if cancel.get("beforeCloseSend").is_some() {
            token.cancel();
        }
    };
    let mut message = messages.into_iter().next().unwrap_or(Json::Null);
    if let Some(object) = message.as_object_mut() {
        object.remove("@type");
    }
    let conformance = client.conformance();
    match method {
        "Unary" => {
            let body = from_json(message)?;
            cancel_after_close();
            let call = conformance
                .unary(body)
                .options(options)
                .send_with_response()
                .await;
            Ok(unary(call.map(|r| (r.data.payload, r.meta))))
        }
        "IdempotentUnary" => {
            let body = from_json(message)?;
            cancel_after_close();
            let call = conformance
                .idempotent_unary(body)
                .options(options)
                .send_with_response()
                .await;
            Ok(unary(call.map(|r| (r.data.payload, r.meta))))
        }
        "Unimplemented" => {
            let body = from_json(message)?;
            cancel_after_close();
            let call = conformance
                .unimplemented(body)
                .options(options)
                .send_with_response()
                .await;
            Ok(unary(call.map(|r| {
                (Some(conformance_sdk::ConformancePayload::default()), r.meta)
            })))
        }
        "ServerStream" => {
            let body = from_json(message)?;
            let after = cancel["afterNumResponses"].as_u64().unwrap_or(0);
            if after == 0 {
                cancel_after_close();
            }
            let call = conformance
                .server_stream(body)
                .options(options)
                .send_with_response()
                .await;
            Ok(server_stream(call, after, &token).await)
        }
        _ => Err(format!(
            "unsupported method {method} (client- and bidi-streaming methods are not generated)"
        )),
    }
}

fn from_json<T: serde::de::DeserializeOwned>(message: Json) -> Result<T, Failure> {
    serde_json::from_value(message.clone())
        .map_err(|e| format!("the SDK cannot decode the request message {message}: {e}"))
}

fn unary(
    call: Result<(Option<conformance_sdk::ConformancePayload>, ResponseMeta), Error>,
) -> (Json, Details) {
    match call {
        Ok((payload, meta)) => {
            let payload = serde_json::to_value(payload.unwrap_or_default()).unwrap_or(Json::Null);
            (
                json!({
                    "responseHeaders": headers_of(&meta.headers, false),
                    "responseTrailers": headers_of(&meta.headers, true),
                    "payloads": [payload],
                }),
                Vec::new(),
            )
        }
        Err(error) => {
            let (error_json, details) = error_of(&error);
            let mut result = json!({"error": error_json});
            if let Some(api) = server_error(&error) {
                result["responseHeaders"] = headers_of(&api.headers, false);
                result["responseTrailers"] = headers_of(&api.headers, true);
            }
            (result, details)
        }
    }
}

async fn server_stream(
    call: Result<
        conformance_sdk::Response<MessageStream<conformance_sdk::ServerStreamResponse>>,
        Error,
    >,
    after: u64,
    token: &CancellationToken,
) -> (Json, Details) {
    let response = match call {
        Ok(response) => response,
        Err(error) => return unary(Err(error)),
    };
    let mut result = json!({"responseHeaders": headers_of(&response.meta.headers, false)});
    let mut payloads = Vec::new();
    let mut details = Vec::new();
    let mut stream = response.data;
    while let Some(item) = stream.next().await {
        match item {
            Ok(message) => {
                payloads.push(
                    serde_json::to_value(message.payload.unwrap_or_default()).unwrap_or(Json::Null),
                );
                if after > 0 && payloads.len() as u64 == after {
                    token.cancel();
                }
            }
            Err(error) => {
                let (error_json, error_details) = error_of(&error);
                result["error"] = error_json;
                details = error_details;
                break;
            }
        }
    }
    if let Some(trailers) = stream.trailers() {
        result["responseTrailers"] = trailers_of(trailers);
    }
    result["payloads"] = Json::Array(payloads);
    (result, details)
}

/// The error the server answered with: an API error, or the one behind a timeout the server
/// reported (`deadline_exceeded`).
fn server_error(error: &Error) -> Option<&ApiError> {
    match error {
        Error::Timeout { server, .. } => server.as_deref(),
        _ => error.api(),
    }
}

/// The plain headers, or (trailers) those Connect's unary protocol prefixes with "trailer-".
fn headers_of(headers: &http::HeaderMap, trailers: bool) -> Json {
    let mut out: Vec<Json> = Vec::new();
    for name in headers.keys() {
        let name = name.as_str();
        let is_trailer = name.starts_with("trailer-");
        if is_trailer != trailers {
            continue;
        }
        let key = if trailers {
            &name["trailer-".len()..]
        } else {
            name
        };
        out.push(json!({"name": key, "value": values_of(headers, name)}));
    }
    Json::Array(out)
}

/// A stream's trailers, as the SDK gives them.
fn trailers_of(trailers: &http::HeaderMap) -> Json {
    let out = trailers
        .keys()
        .map(|name| json!({"name": name.as_str(), "value": values_of(trailers, name.as_str())}))
        .collect();
    Json::Array(out)
}

fn values_of<'a>(headers: &'a http::HeaderMap, name: &str) -> Vec<&'a str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}

fn code_name(code: &str) -> String {
    format!("CODE_{}", code.to_ascii_uppercase())
}

/// An SDK error as the suite's Error (JSON, without details) and its details (type, bytes). The
/// server's own error, when there is one, is reported as it came (a deadline_exceeded too).
fn error_of(error: &Error) -> (Json, Details) {
    match error {
        Error::Api(api)
        | Error::Timeout {
            server: Some(api), ..
        } => {
            let code = api.code.clone().unwrap_or_else(|| "unknown".to_owned());
            let known = [
                "canceled",
                "unknown",
                "invalid_argument",
                "deadline_exceeded",
                "not_found",
                "already_exists",
                "permission_denied",
                "resource_exhausted",
                "failed_precondition",
                "aborted",
                "out_of_range",
                "unimplemented",
                "internal",
                "unavailable",
                "data_loss",
                "unauthenticated",
            ];
            let code = if known.contains(&code.as_str()) {
                code
            } else {
                "unknown".to_owned()
            };
            let details = api
                .details
                .as_ref()
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(|d| {
                    let type_name = d["type"].as_str()?.to_owned();
                    let value = d["value"].as_str()?.trim_end_matches('=');
                    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
                        .decode(value)
                        .ok()?;
                    Some((type_name, bytes))
                })
                .collect();
            (
                json!({"code": code_name(&code), "message": api.message}),
                details,
            )
        }
        Error::Timeout { .. } => (
            json!({"code": "CODE_DEADLINE_EXCEEDED", "message": error.to_string()}),
            Vec::new(),
        ),
        Error::Cancelled => (
            json!({"code": "CODE_CANCELED", "message": error.to_string()}),
            Vec::new(),
        ),
        Error::Connection { .. } => (
            json!({"code": "CODE_UNAVAILABLE", "message": error.to_string()}),
            Vec::new(),
        ),
        Error::Decode { message, .. } if message.contains("max_response_bytes") => (
            json!({"code": "CODE_RESOURCE_EXHAUSTED", "message": error.to_string()}),
            Vec::new(),
        ),
        Error::Decode { .. } => (
            json!({"code": "CODE_INTERNAL", "message": error.to_string()}),
            Vec::new(),
        ),
        _ => (
            json!({"code": "CODE_UNKNOWN", "message": error.to_string()}),
            Vec::new(),
        ),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: polysdk-connect-conformance-client <descriptor set>");
    let descriptors = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let pool = DescriptorPool::decode(descriptors.as_slice()).expect("a FileDescriptorSet");
    let harness = Arc::new(Harness {
        pool,
        out: Mutex::new(tokio::io::stdout()),
    });
    let mut stdin = tokio::io::stdin();
    let mut tasks = Vec::new();
    loop {
        let mut prefix = [0u8; 4];
        match stdin.read_exact(&mut prefix).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => panic!("reading stdin: {e}"),
        }
        let mut data = vec![0u8; u32::from_be_bytes(prefix) as usize];
        stdin
            .read_exact(&mut data)
            .await
            .expect("a complete request");
        tasks.push(tokio::spawn(harness.clone().handle(data)));
    }
    for task in tasks {
        let _ = task.await;
    }
}
