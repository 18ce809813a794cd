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
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventplane/eventplane/consumers/awsconf"
	"github.com/eventplane/eventplane/consumers/bus"
	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/engine"
	"github.com/eventplane/eventplane/consumers/event"
	"github.com/eventplane/eventplane/consumers/sqs"
)

const defaultEndpoint = "http://127.0.0.1:4000"

// readEvents reads CloudEvents (structured JSON) from r: a JSON array, one
// object, or JSON Lines. Errors name the event's 1-based position and line.
func readEvents(data []byte) ([]json.RawMessage, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, errors.New("empty input: no events to send")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	line := func() int { return 1 + bytes.Count(data[:dec.InputOffset()], []byte("\n")) }
	var evs []json.RawMessage
	element := func(what string) error {
		// The line where the element starts (past the comma and spaces).
		at := int(dec.InputOffset())
		for at < len(data) && bytes.IndexByte([]byte(", \t\r\n"), data[at]) >= 0 {
			at++
		}
		startLine := 1 + bytes.Count(data[:at], []byte("\n"))
		var e json.RawMessage
		if err := dec.Decode(&e); err != nil {
			return fmt.Errorf("%s (line %d): %w", what, startLine, err)
		}
		if t := bytes.TrimLeft(e, " \t\r\n"); len(t) == 0 || t[0] != '{' {
			return fmt.Errorf("%s (line %d): not a JSON object: %.40s", what, startLine, t)
		}
		evs = append(evs, e)
		return nil
	}
	if trimmed[0] == '[' {
		_, _ = dec.Token() // [
		for i := 1; dec.More(); i++ {
			if err := element(fmt.Sprintf("event %d of the JSON array", i)); err != nil {
				return nil, err
			}
		}
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("JSON array (line %d): %w", line(), err)
		}
		if len(evs) == 0 {
			return nil, errors.New("empty input: the JSON array holds no events")
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, fmt.Errorf("after the JSON array (line %d): unexpected data", line())
		}
		return evs, nil
	}
	for i := 1; ; i++ {
		if !dec.More() {
			if _, err := dec.Token(); err != io.EOF {
				return nil, fmt.Errorf("event %d (line %d): unexpected data", i, line())
			}
			return evs, nil
		}
		if err := element(fmt.Sprintf("event %d", i)); err != nil {
			return nil, err
		}
	}
}

// sendCmd posts events to the local ingest API, or puts them on an
// EventBridge bus in the cloud (--bus).
func sendCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newCommand("send", "send [flags] [FILE|-]", `Sends CloudEvents (structured JSON: a JSON array, one object, or JSON Lines,
from FILE or standard input) to eventplane dev's ingest API, or puts them on an
EventBridge bus (--bus). Every batch is sent; each rejected event is reported
by its 1-based position in the input with the reason, then a summary
("sent 4,999, rejected 1"). Exit 0 when every event was sent, 1 when any was
rejected or could not be sent, 2 for unreadable input (nothing is sent).`, stdout, stderr)
	fs := c.fs
	endpoint := fs.String("endpoint", defaultEndpoint, "`URL` of eventplane dev, or of the ingest API (POST URL/events)")
	busName := fs.String("bus", "", "put the events on this EventBridge bus `NAME` instead (AWS credentials)")
	region := fs.String("region", "", "AWS `REGION` for --bus (default: AWS_REGION or the profile's)")
	awsEndpoint := fs.String("aws-endpoint", "", "EventBridge endpoint `URL` for --bus (emulators)")
	profile := fs.String("profile", "", "AWS `PROFILE` for --bus (default: AWS_PROFILE)")
	attempt := fs.Duration("aws-attempt-timeout", awsconf.DefaultAttemptTimeout, "time limit of one AWS request attempt for --bus (`DURATION`; the SDK retries a timed-out attempt)")
	batch := fs.Int("batch", 100, "`N` events per request to the ingest API (1 to 100)")
	if code, ok := c.parse(args); !ok {
		return code
	}
	if *batch < 1 || *batch > 100 {
		return c.fail("--batch %d: want 1 to 100", *batch)
	}
	data, err := input(fs, stdin)
	if err != nil {
		return c.fail("%v", err)
	}
	evs, err := readEvents(data)
	if err != nil {
		return c.fail("%v; nothing was sent", err)
	}
	r := &report{progress: newProgress(stderr, len(evs)), stderr: stderr}
	ctx := context.Background()
	if *busName != "" {
		err = sendToBus(ctx, evs, *busName, awsconf.Options{Region: *region, Endpoint: *awsEndpoint, Profile: *profile, AttemptTimeout: *attempt}, r)
	} else {
		err = sendToIngest(ctx, evs, strings.TrimSuffix(*endpoint, "/"), *batch, r)
	}
	r.finish()
	if err != nil {
		fmt.Fprintf(stderr, "eventplane send: %v\n", err)
	}
	unsent := len(evs) - r.sent - r.rejected
	summary := fmt.Sprintf("sent %s, rejected %s", thousands(r.sent), thousands(r.rejected))
	if unsent > 0 {
		summary += fmt.Sprintf(", not sent %s", thousands(unsent))
	}
	fmt.Fprintln(stdout, summary)
	if err != nil || r.rejected > 0 {
		return 1
	}
	return exitOK
}

// thousands formats n with commas: 4999 -> "4,999".
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// report counts what happened to each event and prints each rejection on
// its own line (ending a pending progress line first).
type report struct {
	*progress
	stderr         io.Writer
	sent, rejected int
}

func (r *report) accepted(n int) {
	r.sent += n
	r.add(n)
}

// reject reports the event at 0-based index i of the input.
func (r *report) reject(i int, reason string) {
	r.rejected++
	r.breakLine()
	fmt.Fprintf(r.stderr, "event %d rejected: %s\n", i+1, reason)
	r.add(1)
}

type progress struct {
	w       io.Writer
	total   int
	done    int
	last    time.Time
	start   time.Time
	pending bool // a progress line without its newline is on the terminal
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
	p.pending = true
	if p.done == p.total {
		p.breakLine()
	}
}

// breakLine ends a pending progress line so the next message starts on its own.
func (p *progress) breakLine() {
	if p.pending {
		fmt.Fprintln(p.w)
		p.pending = false
	}
}

func (p *progress) finish() { p.breakLine() }

// ingestProblem is the ingest API's error body: the reason and, for a
// batch, the 0-based index of the offending event.
type ingestProblem struct {
	Error string `json:"error"`
	Index *int   `json:"index"`
}

// sendToIngest posts every batch. The ingest API accepts or rejects a
// batch as a whole and names the first offending event; that event is
// reported and the rest of the batch is sent again, so one bad event costs
// one extra request, not its batch. Only a transport or server error stops
// the send.
func sendToIngest(ctx context.Context, evs []json.RawMessage, endpoint string, batch int, r *report) error {
	client := &http.Client{Timeout: 30 * time.Second}
	post := func(idx []int) (int, ingestProblem, error) {
		chunk := make([]json.RawMessage, len(idx))
		for k, i := range idx {
			chunk[k] = evs[i]
		}
		body, _ := json.Marshal(chunk)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/events", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/cloudevents-batch+json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, ingestProblem{}, fmt.Errorf("POST %s/events: %w (is `eventplane dev` running?)", endpoint, err)
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var pr ingestProblem
		if resp.StatusCode != http.StatusAccepted {
			if json.Unmarshal(msg, &pr) != nil || pr.Error == "" {
				pr.Error = resp.Status + " " + string(bytes.TrimSpace(msg))
			}
		}
		return resp.StatusCode, pr, nil
	}
	for start := 0; start < len(evs); start += batch {
		var idx []int
		for i := start; i < min(len(evs), start+batch); i++ {
			idx = append(idx, i)
		}
		for len(idx) > 0 {
			status, pr, err := post(idx)
			switch {
			case err != nil:
				return err
			case status == http.StatusAccepted:
				r.accepted(len(idx))
				idx = nil
			case status >= 500:
				return fmt.Errorf("events %d..%d: %s", idx[0]+1, idx[len(idx)-1]+1, pr.Error)
			case pr.Index != nil && *pr.Index >= 0 && *pr.Index < len(idx):
				r.reject(idx[*pr.Index], pr.Error)
				idx = slices.Delete(idx, *pr.Index, *pr.Index+1)
			case len(idx) == 1:
				r.reject(idx[0], pr.Error)
				idx = nil
			default:
				// A rejection of the batch as a whole (too large, say):
				// send its events one by one to find the culprits.
				for _, i := range idx {
					status, pr, err := post([]int{i})
					if err != nil {
						return err
					}
					if status == http.StatusAccepted {
						r.accepted(1)
					} else {
						r.reject(i, pr.Error)
					}
				}
				idx = nil
			}
		}
	}
	return nil
}

// sendToBus puts every event on an EventBridge bus, ten per PutEvents call.
// An event that is not a valid CloudEvent is reported and skipped.
func sendToBus(ctx context.Context, evs []json.RawMessage, busName string, opts awsconf.Options, r *report) error {
	cfg, err := awsconf.Load(ctx, opts)
	if err != nil {
		return err
	}
	api := eventbridge.NewFromConfig(cfg)
	var entries []ebtypes.PutEventsRequestEntry
	var pos []int
	flush := func() error {
		if len(entries) == 0 {
			return nil
		}
		if err := bus.PutEvents(ctx, api, entries); err != nil {
			var api smithy.APIError
			if errors.As(err, &api) { // the call itself failed: credentials, bus, network
				return fmt.Errorf("events %d..%d: %w", pos[0]+1, pos[len(pos)-1]+1, err)
			}
			for _, i := range pos {
				r.reject(i, err.Error())
			}
		} else {
			r.accepted(len(entries))
		}
		entries, pos = entries[:0], pos[:0]
		return nil
	}
	for i, raw := range evs {
		e, err := event.DecodeStructured(raw)
		if err == nil {
			err = e.Validate()
		}
		if err != nil {
			r.reject(i, "invalid CloudEvent: "+err.Error())
			continue
		}
		entries = append(entries, bus.Entry(busName, &e))
		pos = append(pos, i)
		if len(entries) == 10 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// tailCmd shows the recent processed events, then follows new ones: of
// `eventplane dev`, or of a consumer through its debug endpoint (kubectl
// port-forward deploy/<consumer> 9091: the pod's loopback-only debug port).
func tailCmd(args []string, stdout, stderr io.Writer) int {
	c := newCommand("tail", "tail [flags]", `Shows the events the consumers processed recently (the last 20, or -n N,
or those since --since), then follows new ones until Ctrl-C. Reads
eventplane dev (--endpoint), or one consumer's debug endpoint (--admin).`, stdout, stderr)
	fs := c.fs
	endpoint := fs.String("endpoint", defaultEndpoint, "`URL` of eventplane dev")
	adminURL := fs.String("admin", "", "follow one consumer's debug endpoint `URL` instead (e.g. http://localhost:9091 after kubectl port-forward deploy/<consumer> 9091)")
	asJSON := fs.Bool("json", false, "print each event as JSON")
	n := fs.Int("n", 20, "show the last `N` processed events first (0: only new ones)")
	sinceFlag := fs.String("since", "", "show only events processed since `TIME`: a duration back from now (5m) or an RFC 3339 time")
	follow := fs.Bool("follow", true, "keep following new events (--follow=false: print the recent ones and exit)")
	if code, ok := c.parse(args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return c.fail("unexpected argument %q", fs.Arg(0))
	}
	if *n < 0 {
		return c.fail("-n %d: want 0 or more", *n)
	}
	var since time.Time
	if *sinceFlag != "" {
		if d, err := time.ParseDuration(*sinceFlag); err == nil {
			since = time.Now().Add(-d)
		} else if t, err := time.Parse(time.RFC3339Nano, *sinceFlag); err == nil {
			since = t
		} else {
			return c.fail("--since %q: want a duration (5m, 1h) or an RFC 3339 time (2026-12-01T10:00:00Z)", *sinceFlag)
		}
		if *n == 20 && !flagSet(fs, "n") {
			*n = 1000 // --since alone: everything since then that is still kept
		}
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
		err = tailAdmin(ctx, strings.TrimSuffix(*adminURL, "/"), *n, since, *follow, print)
	} else {
		err = tailLocal(ctx, strings.TrimSuffix(*endpoint, "/"), *n, since, *follow, print)
	}
	if err != nil && ctx.Err() == nil {
		fmt.Fprintf(stderr, "eventplane tail: %v\n", err)
		return 1
	}
	return exitOK
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// tailLocal reads eventplane dev's /api/tail stream: the last n events
// (since since) first, then new ones.
func tailLocal(ctx context.Context, endpoint string, n int, since time.Time, follow bool, print func(string, engine.RecentEvent)) error {
	q := url.Values{"n": {strconv.Itoa(n)}}
	if !since.IsZero() {
		q.Set("since", since.UTC().Format(time.RFC3339Nano))
	}
	if !follow {
		q.Set("follow", "false")
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/api/tail?"+q.Encode(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s/api/tail: %w (is `eventplane dev` running?)", endpoint, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("GET %s/api/tail: %s %s", endpoint, resp.Status, bytes.TrimSpace(msg))
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

// tailAdmin polls a consumer's /debug: the last n events (since since)
// first, then those it has not shown yet.
func tailAdmin(ctx context.Context, adminURL string, n int, since time.Time, follow bool, print func(string, engine.RecentEvent)) error {
	first := true
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
		recent := snap.Recent // newest first
		if first {
			var shown []engine.RecentEvent
			for _, e := range recent {
				if len(shown) < n && e.At.After(since) {
					shown = append(shown, e)
				}
			}
			for i := len(shown) - 1; i >= 0; i-- {
				print("consumer", shown[i])
			}
			if len(recent) > 0 && recent[0].At.After(since) {
				since = recent[0].At // everything up to the newest is seen
			}
			first = false
			if !follow {
				return nil
			}
		} else {
			for i := len(recent) - 1; i >= 0; i-- {
				if e := recent[i]; e.At.After(since) {
					print("consumer", e)
					since = e.At
				}
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
	c := newCommand("dlq", "dlq list|redrive QUEUE [flags]\n       eventplane dlq list|redrive|stats --queue-url URL [flags]", `Lists a queue's dead-letter messages with their reasons, or redrives them
(moves them back to the queue to be processed again, once the consumer or a
dependency it needs is fixed). QUEUE is a queue of eventplane dev
(--endpoint); in the cloud, --queue-url names the SQS queue and its DLQ comes
from its redrive policy. stats (--queue-url only) prints the queue's and the
DLQ's depths without receiving anything: it needs only
sqs:GetQueueAttributes, and is what the chart's helm test runs.`, stdout, stderr)
	fs := c.fs
	endpoint := fs.String("endpoint", defaultEndpoint, "`URL` of eventplane dev")
	queueURL := fs.String("queue-url", "", "an SQS queue `URL` (its DLQ comes from the redrive policy) instead of eventplane dev")
	region := fs.String("region", "", "AWS `REGION` for --queue-url")
	awsEndpoint := fs.String("aws-endpoint", "", "SQS endpoint `URL` for --queue-url (emulators)")
	profile := fs.String("profile", "", "AWS `PROFILE` for --queue-url (default: AWS_PROFILE)")
	attempt := fs.Duration("aws-attempt-timeout", awsconf.DefaultAttemptTimeout, "time limit of one AWS request attempt for --queue-url (`DURATION`; the SDK retries a timed-out attempt)")
	verb := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		verb, args = args[0], args[1:]
	}
	queue := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		queue, args = args[0], args[1:] // the queue may come before the flags
	}
	if code, ok := c.parse(args); !ok {
		return code
	}
	if verb != "list" && verb != "redrive" && verb != "stats" {
		return c.fail("want list, redrive or stats, got %q (see 'eventplane dlq --help')", verb)
	}
	if verb == "stats" && *queueURL == "" {
		return c.fail("stats needs --queue-url")
	}
	c.name = "dlq " + verb
	if queue == "" && fs.NArg() == 1 {
		queue = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return c.fail("unexpected argument %q", fs.Arg(fs.NArg()-1))
	}
	ctx := context.Background()
	var err error
	switch {
	case *queueURL != "":
		err = dlqCloud(ctx, verb, *queueURL, awsconf.Options{Region: *region, Endpoint: *awsEndpoint, Profile: *profile, AttemptTimeout: *attempt}, stdout)
	case queue != "":
		err = dlqLocal(ctx, verb, strings.TrimSuffix(*endpoint, "/"), queue, stdout)
	default:
		return c.fail("name a QUEUE of eventplane dev, or --queue-url (see 'eventplane dlq --help')")
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
		fmt.Fprintf(stdout, "%s  reason: %s\n  %s\n", m.MessageID, m.Attributes[delivery.AttrFailureReason], truncateLine(m.Body, 200))
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
	if verb == "stats" {
		fmt.Fprintf(stdout, "%s: %d visible, %d in flight, %d delayed\n%s: %d dead letters\n", queueURL, st.Depth, st.InFlight, st.Delayed, st.DeadLetterURL, st.DeadLetterDepth)
		return nil
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
		if v, ok := m.MessageAttributes[delivery.AttrFailureReason]; ok {
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
