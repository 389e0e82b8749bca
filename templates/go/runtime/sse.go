package polysdk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"
)

// sseEvent is one server-sent event as the HTML Living Standard dispatches it.
type sseEvent struct {
	event string // the event type; "message" when the stream names none
	data  string // data lines joined with "\n"
	id    string // the last event ID at dispatch
}

// sseReader parses a text/event-stream body.
type sseReader struct {
	scanner *bufio.Scanner
	lastID  string
	retry   time.Duration // the reconnection time the stream asked for; 0 when it did not
	started bool
}

// splitLines splits on CRLF, LF or CR, waiting for more data after a CR that ends the buffer.
func splitLines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	for i, b := range data {
		switch b {
		case '\n':
			return i + 1, data[:i], nil
		case '\r':
			if i+1 < len(data) {
				if data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
				return i + 1, data[:i], nil
			}
			if atEOF {
				return i + 1, data[:i], nil
			}
			return 0, nil, nil
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil // an unterminated last line
	}
	return 0, nil, nil
}

func newSSEReader(r io.Reader) *sseReader {
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 0, 64*1024), 16<<20)
	scanner.Split(splitLines)
	return &sseReader{scanner: scanner}
}

// next returns the next event, io.EOF at a clean end of the stream, or the read error. An event
// not terminated by a blank line before the end of the stream is discarded, as the standard says.
func (s *sseReader) next() (sseEvent, error) {
	var (
		eventType string
		data      strings.Builder
		hasData   bool
	)
	for s.scanner.Scan() {
		line := s.scanner.Text()
		if !s.started {
			s.started = true
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if line == "" {
			if !hasData {
				eventType = ""
				continue
			}
			if eventType == "" {
				eventType = "message"
			}
			return sseEvent{event: eventType, data: strings.TrimSuffix(data.String(), "\n"), id: s.lastID}, nil
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			eventType = value
		case "data":
			data.WriteString(value)
			data.WriteByte('\n')
			hasData = true
		case "id":
			if !strings.ContainsRune(value, 0) {
				s.lastID = value
			}
		case "retry":
			if ms, err := strconv.ParseUint(value, 10, 32); err == nil {
				s.retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
	if err := s.scanner.Err(); err != nil {
		return sseEvent{}, err
	}
	return sseEvent{}, io.EOF
}

// stream sends an event-stream request and yields each event's data decoded as T. When the
// connection drops (not a clean end), it reconnects with the last event ID in resumeHeader, at
// most maxRetries times in a row; without a resume header a drop is a *ConnectionError. Breaking
// out of the loop closes the connection.
func stream[T any](ctx context.Context, c *core, r *request, opts []Option, resumeHeader string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		cfg := c.cfg.with(opts)
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
			reader := newSSEReader(resp.Body)
			reader.lastID = lastID
			var dropped error
			for {
				event, err := reader.next()
				if err != nil {
					_ = resp.Body.Close()
					if errors.Is(err, io.EOF) {
						return
					}
					dropped = err
					break
				}
				failures = 0
				lastID = event.id
				if len(bytes.TrimSpace([]byte(event.data))) == 0 {
					continue
				}
				var value T
				if err := json.Unmarshal([]byte(event.data), &value); err != nil {
					_ = resp.Body.Close()
					yield(zero, &DecodeError{StatusCode: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: []byte(event.data), Err: err})
					return
				}
				if !yield(value, nil) {
					_ = resp.Body.Close()
					return
				}
			}
			if ctx.Err() != nil {
				yield(zero, &CancelledError{Err: ctx.Err()})
				return
			}
			failures++
			if resumeHeader == "" || failures > cfg.maxRetries {
				yield(zero, &ConnectionError{Message: "the event stream was interrupted: " + redact(dropped.Error(), cfg), Err: dropped})
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
