// Package handlers holds the built-in handlers a consumer's routes can name,
// and the registry that builds them from their options. Each handler lives in
// its own file behind the same Factory signature, so that learning one teaches
// all; users add their own with Registry.Register.
package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/aws/aws-sdk-go-v2/aws"
	"log/slog"
	"sort"

	"github.com/eventplane/eventplane/consumers/engine"
)

// Deps are the shared resources a handler may need.
type Deps struct {
	Logger *slog.Logger
	// AWS is the SDK configuration for handlers that call AWS (nil in
	// programs that have none).
	AWS *aws.Config
}

// Factory builds a handler from its route options (JSON, may be empty).
type Factory func(ctx context.Context, deps Deps, options json.RawMessage) (engine.Handler, error)

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
func (r *Registry) Build(ctx context.Context, name string, deps Deps, options json.RawMessage) (engine.Handler, error) {
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
