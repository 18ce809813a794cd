// Package awsapi serves the AWS wire protocols of SQS (AWS JSON 1.0),
// EventBridge (AWS JSON 1.1), SNS (query protocol), DynamoDB (AWS JSON 1.0)
// and S3 (REST, s3.go) on one HTTP handler, over the local platform's own
// queues, bus, topics, tables and buckets, so the aws CLI, any
// AWS SDK and a user's own consumer work against `eventplane dev` as they
// do against AWS. One handler tells the services apart the way AWS
// endpoints do not need to: by the X-Amz-Target header of the JSON
// protocols and by the Action of a form-encoded query request.
//
// Credentials are accepted but not checked: the handler listens on
// loopback for the developer's own clients.
package awsapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/eventplane/eventplane/consumers/memqueue"
)

// Account is the account id of every local resource.
const Account = "000000000000"

// Platform is what the protocol servers need of the local platform.
type Platform interface {
	// Queues returns the topology's queues and their dead-letter queues.
	Queues() []Queue
	// PutEvents puts events on the platform's buses (matched by the
	// topology's rules).
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
	// Rules returns the topology's rules.
	Rules() []Rule
	// Publish publishes to one of the topology's topics.
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
	// TopicARNs returns the ARNs of the topology's topics.
	TopicARNs() []string
	// Buckets are the topology's buckets (S3, s3.go).
	Buckets
	// DynamoDB returns the topology's tables.
	DynamoDB() Tables
}

// Queue is one queue of the platform.
type Queue struct {
	*memqueue.Queue
	// DeadLetterARN and MaxReceiveCount are the redrive policy ("" and 0: none).
	DeadLetterARN   string
	MaxReceiveCount int
	// Retention is the message retention period (MessageRetentionPeriod).
	Retention time.Duration
}

// Rule is one EventBridge rule of the platform.
type Rule struct {
	Name, Bus, Description string
	Pattern                json.RawMessage
	// Targets are the ARNs of the rule's targets.
	Targets []string
}

// Server is the http.Handler of the AWS APIs.
type Server struct {
	p       Platform
	log     *slog.Logger
	sqs     *sqsService
	s3      http.Handler
	started time.Time
}

// New returns the server over p.
func New(p Platform, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{p: p, log: log, started: time.Now()}
	s.sqs = newSQS(s)
	s.s3 = newS3(p)
	return s
}

// maxBody bounds a request body: DynamoDB's BatchWriteItem takes up to
// 16 MB; SQS's largest batch is 1 MiB (and SQS checks its own limits).
const maxBody = 16 << 20

// ServeHTTP dispatches a request to its service.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", requestID())
	target := r.Header.Get("X-Amz-Target")
	service, op, _ := strings.Cut(target, ".")
	switch {
	case service == "AmazonSQS":
		s.json(w, r, "1.0", op, s.sqs.ops, sqsError)
	case service == "AWSEvents":
		s.json(w, r, "1.1", op, eventsOps(s), eventsError)
	case service == "DynamoDB_20120810":
		s.json(w, r, "1.0", op, dynamoOps(s), dynamoError)
	case isS3(r):
		s.s3.ServeHTTP(w, r)
	case target == "" && r.Method == http.MethodPost:
		s.query(w, r)
	default:
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": "UnknownOperationException",
			"message": fmt.Sprintf("eventplane dev serves SQS (AmazonSQS.*), EventBridge (AWSEvents.*), DynamoDB (DynamoDB_20120810.*) and SNS (query protocol); not %s %s (X-Amz-Target %q)", r.Method, r.URL.Path, target)})
	}
}

// apiError is an error in AWS's shape: the error code SDKs map to their
// exception types and retry decisions, and the HTTP status.
type apiError struct {
	Code    string // the shape name (QueueDoesNotExist, ValidationException)
	Query   string // the query-protocol code of an SQS error (AWS.SimpleQueueService.NonExistentQueue)
	Message string
	Status  int // default 400
	Server  bool
	// Fields are more members of the error shape (the Item of DynamoDB's
	// ConditionalCheckFailedException).
	Fields map[string]any
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errorf(code, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...)}
}

type jsonOp func(ctx context.Context, r *http.Request, body []byte) (any, error)

// json serves an AWS JSON protocol request (AWS JSON 1.0/1.1): POST /, the
// operation in X-Amz-Target, a JSON body, a JSON response; an error is a
// status 4xx/5xx with {"__type": ..., "message": ...}.
func (s *Server) json(w http.ResponseWriter, r *http.Request, version, op string, ops map[string]jsonOp, shape func(*apiError) (string, http.Header)) {
	ct := "application/x-amz-json-" + version
	w.Header().Set("Content-Type", ct)
	fail := func(e *apiError) {
		typ, h := shape(e)
		for k, v := range h {
			w.Header()[k] = v
		}
		status := e.Status
		if status == 0 {
			status = http.StatusBadRequest
			if e.Server {
				status = http.StatusInternalServerError
			}
		}
		w.WriteHeader(status)
		body := map[string]any{"__type": typ, "message": e.Message}
		for k, v := range e.Fields {
			body[k] = v
		}
		_ = json.NewEncoder(w).Encode(body)
	}
	f, ok := ops[op]
	if !ok || r.Method != http.MethodPost {
		fail(&apiError{Code: "UnsupportedOperation", Query: "AWS.SimpleQueueService.UnsupportedOperation",
			Message: fmt.Sprintf("eventplane dev does not implement %s (it serves %s)", op, strings.Join(sortedOps(ops), ", "))})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		fail(&apiError{Code: "InternalFailure", Message: err.Error(), Server: true})
		return
	}
	if len(body) > maxBody {
		fail(&apiError{Code: "RequestEntityTooLarge", Message: fmt.Sprintf("request body over %d bytes", maxBody), Status: http.StatusRequestEntityTooLarge})
		return
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	out, err := f(r.Context(), r, body)
	if err != nil {
		e, ok := err.(*apiError)
		if !ok {
			s.log.Error("aws api", "operation", op, "error", err)
			e = &apiError{Code: "InternalFailure", Message: err.Error(), Server: true}
		}
		fail(e)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		fail(&apiError{Code: "InternalFailure", Message: err.Error(), Server: true})
		return
	}
	_, _ = w.Write(b)
}

// decode reads a JSON request body into v; a malformed body is a
// SerializationException, as AWS JSON services answer it.
func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return &apiError{Code: "SerializationException", Query: "AWS.SimpleQueueService.SerializationException", Message: "malformed request body: " + err.Error()}
	}
	return nil
}

func sortedOps[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func requestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
