package orchestrator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// sseEvent is one server-sent event as the HTML Living Standard dispatches it.
type sseEvent struct {
	event string // the event type; "message" when the stream names none
	data  []byte // data lines joined with "\n"; the event's own copy
	id    string // the last event ID at dispatch
}

// sseReader parses a text/event-stream body in one pass: every byte is looked at once, and it
// holds at most limit bytes for one event (the pending line plus the event's data).
type sseReader struct {
	r         io.Reader
	buf       []byte
	start     int // the pending line begins here
	scanned   int // buf[start:scanned] holds no line terminator
	end       int // buf[end:] is free
	skipLF    bool
	readErr   error
	limit     int64
	lastID    string
	retry     time.Duration // the reconnection time the stream asked for; 0 when it did not
	started   bool
	eventSize int64 // bytes of data held for the event being read
}

const (
	sseMinRead = 4 << 10
	// sseBufferSize is the first buffer of a stream, enough for most streams' events.
	sseBufferSize = 16 << 10
)

// sseBuffers recycles the first buffer of each stream: a short stream would otherwise cost more
// in allocating and clearing it than in parsing its events.
var sseBuffers = sync.Pool{New: func() any { b := make([]byte, sseBufferSize); return &b }}

func newSSEReader(r io.Reader) *sseReader {
	return &sseReader{r: r, limit: defaultMaxResponseBytes}
}

// release hands a first-size buffer back to sseBuffers; the reader is not used after it (events
// already returned hold copies of their text).
func (s *sseReader) release() {
	if len(s.buf) == sseBufferSize {
		buf := s.buf
		sseBuffers.Put(&buf)
	}
	s.buf, s.start, s.scanned, s.end = nil, 0, 0, 0
}

// line returns the next line without its terminator (CRLF, LF or a bare CR); the slice is valid
// until the next call. At the end of the stream an unterminated last line is returned, then the
// read error (io.EOF at a clean end).
func (s *sseReader) line() ([]byte, error) {
	for {
		if s.skipLF && s.start < s.end {
			s.skipLF = false
			if s.buf[s.start] == '\n' {
				s.start++
				s.scanned = max(s.scanned, s.start)
			}
		}
		if i := bytes.IndexAny(s.buf[s.scanned:s.end], "\r\n"); i >= 0 {
			at := s.scanned + i
			line := s.buf[s.start:at]
			s.skipLF = s.buf[at] == '\r'
			s.start, s.scanned = at+1, at+1
			return line, nil
		}
		s.scanned = s.end
		if int64(s.end-s.start)+s.eventSize > s.limit {
			return nil, &limitError{limit: s.limit, what: "an event of the stream"}
		}
		if s.readErr != nil {
			if s.start < s.end {
				line := s.buf[s.start:s.end]
				s.start, s.scanned = s.end, s.end
				return line, nil
			}
			return nil, s.readErr
		}
		if s.start > 0 && s.start == s.end {
			s.start, s.scanned, s.end = 0, 0, 0
		}
		if len(s.buf)-s.end < sseMinRead {
			if s.start > 0 {
				n := copy(s.buf, s.buf[s.start:s.end])
				s.scanned -= s.start
				s.start, s.end = 0, n
			}
			if s.buf == nil {
				s.buf = *sseBuffers.Get().(*[]byte)
			}
			if len(s.buf)-s.end < sseMinRead {
				grown := make([]byte, max(2*len(s.buf), s.end+sseMinRead))
				copy(grown, s.buf[:s.end])
				s.buf = grown
			}
		}
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			s.readErr = err
		}
	}
}

// next returns the next event, io.EOF at a clean end of the stream, or the read error. An event
// not terminated by a blank line before the end of the stream is discarded, as the standard says.
func (s *sseReader) next() (sseEvent, error) {
	var (
		eventType string
		data      []byte
		hasData   bool
	)
	s.eventSize = 0
	for {
		raw, err := s.line()
		if err != nil {
			s.eventSize = 0
			return sseEvent{}, err
		}
		if !s.started {
			s.started = true
			raw = bytes.TrimPrefix(raw, []byte("\ufeff"))
		}
		if len(raw) == 0 {
			if !hasData {
				eventType = ""
				continue
			}
			if eventType == "" {
				eventType = "message"
			}
			s.eventSize = 0
			return sseEvent{event: eventType, data: bytes.TrimSuffix(data, []byte("\n")), id: s.lastID}, nil
		}
		if raw[0] == ':' {
			continue
		}
		field, value, _ := bytes.Cut(raw, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			eventType = string(value)
			s.eventSize = int64(len(data) + len(eventType))
		case "data":
			data = append(data, value...)
			data = append(data, '\n')
			hasData = true
			s.eventSize = int64(len(data) + len(eventType))
			if s.eventSize > s.limit {
				return sseEvent{}, &limitError{limit: s.limit, what: "an event of the stream"}
			}
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				s.lastID = string(value)
			}
		case "retry":
			if ms, err := strconv.ParseUint(string(value), 10, 32); err == nil {
				s.retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
}

// wrongMedia is nil when a 2xx stream response is of the stream's media type (parameters aside);
// otherwise it is the *DecodeError carrying what came instead (read up to limit), whose message
// names the response expected with its article ("expected a text/event-stream response").
func wrongMedia(resp *http.Response, limit int64, article, media string) error {
	contentType := resp.Header.Get("Content-Type")
	if mediaType, _, err := mime.ParseMediaType(contentType); err == nil && mediaType == media {
		return nil
	}
	data, _, _ := readLimited(resp.Body, limit)
	return &DecodeError{StatusCode: resp.StatusCode, ContentType: contentType, Body: data, Err: fmt.Errorf("expected %s %s response, got %q", article, media, contentType)}
}

// stream sends an event-stream request and yields each event's data decoded as T. When the
// connection drops (not a clean end) after an event ID was received, it reconnects with the last
// event ID in resumeHeader, at most maxRetries times in a row; a drop before any event ID (or
// without a resume header) is a *ConnectionError, since replaying the stream from its start would
// repeat events. A 2xx response that is not text/event-stream is a *DecodeError. Once ctx is
// done, the next pull yields a *CancelledError. Breaking out of the loop closes the connection.
func stream[T any](ctx context.Context, c *core, r *request, opts []Option, resumeHeader string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		cfg := c.cfg.with(opts)
		limit := cfg.responseLimit()
		r.streamed = true
		lastID := ""
		if resumeHeader != "" {
			lastID = r.header.Get(resumeHeader)
		}
		failures := 0
		for {
			attempt := cloneRequest(r)
			if resumeHeader != "" && lastID != "" {
				attempt.header.Set(resumeHeader, lastID)
			}
			resp, err := c.send(ctx, attempt, opts)
			if err != nil {
				yield(zero, err)
				return
			}
			if err := wrongMedia(resp, limit, "a", "text/event-stream"); err != nil {
				_ = resp.Body.Close()
				yield(zero, err)
				return
			}
			contentType := resp.Header.Get("Content-Type")
			reader := newSSEReader(resp.Body)
			defer reader.release()
			reader.limit = limit
			reader.lastID = lastID
			var dropped error
			for {
				if err := ctx.Err(); err != nil {
					_ = resp.Body.Close()
					yield(zero, &CancelledError{Err: err})
					return
				}
				event, err := reader.next()
				if err != nil {
					_ = resp.Body.Close()
					if errors.Is(err, io.EOF) {
						return
					}
					var limitErr *limitError
					var decodeErr *DecodeError
					var cancelled *CancelledError
					switch {
					case errors.As(err, &limitErr):
						yield(zero, &DecodeError{StatusCode: resp.StatusCode, ContentType: contentType, Err: limitErr})
						return
					case errors.As(err, &decodeErr), errors.As(err, &cancelled):
						yield(zero, err)
						return
					case ctx.Err() != nil:
						yield(zero, &CancelledError{Err: ctx.Err()})
						return
					}
					dropped = err
					break
				}
				failures = 0
				lastID = event.id
				if len(bytes.TrimSpace(event.data)) == 0 {
					continue
				}
				var value T
				if err := unmarshalStrict(event.data, &value); err != nil {
					_ = resp.Body.Close()
					yield(zero, &DecodeError{StatusCode: resp.StatusCode, ContentType: contentType, Body: event.data, Err: err})
					return
				}
				if !yield(value, nil) {
					_ = resp.Body.Close()
					return
				}
			}
			failures++
			if resumeHeader == "" || lastID == "" || failures > cfg.maxRetries {
				var connErr *ConnectionError
				if errors.As(dropped, &connErr) {
					yield(zero, &ConnectionError{Attempts: connErr.Attempts, Message: "the event stream was interrupted: " + connErr.Message, Err: connErr.Err})
				} else {
					yield(zero, &ConnectionError{Message: "the event stream was interrupted: " + redact(dropped.Error(), cfg), Err: dropped})
				}
				return
			}
			delay := reader.retry
			if delay == 0 {
				delay = cfg.backoff(failures)
			}
			if err := cfg.sleep(ctx, delay); err != nil {
				yield(zero, &CancelledError{Err: err})
				return
			}
		}
	}
}
