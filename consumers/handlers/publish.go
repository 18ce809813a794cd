package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventplane/eventplane/consumers/bus"
	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/event"
)

// PublishOptions configure the publish handler: exactly one destination.
type PublishOptions struct {
	// EventBus forwards to an EventBridge bus (name or ARN): source, type ->
	// detail-type, data -> detail, subject -> resources.
	EventBus string `json:"eventBus,omitempty"`
	// TopicARN forwards to an SNS topic: the structured CloudEvent as the
	// message, its type as the "type" message attribute (for filter policies).
	TopicARN string `json:"topicArn,omitempty"`
	// URL forwards to an HTTP endpoint in the CloudEvents HTTP binding
	// (structured mode); 2xx is success, 4xx other than 408/429 is permanent.
	URL string `json:"url,omitempty"`
	// Timeout of one HTTP delivery (default 10s).
	Timeout string `json:"timeout,omitempty"`
	// AllowInsecure permits an http:// URL (events then travel in clear
	// text); without it url must be https://.
	AllowInsecure bool `json:"allowInsecure,omitempty"`
}

// maxResponseRead bounds how much of an HTTP response publish reads: the
// body is drained up to this much (so the connection can be reused) and
// at most errorBodyBytes of it is quoted in an error.
const (
	maxResponseRead = 64 << 10
	errorBodyBytes  = 512
)

// EventBridgeAPI is the part of the EventBridge client publish uses.
type EventBridgeAPI = bus.API

// SNSAPI is the part of the SNS client publish uses.
type SNSAPI interface {
	Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Publish forwards events to EventBridge, SNS or an HTTP endpoint.
type Publish struct {
	opt  PublishOptions
	eb   EventBridgeAPI
	sns  SNSAPI
	http *http.Client
}

// NewPublish builds a publish handler; clients may be nil when their
// destination is not used.
func NewPublish(opt PublishOptions, eb EventBridgeAPI, snsAPI SNSAPI, client *http.Client) (*Publish, error) {
	set := 0
	for _, s := range []string{opt.EventBus, opt.TopicARN, opt.URL} {
		if s != "" {
			set++
		}
	}
	if set != 1 {
		return nil, errors.New("options: set exactly one of eventBus, topicArn or url")
	}
	p := &Publish{opt: opt, eb: eb, sns: snsAPI}
	if opt.URL != "" {
		if err := checkURL(opt.URL, opt.AllowInsecure); err != nil {
			return nil, err
		}
		timeout := 10 * time.Second
		if opt.Timeout != "" {
			d, err := time.ParseDuration(opt.Timeout)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("options.timeout: %q is not a positive duration", opt.Timeout)
			}
			timeout = d
		}
		p.http = httpClient(client, timeout)
	}
	return p, nil
}

// checkURL accepts an absolute https URL, or http with allowInsecure.
func checkURL(raw string, allowInsecure bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("options.url: %w", err)
	}
	switch {
	case u.Host == "":
		return fmt.Errorf("options.url: %q has no host", raw)
	case u.Scheme == "https":
	case u.Scheme == "http" && allowInsecure:
	case u.Scheme == "http":
		return fmt.Errorf("options.url: %q is http:// (events would travel unencrypted): use https:// or set allowInsecure: true", raw)
	default:
		return fmt.Errorf("options.url: scheme %q of %q is not https", u.Scheme, raw)
	}
	return nil
}

// httpClient copies base (nil: a client with its own transport) with the
// delivery timeout and redirects turned off: a 3xx is returned as it is,
// so an endpoint cannot send events (and their data) to another host, or
// from https down to http.
func httpClient(base *http.Client, timeout time.Duration) *http.Client {
	c := &http.Client{}
	if base != nil {
		*c = *base
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxResponseHeaderBytes = maxResponseRead
		c.Transport = t
	}
	if c.Timeout == 0 {
		c.Timeout = timeout
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

func newPublish(_ context.Context, deps Deps, options json.RawMessage) (delivery.Handler, error) {
	var o PublishOptions
	if err := decodeOptions(options, &o); err != nil {
		return nil, err
	}
	if err := need("publish", map[string]bool{"EventBridge": deps.EventBridge != nil || o.EventBus == "",
		"SNS": deps.SNS != nil || o.TopicARN == ""}); err != nil {
		return nil, err
	}
	return NewPublish(o, deps.EventBridge, deps.SNS, nil)
}

// putEvents sends entries with bus.PutEvents; entries EventBridge rejected
// with a non-retryable code fail the same on every redelivery, so that is a
// permanent error (the message goes to its DLQ with the reason).
func putEvents(ctx context.Context, api EventBridgeAPI, entries ...ebtypes.PutEventsRequestEntry) error {
	err := bus.PutEvents(ctx, api, entries)
	if fe := (*bus.FailedEntries)(nil); errors.As(err, &fe) && !fe.Retryable {
		return delivery.Permanent(err)
	}
	return err
}

// Handle implements delivery.Handler.
func (p *Publish) Handle(ctx context.Context, e *ce.Event) error {
	switch {
	case p.opt.EventBus != "":
		return putEvents(ctx, p.eb, bus.Entry(p.opt.EventBus, e))
	case p.opt.TopicARN != "":
		next := event.Outgoing(e)
		body, err := json.Marshal(&next)
		if err != nil {
			return delivery.Permanentf("publish: event %s: %v", e.ID(), err)
		}
		attrs := map[string]snstypes.MessageAttributeValue{"type": {DataType: aws.String("String"), StringValue: aws.String(e.Type())}}
		// SNS has no trace field of its own: the current span travels as a
		// W3C traceparent message attribute (kept by raw delivery, and in the
		// envelope's MessageAttributes otherwise), which the normalizer reads.
		if tp := event.Traceparent(ctx); tp != "" {
			attrs["traceparent"] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(tp)}
		}
		in := &sns.PublishInput{TopicArn: aws.String(p.opt.TopicARN), Message: aws.String(string(body)), MessageAttributes: attrs}
		if strings.HasSuffix(p.opt.TopicARN, ".fifo") {
			// A FIFO topic drops a repeated deduplication id within 5 minutes:
			// derived from the event's identity, a redelivered event or an SDK
			// retry of a Publish whose response was lost is delivered once.
			// (A standard topic has no such id: those repeats reach subscribers.)
			sum := sha256.Sum256([]byte(e.Source() + "\x00" + e.ID()))
			in.MessageDeduplicationId = aws.String(hex.EncodeToString(sum[:]))
			in.MessageGroupId = aws.String(groupOf(e))
		}
		_, err = p.sns.Publish(ctx, in)
		if err != nil {
			return fmt.Errorf("publish: sns %s: %w", p.opt.TopicARN, err)
		}
		return nil
	}
	return p.post(ctx, e)
}

func (p *Publish) post(ctx context.Context, e *ce.Event) error {
	next := event.Outgoing(e)
	body, err := json.Marshal(&next)
	if err != nil {
		return delivery.Permanentf("publish: event %s: %v", e.ID(), err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.opt.URL, bytes.NewReader(body))
	if err != nil {
		return delivery.Permanentf("publish: %v", err)
	}
	req.Header.Set("Content-Type", "application/cloudevents+json; charset=utf-8")
	if tp := event.Traceparent(ctx); tp != "" {
		req.Header.Set("traceparent", tp) // W3C Trace Context over HTTP
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return fmt.Errorf("publish: POST %s: %w", p.opt.URL, err)
	}
	// Read a bounded prefix (quoted in errors), drain up to the bound so the
	// connection goes back to the pool, and close; an endpoint that streams
	// an endless body costs at most maxResponseRead bytes.
	head, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseRead-errorBodyBytes))
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return delivery.Permanentf("publish: POST %s: %s to %q: redirects are not followed, set url to the final address",
			p.opt.URL, resp.Status, resp.Header.Get("Location"))
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != 408 && resp.StatusCode != 429:
		return delivery.Permanentf("publish: POST %s: %s: %q", p.opt.URL, resp.Status, head)
	}
	return fmt.Errorf("publish: POST %s: %s: %q", p.opt.URL, resp.Status, head)
}

// groupOf is an event's FIFO message group: its partitionkey extension
// (CloudEvents partitioning), else its source, at most 128 characters.
func groupOf(e *ce.Event) string {
	g, _ := e.Extensions()["partitionkey"].(string)
	if g == "" {
		g = e.Source()
	}
	if len(g) > 128 {
		g = g[:128]
	}
	return g
}
