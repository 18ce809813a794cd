package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventplane/eventplane/consumers/awsconf"
	"github.com/eventplane/eventplane/consumers/bus"
	"github.com/eventplane/eventplane/consumers/engine"
	"github.com/eventplane/eventplane/consumers/event"
	"github.com/eventplane/eventplane/consumers/sqs"
)

const defaultEndpoint = "http://127.0.0.1:4000"

// readEvents reads CloudEvents (structured JSON) from r: a JSON array, one
// object, or JSON Lines. Errors name the event's position.
func readEvents(r io.Reader) ([]json.RawMessage, error) {
	br := bufio.NewReader(r)
	head, err := br.Peek(1)
	for err == nil && (head[0] == ' ' || head[0] == '\n' || head[0] == '\r' || head[0] == '\t') {
		_, _ = br.ReadByte()
		head, err = br.Peek(1)
	}
	if err == io.EOF {
		return nil, fmt.Errorf("no events in the input")
	}
	if err != nil {
		return nil, err
	}
	if head[0] == '[' {
		var evs []json.RawMessage
		if err := json.NewDecoder(br).Decode(&evs); err != nil {
			return nil, fmt.Errorf("JSON array of events: %w", err)
		}
		return evs, nil
	}
	dec := json.NewDecoder(br)
	var evs []json.RawMessage
	for i := 1; ; i++ {
		var e json.RawMessage
		if err := dec.Decode(&e); err == io.EOF {
			return evs, nil
		} else if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		evs = append(evs, e)
	}
}

// sendCmd posts events to the local ingest API, or puts them on an
// EventBridge bus in the cloud (--bus).
func sendCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", defaultEndpoint, "eventplane dev (or the ingest API's base URL: POST <endpoint>/events)")
	busName := fs.String("bus", "", "put the events on this EventBridge bus instead (AWS credentials, --region)")
	region := fs.String("region", "", "AWS region for --bus (default: AWS_REGION or the profile's)")
	awsEndpoint := fs.String("aws-endpoint", "", "EventBridge endpoint for --bus (emulators)")
	profile := fs.String("profile", "", "AWS profile for --bus (default: AWS_PROFILE)")
	batch := fs.Int("batch", 100, "events per request to the ingest API (at most 100)")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	data, err := input(fs, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "eventplane send: %v\n", err)
		return exitBad
	}
	evs, err := readEvents(bytes.NewReader(data))
	if err != nil {
		fmt.Fprintf(stderr, "eventplane send: %v\n", err)
		return exitBad
	}
	progress := newProgress(stderr, len(evs))
	ctx := context.Background()
	if *busName != "" {
		err = sendToBus(ctx, evs, *busName, awsconf.Options{Region: *region, Endpoint: *awsEndpoint, Profile: *profile}, progress)
	} else {
		err = sendToIngest(ctx, evs, strings.TrimSuffix(*endpoint, "/"), min(max(*batch, 1), 100), progress)
	}
	if err != nil {
		fmt.Fprintf(stderr, "eventplane send: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "sent %d events\n", len(evs))
	return exitOK
}

type progress struct {
	w     io.Writer
	total int
	done  int
	last  time.Time
	start time.Time
}

func newProgress(w io.Writer, total int) *progress {
	return &progress{w: w, total: total, start: time.Now()}
}

// add reports progress at most every 500ms, and only for large inputs.
func (p *progress) add(n int) {
	p.done += n
	if p.total < 1000 || (time.Since(p.last) < 500*time.Millisecond && p.done < p.total) {
		return
	}
	p.last = time.Now()
	rate := float64(p.done) / time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "\rsent %d/%d (%d%%, %.0f events/s)", p.done, p.total, 100*p.done/p.total, rate)
	if p.done == p.total {
		fmt.Fprintln(p.w)
	}
}

func sendToIngest(ctx context.Context, evs []json.RawMessage, endpoint string, batch int, p *progress) error {
	client := &http.Client{Timeout: 30 * time.Second}
	for i := 0; i < len(evs); i += batch {
		chunk := evs[i:min(len(evs), i+batch)]
		body, _ := json.Marshal(chunk)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/events", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/cloudevents-batch+json")
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("POST %s/events: %w (is `eventplane dev` running?)", endpoint, err)
		}
		msg, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("events %d..%d rejected: %s %s", i+1, i+len(chunk), resp.Status, bytes.TrimSpace(msg))
		}
		p.add(len(chunk))
	}
	return nil
}

func sendToBus(ctx context.Context, evs []json.RawMessage, busName string, opts awsconf.Options, p *progress) error {
	cfg, err := awsconf.Load(ctx, opts)
	if err != nil {
		return err
	}
	api := eventbridge.NewFromConfig(cfg)
	var entries []ebtypes.PutEventsRequestEntry
	for i, raw := range evs {
		e, err := event.DecodeStructured(raw)
		if err != nil {
			return fmt.Errorf("event %d: %w", i+1, err)
		}
		entries = append(entries, bus.Entry(busName, &e))
	}
	for i := 0; i < len(entries); i += 100 {
		chunk := entries[i:min(len(entries), i+100)]
		if err := bus.PutEvents(ctx, api, chunk); err != nil {
			return err
		}
		p.add(len(chunk))
	}
	return nil
}

// tailCmd follows processed events: of `eventplane dev`, or of a consumer
// through its debug endpoint (kubectl port-forward deploy/<consumer> 9091: the
// pod's loopback-only debug port).
func tailCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", defaultEndpoint, "eventplane dev")
	adminURL := fs.String("admin", "", "follow one consumer's debug endpoint instead (e.g. http://localhost:9091 after kubectl port-forward deploy/<consumer> 9091)")
	asJSON := fs.Bool("json", false, "print each event as JSON")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	ctx, stop := signalContext()
	defer stop()
	print := func(consumer string, e engine.RecentEvent) {
		if *asJSON {
			b, _ := json.Marshal(map[string]any{"consumer": consumer, "event": e})
			fmt.Fprintln(stdout, string(b))
			return
		}
		fmt.Fprintf(stdout, "%s  %-10s %-40s %-8s %6.1fms  %s  %s\n", e.At.Format("15:04:05.000"), consumer, e.Type, e.Outcome, e.DurationMS, strings.Join(e.Routes, ","), e.EventID)
	}
	var err error
	if *adminURL != "" {
		err = tailAdmin(ctx, strings.TrimSuffix(*adminURL, "/"), print)
	} else {
		err = tailLocal(ctx, strings.TrimSuffix(*endpoint, "/"), print)
	}
	if err != nil && ctx.Err() == nil {
		fmt.Fprintf(stderr, "eventplane tail: %v\n", err)
		return 1
	}
	return exitOK
}

func tailLocal(ctx context.Context, endpoint string, print func(string, engine.RecentEvent)) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/api/tail", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s/api/tail: %w (is `eventplane dev` running?)", endpoint, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s/api/tail: %s", endpoint, resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var e struct {
			Consumer string `json:"consumer"`
			engine.RecentEvent
		}
		if err := json.Unmarshal([]byte(data), &e); err == nil {
			print(e.Consumer, e.RecentEvent)
		}
	}
	return sc.Err()
}

// tailAdmin polls a consumer's /debug for events it has not shown yet.
func tailAdmin(ctx context.Context, adminURL string, print func(string, engine.RecentEvent)) error {
	since := time.Now()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, adminURL+"/debug", nil)
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("GET %s/debug: %w (kubectl port-forward deploy/<consumer> 9091:9091 first)", adminURL, err)
		}
		var snap engine.Snapshot
		err = json.NewDecoder(resp.Body).Decode(&snap)
		_ = resp.Body.Close()
		if err != nil {
			return fmt.Errorf("%s/debug: %w", adminURL, err)
		}
		for i := len(snap.Recent) - 1; i >= 0; i-- {
			if e := snap.Recent[i]; e.At.After(since) {
				print("consumer", e)
				since = e.At
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// dlqCmd lists or redrives a queue's dead-letter messages: of `eventplane
// dev` by queue name, or of an SQS queue (--queue-url) in the cloud.
func dlqCmd(args []string, stdout, stderr io.Writer) int {
	const use = "usage: eventplane dlq list|redrive QUEUE [--endpoint URL]   or   eventplane dlq list|redrive --queue-url URL [--region R] [--profile P]"
	if len(args) == 0 || (args[0] != "list" && args[0] != "redrive") {
		fmt.Fprintln(stderr, use)
		return exitBad
	}
	verb := args[0]
	fs := flag.NewFlagSet("dlq "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", defaultEndpoint, "eventplane dev")
	queueURL := fs.String("queue-url", "", "an SQS queue (its DLQ comes from the redrive policy) instead of eventplane dev")
	region := fs.String("region", "", "AWS region for --queue-url")
	awsEndpoint := fs.String("aws-endpoint", "", "SQS endpoint for --queue-url (emulators)")
	profile := fs.String("profile", "", "AWS profile for --queue-url (default: AWS_PROFILE)")
	rest, queue := args[1:], ""
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		queue, rest = rest[0], rest[1:] // the queue may come before the flags
	}
	if err := fs.Parse(rest); err != nil {
		return parseExit(err)
	}
	if queue == "" && fs.NArg() == 1 {
		queue = fs.Arg(0)
	}
	ctx := context.Background()
	var err error
	switch {
	case *queueURL != "":
		err = dlqCloud(ctx, verb, *queueURL, awsconf.Options{Region: *region, Endpoint: *awsEndpoint, Profile: *profile}, stdout)
	case queue != "":
		err = dlqLocal(ctx, verb, strings.TrimSuffix(*endpoint, "/"), queue, stdout)
	default:
		fmt.Fprintln(stderr, use)
		return exitBad
	}
	if err != nil {
		fmt.Fprintf(stderr, "eventplane dlq %s: %v\n", verb, err)
		return 1
	}
	return exitOK
}

func dlqLocal(ctx context.Context, verb, endpoint, queue string, stdout io.Writer) error {
	method, path := http.MethodGet, "/api/dlq/"+queue
	if verb == "redrive" {
		method, path = http.MethodPost, path+"/redrive"
	}
	req, _ := http.NewRequestWithContext(ctx, method, endpoint+path, nil) // #nosec G704 -- the CLI calls the endpoint its user names (--endpoint), by design
	resp, err := http.DefaultClient.Do(req)                               // #nosec G704 -- the endpoint its user names, by design
	if err != nil {
		return fmt.Errorf("%s: %w (is `eventplane dev` running?)", endpoint, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		var problem struct{ Error string }
		if json.Unmarshal(body, &problem) == nil && problem.Error != "" {
			return errors.New(problem.Error)
		}
		return fmt.Errorf("%s %s", resp.Status, bytes.TrimSpace(body))
	}
	if verb == "redrive" {
		var out struct{ Moved int }
		_ = json.Unmarshal(body, &out)
		fmt.Fprintf(stdout, "moved %d messages back to %s\n", out.Moved, queue)
		return nil
	}
	var msgs []struct {
		MessageID    string            `json:"messageId"`
		Body         string            `json:"body"`
		Attributes   map[string]string `json:"attributes"`
		ReceiveCount int               `json:"receiveCount"`
	}
	if err := json.Unmarshal(body, &msgs); err != nil {
		return err
	}
	for _, m := range msgs {
		fmt.Fprintf(stdout, "%s  reason: %s\n  %s\n", m.MessageID, m.Attributes[engine.AttrFailureReason], truncateLine(m.Body, 200))
	}
	fmt.Fprintf(stdout, "%d dead-letter messages in %s\n", len(msgs), queue)
	return nil
}

func dlqCloud(ctx context.Context, verb, queueURL string, opts awsconf.Options, stdout io.Writer) error {
	cfg, err := awsconf.Load(ctx, opts)
	if err != nil {
		return err
	}
	api := awssqs.NewFromConfig(cfg)
	st, err := sqs.QueueStats(ctx, api, queueURL, "", false)
	if err != nil {
		return err
	}
	if st.DeadLetterURL == "" {
		return fmt.Errorf("queue %s has no redrive policy: no dead-letter queue", queueURL)
	}
	if verb == "redrive" {
		n, err := sqs.Redrive(ctx, api, st.DeadLetterURL, queueURL, 0)
		fmt.Fprintf(stdout, "moved %d messages from %s back to %s\n", n, st.DeadLetterURL, queueURL)
		return err
	}
	// A peek: received with a 1s visibility timeout and released at once.
	out, err := api.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(st.DeadLetterURL), MaxNumberOfMessages: 10,
		VisibilityTimeout: 1, MessageAttributeNames: []string{"All"}})
	if err != nil {
		return err
	}
	var release []types.ChangeMessageVisibilityBatchRequestEntry
	for i, m := range out.Messages {
		release = append(release, types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
		reason := ""
		if v, ok := m.MessageAttributes[engine.AttrFailureReason]; ok {
			reason = aws.ToString(v.StringValue)
		}
		fmt.Fprintf(stdout, "%s  reason: %s\n  %s\n", aws.ToString(m.MessageId), reason, truncateLine(aws.ToString(m.Body), 200))
	}
	if len(release) > 0 {
		if _, err := api.ChangeMessageVisibilityBatch(ctx, &awssqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(st.DeadLetterURL), Entries: release}); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "%d dead-letter messages in %s (showing up to 10)\n", st.DeadLetterDepth, st.DeadLetterURL)
	return nil
}

func truncateLine(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
