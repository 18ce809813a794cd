// Package topology loads api/topology.yaml — the platform's event plumbing
// declared once — and validates it: every reference resolves, every pattern
// compiles with the event-core matcher, every name is legal for AWS. Terraform,
// the local stack and the consumers read the same file.
package topology

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"sigs.k8s.io/yaml"
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

	// Roles: which declared resources play the parts the platform itself
	// needs, so no name of the repository's topology is built into the
	// machinery (Terraform, the local stack, bootstrap).
	Ingest   Ingest   `json:"ingest"`
	Alarms   Alarms   `json:"alarms,omitempty"`
	Failures Failures `json:"failures,omitempty"`
}

// Ingest names the bus the HTTP ingest API puts events on and the function
// API Gateway invokes for it.
type Ingest struct {
	Bus    string `json:"bus"`
	Lambda string `json:"lambda,omitempty"`
}

// Alarms names the topic CloudWatch alarms and the daily summary publish to.
type Alarms struct {
	Topic string `json:"topic,omitempty"`
}

// Failures names the queue that is every function's on-failure destination
// and where a function dead-letters an event it can never handle.
type Failures struct {
	Queue string `json:"queue,omitempty"`
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
	// InputTransformer (exclusive with InputPath, as PutTargets requires)
	// replaces the event the target gets by its template filled in.
	InputTransformer *InputTransformer `json:"inputTransformer,omitempty"`
	Retry            *Retry            `json:"retry,omitempty"`
}

// InputTransformer is EventBridge's: variables from JSON paths into the
// event (InputPathsMap; Terraform's input_paths, the topology's inputPaths)
// and the template they fill (<name> placeholders).
type InputTransformer struct {
	InputPathsMap map[string]string `json:"inputPaths,omitempty"`
	InputTemplate string            `json:"inputTemplate"`
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
	// DelaySeconds is SQS's queue delay (0..900).
	DelaySeconds int   `json:"delaySeconds,omitempty"`
	DeadLetter   *bool `json:"deadLetter,omitempty"`
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
	Name string `json:"name"`
	// Purpose "idempotency" makes it the consumers' idempotency store
	// (used by those that list it in uses.tables).
	Purpose                string `json:"purpose,omitempty"`
	HashKey                Key    `json:"hashKey"`
	RangeKey               *Key   `json:"rangeKey,omitempty"`
	TTLAttribute           string `json:"ttlAttribute,omitempty"`
	GlobalSecondaryIndexes []struct {
		Name     string `json:"name"`
		HashKey  Key    `json:"hashKey"`
		RangeKey *Key   `json:"rangeKey,omitempty"`
		// ProjectionType is ALL (the default) or KEYS_ONLY, as the
		// Terraform dynamodb module accepts.
		ProjectionType string `json:"projectionType,omitempty"`
	} `json:"globalSecondaryIndexes,omitempty"`
}

// Bucket is an S3 bucket.
type Bucket struct {
	Name string `json:"name"`
	// Purpose "uploads" makes it the bucket `eventplane dev` watches a
	// folder for; "datalake" is informational.
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
	// Table is the function's results table (lambda-files:
	// EVENTPLANE_FILES_TABLE) and Bus the bus it puts events on
	// (EVENTPLANE_BUS); both must be in uses.
	Table string `json:"table,omitempty"`
	Bus   string `json:"bus,omitempty"`
	// Queue triggers a lambda-sqs function (an SQS event source mapping
	// with partial batch responses), whose Routes are its EVENTPLANE_ROUTES,
	// as a consumer's; BatchSize is the mapping's (default 10).
	Queue     string  `json:"queue,omitempty"`
	Routes    []Route `json:"routes,omitempty"`
	BatchSize int     `json:"batchSize,omitempty"`
	Uses      Uses    `json:"uses"`
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

// Lambda returns the named function.
func (t *Topology) Lambda(name string) (Lambda, bool) {
	for _, l := range t.Lambdas {
		if l.Name == name {
			return l, true
		}
	}
	return Lambda{}, false
}

// Table purposes and bucket purposes the platform acts on.
const (
	PurposeIdempotency = "idempotency"
	PurposeUploads     = "uploads"
)

// IdempotencyTable is the logical name of the table whose purpose is
// idempotency ("" without one).
func (t *Topology) IdempotencyTable() string {
	for _, tb := range t.Tables {
		if tb.Purpose == PurposeIdempotency {
			return tb.Name
		}
	}
	return ""
}

// UploadsBucket is the logical name of the first bucket whose purpose is
// uploads ("" without one).
func (t *Topology) UploadsBucket() string {
	for _, b := range t.Buckets {
		if b.Purpose == PurposeUploads {
			return b.Name
		}
	}
	return ""
}

// Defaults the Terraform root module applies to what the file leaves out
// (terraform/main.tf and the modules' optional() defaults), applied here too
// so that every reader gives the same file the same meaning.
const (
	DefaultBus                    = "default"
	DefaultMaximumRetryAttempts   = 185   // EventBridge's own default
	DefaultMaximumEventAgeSeconds = 86400 // EventBridge's own default (24 h)
	DefaultMaxReceiveCount        = 5
)

// decodeStrict decodes doc into v refusing unknown keys, as Parse does (a
// custom UnmarshalJSON would otherwise lose the strictness).
func decodeStrict(doc []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(doc))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// UnmarshalJSON applies the default bus.
func (r *Rule) UnmarshalJSON(doc []byte) error {
	type plain Rule
	p := plain{Bus: DefaultBus}
	if err := decodeStrict(doc, &p); err != nil {
		return err
	}
	*r = Rule(p)
	return nil
}

// UnmarshalJSON applies EventBridge's retry defaults to the fields left out.
func (rt *Retry) UnmarshalJSON(doc []byte) error {
	type plain Retry
	p := plain{MaximumRetryAttempts: DefaultMaximumRetryAttempts, MaximumEventAgeSeconds: DefaultMaximumEventAgeSeconds}
	if err := decodeStrict(doc, &p); err != nil {
		return err
	}
	*rt = Retry(p)
	return nil
}

// UnmarshalJSON applies the sqs module's maxReceiveCount default.
func (q *Queue) UnmarshalJSON(doc []byte) error {
	type plain Queue
	p := plain{MaxReceiveCount: DefaultMaxReceiveCount}
	if err := decodeStrict(doc, &p); err != nil {
		return err
	}
	*q = Queue(p)
	return nil
}
