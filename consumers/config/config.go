// Package config holds the consumer's configuration: one typed struct, read
// from a YAML/JSON file, then EVENTPLANE_* environment variables, then flags
// (each overriding the one before), and validated with errors that name the
// field. The operator renders the same struct into a ConfigMap.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Duration is a time.Duration written as "30s", "5m", "1h30m".
type Duration time.Duration

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string (or a number of seconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if err2 := json.Unmarshal(b, &secs); err2 != nil {
			return fmt.Errorf("want a duration such as \"30s\", got %s", b)
		}
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as \"30s\", got %q", s)
	}
	*d = Duration(v)
	return nil
}

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Config is the whole configuration of a consumer.
type Config struct {
	Queue    Queue    `json:"queue"`
	AWS      AWS      `json:"aws"`
	Consumer Consumer `json:"consumer"`
	Routes   []Route  `json:"routes"`
	Admin    Admin    `json:"admin"`
	Log      Log      `json:"log"`
}

// Queue selects the SQS queue.
type Queue struct {
	// URL of the queue to consume (required).
	URL string `json:"url"`
	// DeadLetterURL overrides the DLQ taken from the queue's redrive policy.
	DeadLetterURL string `json:"deadLetterUrl,omitempty"`
	// WaitTime is the long-polling wait, 1s..20s.
	WaitTime Duration `json:"waitTime,omitempty"`
	// VisibilityTimeout overrides the queue's visibility timeout (0: the queue's).
	VisibilityTimeout Duration `json:"visibilityTimeout,omitempty"`
	// FallbackType is the CloudEvents type of bodies of no known shape.
	FallbackType string `json:"fallbackType,omitempty"`
}

// AWS selects how AWS is reached.
type AWS struct {
	Region string `json:"region,omitempty"`
	// Endpoint overrides every AWS endpoint (emulators only).
	Endpoint string `json:"endpoint,omitempty"`
	// AttemptTimeout bounds each attempt of every AWS call (an SQS long
	// poll's wait is added), so that a hung endpoint fails like a broken one.
	AttemptTimeout Duration `json:"attemptTimeout,omitempty"`
}

// Consumer tunes the runtime.
type Consumer struct {
	MaxInFlight    int      `json:"maxInFlight,omitempty"`
	ReceiveBatch   int      `json:"receiveBatch,omitempty"`
	AckFlush       Duration `json:"ackFlushInterval,omitempty"`
	HandlerTimeout Duration `json:"handlerTimeout,omitempty"`
	MaxExtension   Duration `json:"maxVisibilityExtension,omitempty"`
	ShutdownGrace  Duration `json:"shutdownGrace,omitempty"`
	BackoffBase    Duration `json:"backoffBase,omitempty"`
	BackoffMax     Duration `json:"backoffMax,omitempty"`
	// Unrouted is "dead-letter-malformed" (default: dead-letter what the
	// platform could not understand, with a reason naming the defect; delete
	// well-formed events no route wants), "dead-letter" (every unrouted
	// event) or "ack" (delete them all).
	Unrouted string  `json:"unrouted,omitempty"`
	Breaker  Breaker `json:"breaker"`
	// IdempotencyTable is the DynamoDB table of idempotency records ("":
	// none). Routes whose handler detects duplicates itself (store) skip it.
	IdempotencyTable string `json:"idempotencyTable,omitempty"`
	// IdempotencyTTL is how long a processed event is remembered.
	IdempotencyTTL Duration `json:"idempotencyTtl,omitempty"`
}

// Breaker configures the per-route circuit breakers.
type Breaker struct {
	Disabled            bool     `json:"disabled,omitempty"`
	ConsecutiveFailures int      `json:"consecutiveFailures,omitempty"`
	OpenFor             Duration `json:"openFor,omitempty"`
}

// Route sends the events matching Pattern to Handler.
type Route struct {
	Name string `json:"name"`
	// Pattern is an EventBridge event pattern object; absent matches all.
	Pattern json.RawMessage `json:"pattern,omitempty"`
	// Handler names a registered handler.
	Handler string `json:"handler"`
	// Options are the handler's own settings.
	Options json.RawMessage `json:"options,omitempty"`
}

// Admin configures the admin HTTP servers.
type Admin struct {
	// Addr serves /metrics, /healthz, /readyz and /inflight ("" disables).
	Addr string `json:"addr,omitempty"`
	// DebugAddr serves /debug (event data) and, with Pprof, /debug/pprof/;
	// a loopback address only, reached with `kubectl port-forward` ("" disables).
	DebugAddr string `json:"debugAddr,omitempty"`
	// Pprof exposes /debug/pprof/ on the debug server.
	Pprof bool `json:"pprof,omitempty"`
	// MetricsEMF writes the metrics as CloudWatch EMF lines on stdout at
	// this interval, for consumers without Prometheus (0: off).
	MetricsEMF Duration `json:"metricsEmf,omitempty"`
}

// DefaultDebugAddr is where /debug listens: the pod's loopback.
const DefaultDebugAddr = "127.0.0.1:9091"

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `json:"level,omitempty"`
}

// Default returns the defaults every field falls back to.
func Default() Config {
	return Config{
		Queue: Queue{WaitTime: Duration(20 * time.Second), FallbackType: "com.amazonaws.sqs.message"},
		AWS:   AWS{AttemptTimeout: Duration(4 * time.Second)},
		Consumer: Consumer{
			MaxInFlight: 20, ReceiveBatch: 10, AckFlush: Duration(10 * time.Millisecond),
			HandlerTimeout: Duration(5 * time.Minute), MaxExtension: Duration(time.Hour), ShutdownGrace: Duration(25 * time.Second),
			BackoffBase: Duration(time.Second), BackoffMax: Duration(15 * time.Minute), Unrouted: "dead-letter-malformed",
			Breaker:        Breaker{ConsecutiveFailures: 5, OpenFor: Duration(5 * time.Second)},
			IdempotencyTTL: Duration(7 * 24 * time.Hour),
		},
		Admin: Admin{Addr: ":9090", DebugAddr: DefaultDebugAddr},
		Log:   Log{Level: "info"},
	}
}

// Validate checks every field and reports all problems, each naming its field.
func (c *Config) Validate(handlers func(name string) bool) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.Queue.URL == "" {
		bad("queue.url", "required (the SQS queue URL to consume)")
	} else if u, err := url.Parse(c.Queue.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("queue.url", "%q is not an http(s) queue URL", c.Queue.URL)
	}
	if w := c.Queue.WaitTime.D(); w < time.Second || w > 20*time.Second {
		bad("queue.waitTime", "%v is outside 1s..20s", w)
	}
	if v := c.Queue.VisibilityTimeout.D(); v < 0 || v > 12*time.Hour {
		bad("queue.visibilityTimeout", "%v is outside 0..12h", v)
	}
	if c.AWS.Endpoint != "" {
		if u, err := url.Parse(c.AWS.Endpoint); err != nil || u.Host == "" {
			bad("aws.endpoint", "%q is not a URL", c.AWS.Endpoint)
		}
	}
	k := c.Consumer
	if k.MaxInFlight < 1 || k.MaxInFlight > 10000 {
		bad("consumer.maxInFlight", "%d is outside 1..10000", k.MaxInFlight)
	}
	if k.ReceiveBatch < 1 || k.ReceiveBatch > 10 {
		bad("consumer.receiveBatch", "%d is outside 1..10 (SQS's limit)", k.ReceiveBatch)
	}
	positive := map[string]Duration{
		"consumer.ackFlushInterval": k.AckFlush, "consumer.handlerTimeout": k.HandlerTimeout,
		"consumer.maxVisibilityExtension": k.MaxExtension, "consumer.shutdownGrace": k.ShutdownGrace,
		"consumer.backoffBase": k.BackoffBase, "consumer.backoffMax": k.BackoffMax, "consumer.breaker.openFor": k.Breaker.OpenFor,
		"consumer.idempotencyTtl": k.IdempotencyTTL, "aws.attemptTimeout": c.AWS.AttemptTimeout,
	}
	for _, name := range sortedKeys(positive) {
		if positive[name] <= 0 {
			bad(name, "must be positive, got %v", positive[name].D())
		}
	}
	if k.BackoffMax < k.BackoffBase {
		bad("consumer.backoffMax", "%v is below consumer.backoffBase %v", k.BackoffMax.D(), k.BackoffBase.D())
	}
	if k.BackoffMax.D() > 12*time.Hour {
		bad("consumer.backoffMax", "%v exceeds SQS's 12h visibility limit", k.BackoffMax.D())
	}
	if k.Unrouted != "ack" && k.Unrouted != "dead-letter" && k.Unrouted != "dead-letter-malformed" {
		bad("consumer.unrouted", "%q: want dead-letter-malformed, dead-letter or ack", k.Unrouted)
	}
	if k.Breaker.ConsecutiveFailures < 1 {
		bad("consumer.breaker.consecutiveFailures", "must be at least 1, got %d", k.Breaker.ConsecutiveFailures)
	}
	if len(c.Routes) == 0 {
		bad("routes", "at least one route is required")
	}
	seen := map[string]bool{}
	for i, r := range c.Routes {
		field := fmt.Sprintf("routes[%d]", i)
		if r.Name == "" {
			bad(field+".name", "required")
		} else if seen[r.Name] {
			bad(field+".name", "%q is used by another route", r.Name)
		}
		seen[r.Name] = true
		if r.Handler == "" {
			bad(field+".handler", "required")
		} else if handlers != nil && !handlers(r.Handler) {
			bad(field+".handler", "unknown handler %q", r.Handler)
		}
		if len(r.Pattern) > 0 && strings.TrimSpace(string(r.Pattern))[0] != '{' {
			bad(field+".pattern", "must be an EventBridge pattern object")
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q: want debug, info, warn or error", c.Log.Level)
	}
	if c.Admin.DebugAddr != "" && !loopback(c.Admin.DebugAddr) {
		bad("admin.debugAddr", "%q is not a loopback address (such as %s): /debug shows event ids, types and trace ids, reach it with kubectl port-forward", c.Admin.DebugAddr, DefaultDebugAddr)
	}
	if c.Admin.Pprof && c.Admin.DebugAddr == "" {
		bad("admin.pprof", "needs admin.debugAddr (profiles are served on the loopback debug port only)")
	}
	return errors.Join(errs...)
}

// loopback tells whether host:port names a loopback interface.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
