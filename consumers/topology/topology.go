// Package topology loads api/topology.yaml — the platform's event plumbing
// declared once — and validates it: every reference resolves, every pattern
// compiles with the event-core matcher, every name is legal for AWS. Terraform,
// the local stack and the consumers read the same file.
package topology

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/eventplane/eventplane/consumers/route"
)

// Topology is the whole file.
type Topology struct {
	Version   int        `json:"version"`
	Buses     []Bus      `json:"buses"`
	Rules     []Rule     `json:"rules"`
	Schedules []Schedule `json:"schedules"`
	Topics    []Topic    `json:"topics"`
	Queues    []Queue    `json:"queues"`
	Tables    []Table    `json:"tables"`
	Buckets   []Bucket   `json:"buckets"`
	Lambdas   []Lambda   `json:"lambdas"`
	Consumers []Consumer `json:"consumers"`
}

// Bus is a custom EventBridge bus.
type Bus struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Archive     *Archive `json:"archive,omitempty"`
}

// Archive keeps a bus's events for replay.
type Archive struct {
	RetentionDays int `json:"retentionDays"`
}

// Rule routes events on a bus ("default" or a custom bus) to targets.
type Rule struct {
	Name        string          `json:"name"`
	Bus         string          `json:"bus"`
	Description string          `json:"description,omitempty"`
	Pattern     json.RawMessage `json:"pattern"`
	Targets     []Target        `json:"targets"`
}

// Target is one of a queue, a topic or a Lambda function.
type Target struct {
	Queue           string `json:"queue,omitempty"`
	Topic           string `json:"topic,omitempty"`
	Lambda          string `json:"lambda,omitempty"`
	DeadLetterQueue string `json:"deadLetterQueue,omitempty"`
	InputPath       string `json:"inputPath,omitempty"`
	Retry           *Retry `json:"retry,omitempty"`
}

// Retry is a rule target's retry policy.
type Retry struct {
	MaximumRetryAttempts   int `json:"maximumRetryAttempts"`
	MaximumEventAgeSeconds int `json:"maximumEventAgeSeconds"`
}

// Schedule sends a Scheduled Event to a queue.
type Schedule struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Expression  string `json:"expression"`
	Queue       string `json:"queue"`
}

// Topic is an SNS topic.
type Topic struct {
	Name          string         `json:"name"`
	Description   string         `json:"description,omitempty"`
	Subscriptions []Subscription `json:"subscriptions"`
}

// Subscription delivers a topic to a queue.
type Subscription struct {
	Queue              string          `json:"queue"`
	RawMessageDelivery *bool           `json:"rawMessageDelivery,omitempty"`
	FilterPolicy       json.RawMessage `json:"filterPolicy,omitempty"`
	FilterPolicyScope  string          `json:"filterPolicyScope,omitempty"`
}

// Queue is an SQS queue; unless DeadLetter is false it has a <name>-dlq.
type Queue struct {
	Name                     string `json:"name"`
	FIFO                     bool   `json:"fifo,omitempty"`
	VisibilityTimeoutSeconds int    `json:"visibilityTimeoutSeconds,omitempty"`
	RetentionSeconds         int    `json:"retentionSeconds,omitempty"`
	MaxReceiveCount          int    `json:"maxReceiveCount,omitempty"`
	DeadLetter               *bool  `json:"deadLetter,omitempty"`
}

// HasDeadLetter reports whether the queue gets a dead-letter queue.
func (q Queue) HasDeadLetter() bool { return q.DeadLetter == nil || *q.DeadLetter }

// Key is a DynamoDB key attribute.
type Key struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Table is a DynamoDB table.
type Table struct {
	Name                   string `json:"name"`
	HashKey                Key    `json:"hashKey"`
	RangeKey               *Key   `json:"rangeKey,omitempty"`
	TTLAttribute           string `json:"ttlAttribute,omitempty"`
	GlobalSecondaryIndexes []struct {
		Name     string `json:"name"`
		HashKey  Key    `json:"hashKey"`
		RangeKey *Key   `json:"rangeKey,omitempty"`
	} `json:"globalSecondaryIndexes,omitempty"`
}

// Bucket is an S3 bucket.
type Bucket struct {
	Name        string `json:"name"`
	Purpose     string `json:"purpose,omitempty"`
	EventBridge bool   `json:"eventBridge,omitempty"`
	ExpireDays  int    `json:"expireDays,omitempty"`
	Transitions []struct {
		Days         int    `json:"days"`
		StorageClass string `json:"storageClass"`
	} `json:"transitions,omitempty"`
}

// Uses lists the resources a function or consumer touches.
type Uses struct {
	Tables  []string `json:"tables,omitempty"`
	Buckets []string `json:"buckets,omitempty"`
	Topics  []string `json:"topics,omitempty"`
	Buses   []string `json:"buses,omitempty"`
}

// Lambda is a function built by `make lambda`.
type Lambda struct {
	Name                string `json:"name"`
	Handler             string `json:"handler"`
	Description         string `json:"description,omitempty"`
	MemoryMB            int    `json:"memoryMb,omitempty"`
	TimeoutSeconds      int    `json:"timeoutSeconds,omitempty"`
	ReservedConcurrency int    `json:"reservedConcurrency,omitempty"`
	Uses                Uses   `json:"uses"`
}

// Consumer reads one queue and routes its events to handlers.
type Consumer struct {
	Name   string  `json:"name"`
	Queue  string  `json:"queue"`
	Uses   Uses    `json:"uses"`
	Routes []Route `json:"routes"`
}

// Route is a consumer route: pattern (optional) and handler with options.
type Route struct {
	Name    string          `json:"name"`
	Handler string          `json:"handler"`
	Pattern json.RawMessage `json:"pattern,omitempty"`
	Options json.RawMessage `json:"options,omitempty"`
}

// Load reads and validates a topology file.
func Load(path string) (*Topology, error) {
	b, err := os.ReadFile(path) // #nosec G304 -- the topology file its caller names
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse decodes (strictly: unknown keys are errors) and validates a topology.
func Parse(doc []byte) (*Topology, error) {
	var t Topology
	if err := yaml.UnmarshalStrict(doc, &t); err != nil {
		return nil, fmt.Errorf("topology: %w", err)
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return &t, nil
}

// Queue returns the named queue.
func (t *Topology) Queue(name string) (Queue, bool) {
	for _, q := range t.Queues {
		if q.Name == name {
			return q, true
		}
	}
	return Queue{}, false
}

var (
	queueName  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,50}(\.fifo)?$`)
	simpleName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)
	bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,20}$`)
	scheduleRe = regexp.MustCompile(`^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$`)
)

// Validate checks the whole topology and reports every problem, each naming
// its entry (rules[orders-placed].targets[0].queue: ...).
func (t *Topology) Validate() error {
	var errs []error
	bad := func(where, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...)))
	}
	set := func(kind string, n int, name func(int) string, re *regexp.Regexp, rule string) map[string]bool {
		out := map[string]bool{}
		for i := 0; i < n; i++ {
			nm := name(i)
			where := fmt.Sprintf("%s[%d]", kind, i)
			if !re.MatchString(nm) {
				bad(where+".name", "%q is not a legal name (%s)", nm, rule)
			}
			if out[nm] {
				bad(where+".name", "%q is declared twice", nm)
			}
			out[nm] = true
		}
		return out
	}
	if t.Version != 1 {
		bad("version", "%d is not supported (want 1)", t.Version)
	}
	buses := set("buses", len(t.Buses), func(i int) string { return t.Buses[i].Name }, simpleName, "1-40 letters, digits, - or _")
	queues := set("queues", len(t.Queues), func(i int) string { return t.Queues[i].Name }, queueName, "1-50 letters, digits, - or _, plus .fifo for FIFO queues")
	topics := set("topics", len(t.Topics), func(i int) string { return t.Topics[i].Name }, simpleName, "1-40 letters, digits, - or _")
	tables := set("tables", len(t.Tables), func(i int) string { return t.Tables[i].Name }, simpleName, "1-40 letters, digits, - or _")
	buckets := set("buckets", len(t.Buckets), func(i int) string { return t.Buckets[i].Name }, bucketName, "2-21 lower-case letters, digits or hyphens")
	lambdas := set("lambdas", len(t.Lambdas), func(i int) string { return t.Lambdas[i].Name }, simpleName, "1-40 letters, digits, - or _")
	set("rules", len(t.Rules), func(i int) string { return t.Rules[i].Name }, simpleName, "1-40 letters, digits, - or _")
	set("schedules", len(t.Schedules), func(i int) string { return t.Schedules[i].Name }, simpleName, "1-40 letters, digits, - or _")
	set("consumers", len(t.Consumers), func(i int) string { return t.Consumers[i].Name }, regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$`), "a DNS label: lower-case letters, digits and -")

	ref := func(where, kind, name string, in map[string]bool) {
		if !in[name] {
			bad(where, "%q is not a declared %s", name, kind)
		}
	}
	if buses["default"] {
		bad("buses", `"default" is AWS's bus; do not declare it`)
	}
	for _, b := range t.Buses {
		if b.Archive != nil && b.Archive.RetentionDays < 0 {
			bad("buses["+b.Name+"].archive.retentionDays", "must be 0 (forever) or more")
		}
	}
	for _, r := range t.Rules {
		where := "rules[" + r.Name + "]"
		if r.Bus != "default" {
			ref(where+".bus", "bus", r.Bus, buses)
		}
		if len(r.Pattern) == 0 {
			bad(where+".pattern", "required")
		} else if _, err := route.Compile(r.Pattern); err != nil {
			bad(where+".pattern", "%v", err)
		}
		if len(r.Targets) == 0 || len(r.Targets) > 5 {
			bad(where+".targets", "a rule has 1 to 5 targets, got %d", len(r.Targets))
		}
		for i, tg := range r.Targets {
			tw := fmt.Sprintf("%s.targets[%d]", where, i)
			kinds := 0
			if tg.Queue != "" {
				kinds++
				ref(tw+".queue", "queue", tg.Queue, queues)
			}
			if tg.Topic != "" {
				kinds++
				ref(tw+".topic", "topic", tg.Topic, topics)
			}
			if tg.Lambda != "" {
				kinds++
				ref(tw+".lambda", "lambda", tg.Lambda, lambdas)
			}
			if kinds != 1 {
				bad(tw, "name exactly one of queue, topic or lambda")
			}
			if tg.DeadLetterQueue != "" {
				ref(tw+".deadLetterQueue", "queue", tg.DeadLetterQueue, queues)
			}
			if rt := tg.Retry; rt != nil && (rt.MaximumRetryAttempts < 0 || rt.MaximumRetryAttempts > 185 || rt.MaximumEventAgeSeconds < 60 || rt.MaximumEventAgeSeconds > 86400) {
				bad(tw+".retry", "maximumRetryAttempts must be 0-185 and maximumEventAgeSeconds 60-86400")
			}
		}
	}
	for _, s := range t.Schedules {
		if !scheduleRe.MatchString(s.Expression) {
			bad("schedules["+s.Name+"].expression", "%q is not rate(N unit) or cron(...)", s.Expression)
		}
		ref("schedules["+s.Name+"].queue", "queue", s.Queue, queues)
	}
	for _, tp := range t.Topics {
		for i, s := range tp.Subscriptions {
			sw := fmt.Sprintf("topics[%s].subscriptions[%d]", tp.Name, i)
			ref(sw+".queue", "queue", s.Queue, queues)
			if s.FilterPolicyScope != "" && s.FilterPolicyScope != "MessageAttributes" && s.FilterPolicyScope != "MessageBody" {
				bad(sw+".filterPolicyScope", "%q: want MessageAttributes or MessageBody", s.FilterPolicyScope)
			}
			if len(s.FilterPolicy) > 0 && !strings.HasPrefix(strings.TrimSpace(string(s.FilterPolicy)), "{") {
				bad(sw+".filterPolicy", "must be an object")
			}
		}
	}
	for _, q := range t.Queues {
		where := "queues[" + q.Name + "]"
		if q.FIFO != strings.HasSuffix(q.Name, ".fifo") {
			bad(where, "a queue is FIFO exactly when its name ends in .fifo")
		}
		if q.VisibilityTimeoutSeconds < 0 || q.VisibilityTimeoutSeconds > 43200 {
			bad(where+".visibilityTimeoutSeconds", "%d is outside 0..43200", q.VisibilityTimeoutSeconds)
		}
		if q.RetentionSeconds != 0 && (q.RetentionSeconds < 60 || q.RetentionSeconds > 1209600) {
			bad(where+".retentionSeconds", "%d is outside 60..1209600 (14 days)", q.RetentionSeconds)
		}
		if q.HasDeadLetter() && (q.MaxReceiveCount < 1 || q.MaxReceiveCount > 1000) {
			bad(where+".maxReceiveCount", "%d is outside 1..1000 (a queue with a dead-letter queue needs one)", q.MaxReceiveCount)
		}
	}
	keyType := func(where string, k Key) {
		if k.Name == "" || (k.Type != "S" && k.Type != "N" && k.Type != "B") {
			bad(where, "needs a name and a type of S, N or B")
		}
	}
	for _, tb := range t.Tables {
		where := "tables[" + tb.Name + "]"
		keyType(where+".hashKey", tb.HashKey)
		if tb.RangeKey != nil {
			keyType(where+".rangeKey", *tb.RangeKey)
		}
		for i, g := range tb.GlobalSecondaryIndexes {
			keyType(fmt.Sprintf("%s.globalSecondaryIndexes[%d].hashKey", where, i), g.HashKey)
		}
	}
	for _, b := range t.Buckets {
		for i, tr := range b.Transitions {
			switch tr.StorageClass {
			case "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE":
			default:
				bad(fmt.Sprintf("buckets[%s].transitions[%d].storageClass", b.Name, i), "%q is not a storage class", tr.StorageClass)
			}
		}
	}
	uses := func(where string, u Uses) {
		for _, x := range u.Tables {
			ref(where+".uses.tables", "table", x, tables)
		}
		for _, x := range u.Buckets {
			ref(where+".uses.buckets", "bucket", x, buckets)
		}
		for _, x := range u.Topics {
			ref(where+".uses.topics", "topic", x, topics)
		}
		for _, x := range u.Buses {
			ref(where+".uses.buses", "bus", x, buses)
		}
	}
	for _, l := range t.Lambdas {
		where := "lambdas[" + l.Name + "]"
		if l.Handler == "" {
			bad(where+".handler", "required")
		}
		if l.MemoryMB != 0 && (l.MemoryMB < 128 || l.MemoryMB > 10240) {
			bad(where+".memoryMb", "%d is outside 128..10240", l.MemoryMB)
		}
		if l.TimeoutSeconds != 0 && (l.TimeoutSeconds < 1 || l.TimeoutSeconds > 900) {
			bad(where+".timeoutSeconds", "%d is outside 1..900", l.TimeoutSeconds)
		}
		uses(where, l.Uses)
	}
	for _, c := range t.Consumers {
		where := "consumers[" + c.Name + "]"
		ref(where+".queue", "queue", c.Queue, queues)
		uses(where, c.Uses)
		if len(c.Routes) == 0 {
			bad(where+".routes", "at least one route is required")
		}
		seen := map[string]bool{}
		for i, r := range c.Routes {
			rw := fmt.Sprintf("%s.routes[%d]", where, i)
			if r.Name == "" || seen[r.Name] {
				bad(rw+".name", "%q: routes need unique, non-empty names", r.Name)
			}
			seen[r.Name] = true
			if r.Handler == "" {
				bad(rw+".handler", "required")
			}
			if len(r.Pattern) > 0 {
				if _, err := route.Compile(r.Pattern); err != nil {
					bad(rw+".pattern", "%v", err)
				}
			}
			if len(r.Options) > 0 && !json.Valid(r.Options) {
				bad(rw+".options", "not valid JSON")
			}
			for _, p := range checkRefs(rw+".options", r.Options, c.Uses, queues) {
				errs = append(errs, errors.New(p))
			}
		}
	}
	return errors.Join(errs...)
}
