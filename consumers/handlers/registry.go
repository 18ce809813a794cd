// Package handlers holds the built-in handlers a consumer's routes can name,
// and the registry that builds them from their options. Each handler lives in
// its own file behind the same Factory signature, so that learning one teaches
// all; users add their own with Registry.Register.
package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/eventplane/eventplane/consumers/delivery"
)

// Deps are the shared resources a handler may need. The service clients are
// interfaces: AWS SDK clients in the cloud (NewDeps), embedded storage in
// the local stack; nil where a program has none.
type Deps struct {
	Logger      *slog.Logger
	DynamoDB    DynamoDBAPI
	S3          S3API
	EventBridge EventBridgeAPI
	SNS         SNSAPI
	// Credentials and Region are the program's AWS identity, for handlers
	// that sign requests themselves (the sql handler's RDS IAM tokens).
	Credentials aws.CredentialsProvider
	Region      string
	// Getenv reads settings a handler takes from the environment, such as
	// the sql handler's DSN (nil: os.Getenv).
	Getenv func(string) string
}

// DynamoDBAPI is the part of DynamoDB the built-in handlers use.
type DynamoDBAPI interface {
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// S3API is the part of S3 the built-in handlers use.
type S3API interface {
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// NewDeps returns Deps with AWS SDK clients made from cfg.
func NewDeps(log *slog.Logger, cfg aws.Config) Deps {
	return Deps{Logger: log, DynamoDB: dynamodb.NewFromConfig(cfg), S3: s3.NewFromConfig(cfg),
		EventBridge: eventbridge.NewFromConfig(cfg), SNS: sns.NewFromConfig(cfg),
		Credentials: cfg.Credentials, Region: cfg.Region}
}

// need names the first missing dependency of a handler.
func need(handler string, deps map[string]bool) error {
	for _, name := range []string{"DynamoDB", "S3", "EventBridge", "SNS"} {
		if present, wanted := deps[name]; wanted && !present {
			return fmt.Errorf("%s: no %s client (Deps.%s is nil)", handler, name, name)
		}
	}
	return nil
}

// Factory builds a handler from its route options (JSON, may be empty).
type Factory func(ctx context.Context, deps Deps, options json.RawMessage) (delivery.Handler, error)

// Registry maps handler names to factories.
type Registry struct{ factories map[string]Factory }

// NewRegistry returns a registry holding the built-in handlers.
func NewRegistry() *Registry {
	r := &Registry{factories: map[string]Factory{}}
	r.Register("log", newLog)
	r.Register("store", newStore)
	r.Register("archive", newArchive)
	r.Register("publish", newPublish)
	r.Register("sql", newSQL)
	r.Register("file", newFile)
	r.Register("aggregate", newAggregate)
	return r
}

// Register adds (or replaces) a handler factory.
func (r *Registry) Register(name string, f Factory) { r.factories[name] = f }

// Has reports whether name is registered.
func (r *Registry) Has(name string) bool { _, ok := r.factories[name]; return ok }

// validName is what an EventConsumer's route may name as its handler: the
// CRD's pattern and length (api/v1alpha1, +kubebuilder markers on
// Route.Handler), which the API server enforces.
var validName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]*$`)

// CheckNames reports every registered name an EventConsumer could not use.
func (r *Registry) CheckNames() error {
	var errs []error
	for _, n := range r.Names() {
		if len(n) > 63 || !validName.MatchString(n) {
			errs = append(errs, fmt.Errorf("handler name %q: an EventConsumer cannot name it (a letter, then letters, digits, '_', '.' or '-'; at most 63 characters)", n))
		}
	}
	return errors.Join(errs...)
}

// Names lists the registered handlers, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.factories))
	for n := range r.factories {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Build creates the named handler.
func (r *Registry) Build(ctx context.Context, name string, deps Deps, options json.RawMessage) (delivery.Handler, error) {
	f, ok := r.factories[name]
	if !ok {
		return nil, fmt.Errorf("unknown handler %q (registered: %v)", name, r.Names())
	}
	return f(ctx, deps, options)
}

// decodeOptions decodes a handler's options strictly: unknown fields are
// errors that name them.
func decodeOptions(options json.RawMessage, into any) error {
	if len(bytes.TrimSpace(options)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(options))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return fmt.Errorf("options: %w", err)
	}
	return nil
}
