package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventplane/eventplane/consumers/bus"
	"github.com/eventplane/eventplane/consumers/engine"
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
}

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
	p := &Publish{opt: opt, eb: eb, sns: snsAPI, http: client}
	if opt.URL != "" && p.http == nil {
		timeout := 10 * time.Second
		if opt.Timeout != "" {
			d, err := time.ParseDuration(opt.Timeout)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("options.timeout: %q is not a positive duration", opt.Timeout)
			}
			timeout = d
		}
		p.http = &http.Client{Timeout: timeout}
	}
	return p, nil
}

func newPublish(_ context.Context, deps Deps, options json.RawMessage) (engine.Handler, error) {
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

// Handle implements engine.Handler.
func (p *Publish) Handle(ctx context.Context, e *ce.Event) error {
	switch {
	case p.opt.EventBus != "":
		return bus.PutEvents(ctx, p.eb, []ebtypes.PutEventsRequestEntry{bus.Entry(p.opt.EventBus, e)})
	case p.opt.TopicARN != "":
		next := event.Outgoing(e)
		body, err := json.Marshal(&next)
		if err != nil {
			return engine.Permanentf("publish: event %s: %v", e.ID(), err)
		}
		attrs := map[string]snstypes.MessageAttributeValue{"type": {DataType: aws.String("String"), StringValue: aws.String(e.Type())}}
		// SNS has no trace field of its own: the current span travels as a
		// W3C traceparent message attribute (kept by raw delivery, and in the
		// envelope's MessageAttributes otherwise), which the normalizer reads.
		if tp := event.Traceparent(ctx); tp != "" {
			attrs["traceparent"] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(tp)}
		}
		_, err = p.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(p.opt.TopicARN), Message: aws.String(string(body)), MessageAttributes: attrs})
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
		return engine.Permanentf("publish: event %s: %v", e.ID(), err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.opt.URL, bytes.NewReader(body))
	if err != nil {
		return engine.Permanentf("publish: %v", err)
	}
	req.Header.Set("Content-Type", "application/cloudevents+json; charset=utf-8")
	if tp := event.Traceparent(ctx); tp != "" {
		req.Header.Set("traceparent", tp) // W3C Trace Context over HTTP
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return fmt.Errorf("publish: POST %s: %w", p.opt.URL, err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != 408 && resp.StatusCode != 429:
		return engine.Permanentf("publish: POST %s: %s", p.opt.URL, resp.Status)
	}
	return fmt.Errorf("publish: POST %s: %s", p.opt.URL, resp.Status)
}
