package ingest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/eventplane/eventplane/api/events"
)

// eventBridge models EventBridge's PutEvents as its API reference documents
// it (JSON 1.1 protocol): a request-level error is an HTTP 4xx/5xx with a
// __type; otherwise a 200 whose Entries are in request order, each with an
// EventId or an ErrorCode and ErrorMessage, and FailedEntryCount counting
// the failures. The PutEventsResultEntry reference lists InternalFailure and
// ThrottlingException as retryable; AccessDeniedException,
// InvalidAccountIdException, InvalidArgument, MalformedDetail,
// RedactionFailure, NotAuthorizedForSourceException and
// NotAuthorizedForDetailTypeException as not. moto answers every entry it
// accepts with an EventId, so per-entry failures need this model.
type eventBridge struct {
	// code gives the ErrorCode for the event with the CloudEvent id ("" accepts it).
	code func(id string) string
	// requestError, when set, answers every request with this HTTP status and __type.
	requestError func() (int, string)

	mu   sync.Mutex
	sent map[string]int // CloudEvent id -> times sent
}

func (b *eventBridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != "AWSEvents.PutEvents" {
		http.Error(w, "unexpected target "+r.Header.Get("X-Amz-Target"), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if b.requestError != nil {
		status, typ := b.requestError()
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": "modelled " + typ})
		return
	}
	var in struct{ Entries []struct{ Detail string } }
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	type result struct {
		EventID      string `json:"EventId,omitempty"`
		ErrorCode    string `json:"ErrorCode,omitempty"`
		ErrorMessage string `json:"ErrorMessage,omitempty"`
	}
	var out struct {
		FailedEntryCount int
		Entries          []result
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sent == nil {
		b.sent = map[string]int{}
	}
	for i, e := range in.Entries {
		var d struct {
			CE struct{ ID string } `json:"_cloudevent"`
		}
		_ = json.Unmarshal([]byte(e.Detail), &d)
		b.sent[d.CE.ID]++
		if code := b.code(d.CE.ID); code != "" {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, result{ErrorCode: code, ErrorMessage: "modelled " + code + " for " + d.CE.ID})
			continue
		}
		out.Entries = append(out.Entries, result{EventID: fmt.Sprintf("eb-%d-%d", len(b.sent), i)})
	}
	_ = json.NewEncoder(w).Encode(out)
}

// ingestAgainst serves the ingest API over HTTP in front of a real
// aws-sdk-go-v2 EventBridge client talking to eb.
func ingestAgainst(t *testing.T, eb *eventBridge) (*Handler, *httptest.Server) {
	t.Helper()
	api := httptest.NewServer(eb)
	t.Cleanup(api.Close)
	reg, err := events.Load()
	if err != nil {
		t.Fatal(err)
	}
	client := eventbridge.New(eventbridge.Options{Region: "eu-west-1", BaseEndpoint: aws.String(api.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	h := &Handler{Bus: "main", API: client, Schemas: reg}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, srv
}

// answer is the body of a response to a request EventBridge did not take
// whole: Accepted's shape plus the failures.
type answer struct {
	Error    string   `json:"error"`
	Accepted []string `json:"accepted"`
	Failed   []struct {
		ID        string `json:"id"`
		Index     int    `json:"index"`
		Code      string `json:"code"`
		Message   string `json:"message"`
		Retryable bool   `json:"retryable"`
	} `json:"failed"`
}

// reply is the status and headers of a response whose body was read.
type reply struct {
	StatusCode int
	Header     http.Header
}

func postBatch(t *testing.T, srv *httptest.Server, ids ...string) (reply, answer) {
	t.Helper()
	var evs []string
	for _, id := range ids {
		evs = append(evs, strings.Replace(order, `"id":"ord-1"`, `"id":"`+id+`"`, 1))
	}
	resp, err := http.Post(srv.URL+"/events", "application/cloudevents-batch+json", strings.NewReader("["+strings.Join(evs, ",")+"]"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("body %s: %v", raw, err)
	}
	return reply{resp.StatusCode, resp.Header}, a
}

func (a answer) failedIDs() []string {
	var ids []string
	for _, f := range a.Failed {
		ids = append(ids, f.ID)
	}
	return ids
}

// An entry EventBridge rejects for its content fails the same on every
// resend: the client gets a 400 naming the event and EventBridge's code and
// message, not "retry later", and learns which events of the batch are on
// the bus so that it resends nothing twice.
func TestIngestPermanentRejectionIsAClientErrorNamingTheEvent(t *testing.T) {
	eb := &eventBridge{code: func(id string) string {
		if id == "bad" {
			return "MalformedDetail"
		}
		return ""
	}}
	_, srv := ingestAgainst(t, eb)
	resp, a := postBatch(t, srv, "ok-1", "bad", "ok-2")
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d %+v, want 400: a MalformedDetail entry fails the same when resent", resp.StatusCode, a)
	}
	if resp.Header.Get("Retry-After") != "" {
		t.Errorf("Retry-After %q on a permanent rejection", resp.Header.Get("Retry-After"))
	}
	for _, want := range []string{"bad", "MalformedDetail", "modelled MalformedDetail for bad"} {
		if !strings.Contains(a.Error, want) {
			t.Errorf("error %q does not name %q", a.Error, want)
		}
	}
	if fmt.Sprint(a.Accepted) != "[ok-1 ok-2]" || fmt.Sprint(a.failedIDs()) != "[bad]" {
		t.Fatalf("accepted %v failed %v, want [ok-1 ok-2] and [bad]", a.Accepted, a.failedIDs())
	}
	if f := a.Failed[0]; f.Index != 1 || f.Code != "MalformedDetail" || f.Retryable || !strings.Contains(f.Message, "modelled") {
		t.Errorf("failure %+v: want index 1, EventBridge's code and message, not retryable", f)
	}
	if n := eb.sent["bad"]; n != 1 {
		t.Errorf("the rejected entry was sent %d times, want once", n)
	}
}

// The codes EventBridge documents as permanent are told apart by whose
// fault they are: a source or detail-type the bus's policy does not allow
// (events:source / events:detail-type conditions) is refused for this event
// (403, another source would pass); AccessDeniedException and
// InvalidAccountIdException say the platform's own role or bus is
// misconfigured, which the client cannot fix (500, no Retry-After).
func TestIngestRejectionStatusFollowsTheDocumentedCode(t *testing.T) {
	for code, want := range map[string]int{
		"InvalidArgument":                     400,
		"MalformedDetail":                     400,
		"NotAuthorizedForSourceException":     403,
		"NotAuthorizedForDetailTypeException": 403,
		"AccessDeniedException":               500,
		"InvalidAccountIdException":           500,
		"SomeFutureCode":                      500,
	} {
		_, srv := ingestAgainst(t, &eventBridge{code: func(string) string { return code }})
		resp, a := postBatch(t, srv, "e-1")
		if resp.StatusCode != want || resp.Header.Get("Retry-After") != "" || !strings.Contains(a.Error, code) || len(a.Accepted) != 0 || a.Accepted == nil {
			t.Errorf("%s: %d Retry-After %q %+v; want %d naming the code, no Retry-After, accepted []", code, resp.StatusCode, resp.Header.Get("Retry-After"), a, want)
		}
	}
}

// Throttled entries that stay throttled through bus.PutEvents' retries are
// worth sending again: 503 with Retry-After, and the ids still to send.
// When one entry of a batch is retryable and another permanent, the answer
// is 503 (resending the retryable part can succeed); each failure says
// whether it is retryable.
func TestIngestRetryableFailureIs503WithRetryAfter(t *testing.T) {
	eb := &eventBridge{code: func(id string) string {
		switch id {
		case "slow":
			return "ThrottlingException"
		case "bad":
			return "InvalidArgument"
		}
		return ""
	}}
	_, srv := ingestAgainst(t, eb)
	resp, a := postBatch(t, srv, "ok", "slow", "bad")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d Retry-After %q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if fmt.Sprint(a.Accepted) != "[ok]" || fmt.Sprint(a.failedIDs()) != "[slow bad]" {
		t.Fatalf("accepted %v failed %v", a.Accepted, a.failedIDs())
	}
	if !a.Failed[0].Retryable || a.Failed[0].Code != "ThrottlingException" || a.Failed[1].Retryable || a.Failed[1].Code != "InvalidArgument" {
		t.Errorf("failures %+v: want slow retryable (ThrottlingException), bad not (InvalidArgument)", a.Failed)
	}
}

// A batch of more than 10 goes in several PutEvents requests: a rejection
// in the first does not keep the rest off the bus, and the answer accounts
// for every event.
func TestIngestAccountsForEveryEventOfAMultiRequestBatch(t *testing.T) {
	eb := &eventBridge{code: func(id string) string {
		if id == "e-3" {
			return "InvalidArgument"
		}
		return ""
	}}
	_, srv := ingestAgainst(t, eb)
	var ids []string
	for i := range 12 {
		ids = append(ids, fmt.Sprintf("e-%d", i))
	}
	resp, a := postBatch(t, srv, ids...)
	if resp.StatusCode != 400 || len(a.Accepted) != 11 || fmt.Sprint(a.failedIDs()) != "[e-3]" {
		t.Fatalf("%d accepted %v failed %v: want 400, 11 accepted, e-3 failed", resp.StatusCode, a.Accepted, a.failedIDs())
	}
	if n := eb.sent["e-11"]; n != 1 {
		t.Errorf("e-11 (second request) sent %d times, want once", n)
	}
}

// A request-level AccessDeniedException (the function's role may not put
// on the bus) is the platform's misconfiguration: 500, no Retry-After; a
// bus that cannot be reached is 503 with Retry-After. Both say that no
// event was accepted. The API Gateway adapters pass Retry-After on.
func TestIngestRequestErrors(t *testing.T) {
	eb := &eventBridge{requestError: func() (int, string) { return 400, "AccessDeniedException" }}
	h, srv := ingestAgainst(t, eb)
	resp, a := postBatch(t, srv, "e-1", "e-2")
	if resp.StatusCode != 500 || resp.Header.Get("Retry-After") != "" || !strings.Contains(a.Error, "AccessDeniedException") ||
		a.Accepted == nil || len(a.Accepted) != 0 || fmt.Sprint(a.failedIDs()) != "[e-1 e-2]" {
		t.Fatalf("access denied: %d Retry-After %q %+v", resp.StatusCode, resp.Header.Get("Retry-After"), a)
	}
	h.API = downBus{}
	v2, _ := h.APIGatewayV2(context.Background(), lambdaevents.APIGatewayV2HTTPRequest{
		RequestContext: lambdaevents.APIGatewayV2HTTPRequestContext{HTTP: lambdaevents.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"}},
		Headers:        map[string]string{"content-type": "application/cloudevents+json"},
		Body:           base64.StdEncoding.EncodeToString([]byte(order)), IsBase64Encoded: true})
	if v2.StatusCode != 503 || v2.Headers["Retry-After"] == "" || !strings.Contains(v2.Body, `"failed":[{"id":"ord-1"`) {
		t.Fatalf("bus down through API Gateway: %+v", v2)
	}
}
