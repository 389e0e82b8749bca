// The Connect conformance suite's client under test for the TypeScript SDK that polysdk generates
// from the suite's own connectrpc/conformance/v1 protos.
//
// It reads size-prefixed ClientCompatRequest messages (protobuf binary) from stdin, makes each call
// through the generated SDK and writes a size-prefixed ClientCompatResponse per call to stdout.
// The protobuf library (@bufbuild/protobuf, with the suite's descriptors loaded at run time) is
// used only here, at the edge: request messages become proto3 JSON, which the SDK sends; the
// SDK's decoded responses are written back as JSON and read into the suite's messages. The SDK
// itself speaks only JSON over HTTP/1.1.

import { readFileSync } from "node:fs";
import {
  type DescMessage,
  type Message,
  type Registry,
  create,
  createFileRegistry,
  fromBinary,
  fromJson,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { type Any, AnySchema, FileDescriptorSetSchema, anyUnpack } from "@bufbuild/protobuf/wkt";
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIDecodeError,
  APIError,
  APIUserAbortError,
  ConformanceClient,
  type ConformancePayload,
  type RequestOptions,
  parseJSON,
  stringifyJSON,
} from "conformance-sdk";

const SERVICE = "connectrpc.conformance.v1.ConformanceService";
const PKG = "connectrpc.conformance.v1";

// The suite's descriptors (protoc --include_imports --descriptor_set_out), next to dist/.
const registry: Registry = createFileRegistry(
  fromBinary(FileDescriptorSetSchema, readFileSync(new URL("../conformance.binpb", import.meta.url))),
);

function schema(name: string): DescMessage {
  const desc = registry.getMessage(`${PKG}.${name}`);
  if (desc === undefined) throw new Error(`the descriptors lack ${PKG}.${name}`);
  return desc;
}

const RequestSchema = schema("ClientCompatRequest");
const ResponseSchema = schema("ClientCompatResponse");
const PayloadSchema = schema("ConformancePayload");
const codeEnum = registry.getEnum(`${PKG}.Code`);

/** The fields of ClientCompatRequest this program reads (the message is dynamic). */
interface CompatRequest {
  testName: string;
  httpVersion: number;
  protocol: number;
  codec: number;
  compression: number;
  host: string;
  port: number;
  serverTlsCert: Uint8Array;
  messageReceiveLimit: number;
  service?: string;
  method?: string;
  requestHeaders: Array<{ name: string; value: string[] }>;
  requestMessages: Any[];
  timeoutMs?: number;
  cancel?: { cancelTiming: { case: string | undefined; value?: unknown } };
}

interface Header {
  name: string;
  value: string[];
}

interface ResultError {
  code: number;
  message?: string;
  details: Any[];
}

interface Result {
  responseHeaders: Header[];
  payloads: Message[];
  error?: ResultError;
  responseTrailers: Header[];
}

/** A call that could not be made at all (not an RPC error). */
class HarnessError extends Error {}

function write(message: Message): void {
  const data = toBinary(ResponseSchema, message);
  const frame = new Uint8Array(4 + data.length);
  new DataView(frame.buffer).setUint32(0, data.length, false);
  frame.set(data, 4);
  process.stdout.write(frame);
}

async function handle(data: Uint8Array): Promise<void> {
  const request = fromBinary(RequestSchema, data) as unknown as CompatRequest;
  let result: Message;
  try {
    const response = await invoke(request);
    result = create(ResponseSchema, { testName: request.testName, result: { case: "response", value: response } });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    result = create(ResponseSchema, { testName: request.testName, result: { case: "error", value: { message } } });
  }
  write(result);
}

async function invoke(req: CompatRequest): Promise<Result> {
  if (req.service !== SERVICE) throw new HarnessError(`unknown service ${String(req.service)}`);
  if (req.requestMessages.length !== 1) throw new HarnessError(`${String(req.method)} takes one request message`);
  // HTTP_VERSION_1, PROTOCOL_CONNECT, CODEC_JSON, COMPRESSION_IDENTITY (or unset), no TLS.
  if (req.httpVersion !== 1 || req.protocol !== 1 || req.codec !== 2 || req.compression > 1 || req.serverTlsCert.length > 0) {
    throw new HarnessError(`unsupported configuration ${req.httpVersion}/${req.protocol}/${req.codec}/${req.compression}`);
  }
  const client = new ConformanceClient({
    baseURL: `http://${req.host}:${req.port}`,
    maxRetries: 0, // the suite expects exactly one attempt per call
  });
  const abort = new AbortController();
  const options: RequestOptions = {
    signal: abort.signal,
    headers: Object.fromEntries(req.requestHeaders.map((h) => [h.name, h.value.join(", ")])),
    // No deadline (and no Connect-Timeout-Ms) unless the test sets one: 0 means none.
    timeout: req.timeoutMs ?? 0,
    ...(req.messageReceiveLimit > 0 ? { maxResponseBytes: req.messageReceiveLimit } : {}),
  };
  const message = req.requestMessages[0] as Any;
  const timing = req.cancel?.cancelTiming;
  const cancelAfterClose = (): void => {
    if (timing?.case === "afterCloseSendMs") {
      const timer = setTimeout(() => abort.abort(), timing.value as number);
      abort.signal.addEventListener("abort", () => clearTimeout(timer));
    } else if (timing?.case === "beforeCloseSend") {
      abort.abort();
    }
  };
  switch (req.method) {
    case "Unary": {
      const body = requestBody(message, "UnaryRequest") as never;
      cancelAfterClose();
      return unary(client.conformance.unary({ body }, options).withResponse());
    }
    case "IdempotentUnary": {
      const body = requestBody(message, "IdempotentUnaryRequest") as never;
      cancelAfterClose();
      return unary(client.conformance.idempotentUnary({ body }, options).withResponse());
    }
    case "Unimplemented": {
      const body = requestBody(message, "UnimplementedRequest") as never;
      cancelAfterClose();
      return unary(
        client.conformance
          .unimplemented({ body }, options)
          .withResponse()
          .then((r) => ({ ...r, data: { payload: {} } })),
      );
    }
    case "ServerStream": {
      const body = requestBody(message, "ServerStreamRequest") as never;
      const afterResponses = timing?.case === "afterNumResponses" ? (timing.value as number) : 0;
      if (afterResponses === 0) cancelAfterClose();
      const result: Result = { responseHeaders: [], payloads: [], responseTrailers: [] };
      let stream;
      try {
        stream = await client.conformance.serverStream({ body }, options);
      } catch (error) {
        result.error = errorOf(error);
        if (error instanceof APIError) {
          result.responseHeaders = headersOf(error.headers, false);
          result.responseTrailers = headersOf(error.headers, true);
        }
        return result;
      }
      result.responseHeaders = headersOf(stream.response.headers, false);
      try {
        for await (const msg of stream) {
          result.payloads.push(payloadToProto(msg.payload ?? {}));
          if (afterResponses > 0 && result.payloads.length === afterResponses) abort.abort();
        }
      } catch (error) {
        result.error = errorOf(error);
      }
      result.responseTrailers = metadataHeaders(stream.metadata);
      return result;
    }
    default:
      throw new HarnessError(`unsupported method ${String(req.method)} (client- and bidi-streaming methods are not generated)`);
  }
}

/** A request message from the suite, as the JSON the SDK's request types are made of. */
function requestBody(message: Any, type: string): unknown {
  if (message.typeUrl.slice(message.typeUrl.lastIndexOf("/") + 1) !== `${PKG}.${type}`) {
    throw new HarnessError(`expected a ${type}, got ${message.typeUrl}`);
  }
  const unpacked = anyUnpack(message, registry);
  if (unpacked === undefined) throw new HarnessError(`cannot unpack ${message.typeUrl}`);
  return parseJSON(JSON.stringify(toJson(schema(type), unpacked, { registry })));
}

async function unary(call: Promise<{ data: { payload?: ConformancePayload }; response: Response }>): Promise<Result> {
  const result: Result = { responseHeaders: [], payloads: [], responseTrailers: [] };
  try {
    const { data, response } = await call;
    result.responseHeaders = headersOf(response.headers, false);
    result.responseTrailers = headersOf(response.headers, true);
    result.payloads.push(payloadToProto(data.payload ?? {}));
  } catch (error) {
    result.error = errorOf(error);
    if (error instanceof APIError) {
      result.responseHeaders = headersOf(error.headers, false);
      result.responseTrailers = headersOf(error.headers, true);
    }
  }
  return result;
}

/** A payload the SDK decoded, back into the suite's message by way of JSON. */
function payloadToProto(payload: ConformancePayload): Message {
  return fromJson(PayloadSchema, JSON.parse(stringifyJSON(payload)), { registry });
}

/** The plain headers, or (trailers) those Connect's unary protocol prefixes with "trailer-". */
function headersOf(headers: Headers, trailers: boolean): Header[] {
  const out = new Map<string, string[]>();
  headers.forEach((value, name) => {
    const isTrailer = name.startsWith("trailer-");
    if (isTrailer !== trailers) return;
    const key = trailers ? name.slice("trailer-".length) : name;
    // fetch joins repeated headers with ", "; set-cookie aside, that is equivalent.
    out.set(key, [...(out.get(key) ?? []), value]);
  });
  return [...out].map(([name, value]) => ({ name, value }));
}

function metadataHeaders(metadata: { readonly [key: string]: readonly string[] } | undefined): Header[] {
  return Object.entries(metadata ?? {}).map(([name, value]) => ({ name: name.toLowerCase(), value: [...value] }));
}

function code(name: string): number {
  return codeEnum?.values.find((v) => v.name === `CODE_${name.toUpperCase()}`)?.number ?? 2; // CODE_UNKNOWN
}

function detailsOf(details: unknown): Any[] {
  const out: Any[] = [];
  for (const detail of Array.isArray(details) ? (details as unknown[]) : []) {
    if (typeof detail !== "object" || detail === null) continue;
    const { type, value } = detail as { type?: unknown; value?: unknown };
    if (typeof type !== "string" || typeof value !== "string") continue;
    out.push(create(AnySchema, { typeUrl: `type.googleapis.com/${type}`, value: Buffer.from(value, "base64") }));
  }
  return out;
}

/** An SDK error as the suite's Error: the Connect code, message and details. */
function errorOf(error: unknown): ResultError {
  if (error instanceof APIError) {
    const raw = error.error as { message?: unknown } | undefined;
    const message = typeof raw?.message === "string" ? raw.message : error.message;
    return { code: code(error.code ?? "unknown"), message, details: detailsOf(error.details) };
  }
  if (error instanceof APIConnectionTimeoutError) {
    // A server's deadline_exceeded (`code` set) keeps its message and details; a timeout of the
    // SDK's own has only the SDK's message.
    const message = error.code === undefined ? error.message : (error.serverMessage ?? "");
    return { code: code("deadline_exceeded"), message, details: detailsOf(error.details) };
  }
  if (error instanceof APIUserAbortError) return { code: code("canceled"), message: error.message, details: [] };
  if (error instanceof APIConnectionError) return { code: code("unavailable"), message: error.message, details: [] };
  if (error instanceof APIDecodeError) {
    const limit = error.message.includes("maxResponseBytes") || error.message.includes("max_response_bytes");
    return { code: code(limit ? "resource_exhausted" : "internal"), message: error.message, details: [] };
  }
  return { code: code("unknown"), message: error instanceof Error ? error.message : String(error), details: [] };
}

async function main(): Promise<void> {
  const pending: Promise<void>[] = [];
  let buffered = new Uint8Array(0);
  for await (const chunk of process.stdin as AsyncIterable<Uint8Array>) {
    const joined = new Uint8Array(buffered.length + chunk.length);
    joined.set(buffered);
    joined.set(chunk, buffered.length);
    buffered = joined;
    while (buffered.length >= 4) {
      const size = new DataView(buffered.buffer, buffered.byteOffset).getUint32(0, false);
      if (buffered.length < 4 + size) break;
      pending.push(handle(buffered.slice(4, 4 + size)));
      buffered = buffered.slice(4 + size);
    }
  }
  if (buffered.length > 0) throw new Error("stdin ended inside a request");
  await Promise.all(pending);
}

process.on("SIGTERM", () => process.exit(1));
main().catch((error: unknown) => {
  process.stderr.write(`conformance-client: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
