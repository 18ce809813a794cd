// Package ingest is the HTTP ingest API: it accepts CloudEvents over HTTP
// (structured, binary or batch mode), validates them — required attributes,
// size limits, the JSON Schema of known types — and puts them on an
// EventBridge bus. The same Handler serves API Gateway (lambda-ingest) and a
// local net/http server, so behaviour cannot drift. api/openapi.yaml
// describes it.
package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"
	ce "github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventplane/eventplane/api/events"
	"github.com/eventplane/eventplane/consumers/bus"
	"github.com/eventplane/eventplane/consumers/event"
	"github.com/eventplane/eventplane/consumers/jsonscan"
)

// Limits of the API.
const (
	// MaxBodyBytes is the largest request body (API Gateway's Lambda payload
	// limit is 6 MB; batches are also bounded by MaxEvents).
	MaxBodyBytes = 1 << 20
	// MaxEventBytes is EventBridge's limit for one entry.
	MaxEventBytes = 256 << 10
	// MaxEvents is the most events one batch request may carry.
	MaxEvents = 100
)

// Handler validates CloudEvents and puts them on a bus.
type Handler struct {
	Bus     string
	API     bus.API
	Schemas *events.Registry
	// Tracer makes ServeHTTP's server spans (default: the global provider).
	// The span continues a W3C traceparent header, and PutEvents passes it
	// on to the bus as the entries' X-Ray TraceHeader.
	Tracer trace.TracerProvider

	once sync.Once
	http http.Handler
}

// Response is the API's answer.
type Response struct {
	Status int         `json:"-"`
	Header http.Header `json:"-"`
	Body   []byte      `json:"-"`
}

// Accepted is the body of a 202.
type Accepted struct {
	Accepted []string `json:"accepted"`
}

// NotAccepted is the body of an answer to a request the bus did not take
// whole: Accepted's shape (the ids that are on the bus, in order: a retry
// resends only the others), the failures, and a summary.
type NotAccepted struct {
	Error    string   `json:"error"`
	Accepted []string `json:"accepted"`
	Failed   []Failed `json:"failed"`
}

// Failed is an event the bus did not accept: its id, its position in the
// request, EventBridge's error code (empty when the request itself failed)
// and message, and whether sending it again can succeed.
type Failed struct {
	ID        string `json:"id"`
	Index     int    `json:"index"`
	Code      string `json:"code,omitempty"`
	Message   string `json:"message"`
	Retryable bool   `json:"retryable"`
}

// RetryAfter is the Retry-After (seconds) of a 503: bus.PutEvents has
// already resent throttled entries for about a second.
const RetryAfter = "2"

// Problem is the body of an error response.
type Problem struct {
	Error string `json:"error"`
	// Index is the position of the offending event in a batch.
	Index *int `json:"index,omitempty"`
}

func problem(status int, index *int, format string, args ...any) Response {
	b, _ := json.Marshal(Problem{Error: fmt.Sprintf(format, args...), Index: index})
	return Response{Status: status, Body: b}
}

// Handle processes one request (method, headers, body).
func (h *Handler) Handle(ctx context.Context, method string, header http.Header, body []byte) Response {
	if method != http.MethodPost {
		return problem(http.StatusMethodNotAllowed, nil, "use POST")
	}
	if len(body) > MaxBodyBytes {
		return problem(http.StatusRequestEntityTooLarge, nil, "body of %d bytes exceeds the limit of %d", len(body), MaxBodyBytes)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "/events", bytes.NewReader(body))
	req.Header = header.Clone()
	media, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	var evs []ce.Event
	switch {
	case media == "application/cloudevents-batch+json":
		doc := string(body)
		if !jsonscan.Valid(doc) || doc[jsonscan.SkipSpace(doc, 0)] != '[' {
			return problem(http.StatusBadRequest, nil, "invalid CloudEvents batch: want a JSON array of CloudEvents")
		}
		for it := jsonscan.ArrayElements(doc); it.Next(); {
			i := len(evs)
			e, err := event.DecodeStructured([]byte(it.Value))
			if err != nil {
				return problem(http.StatusBadRequest, &i, "invalid CloudEvent: %v", err)
			}
			if evs = append(evs, e); len(evs) > MaxEvents {
				return problem(http.StatusBadRequest, nil, "a batch carries at most %d events", MaxEvents)
			}
		}
		if len(evs) == 0 {
			return problem(http.StatusBadRequest, nil, "empty CloudEvents batch")
		}
	case media == "application/cloudevents+json":
		e, err := event.DecodeStructured(body)
		if err != nil {
			return problem(http.StatusBadRequest, nil, "invalid CloudEvent: %v", err)
		}
		evs = []ce.Event{e}
	case header.Get("Ce-Specversion") != "":
		e, err := binary(req)
		if err == nil {
			err = e.Validate() // DecodeStructured validates the structured ones
		}
		if err != nil {
			return problem(http.StatusBadRequest, nil, "invalid CloudEvent: %v", err)
		}
		evs = []ce.Event{*e}
	default:
		return problem(http.StatusBadRequest, nil, "not a CloudEvent: send Content-Type application/cloudevents+json (structured), application/cloudevents-batch+json (batch), or ce-* headers (binary mode)")
	}
	entries := make([]ebtypes.PutEventsRequestEntry, 0, len(evs))
	ids := make([]string, 0, len(evs))
	for i := range evs {
		e := &evs[i]
		idx := &i
		if len(evs) == 1 {
			idx = nil
		}
		// EventBridge's PutEventsRequestEntry: Source 1-256 characters, the
		// aws. prefix reserved for AWS services; DetailType 1-128.
		src := e.Source() // sdk-go formats its URI reference at every call
		if strings.HasPrefix(src, "aws.") {
			return problem(http.StatusBadRequest, idx, "invalid CloudEvent: source %q: the aws. prefix is reserved for AWS services", src)
		}
		if len(src) > 256 {
			return problem(http.StatusBadRequest, idx, "invalid CloudEvent: source is %d bytes, over EventBridge's limit of 256", len(src))
		}
		if len(e.Type()) > 128 {
			return problem(http.StatusBadRequest, idx, "invalid CloudEvent: type is %d bytes, over EventBridge's detail-type limit of 128", len(e.Type()))
		}
		if reservedMember(e.Data()) {
			return problem(http.StatusBadRequest, idx, "invalid CloudEvent: data member %q is reserved for the event's attributes on the bus", event.DetailKey)
		}
		if err := h.Schemas.Validate(e.Type(), e.DataSchema(), e.Data()); err != nil && !errors.Is(err, events.ErrUnknownType) {
			return problem(http.StatusBadRequest, idx, "%v", err)
		}
		entry := bus.Entry(h.Bus, e)
		if size := entrySize(entry); size > MaxEventBytes {
			return problem(http.StatusRequestEntityTooLarge, idx, "event %s is %d bytes on the bus, over EventBridge's limit of %d", e.ID(), size, MaxEventBytes)
		}
		entries = append(entries, entry)
		ids = append(ids, e.ID())
	}
	if err := bus.PutEvents(ctx, h.API, entries); err != nil {
		return notAccepted(ids, err)
	}
	b, _ := json.Marshal(Accepted{Accepted: ids})
	return Response{Status: http.StatusAccepted, Body: b}
}

// notAccepted answers for the events of ids that bus.PutEvents' err says
// are not on the bus. Each failure has a status: 503 when sending it again
// can succeed (a retryable entry code, or a request error the SDK counts as
// retryable or that is not EventBridge's refusal: the bus unreachable);
// otherwise by the PutEventsResultEntry code's meaning in the EventBridge
// API reference — 400 for the event's own content (MalformedDetail,
// InvalidArgument), 403 for a source or detail-type the bus's policy does not
// allow this platform to put (NotAuthorizedForSourceException,
// NotAuthorizedForDetailTypeException: the events:source and
// events:detail-type condition keys; another event would pass), and 500 for
// the platform's own misconfiguration that no client can fix
// (AccessDeniedException, InvalidAccountIdException, a request EventBridge
// refuses, codes the reference does not list). The answer has the highest
// status: a 503 (with Retry-After) whenever part of the request is worth
// resending, so a client that resends the failed ids ends with the
// permanent status.
func notAccepted(ids []string, err error) Response {
	var fe *bus.FailedEntries
	if !errors.As(err, &fe) {
		fe = &bus.FailedEntries{Of: len(ids), Err: err}
		for i := range ids {
			fe.Unsent = append(fe.Unsent, i)
		}
	}
	failed := make([]Failed, 0, len(fe.Entries)+len(fe.Unsent))
	for _, f := range fe.Entries {
		failed = append(failed, Failed{ID: ids[f.Index], Index: f.Index, Code: f.Code, Message: f.Message, Retryable: f.Retryable})
	}
	if len(fe.Unsent) > 0 {
		code, retry := requestError(fe.Err)
		for _, i := range fe.Unsent {
			failed = append(failed, Failed{ID: ids[i], Index: i, Code: code, Message: fe.Err.Error(), Retryable: retry})
		}
	}
	slices.SortFunc(failed, func(a, b Failed) int { return a.Index - b.Index })
	status, worst := 0, 0
	for i, f := range failed {
		if s := failureStatus(f); s > status {
			status, worst = s, i
		}
	}
	body := NotAccepted{Accepted: make([]string, 0, len(ids)-len(failed)), Failed: failed}
	notOK := make(map[int]bool, len(failed))
	for _, f := range failed {
		notOK[f.Index] = true
	}
	for i, id := range ids {
		if !notOK[i] {
			body.Accepted = append(body.Accepted, id)
		}
	}
	f := failed[worst]
	reason := f.Message
	if f.Code != "" {
		reason = f.Code + ": " + f.Message
	}
	what := map[int]string{
		http.StatusBadRequest:          "EventBridge rejects the event's content",
		http.StatusForbidden:           "the bus's policy does not allow this event's source or type",
		http.StatusInternalServerError: "the platform cannot put events on its bus (its configuration; retrying will not help until it is fixed)",
		http.StatusServiceUnavailable:  "the event bus is unavailable, retry the failed events later",
	}[status]
	body.Error = fmt.Sprintf("%d of %d events not put on the bus: %s: event %s: %s", len(failed), len(ids), what, f.ID, reason)
	b, _ := json.Marshal(body)
	resp := Response{Status: status, Body: b}
	if status == http.StatusServiceUnavailable {
		resp.Header = http.Header{"Retry-After": {RetryAfter}}
	}
	return resp
}

// failureStatus is the HTTP status of one failed event (see notAccepted).
func failureStatus(f Failed) int {
	switch {
	case f.Retryable:
		return http.StatusServiceUnavailable
	case f.Code == "MalformedDetail" || f.Code == "InvalidArgument":
		return http.StatusBadRequest
	case f.Code == "NotAuthorizedForSourceException" || f.Code == "NotAuthorizedForDetailTypeException":
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

// requestError classifies the error of a PutEvents request: EventBridge's
// error code, if it answered one, and whether resending can succeed — false
// only for a refusal of the request (a client fault such as
// AccessDeniedException or ResourceNotFoundException) that the SDK's retryer
// does not count as retryable; a network error or a 5xx can pass later.
func requestError(err error) (code string, retryable bool) {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return "", true
	}
	if ae.ErrorFault() != smithy.FaultClient {
		return ae.ErrorCode(), true
	}
	return ae.ErrorCode(), retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}

// reservedMember reports whether data is a JSON object with the member
// event.DetailKey.
func reservedMember(data []byte) bool {
	if !bytes.Contains(data, []byte(event.DetailKey)) {
		return false
	}
	for m := jsonscan.ObjectMembers(string(data)); m.Next(); {
		if m.Key == event.DetailKey {
			return true
		}
	}
	return false
}

// binary decodes a binary-mode request with sdk-go's HTTP binding, turning a
// panic of the decoder into an error.
func binary(req *http.Request) (e *ce.Event, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, fmt.Errorf("malformed event: %v", r)
		}
	}()
	return cehttp.NewEventFromHTTPRequest(req)
}

// entrySize approximates EventBridge's entry size accounting.
func entrySize(e ebtypes.PutEventsRequestEntry) int {
	n := len(deref(e.Source)) + len(deref(e.DetailType)) + len(deref(e.Detail))
	for _, r := range e.Resources {
		n += len(r)
	}
	if e.Time != nil {
		n += 14
	}
	return n
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ServeHTTP serves the API over net/http (local mode): POST /events, in an
// OpenTelemetry server span (otelhttp).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.once.Do(func() {
		opts := []otelhttp.Option{otelhttp.WithPropagators(propagation.TraceContext{})}
		if h.Tracer != nil {
			opts = append(opts, otelhttp.WithTracerProvider(h.Tracer))
		}
		h.http = otelhttp.NewHandler(http.HandlerFunc(h.serve), "POST /events", opts...)
	})
	h.http.ServeHTTP(w, r)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/events" {
		http.NotFound(w, r)
		return
	}
	// Read into one buffer of the announced size, up to 64 KiB (io.ReadAll
	// doubles its way up to a batch's size): a client that announces 1 MiB
	// and sends nothing holds no more than that. The limit holds whatever
	// is announced.
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(min(r.ContentLength, 64<<10)) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(io.LimitReader(r.Body, MaxBodyBytes+1))
	body := buf.Bytes()
	if err != nil {
		writeResponse(w, problem(http.StatusBadRequest, nil, "reading the body: %v", err))
		return
	}
	writeResponse(w, h.Handle(r.Context(), r.Method, r.Header, body))
}

func writeResponse(w http.ResponseWriter, resp Response) {
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}
