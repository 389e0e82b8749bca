// Command conformance-client is the Connect conformance suite's client under test for the Go SDK
// that polysdk generates from the suite's own connectrpc/conformance/v1 protos.
//
// It reads size-prefixed ClientCompatRequest messages (protobuf binary) from stdin, makes each call
// through the generated SDK and writes a size-prefixed ClientCompatResponse per call to stdout.
// The protobuf library is used only here, at the edge: request messages become proto3 JSON
// (protojson), which the SDK's own types decode; the SDK's responses are encoded back to JSON and
// read by protojson. The SDK itself speaks only JSON over HTTP/1.1.
package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	conformance "github.com/polysdk/conformance-sdk-go"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	v1 "polysdk.test/connectconformance/gen/conformancev1"
)

const serviceName = "connectrpc.conformance.v1.ConformanceService"

// maxInFlight bounds the calls running at once (the suite's timeouts and delays make a little
// parallelism worthwhile; the machine is small).
const maxInFlight = 8

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "conformance-client:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, in io.Reader, out io.Writer) error {
	reader := bufio.NewReader(in)
	writer := &output{w: out}
	slots := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		req, err := readRequest(reader)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			resp := &v1.ClientCompatResponse{TestName: req.GetTestName()}
			result, err := invoke(ctx, req)
			if err != nil {
				resp.Result = &v1.ClientCompatResponse_Error{Error: &v1.ClientErrorResult{Message: err.Error()}}
			} else {
				resp.Result = &v1.ClientCompatResponse_Response{Response: result}
			}
			if err := writer.write(resp); err != nil {
				fmt.Fprintln(os.Stderr, "conformance-client: writing a result:", err)
			}
		}()
	}
}

func readRequest(r io.Reader) (*v1.ClientCompatRequest, error) {
	var prefix [4]byte
	if _, err := io.ReadFull(r, prefix[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("a truncated size prefix: %w", err)
		}
		return nil, err
	}
	data := make([]byte, binary.BigEndian.Uint32(prefix[:]))
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("a truncated request: %w", err)
	}
	req := &v1.ClientCompatRequest{}
	if err := proto.Unmarshal(data, req); err != nil {
		return nil, fmt.Errorf("a malformed ClientCompatRequest: %w", err)
	}
	return req, nil
}

// output writes size-prefixed messages, one at a time.
type output struct {
	mu sync.Mutex
	w  io.Writer
}

func (o *output) write(msg proto.Message) error {
	data, err := proto.Marshal(msg)
	if err != nil {
		return err
	}
	framed := make([]byte, 4, 4+len(data))
	binary.BigEndian.PutUint32(framed, uint32(len(data)))
	framed = append(framed, data...)
	o.mu.Lock()
	defer o.mu.Unlock()
	_, err = o.w.Write(framed)
	return err
}

// invoke makes the call a request describes. An error means the call could not be made at all.
func invoke(ctx context.Context, req *v1.ClientCompatRequest) (*v1.ClientResponseResult, error) {
	if req.GetService() != serviceName {
		return nil, fmt.Errorf("unknown service %q", req.GetService())
	}
	if len(req.GetRequestMessages()) != 1 {
		return nil, fmt.Errorf("%s takes one request message, got %d", req.GetMethod(), len(req.GetRequestMessages()))
	}
	if req.GetProtocol() != v1.Protocol_PROTOCOL_CONNECT || req.GetCodec() != v1.Codec_CODEC_JSON ||
		req.GetHttpVersion() != v1.HTTPVersion_HTTP_VERSION_1 || len(req.GetServerTlsCert()) > 0 ||
		(req.GetCompression() != v1.Compression_COMPRESSION_IDENTITY && req.GetCompression() != v1.Compression_COMPRESSION_UNSPECIFIED) {
		return nil, fmt.Errorf("unsupported configuration: %v %v %v %v TLS=%v", req.GetHttpVersion(), req.GetProtocol(), req.GetCodec(), req.GetCompression(), len(req.GetServerTlsCert()) > 0)
	}
	message := req.GetRequestMessages()[0]
	opts := options(req)
	client := conformance.NewClient(
		conformance.WithBaseURL(fmt.Sprintf("http://%s:%d", req.GetHost(), req.GetPort())),
		conformance.WithMaxRetries(0), // the suite expects exactly one attempt per call
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var httpResp *http.Response
	opts = append(opts, conformance.WithResponseInto(&httpResp))

	switch req.GetMethod() {
	case "Unary":
		var body conformance.UnaryRequest
		if err := convert(message, &v1.UnaryRequest{}, &body); err != nil {
			return nil, err
		}
		cancelAfterClose(ctx, req, cancel)
		resp, err := client.Conformance.Unary(ctx, conformance.UnaryParams{Body: body}, opts...)
		return unaryResult(httpResp, payloadOf(resp, func(r *conformance.UnaryResponse) *conformance.ConformancePayload { return r.Payload }), err)
	case "IdempotentUnary":
		var body conformance.IdempotentUnaryRequest
		if err := convert(message, &v1.IdempotentUnaryRequest{}, &body); err != nil {
			return nil, err
		}
		cancelAfterClose(ctx, req, cancel)
		resp, err := client.Conformance.IdempotentUnary(ctx, conformance.IdempotentUnaryParams{Body: body}, opts...)
		return unaryResult(httpResp, payloadOf(resp, func(r *conformance.IdempotentUnaryResponse) *conformance.ConformancePayload { return r.Payload }), err)
	case "Unimplemented":
		var body conformance.UnimplementedRequest
		if err := convert(message, &v1.UnimplementedRequest{}, &body); err != nil {
			return nil, err
		}
		cancelAfterClose(ctx, req, cancel)
		resp, err := client.Conformance.Unimplemented(ctx, conformance.UnimplementedParams{Body: body}, opts...)
		var payload *conformance.ConformancePayload
		if resp != nil {
			payload = &conformance.ConformancePayload{}
		}
		return unaryResult(httpResp, payload, err)
	case "ServerStream":
		var body conformance.ServerStreamRequest
		if err := convert(message, &v1.ServerStreamRequest{}, &body); err != nil {
			return nil, err
		}
		return serverStream(ctx, cancel, client, req, body, opts, &httpResp)
	default:
		return nil, fmt.Errorf("unsupported method %q (client- and bidi-streaming methods are not generated)", req.GetMethod())
	}
}

// options are the per-call options: request headers and the timeout.
func options(req *v1.ClientCompatRequest) []conformance.RequestOption {
	var opts []conformance.RequestOption
	for _, h := range req.GetRequestHeaders() {
		// WithHeader sets one value per name: several values travel as one comma-separated value,
		// which HTTP defines as equivalent.
		opts = append(opts, conformance.WithHeader(h.GetName(), strings.Join(h.GetValue(), ", ")))
	}
	if req.TimeoutMs != nil {
		opts = append(opts, conformance.WithTimeout(time.Duration(req.GetTimeoutMs())*time.Millisecond))
	} else {
		opts = append(opts, conformance.WithTimeout(0)) // no deadline unless the test sets one
	}
	if limit := req.GetMessageReceiveLimit(); limit > 0 {
		opts = append(opts, conformance.WithMaxResponseBytes(int64(limit)))
	}
	return opts
}

// cancelAfterClose cancels a unary call the given time after it was sent, when the test asks so.
func cancelAfterClose(ctx context.Context, req *v1.ClientCompatRequest, cancel context.CancelFunc) {
	c := req.GetCancel()
	if c == nil {
		return
	}
	switch timing := c.GetCancelTiming().(type) {
	case *v1.ClientCompatRequest_Cancel_AfterCloseSendMs:
		timer := time.AfterFunc(time.Duration(timing.AfterCloseSendMs)*time.Millisecond, cancel)
		context.AfterFunc(ctx, func() { timer.Stop() })
	case *v1.ClientCompatRequest_Cancel_BeforeCloseSend:
		cancel() // a unary or server-stream request is closed as it is sent
	}
}

func payloadOf[T any](resp *T, get func(*T) *conformance.ConformancePayload) *conformance.ConformancePayload {
	if resp == nil {
		return nil
	}
	if p := get(resp); p != nil {
		return p
	}
	return &conformance.ConformancePayload{}
}

func serverStream(ctx context.Context, cancel context.CancelFunc, client *conformance.Client, req *v1.ClientCompatRequest,
	body conformance.ServerStreamRequest, opts []conformance.RequestOption, httpResp **http.Response,
) (*v1.ClientResponseResult, error) {
	result := &v1.ClientResponseResult{}
	afterResponses := uint32(0)
	if c := req.GetCancel(); c != nil {
		switch timing := c.GetCancelTiming().(type) {
		case *v1.ClientCompatRequest_Cancel_AfterNumResponses:
			afterResponses = timing.AfterNumResponses
		default:
			cancelAfterClose(ctx, req, cancel)
		}
	}
	var streamErr error
	received := uint32(0)
	for msg, err := range client.Conformance.ServerStream(ctx, conformance.ServerStreamParams{Body: body}, opts...) {
		if err != nil {
			streamErr = err
			break
		}
		payload := msg.Payload
		if payload == nil {
			payload = &conformance.ConformancePayload{}
		}
		converted, err := payloadToProto(payload)
		if err != nil {
			return nil, err
		}
		result.Payloads = append(result.Payloads, converted)
		received++
		if afterResponses > 0 && received == afterResponses {
			cancel()
		}
	}
	if *httpResp != nil {
		result.ResponseHeaders = headersOf((*httpResp).Header, false)
		// The SDK exposes a stream's trailers (the end-of-stream metadata) as the response's
		// Trailer, once the stream has ended.
		result.ResponseTrailers = headersOf((*httpResp).Trailer, false)
	}
	if streamErr != nil {
		result.Error = errorOf(streamErr)
	}
	return result, nil
}

func unaryResult(httpResp *http.Response, payload *conformance.ConformancePayload, err error) (*v1.ClientResponseResult, error) {
	result := &v1.ClientResponseResult{}
	if httpResp != nil {
		result.ResponseHeaders = headersOf(httpResp.Header, false)
		result.ResponseTrailers = headersOf(httpResp.Header, true)
	}
	if err != nil {
		result.Error = errorOf(err)
		return result, nil
	}
	converted, cerr := payloadToProto(payload)
	if cerr != nil {
		return nil, cerr
	}
	result.Payloads = []*v1.ConformancePayload{converted}
	return result, nil
}

// convert turns a request message from the suite into the SDK's type by way of proto3 JSON.
func convert(message *anypb.Any, into proto.Message, out any) error {
	if err := message.UnmarshalTo(into); err != nil {
		return fmt.Errorf("the request message: %w", err)
	}
	data, err := protojson.Marshal(into)
	if err != nil {
		return fmt.Errorf("the request message as JSON: %w", err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("the SDK cannot decode the request message %s: %w", data, err)
	}
	return nil
}

// payloadToProto reads a payload the SDK decoded back into the suite's message.
func payloadToProto(payload *conformance.ConformancePayload) (*v1.ConformancePayload, error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("encoding the SDK's payload: %w", err)
	}
	out := &v1.ConformancePayload{}
	if err := protojson.Unmarshal(data, out); err != nil {
		return nil, fmt.Errorf("the SDK's payload %s is not a ConformancePayload: %w", data, err)
	}
	return out, nil
}

// headersOf lists the headers of a Connect response: the plain ones, or (trailers) those that
// Connect's unary protocol sends prefixed with "Trailer-", without the prefix.
func headersOf(header http.Header, trailers bool) []*v1.Header {
	var out []*v1.Header
	for name, values := range header {
		lower := strings.ToLower(name)
		isTrailer := strings.HasPrefix(lower, "trailer-")
		if isTrailer != trailers {
			continue
		}
		if trailers {
			lower = strings.TrimPrefix(lower, "trailer-")
		}
		out = append(out, &v1.Header{Name: lower, Value: append([]string(nil), values...)})
	}
	return out
}

// codes maps the Connect code strings onto the suite's enum.
var codes = map[string]v1.Code{
	"canceled":            v1.Code_CODE_CANCELED,
	"unknown":             v1.Code_CODE_UNKNOWN,
	"invalid_argument":    v1.Code_CODE_INVALID_ARGUMENT,
	"deadline_exceeded":   v1.Code_CODE_DEADLINE_EXCEEDED,
	"not_found":           v1.Code_CODE_NOT_FOUND,
	"already_exists":      v1.Code_CODE_ALREADY_EXISTS,
	"permission_denied":   v1.Code_CODE_PERMISSION_DENIED,
	"resource_exhausted":  v1.Code_CODE_RESOURCE_EXHAUSTED,
	"failed_precondition": v1.Code_CODE_FAILED_PRECONDITION,
	"aborted":             v1.Code_CODE_ABORTED,
	"out_of_range":        v1.Code_CODE_OUT_OF_RANGE,
	"unimplemented":       v1.Code_CODE_UNIMPLEMENTED,
	"internal":            v1.Code_CODE_INTERNAL,
	"unavailable":         v1.Code_CODE_UNAVAILABLE,
	"data_loss":           v1.Code_CODE_DATA_LOSS,
	"unauthenticated":     v1.Code_CODE_UNAUTHENTICATED,
}

// errorOf describes an SDK error as the suite's Error: the Connect code, message and details of
// an API error; deadline_exceeded for a timeout, canceled for a cancelled call; otherwise the
// code the Connect protocol gives such a failure.
func errorOf(err error) *v1.Error {
	var (
		apiErr     *conformance.APIError
		timeout    *conformance.TimeoutError
		cancelled  *conformance.CancelledError
		connection *conformance.ConnectionError
		decode     *conformance.DecodeError
	)
	msg := func(s string) *string { return &s }
	switch {
	case errors.As(err, &apiErr):
		code, ok := codes[apiErr.Code]
		if !ok {
			code = v1.Code_CODE_UNKNOWN
		}
		return &v1.Error{Code: code, Message: msg(apiErr.Message), Details: detailsOf(apiErr.Details)}
	case errors.As(err, &timeout):
		out := &v1.Error{Code: v1.Code_CODE_DEADLINE_EXCEEDED, Message: msg(timeout.Message)}
		if timeout.Code == "" {
			out.Message = msg(timeout.Error())
		}
		out.Details = detailsOf(timeout.Details)
		return out
	case errors.As(err, &cancelled):
		if errors.Is(cancelled.Err, context.DeadlineExceeded) {
			return &v1.Error{Code: v1.Code_CODE_DEADLINE_EXCEEDED, Message: msg(err.Error())}
		}
		return &v1.Error{Code: v1.Code_CODE_CANCELED, Message: msg(err.Error())}
	case errors.As(err, &connection):
		return &v1.Error{Code: v1.Code_CODE_UNAVAILABLE, Message: msg(err.Error())}
	case errors.As(err, &decode):
		if strings.Contains(err.Error(), "max_response_bytes") {
			return &v1.Error{Code: v1.Code_CODE_RESOURCE_EXHAUSTED, Message: msg(err.Error())}
		}
		return &v1.Error{Code: v1.Code_CODE_INTERNAL, Message: msg(err.Error())}
	}
	return &v1.Error{Code: v1.Code_CODE_UNKNOWN, Message: msg(err.Error())}
}

// detailsOf reads Connect error details ({"type", "value" (base64), "debug"}) as Any messages.
func detailsOf(raw json.RawMessage) []*anypb.Any {
	if len(raw) == 0 {
		return nil
	}
	var details []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	}
	if json.Unmarshal(raw, &details) != nil {
		return nil
	}
	out := make([]*anypb.Any, 0, len(details))
	for _, d := range details {
		value, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(d.Value, "="))
		if err != nil {
			continue
		}
		out = append(out, &anypb.Any{TypeUrl: "type.googleapis.com/" + d.Type, Value: value})
	}
	return out
}
