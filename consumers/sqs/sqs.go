// Package sqs is the engine's Source for Amazon SQS (aws-sdk-go-v2): long
// polling, batched deletes and visibility changes, and dead-lettering with
// the failure reason as message attributes.
package sqs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/event"
)

// QueueAPI is what both the source and the queue administration use.
type QueueAPI interface {
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(context.Context, *sqs.DeleteMessageBatchInput, ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibilityBatch(context.Context, *sqs.ChangeMessageVisibilityBatchInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
	GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	GetQueueUrl(context.Context, *sqs.GetQueueUrlInput, ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
}

// API is the part of the SQS client the source uses.
type API interface {
	QueueAPI
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Config selects the queue.
type Config struct {
	// QueueURL is the queue to consume.
	QueueURL string
	// DeadLetterURL receives messages the consumer dead-letters. Empty: the
	// deadLetterTargetArn of the queue's redrive policy.
	DeadLetterURL string
	// WaitTime is the long-polling wait (default and maximum 20s).
	WaitTime time.Duration
	// VisibilityTimeout overrides the queue's visibility timeout for
	// received messages (0: the queue's own).
	VisibilityTimeout time.Duration
	// Logger gets debug lines (default: none).
	Logger *slog.Logger
}

// Source consumes one SQS queue.
type Source struct {
	api     API
	cfg     Config
	arn     string
	vt      time.Duration
	fifo    bool
	dlqURL  string
	maxRecv int
	dlqFIFO bool
	settled atomic.Int64
}

// New reads the queue's attributes (ARN, visibility timeout, redrive policy)
// and returns a Source. It fails if the queue does not exist or has no
// dead-letter queue and none is configured.
func New(ctx context.Context, api API, cfg Config) (*Source, error) {
	if cfg.QueueURL == "" {
		return nil, errors.New("sqs: queue URL is empty")
	}
	if cfg.WaitTime <= 0 || cfg.WaitTime > 20*time.Second {
		cfg.WaitTime = 20 * time.Second
	}
	out, err := api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(cfg.QueueURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll},
	})
	if err != nil {
		return nil, fmt.Errorf("sqs: queue %s: %w", cfg.QueueURL, err)
	}
	s := &Source{api: api, cfg: cfg, arn: out.Attributes["QueueArn"], fifo: out.Attributes["FifoQueue"] == "true"}
	vt, err := strconv.Atoi(out.Attributes["VisibilityTimeout"])
	if err != nil {
		return nil, fmt.Errorf("sqs: queue %s: VisibilityTimeout %q: %w", cfg.QueueURL, out.Attributes["VisibilityTimeout"], err)
	}
	s.vt = time.Duration(vt) * time.Second
	if cfg.VisibilityTimeout > 0 {
		s.vt = cfg.VisibilityTimeout
	}
	if rp := out.Attributes["RedrivePolicy"]; rp != "" {
		var redrive struct {
			MaxReceiveCount any `json:"maxReceiveCount"`
		}
		if err := json.Unmarshal([]byte(rp), &redrive); err != nil {
			return nil, fmt.Errorf("sqs: queue %s: RedrivePolicy: %w", cfg.QueueURL, err)
		}
		s.maxRecv, _ = strconv.Atoi(fmt.Sprint(redrive.MaxReceiveCount))
	}
	s.dlqURL = cfg.DeadLetterURL
	if s.dlqURL == "" {
		if s.dlqURL, err = redriveTarget(ctx, api, cfg.QueueURL, out.Attributes["RedrivePolicy"]); err != nil {
			return nil, err
		}
		if s.dlqURL == "" {
			return nil, fmt.Errorf("sqs: queue %s has no redrive policy and no dead-letter queue URL is configured: undecodable messages would have nowhere to go", cfg.QueueURL)
		}
	}
	s.dlqFIFO = strings.HasSuffix(s.dlqURL, ".fifo")
	return s, nil
}

func arnNameAccount(arn string) (name, account string, err error) {
	p := strings.Split(arn, ":")
	if len(p) != 6 || p[0] != "arn" || p[2] != "sqs" {
		return "", "", fmt.Errorf("sqs: %q is not an SQS queue ARN", arn)
	}
	return p[5], p[4], nil
}

// ARN returns the queue's ARN.
func (s *Source) ARN() string { return s.arn }

// FIFO reports whether the queue is a FIFO queue.
func (s *Source) FIFO() bool { return s.fifo }

// MaxReceiveCount is the queue's redrive maxReceiveCount (0 without one).
func (s *Source) MaxReceiveCount() int { return s.maxRecv }

// DeadLetterURL is where dead-lettered messages go.
func (s *Source) DeadLetterURL() string { return s.dlqURL }

// VisibilityTimeout implements delivery.Source.
func (s *Source) VisibilityTimeout() time.Duration { return s.vt }

// Receive implements delivery.Source with one long-polling ReceiveMessage.
func (s *Source) Receive(ctx context.Context, limit int) ([]delivery.Message, error) {
	in := &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(s.cfg.QueueURL),
		MaxNumberOfMessages:         int32(min(limit, delivery.MaxBatch)), // #nosec G115 -- at most delivery.MaxBatch (10)
		WaitTimeSeconds:             int32(s.cfg.WaitTime / time.Second),  // #nosec G115 -- wait time validated to 1..20s
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	}
	if s.cfg.VisibilityTimeout > 0 {
		in.VisibilityTimeout = int32(s.cfg.VisibilityTimeout / time.Second) // #nosec G115 -- visibility timeout validated to 0..12h
	}
	out, err := s.api.ReceiveMessage(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("sqs: receive: %w", err)
	}
	msgs := make([]delivery.Message, 0, len(out.Messages))
	for _, m := range out.Messages {
		em := delivery.Message{
			Message: event.Message{
				Body:       aws.ToString(m.Body),
				MessageID:  aws.ToString(m.MessageId),
				QueueARN:   s.arn,
				Attributes: m.Attributes,
			},
			Receipt: aws.ToString(m.ReceiptHandle),
			GroupID: m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)],
		}
		em.ReceiveCount, _ = strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
		for name, v := range m.MessageAttributes {
			if v.StringValue != nil {
				if em.MessageAttributes == nil {
					em.MessageAttributes = make(map[string]string, len(m.MessageAttributes))
				}
				em.MessageAttributes[name] = *v.StringValue
			}
		}
		msgs = append(msgs, em)
	}
	return msgs, nil
}

// Delete implements delivery.Source with DeleteMessageBatch.
func (s *Source) Delete(ctx context.Context, receipts []string) error {
	entries := make([]types.DeleteMessageBatchRequestEntry, len(receipts))
	for i, r := range receipts {
		entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(r)}
	}
	out, err := s.api.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(s.cfg.QueueURL), Entries: entries})
	if err != nil {
		return fmt.Errorf("sqs: delete batch: %w", err)
	}
	failed := out.Failed
	if attempts, ok := retry.GetAttemptResults(out.ResultMetadata); ok && len(attempts.Results) > 1 {
		// The SDK retried the call (a response lost on the way back): an
		// entry the first attempt deleted comes back ReceiptHandleIsInvalid
		// from some SQS implementations. That message is settled.
		kept := failed[:0:0]
		for _, f := range failed {
			if aws.ToString(f.Code) == "ReceiptHandleIsInvalid" {
				s.settled.Add(1)
				continue
			}
			kept = append(kept, f)
		}
		if n := len(failed) - len(kept); n > 0 && s.cfg.Logger != nil {
			s.cfg.Logger.Debug("delete retried after it took effect: entries settled", "count", n, "attempts", len(attempts.Results))
		}
		failed = kept
	}
	return batchFailures(receipts, failed)
}

// SettledOnRetry counts delete entries a retried DeleteMessageBatch reported
// ReceiptHandleIsInvalid for, counted as deleted (metric
// eventplane_deletes_settled_on_retry_total).
func (s *Source) SettledOnRetry() int64 { return s.settled.Load() }

// ChangeVisibility implements delivery.Source with ChangeMessageVisibilityBatch.
func (s *Source) ChangeVisibility(ctx context.Context, changes []delivery.VisibilityChange) error {
	entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, len(changes))
	receipts := make([]string, len(changes))
	for i, c := range changes {
		receipts[i] = c.Receipt
		entries[i] = types.ChangeMessageVisibilityBatchRequestEntry{
			Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(c.Receipt),
			VisibilityTimeout: int32(c.Timeout.Round(time.Second) / time.Second), // #nosec G115 -- a visibility timeout, validated to 0..12h
		}
	}
	out, err := s.api.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(s.cfg.QueueURL), Entries: entries})
	if err != nil {
		return fmt.Errorf("sqs: change visibility batch: %w", err)
	}
	return batchFailures(receipts, out.Failed)
}

func batchFailures(receipts []string, failed []types.BatchResultErrorEntry) error {
	if len(failed) == 0 {
		return nil
	}
	be := &delivery.BatchError{Failed: map[string]string{}}
	for _, f := range failed {
		i, err := strconv.Atoi(aws.ToString(f.Id))
		if err != nil || i < 0 || i >= len(receipts) {
			continue
		}
		be.Failed[receipts[i]] = aws.ToString(f.Code) + ": " + aws.ToString(f.Message)
	}
	return be
}

// maxAttributes is SQS's limit of message attributes per message.
const maxAttributes = 10

// DeadLetter implements delivery.Source: SendMessage to the DLQ with the
// original body and string attributes plus the failure reason, the source
// queue and the receive count.
func (s *Source) DeadLetter(ctx context.Context, m delivery.Message, reason string) error {
	attrs := map[string]types.MessageAttributeValue{delivery.
		AttrFailureReason: str(delivery.Truncate(reason, delivery.MaxReasonBytes)), delivery.
		AttrSourceQueue: str(s.arn), delivery.
		AttrReceiveCount: {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(m.ReceiveCount))},
	}
	names := make([]string, 0, len(m.MessageAttributes))
	for name := range m.MessageAttributes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if len(attrs) == maxAttributes {
			break
		}
		if _, ours := attrs[name]; !ours {
			attrs[name] = str(m.MessageAttributes[name])
		}
	}
	in := &sqs.SendMessageInput{QueueUrl: aws.String(s.dlqURL), MessageBody: aws.String(m.Body), MessageAttributes: attrs,
		MessageSystemAttributes: TraceAttribute(ctx, m.Attributes["AWSTraceHeader"])}
	if s.dlqFIFO {
		group := m.GroupID
		if group == "" {
			group = "dead-letter"
		}
		in.MessageGroupId = aws.String(group)
		in.MessageDeduplicationId = aws.String(m.MessageID)
	}
	if _, err := s.api.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("sqs: send to dead-letter queue %s: %w", s.dlqURL, err)
	}
	return nil
}

func str(v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

// TraceAttribute is the AWSTraceHeader system attribute of a message sent
// with ctx: the X-Ray header of the span in ctx (OpenTelemetry's X-Ray
// propagator), else upstream (a received message's own header), else none.
// SQS takes the trace only in that X-Ray format.
func TraceAttribute(ctx context.Context, upstream string) map[string]types.MessageSystemAttributeValue {
	h := event.XRayHeader(ctx)
	if h == "" {
		h = upstream
	}
	if h == "" {
		return nil
	}
	return map[string]types.MessageSystemAttributeValue{
		string(types.MessageSystemAttributeNameForSendsAWSTraceHeader): {DataType: aws.String("String"), StringValue: aws.String(h)},
	}
}
