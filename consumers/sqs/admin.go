package sqs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventplane/eventplane/consumers/delivery"
)

// AdminAPI is the part of the SQS client that queue statistics and redrive
// use (the operator and the eventplane CLI).
type AdminAPI interface {
	QueueAPI
	SendMessageBatch(context.Context, *sqs.SendMessageBatchInput, ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// Stats is what SQS reports about a queue and its dead-letter queue.
type Stats struct {
	Depth    int // ApproximateNumberOfMessages
	InFlight int // ApproximateNumberOfMessagesNotVisible
	Delayed  int // ApproximateNumberOfMessagesDelayed
	// DeadLetterURL is the DLQ from the redrive policy (or the override).
	DeadLetterURL string
	// DeadLetterDepth counts the DLQ's visible and in-flight messages.
	DeadLetterDepth int
	// OldestAge is the age of the oldest message, from a peek at the queue
	// head (SQS reports ApproximateAgeOfOldestMessage only to CloudWatch).
	OldestAge time.Duration
}

var countAttrs = []types.QueueAttributeName{
	types.QueueAttributeNameApproximateNumberOfMessages,
	types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
	types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
	types.QueueAttributeNameRedrivePolicy,
}

// QueueStats reads the counts of the queue at url and of its DLQ
// (deadLetterURL, or the one named by the redrive policy). With peek it
// also receives up to 10 messages with a 0s visibility timeout to find the
// oldest one's age and makes them visible again at once (the SDK cannot
// ask ReceiveMessage for a 0s timeout); each peek raises those messages'
// receive count, so leave it off for queues whose maxReceiveCount is small.
func QueueStats(ctx context.Context, api AdminAPI, url, deadLetterURL string, peek bool) (Stats, error) {
	out, err := api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: countAttrs})
	if err != nil {
		return Stats{}, fmt.Errorf("sqs: queue %s: %w", url, err)
	}
	st := Stats{
		Depth:    atoi(out.Attributes["ApproximateNumberOfMessages"]),
		InFlight: atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"]),
		Delayed:  atoi(out.Attributes["ApproximateNumberOfMessagesDelayed"]),
	}
	st.DeadLetterURL = deadLetterURL
	if st.DeadLetterURL == "" {
		if st.DeadLetterURL, err = redriveTarget(ctx, api, url, out.Attributes["RedrivePolicy"]); err != nil {
			return st, err
		}
	}
	if st.DeadLetterURL != "" {
		d, err := api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(st.DeadLetterURL), AttributeNames: countAttrs[:2]})
		if err != nil {
			return st, fmt.Errorf("sqs: dead-letter queue %s: %w", st.DeadLetterURL, err)
		}
		st.DeadLetterDepth = atoi(d.Attributes["ApproximateNumberOfMessages"]) + atoi(d.Attributes["ApproximateNumberOfMessagesNotVisible"])
	}
	if peek && st.Depth > 0 {
		m, err := api.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, VisibilityTimeout: 1,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameSentTimestamp},
		})
		if err != nil {
			return st, fmt.Errorf("sqs: peek %s: %w", url, err)
		}
		var release []types.ChangeMessageVisibilityBatchRequestEntry
		for i, msg := range m.Messages {
			release = append(release, types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: msg.ReceiptHandle})
			if ms, err := strconv.ParseInt(msg.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
				st.OldestAge = max(st.OldestAge, time.Since(time.UnixMilli(ms)))
			}
		}
		if len(release) > 0 {
			if _, err := api.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(url), Entries: release}); err != nil {
				return st, fmt.Errorf("sqs: release peeked messages of %s: %w", url, err)
			}
		}
	}
	return st, nil
}

// redriveTarget resolves the deadLetterTargetArn of a redrive policy to a
// queue URL ("" without a policy).
func redriveTarget(ctx context.Context, api interface {
	GetQueueUrl(context.Context, *sqs.GetQueueUrlInput, ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
}, url, policy string) (string, error) {
	if policy == "" {
		return "", nil
	}
	var rp struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	}
	if err := json.Unmarshal([]byte(policy), &rp); err != nil {
		return "", fmt.Errorf("sqs: queue %s: RedrivePolicy: %w", url, err)
	}
	name, account, err := arnNameAccount(rp.DeadLetterTargetArn)
	if err != nil {
		return "", err
	}
	u, err := api.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name), QueueOwnerAWSAccountId: aws.String(account)})
	if err != nil {
		return "", fmt.Errorf("sqs: dead-letter queue %s: %w", rp.DeadLetterTargetArn, err)
	}
	return aws.ToString(u.QueueUrl), nil
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// Redrive moves up to limit messages (limit <= 0: what the DLQ held when it
// started) from the dead-letter queue from back to the queue to: each batch
// is sent, then deleted from the DLQ only once the send succeeded, so a
// failure duplicates at worst and never loses a message. The failure
// attributes the consumer added are removed; the message's own attributes
// and, on FIFO queues, its group are kept. It returns how many moved.
func Redrive(ctx context.Context, api AdminAPI, from, to string, limit int) (int, error) {
	if limit <= 0 {
		out, err := api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(from), AttributeNames: countAttrs[:1]})
		if err != nil {
			return 0, fmt.Errorf("sqs: dead-letter queue %s: %w", from, err)
		}
		limit = atoi(out.Attributes["ApproximateNumberOfMessages"])
	}
	fifo := strings.HasSuffix(to, ".fifo")
	moved := 0
	for moved < limit {
		out, err := api.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(from), MaxNumberOfMessages: int32(min(10, limit-moved)), WaitTimeSeconds: 1, // #nosec G115 -- min(10, ...) fits
			VisibilityTimeout: 60, MessageAttributeNames: []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameMessageGroupId},
		})
		if err != nil {
			return moved, fmt.Errorf("sqs: receive from %s: %w", from, err)
		}
		if len(out.Messages) == 0 {
			return moved, nil
		}
		entries := make([]types.SendMessageBatchRequestEntry, len(out.Messages))
		for i, m := range out.Messages {
			attrs := map[string]types.MessageAttributeValue{}
			for k, v := range m.MessageAttributes {
				if !IsFailureAttribute(k) {
					attrs[k] = v
				}
			}
			entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: m.Body, MessageAttributes: attrs}
			if fifo {
				group := m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]
				if group == "" {
					group = "redrive"
				}
				entries[i].MessageGroupId = aws.String(group)
				entries[i].MessageDeduplicationId = m.MessageId
			}
		}
		sent, err := api.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(to), Entries: entries})
		if err != nil {
			return moved, fmt.Errorf("sqs: send to %s: %w", to, err)
		}
		var del []types.DeleteMessageBatchRequestEntry
		for _, ok := range sent.Successful {
			i := atoi(aws.ToString(ok.Id))
			del = append(del, types.DeleteMessageBatchRequestEntry{Id: ok.Id, ReceiptHandle: out.Messages[i].ReceiptHandle})
		}
		if len(del) > 0 {
			if _, err := api.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(from), Entries: del}); err != nil {
				return moved, fmt.Errorf("sqs: delete from %s: %w", from, err)
			}
		}
		moved += len(del)
		if len(sent.Failed) > 0 {
			f := sent.Failed[0]
			return moved, fmt.Errorf("sqs: send to %s: %d of %d messages failed (first: %s: %s); they stay in %s",
				to, len(sent.Failed), len(entries), aws.ToString(f.Code), aws.ToString(f.Message), from)
		}
	}
	return moved, nil
}

// IsFailureAttribute reports whether a message attribute was added by the
// consumer when it dead-lettered the message.
func IsFailureAttribute(name string) bool {
	switch name {
	case delivery.AttrFailureReason, delivery.AttrFailureKind, delivery.AttrSourceQueue, delivery.AttrReceiveCount:
		return true
	}
	return false
}
