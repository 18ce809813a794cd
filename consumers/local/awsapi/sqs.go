package awsapi

import (
	"context"
	"crypto/md5" //nolint:gosec // SQS's message checksums are MD5 by contract
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eventplane/eventplane/consumers/delivery"
)

// SQS over the AWS JSON 1.0 protocol (X-Amz-Target: AmazonSQS.<Op>), the
// protocol current SDKs and the aws CLI use. Errors carry the JSON shape
// name in __type and the query-protocol code in the x-amzn-query-error
// header ("AWS.SimpleQueueService.NonExistentQueue;Sender"), which SDKs
// report as the error code (SQS developer guide: "Interpreting Amazon SQS
// JSON API responses").
type sqsService struct {
	s   *Server
	ops map[string]jsonOp

	mu    sync.Mutex
	dedup map[string]map[string]dedupEntry // queue -> deduplication id -> first send
	seq   int64
}

type dedupEntry struct {
	id, seq string
	at      time.Time
}

// dedupWindow is SQS FIFO's deduplication interval.
const dedupWindow = 5 * time.Minute

func newSQS(s *Server) *sqsService {
	q := &sqsService{s: s, dedup: map[string]map[string]dedupEntry{}}
	q.ops = map[string]jsonOp{
		"GetQueueUrl": q.getQueueURL, "ListQueues": q.listQueues, "GetQueueAttributes": q.getQueueAttributes,
		"CreateQueue": q.createQueue, "SendMessage": q.sendMessage, "SendMessageBatch": q.sendMessageBatch,
		"ReceiveMessage": q.receiveMessage, "DeleteMessage": q.deleteMessage, "DeleteMessageBatch": q.deleteMessageBatch,
		"ChangeMessageVisibility": q.changeVisibility, "ChangeMessageVisibilityBatch": q.changeVisibilityBatch,
		"PurgeQueue": q.purgeQueue,
	}
	return q
}

// sqsQueryCodes are the query-protocol codes of the JSON error shapes
// whose codes differ from the shape name.
var sqsQueryCodes = map[string]string{
	"QueueDoesNotExist":        "AWS.SimpleQueueService.NonExistentQueue",
	"MessageNotInflight":       "AWS.SimpleQueueService.MessageNotInflight",
	"PurgeQueueInProgress":     "AWS.SimpleQueueService.PurgeQueueInProgress",
	"BatchEntryIdsNotDistinct": "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
	"EmptyBatchRequest":        "AWS.SimpleQueueService.EmptyBatchRequest", "InvalidBatchEntryId": "AWS.SimpleQueueService.InvalidBatchEntryId",
	"TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
	"UnsupportedOperation":         "AWS.SimpleQueueService.UnsupportedOperation",
}

func sqsError(e *apiError) (string, http.Header) {
	q := e.Query
	if q == "" {
		q = sqsQueryCodes[e.Code]
	}
	if q == "" {
		q = e.Code
	}
	fault := "Sender"
	if e.Server {
		fault = "Receiver"
	}
	return "com.amazonaws.sqs#" + e.Code, http.Header{"X-Amzn-Query-Error": {q + ";" + fault}}
}

func invalidParam(format string, args ...any) *apiError {
	return &apiError{Code: "InvalidParameterValue", Message: fmt.Sprintf(format, args...)}
}

func missingParam(name string) *apiError {
	return &apiError{Code: "MissingParameter", Message: fmt.Sprintf("the request must contain the parameter %s", name)}
}

// queueURL is a queue's URL on this endpoint (the host the client used),
// as SQS's https://sqs.<region>.amazonaws.com/<account>/<name>.
func queueURL(r *http.Request, name string) string {
	return "http://" + r.Host + "/" + Account + "/" + name
}

// queue resolves a QueueUrl (any host; its last path segment is the name)
// or a bare queue name.
func (q *sqsService) queue(url string) (Queue, error) {
	if url == "" {
		return Queue{}, missingParam("QueueUrl")
	}
	name := url[strings.LastIndex(url, "/")+1:]
	for _, x := range q.s.p.Queues() {
		if x.Name() == name {
			return x, nil
		}
	}
	return Queue{}, errorf("QueueDoesNotExist", "the specified queue %s does not exist (eventplane dev serves the topology's queues: %s)", name, strings.Join(q.names(), ", "))
}

func (q *sqsService) names() []string {
	var out []string
	for _, x := range q.s.p.Queues() {
		out = append(out, x.Name())
	}
	slices.Sort(out)
	return out
}

// queueRef is the QueueUrl member of a request on one queue.
type queueRef struct {
	QueueUrl string //nolint:revive // the API's member name
}

func (r queueRef) queueURL() string { return r.QueueUrl }

// request decodes the body of a request on one queue (a struct embedding
// queueRef) and resolves its queue.
func request[T any, P interface {
	*T
	queueURL() string
}](q *sqsService, body []byte) (Queue, *T, error) {
	in := new(T)
	if err := decode(body, in); err != nil {
		return Queue{}, nil, err
	}
	x, err := q.queue(P(in).queueURL())
	return x, in, err
}

func (q *sqsService) getQueueURL(_ context.Context, r *http.Request, body []byte) (any, error) {
	_, url, err := q.named(r, body)
	return url, err
}

// named decodes a request naming a queue by QueueName and answers its URL.
func (q *sqsService) named(r *http.Request, body []byte) (string, map[string]string, error) {
	var in struct{ QueueName string }
	if err := decode(body, &in); err != nil {
		return "", nil, err
	}
	if in.QueueName == "" {
		return "", nil, missingParam("QueueName")
	}
	x, err := q.queue(in.QueueName)
	if err != nil {
		return in.QueueName, nil, err
	}
	return in.QueueName, map[string]string{"QueueUrl": queueURL(r, x.Name())}, nil
}

// createQueue answers for the topology's queues only: the topology is the
// one source of resources, in the cloud (Terraform) and locally.
func (q *sqsService) createQueue(_ context.Context, r *http.Request, body []byte) (any, error) {
	name, url, err := q.named(r, body)
	var e *apiError
	if errors.As(err, &e) && e.Code == "QueueDoesNotExist" {
		return nil, errorf("UnsupportedOperation", "eventplane dev creates no queues: declare queue %s in the topology file and restart (it serves: %s)", name, strings.Join(q.names(), ", "))
	}
	return url, err
}

func (q *sqsService) listQueues(_ context.Context, r *http.Request, body []byte) (any, error) {
	var in struct {
		QueueNamePrefix string
		MaxResults      int
		NextToken       string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.MaxResults < 0 || in.MaxResults > 1000 {
		return nil, invalidParam("MaxResults must be between 1 and 1000")
	}
	var urls []string
	for _, n := range q.names() {
		if strings.HasPrefix(n, in.QueueNamePrefix) && n > in.NextToken {
			urls = append(urls, queueURL(r, n))
		}
	}
	out := map[string]any{}
	if in.MaxResults > 0 && len(urls) > in.MaxResults {
		urls = urls[:in.MaxResults]
		out["NextToken"] = urls[len(urls)-1][strings.LastIndex(urls[len(urls)-1], "/")+1:]
	}
	if len(urls) > 0 {
		out["QueueUrls"] = urls
	}
	return out, nil
}

func (q *sqsService) getQueueAttributes(_ context.Context, _ *http.Request, body []byte) (any, error) {
	x, in, err := request[struct {
		queueRef
		AttributeNames []string
	}](q, body)
	if err != nil {
		return nil, err
	}
	st := x.Stats()
	retention := x.Retention
	if retention <= 0 {
		retention = 4 * 24 * time.Hour // SQS's default
	}
	created := strconv.FormatInt(q.s.started.Unix(), 10)
	all := map[string]string{
		"QueueArn":                              x.ARN(),
		"ApproximateNumberOfMessages":           strconv.Itoa(st.Visible),
		"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(st.InFlight),
		"ApproximateNumberOfMessagesDelayed":    strconv.Itoa(st.Delayed),
		"VisibilityTimeout":                     strconv.Itoa(int(x.VisibilityTimeout().Seconds())),
		"MessageRetentionPeriod":                strconv.Itoa(int(retention.Seconds())),
		"MaximumMessageSize":                    "262144",
		"DelaySeconds":                          strconv.Itoa(int(x.Delay() / time.Second)),
		"ReceiveMessageWaitTimeSeconds":         "0",
		"CreatedTimestamp":                      created,
		"LastModifiedTimestamp":                 created,
		"SqsManagedSseEnabled":                  "false",
	}
	if x.FIFO() {
		all["FifoQueue"] = "true"
		all["ContentBasedDeduplication"] = "true"
	}
	if x.DeadLetterARN != "" {
		rp, _ := json.Marshal(map[string]any{"deadLetterTargetArn": x.DeadLetterARN, "maxReceiveCount": x.MaxReceiveCount})
		all["RedrivePolicy"] = string(rp)
	}
	out := map[string]string{}
	for _, n := range in.AttributeNames {
		if n == "All" {
			out = all
			break
		}
		v, ok := all[n]
		if !ok {
			if !knownQueueAttribute(n) {
				return nil, &apiError{Code: "InvalidAttributeName", Message: fmt.Sprintf("unknown attribute %s", n)}
			}
			continue // a valid attribute the queue does not have (FifoQueue of a standard queue)
		}
		out[n] = v
	}
	if len(out) == 0 {
		return map[string]any{}, nil
	}
	return map[string]any{"Attributes": out}, nil
}

func knownQueueAttribute(n string) bool {
	switch n {
	case "Policy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "FifoQueue", "ContentBasedDeduplication",
		"DeduplicationScope", "FifoThroughputLimit", "RedriveAllowPolicy", "RedrivePolicy":
		return true
	}
	return false
}

// attributeValue is a message attribute as the API carries it.
type attributeValue struct {
	DataType    string
	StringValue *string `json:",omitempty"`
	BinaryValue []byte  `json:",omitempty"`
}

type sendEntry struct {
	ID                      string `json:"Id"`
	MessageBody             *string
	DelaySeconds            *int
	MessageAttributes       map[string]attributeValue
	MessageSystemAttributes map[string]attributeValue
	MessageDeduplicationId  string //nolint:revive // the API's member name
	MessageGroupId          string //nolint:revive // the API's member name
}

// maxMessage is SQS's largest message (body and attributes).
const maxMessage = 262144

// send enqueues one message and returns SendMessage's result members.
func (q *sqsService) send(x Queue, e sendEntry) (map[string]any, error) {
	if e.MessageBody == nil {
		return nil, missingParam("MessageBody")
	}
	body := *e.MessageBody
	if body == "" {
		return nil, invalidParam("the message body must be at least one character")
	}
	if err := validBody(body); err != nil {
		return nil, err
	}
	size := len(body)
	attrs := map[string]string{}
	for k, v := range e.MessageAttributes {
		s, err := attrString(k, v)
		if err != nil {
			return nil, err
		}
		attrs[k] = s
		size += len(k) + len(v.DataType) + len(s)
	}
	if len(e.MessageAttributes) > 10 {
		return nil, invalidParam("a message can have at most 10 message attributes, not %d", len(e.MessageAttributes))
	}
	if size > maxMessage {
		return nil, invalidParam("the message is %d bytes, over SQS's limit of %d bytes", size, maxMessage)
	}
	system := map[string]string{}
	for k, v := range e.MessageSystemAttributes {
		if k != "AWSTraceHeader" {
			return nil, invalidParam("message system attribute %s is not supported (only AWSTraceHeader)", k)
		}
		s, err := attrString(k, v)
		if err != nil {
			return nil, err
		}
		system[k] = s
	}
	// A message without DelaySeconds gets the queue's (SendMessage's
	// DelaySeconds: "If you don't specify a value, the default value for
	// the queue applies").
	delay := int(x.Delay() / time.Second)
	if e.DelaySeconds != nil {
		delay = *e.DelaySeconds
	}
	if delay < 0 || delay > 900 {
		return nil, invalidParam("DelaySeconds must be between 0 and 900, not %d", delay)
	}
	out := map[string]any{"MD5OfMessageBody": md5Hex([]byte(body))}
	if len(attrs) > 0 {
		out["MD5OfMessageAttributes"] = attributesMD5(e.MessageAttributes)
	}
	if len(system) > 0 {
		out["MD5OfMessageSystemAttributes"] = attributesMD5(e.MessageSystemAttributes)
	}
	group := ""
	if x.FIFO() {
		if e.MessageGroupId == "" {
			return nil, missingParam("MessageGroupId")
		}
		if e.DelaySeconds != nil && *e.DelaySeconds != 0 {
			return nil, invalidParam("DelaySeconds is not supported per message on FIFO queues: a FIFO queue's delay is set on the queue (delaySeconds in the topology)")
		}
		group = e.MessageGroupId
		// Without a MessageDeduplicationId the body's SHA-256 is the id,
		// as with ContentBasedDeduplication (on for every local FIFO queue).
		dedupID := e.MessageDeduplicationId
		if dedupID == "" {
			sum := sha256.Sum256([]byte(body))
			dedupID = hex.EncodeToString(sum[:])
		}
		q.mu.Lock()
		defer q.mu.Unlock()
		seen := q.dedup[x.Name()]
		if seen == nil {
			seen = map[string]dedupEntry{}
			q.dedup[x.Name()] = seen
		}
		now := time.Now()
		for k, d := range seen {
			if now.Sub(d.at) > dedupWindow {
				delete(seen, k)
			}
		}
		if d, ok := seen[dedupID]; ok {
			out["MessageId"], out["SequenceNumber"] = d.id, d.seq
			return out, nil // accepted, not delivered again
		}
		id, err := x.SendSystem(body, attrs, system, group, x.Delay())
		if err != nil {
			return nil, invalidParam("%v", err)
		}
		q.seq++
		seq := fmt.Sprintf("%020d", q.seq)
		seen[dedupID] = dedupEntry{id: id, seq: seq, at: now}
		out["MessageId"], out["SequenceNumber"] = id, seq
		return out, nil
	}
	if e.MessageGroupId != "" || e.MessageDeduplicationId != "" {
		// Standard queues accept a MessageGroupId (fair queues) and ignore it.
		if e.MessageDeduplicationId != "" {
			return nil, invalidParam("MessageDeduplicationId is valid only for FIFO queues")
		}
	}
	id, err := x.SendSystem(body, attrs, system, group, time.Duration(delay)*time.Second)
	if err != nil {
		return nil, invalidParam("%v", err)
	}
	out["MessageId"] = id
	return out, nil
}

// validBody checks SQS's allowed characters: #x9 | #xA | #xD | #x20 to
// #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
func validBody(s string) error {
	for i, r := range s {
		if r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF) {
			if r == 0xFFFD && !strings.HasPrefix(s[i:], "\uFFFD") {
				return &apiError{Code: "InvalidMessageContents", Message: fmt.Sprintf("invalid UTF-8 at byte %d of the message body", i)}
			}
			continue
		}
		return &apiError{Code: "InvalidMessageContents", Message: fmt.Sprintf("invalid character %U at byte %d of the message body", r, i)}
	}
	return nil
}

// attrString is the value the platform's queues keep of a message
// attribute: its string value. Binary attributes are not supported (the
// platform's queues hold strings); the data type is not kept either, so a
// received attribute's DataType is String.
func attrString(name string, v attributeValue) (string, error) {
	base, _, _ := strings.Cut(v.DataType, ".")
	switch {
	case v.DataType == "":
		return "", invalidParam("message attribute %s has no DataType", name)
	case base == "Binary":
		return "", invalidParam("message attribute %s: Binary attributes are not supported by eventplane dev (use String)", name)
	case base != "String" && base != "Number":
		return "", invalidParam("message attribute %s has the unknown DataType %s", name, v.DataType)
	case v.StringValue == nil:
		return "", invalidParam("message attribute %s (%s) has no StringValue", name, v.DataType)
	}
	if base == "Number" {
		if _, err := strconv.ParseFloat(*v.StringValue, 64); err != nil {
			return "", invalidParam("message attribute %s: %q is not a Number", name, *v.StringValue)
		}
	}
	return *v.StringValue, nil
}

// attributesMD5 is SQS's MD5 of message attributes: for each attribute in
// name order, the length-prefixed (4 bytes, big endian) name, data type,
// a transport byte (1 string, 2 binary) and the length-prefixed value.
func attributesMD5(attrs map[string]attributeValue) string {
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	slices.Sort(names)
	h := md5.New() //nolint:gosec // the API's checksum
	put := func(b []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, k := range names {
		v := attrs[k]
		put([]byte(k))
		put([]byte(v.DataType))
		if v.StringValue != nil {
			h.Write([]byte{1})
			put([]byte(*v.StringValue))
		} else {
			h.Write([]byte{2})
			put(v.BinaryValue)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func md5Hex(b []byte) string {
	s := md5.Sum(b) //nolint:gosec // the API's checksum
	return hex.EncodeToString(s[:])
}

func (q *sqsService) sendMessage(_ context.Context, _ *http.Request, body []byte) (any, error) {
	x, in, err := request[struct {
		queueRef
		sendEntry
	}](q, body)
	if err != nil {
		return nil, err
	}
	return q.send(x, in.sendEntry)
}

// batchIDs checks a batch's entry ids as SQS does: 1 to 10 entries with
// distinct ids of up to 80 alphanumerics, hyphens and underscores.
func batchIDs(ids []string) error {
	if len(ids) == 0 {
		return errorf("EmptyBatchRequest", "the batch request does not contain any entries")
	}
	if len(ids) > 10 {
		return errorf("TooManyEntriesInBatchRequest", "the batch request has %d entries; the maximum is 10", len(ids))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "" || len(id) > 80 || strings.Trim(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
			return errorf("InvalidBatchEntryId", "batch entry id %q is invalid: up to 80 alphanumerics, hyphens and underscores", id)
		}
		if seen[id] {
			return errorf("BatchEntryIdsNotDistinct", "batch entry id %s occurs more than once", id)
		}
		seen[id] = true
	}
	return nil
}

type batchFailure struct {
	ID          string `json:"Id"`
	Code        string
	Message     string
	SenderFault bool
}

func failure(id string, err error) batchFailure {
	var e *apiError
	if !errors.As(err, &e) {
		return batchFailure{ID: id, Code: "InternalError", Message: err.Error()}
	}
	code := e.Query
	if code == "" {
		code = sqsQueryCodes[e.Code]
	}
	if code == "" {
		code = e.Code
	}
	return batchFailure{ID: id, Code: code, Message: e.Message, SenderFault: !e.Server}
}

type batchResult struct {
	Successful []map[string]any
	Failed     []batchFailure
}

// batch runs do on each entry of a checked batch: an entry that fails is
// in Failed with its error's code; the others are in Successful with the
// members do returned and their Id.
func batch[E any](entries []E, id func(E) string, do func(E) (map[string]any, error)) batchResult {
	out := batchResult{Successful: []map[string]any{}, Failed: []batchFailure{}}
	for _, e := range entries {
		res, err := do(e)
		if err != nil {
			out.Failed = append(out.Failed, failure(id(e), err))
			continue
		}
		res["Id"] = id(e)
		out.Successful = append(out.Successful, res)
	}
	return out
}

func (q *sqsService) sendMessageBatch(_ context.Context, _ *http.Request, body []byte) (any, error) {
	x, in, err := request[struct {
		queueRef
		Entries []sendEntry
	}](q, body)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	total := 0
	for i, e := range in.Entries {
		ids[i] = e.ID
		if e.MessageBody != nil {
			total += len(*e.MessageBody)
		}
	}
	if err := batchIDs(ids); err != nil {
		return nil, err
	}
	if total > 1<<20 {
		return nil, errorf("BatchRequestTooLong", "the batch's messages are %d bytes, over 1 MiB", total)
	}
	return batch(in.Entries, func(e sendEntry) string { return e.ID }, func(e sendEntry) (map[string]any, error) { return q.send(x, e) }), nil
}

type receivedMessage struct {
	MessageID              string                    `json:"MessageId"`
	ReceiptHandle          string                    `json:"ReceiptHandle"`
	MD5OfBody              string                    `json:"MD5OfBody"`
	Body                   string                    `json:"Body"`
	Attributes             map[string]string         `json:"Attributes,omitempty"`
	MD5OfMessageAttributes string                    `json:"MD5OfMessageAttributes,omitempty"`
	MessageAttributes      map[string]attributeValue `json:"MessageAttributes,omitempty"`
}

func (q *sqsService) receiveMessage(ctx context.Context, _ *http.Request, body []byte) (any, error) {
	x, in, err := request[struct {
		queueRef
		AttributeNames              []string
		MessageSystemAttributeNames []string
		MessageAttributeNames       []string
		MaxNumberOfMessages         *int
		VisibilityTimeout           *int
		WaitTimeSeconds             *int
	}](q, body)
	if err != nil {
		return nil, err
	}
	limit, wait, vt := 1, 0, x.VisibilityTimeout()
	if in.MaxNumberOfMessages != nil {
		limit = *in.MaxNumberOfMessages
		if limit < 1 || limit > 10 {
			return nil, invalidParam("MaxNumberOfMessages must be between 1 and 10, not %d", limit)
		}
	}
	if in.WaitTimeSeconds != nil {
		wait = *in.WaitTimeSeconds
		if wait < 0 || wait > 20 {
			return nil, invalidParam("WaitTimeSeconds must be between 0 and 20, not %d", wait)
		}
	}
	if in.VisibilityTimeout != nil {
		if *in.VisibilityTimeout < 0 || *in.VisibilityTimeout > 43200 {
			return nil, invalidParam("VisibilityTimeout must be between 0 and 43200, not %d", *in.VisibilityTimeout)
		}
		vt = time.Duration(*in.VisibilityTimeout) * time.Second
	}
	msgs, err := x.ReceiveWith(ctx, limit, time.Duration(wait)*time.Second, vt)
	if err != nil && ctx.Err() == nil {
		return nil, err
	}
	names := append(in.AttributeNames, in.MessageSystemAttributeNames...)
	out := make([]receivedMessage, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, received(m, names, in.MessageAttributeNames))
	}
	if len(out) == 0 {
		return map[string]any{}, nil
	}
	return map[string]any{"Messages": out}, nil
}

// received is a message as ReceiveMessage returns it, with the system
// attributes and message attributes the request asked for.
func received(m delivery.Message, names, attrNames []string) receivedMessage {
	rm := receivedMessage{MessageID: m.MessageID, ReceiptHandle: m.Receipt, MD5OfBody: md5Hex([]byte(m.Body)), Body: m.Body}
	system := map[string]string{"SenderId": Account}
	for k, v := range m.Attributes {
		if v != "" {
			system[k] = v
		}
	}
	for _, n := range names {
		if n == "All" {
			rm.Attributes = system
			break
		}
		if v, ok := system[n]; ok {
			if rm.Attributes == nil {
				rm.Attributes = map[string]string{}
			}
			rm.Attributes[n] = v
		}
	}
	for k, v := range m.MessageAttributes {
		if !wanted(k, attrNames) {
			continue
		}
		if rm.MessageAttributes == nil {
			rm.MessageAttributes = map[string]attributeValue{}
		}
		rm.MessageAttributes[k] = attributeValue{DataType: "String", StringValue: &v}
	}
	if len(rm.MessageAttributes) > 0 {
		rm.MD5OfMessageAttributes = attributesMD5(rm.MessageAttributes)
	}
	return rm
}

// wanted reports whether MessageAttributeNames asks for attribute k: All,
// .*, a name, or a prefix ending in .* ("bar.*").
func wanted(k string, names []string) bool {
	for _, n := range names {
		if n == "All" || n == ".*" || n == k || (strings.HasSuffix(n, ".*") && strings.HasPrefix(k, strings.TrimSuffix(n, "*"))) {
			return true
		}
	}
	return false
}

// receipt checks a receipt handle is one of this platform's
// (<message id>#<receive count>).
func receipt(h string) error {
	if h == "" {
		return missingParam("ReceiptHandle")
	}
	if i := strings.LastIndexByte(h, '#'); i <= 0 {
		return errorf("ReceiptHandleIsInvalid", "the receipt handle %q is not valid", h)
	} else if _, err := strconv.Atoi(h[i+1:]); err != nil {
		return errorf("ReceiptHandleIsInvalid", "the receipt handle %q is not valid", h)
	}
	return nil
}

// deleteOne deletes a message by receipt handle. A well-formed handle of a
// message already deleted (or received again since) succeeds, as SQS's
// DeleteMessage does.
func deleteOne(ctx context.Context, x Queue, h string) error {
	if err := receipt(h); err != nil {
		return err
	}
	var be *delivery.BatchError
	if err := x.Delete(ctx, []string{h}); err != nil && !errors.As(err, &be) {
		return err
	}
	return nil
}

func (q *sqsService) deleteMessage(ctx context.Context, _ *http.Request, body []byte) (any, error) {
	x, in, err := request[struct {
		queueRef
		ReceiptHandle string
	}](q, body)
	if err != nil {
		return nil, err
	}
	if err := deleteOne(ctx, x, in.ReceiptHandle); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type receiptEntry struct {
	ID                string `json:"Id"`
	ReceiptHandle     string
	VisibilityTimeout *int
}

func (e receiptEntry) id() string { return e.ID }

func (q *sqsService) receiptBatch(body []byte) (Queue, []receiptEntry, error) {
	x, in, err := request[struct {
		queueRef
		Entries []receiptEntry
	}](q, body)
	if err != nil {
		return Queue{}, nil, err
	}
	ids := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		ids[i] = e.ID
	}
	return x, in.Entries, batchIDs(ids)
}

func (q *sqsService) deleteMessageBatch(ctx context.Context, _ *http.Request, body []byte) (any, error) {
	x, entries, err := q.receiptBatch(body)
	if err != nil {
		return nil, err
	}
	return batch(entries, receiptEntry.id, func(e receiptEntry) (map[string]any, error) {
		return map[string]any{}, deleteOne(ctx, x, e.ReceiptHandle)
	}), nil
}

// changeOne changes an in-flight message's visibility timeout; a message
// not in flight under that handle is MessageNotInflight, as in SQS.
func changeOne(ctx context.Context, x Queue, h string, timeout *int) error {
	if err := receipt(h); err != nil {
		return err
	}
	if timeout == nil {
		return missingParam("VisibilityTimeout")
	}
	if *timeout < 0 || *timeout > 43200 {
		return invalidParam("VisibilityTimeout must be between 0 and 43200, not %d", *timeout)
	}
	var be *delivery.BatchError
	err := x.ChangeVisibility(ctx, []delivery.VisibilityChange{{Receipt: h, Timeout: time.Duration(*timeout) * time.Second}})
	if errors.As(err, &be) {
		return errorf("MessageNotInflight", "the message of receipt handle %s is not in flight", h)
	}
	return err
}

func (q *sqsService) changeVisibility(ctx context.Context, _ *http.Request, body []byte) (any, error) {
	x, in, err := request[struct {
		queueRef
		receiptEntry
	}](q, body)
	if err != nil {
		return nil, err
	}
	if err := changeOne(ctx, x, in.ReceiptHandle, in.VisibilityTimeout); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (q *sqsService) changeVisibilityBatch(ctx context.Context, _ *http.Request, body []byte) (any, error) {
	x, entries, err := q.receiptBatch(body)
	if err != nil {
		return nil, err
	}
	return batch(entries, receiptEntry.id, func(e receiptEntry) (map[string]any, error) {
		return map[string]any{}, changeOne(ctx, x, e.ReceiptHandle, e.VisibilityTimeout)
	}), nil
}

func (q *sqsService) purgeQueue(_ context.Context, _ *http.Request, body []byte) (any, error) {
	x, _, err := request[queueRef](q, body)
	if err != nil {
		return nil, err
	}
	n := x.Purge()
	q.s.log.Info("queue purged", "queue", x.Name(), "messages", n)
	return struct{}{}, nil
}
