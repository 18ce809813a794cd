// Package local runs the whole platform in one process, driven by the same
// api/topology.yaml as the cloud: an in-process EventBridge (bus.go), SNS
// topics, queues with SQS semantics (memqueue, DLQs included), the
// topology's consumers on the real runtime and handlers, embedded storage
// instead of DynamoDB and S3 (tables.go, objects.go), the upload folder
// that raises S3 Object Created events, schedules, and an HTTP server with
// the ingest API and a dashboard (server.go). Nothing is lost when it
// stops: tables and buckets are files, and queued messages are saved on
// shutdown and restored at start.
package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/eventplane/eventplane/consumers/bootstrap"
	"github.com/eventplane/eventplane/consumers/engine"
	"github.com/eventplane/eventplane/consumers/handlers"
	"github.com/eventplane/eventplane/consumers/memqueue"
	"github.com/eventplane/eventplane/consumers/route"
	"github.com/eventplane/eventplane/consumers/topology"
)

// Prefix of every local resource name ("local-orders", "local-uploads").
const Prefix = "local"

// GCPercent is the garbage collector target `eventplane dev` runs with
// (unless GOGC is set): the whole platform shares one heap of short-lived
// event copies, and collecting less often took the end-to-end benchmark
// from ~19k to ~24k events/s for a few hundred MB more at peak.
const GCPercent = 300

// Options configure the local platform.
type Options struct {
	Topology *topology.Topology
	// Dir holds the data: tables.db, buckets/<bucket>/..., queues/<queue>.json.
	Dir    string
	Logger *slog.Logger
	// Getenv reads settings such as a sql route's DSN (default os.Getenv).
	Getenv func(string) string
	// WatchInterval is how often bucket folders are scanned for new files
	// (default 500ms).
	WatchInterval time.Duration
	// RetryBase is the first retry delay of failing function targets
	// (default 1s).
	RetryBase time.Duration
	// BackoffBase is the consumers' first redelivery delay (default 1s).
	BackoffBase time.Duration
	// Tracer makes the spans of the ingest API, the consumers and the
	// function targets (default none).
	Tracer trace.TracerProvider
	// Registry holds the handlers routes name (default
	// handlers.NewRegistry(); consumer.Registry adds a program's own).
	Registry *handlers.Registry
}

// Consumer is one topology consumer and its engine.
type Consumer struct {
	Name, Queue string
	// Disabled says why the consumer does not run ("" when it runs); its
	// queue keeps the messages.
	Disabled string
	engine   *engine.Engine
	source   *countedSource
	routeRun atomic.Int64 // route handler runs (an event runs every route it matches)
	failed   atomic.Int64 // failed route runs
}

// Platform is the running local stack.
type Platform struct {
	opts      Options
	top       *topology.Topology
	Names     topology.Names
	Tables    *Tables
	Objects   *Objects
	Bus       *Bus
	Topics    *Topics
	queues    map[string]*memqueue.Queue // logical name
	dlqs      map[string]*memqueue.Queue // logical name of the source queue
	consumers []*Consumer
	rules     map[string]*Counter
	topicCnt  map[string]*Counter
	subCnt    map[string]*Counter // topic/queue
	schedules map[string]topology.Schedule
	started   time.Time
	up        chan struct{}        // closed once every running consumer has polled
	seen      map[string]time.Time // bucket/key -> modification time announced
	seenMu    sync.Mutex
	log       *slog.Logger
}

// New builds the platform (nothing runs until Run).
func New(ctx context.Context, opts Options) (*Platform, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.WatchInterval <= 0 {
		opts.WatchInterval = 500 * time.Millisecond
	}
	t := opts.Topology
	p := &Platform{opts: opts, top: t, log: opts.Logger, queues: map[string]*memqueue.Queue{}, dlqs: map[string]*memqueue.Queue{},
		rules: map[string]*Counter{}, topicCnt: map[string]*Counter{}, subCnt: map[string]*Counter{},
		schedules: map[string]topology.Schedule{}, seen: map[string]time.Time{}, started: time.Now(), up: make(chan struct{})}
	p.Names = names(t)
	if err := p.openStorage(); err != nil {
		return nil, err
	}
	p.buildQueues()
	if err := p.restoreQueues(); err != nil {
		return nil, err
	}
	topics, err := p.buildTopics()
	if err != nil {
		return nil, err
	}
	p.buildBuses()
	deps := handlers.Deps{Logger: p.log, DynamoDB: p.Tables, S3: p.Objects, EventBridge: p.Bus, SNS: p.Topics, Getenv: opts.Getenv}
	reg := opts.Registry
	if reg == nil {
		reg = handlers.NewRegistry()
	}
	if err := p.buildRules(ctx, reg, deps, topics); err != nil {
		return nil, err
	}
	for _, s := range t.Schedules {
		p.schedules[s.Name] = s
	}
	if err := p.loadSeen(); err != nil {
		return nil, err
	}
	for _, c := range t.Consumers {
		lc, err := p.consumer(ctx, reg, deps, c)
		if err != nil {
			return nil, err
		}
		p.consumers = append(p.consumers, lc)
	}
	// A lambda-sqs function is the consumer core behind an event source
	// mapping: locally it consumes its queue with its routes, settled by the
	// same processor (a failed record is retried after its visibility
	// timeout and redriven by the queue's policy, as Lambda's partial batch
	// responses do).
	for _, l := range t.Lambdas {
		if l.Handler != "lambda-sqs" {
			continue
		}
		lc, err := p.consumer(ctx, reg, deps, topology.Consumer{Name: "lambda:" + l.Name, Queue: l.Queue, Uses: l.Uses, Routes: l.Routes})
		if err != nil {
			return nil, err
		}
		p.consumers = append(p.consumers, lc)
	}
	return p, nil
}

// openStorage opens the tables and buckets under opts.Dir, and creates the
// folder queues are saved to.
func (p *Platform) openStorage() error {
	if err := os.MkdirAll(filepath.Join(p.opts.Dir, "queues"), 0o750); err != nil {
		return err
	}
	var tables []topology.Table
	for _, tb := range p.top.Tables {
		tb.Name = p.Names.Tables[tb.Name]
		tables = append(tables, tb)
	}
	var err error
	if p.Tables, err = OpenTables(filepath.Join(p.opts.Dir, "tables.db"), tables); err != nil {
		return err
	}
	var buckets []string
	for _, b := range p.top.Buckets {
		buckets = append(buckets, p.Names.Buckets[b.Name])
	}
	if p.Objects, err = NewObjects(filepath.Join(p.opts.Dir, "buckets"), buckets); err != nil {
		return errors.Join(err, p.Tables.Close())
	}
	return nil
}

// buildQueues makes the topology's queues and their dead-letter queues.
func (p *Platform) buildQueues() {
	for _, q := range p.top.Queues {
		vt := time.Duration(q.VisibilityTimeoutSeconds) * time.Second
		var dlq *memqueue.Queue
		if q.HasDeadLetter() {
			dlq = memqueue.New(memqueue.Config{Name: q.Name + "-dlq", FIFO: q.FIFO, VisibilityTimeout: vt})
			p.dlqs[q.Name] = dlq
		}
		// A short long-poll wait: consumers are ready within it at start,
		// and an idle wake-up costs nothing in process.
		p.queues[q.Name] = memqueue.New(memqueue.Config{Name: q.Name, FIFO: q.FIFO, VisibilityTimeout: vt,
			MaxReceiveCount: q.MaxReceiveCount, DeadLetter: dlq, WaitTime: 200 * time.Millisecond, Delay: time.Duration(q.DelaySeconds) * time.Second})
	}
}

// buildTopics makes the topics and their subscriptions, by logical name.
func (p *Platform) buildTopics() (map[string]*topic, error) {
	p.Topics = &Topics{byARN: map[string]*topic{}}
	topics := map[string]*topic{}
	for _, tp := range p.top.Topics {
		c := &Counter{}
		p.topicCnt[tp.Name] = c
		tt := &topic{arn: p.Names.Topics[tp.Name], count: c}
		for _, s := range tp.Subscriptions {
			sc := &Counter{}
			p.subCnt[tp.Name+"/"+s.Queue] = sc
			sub := subscription{queue: p.queues[s.Queue], raw: s.RawMessageDelivery != nil && *s.RawMessageDelivery,
				body: s.FilterPolicyScope == "MessageBody", count: sc}
			if len(s.FilterPolicy) > 0 {
				sub.set, sub.policy = route.NewSet(), s.FilterPolicy
				if _, err := sub.set.Add(s.FilterPolicy); err != nil {
					return nil, fmt.Errorf("topic %s subscription %s: filter policy: %w", tp.Name, s.Queue, err)
				}
			}
			tt.subs = append(tt.subs, sub)
		}
		topics[tp.Name] = tt
		p.Topics.byARN[tt.arn] = tt
	}
	return topics, nil
}

// buildBuses makes the default bus and the topology's buses.
func (p *Platform) buildBuses() {
	p.Bus = &Bus{log: p.log, buses: map[string]*busRules{"default": {set: route.NewSet()}}, RetryBase: p.opts.RetryBase}
	for _, b := range p.top.Buses {
		p.Bus.buses[p.Names.Buses[b.Name]] = &busRules{set: route.NewSet()}
	}
}

// buildRules adds the rules with their targets to the buses.
func (p *Platform) buildRules(ctx context.Context, reg *handlers.Registry, deps handlers.Deps, topics map[string]*topic) error {
	for _, r := range p.top.Rules {
		br := p.Bus.buses[p.busName(r.Bus)]
		c := &Counter{}
		p.rules[r.Name] = c
		rl := &rule{name: r.Name, count: c}
		for _, tg := range r.Targets {
			x := target{spec: tg, queue: p.queues[tg.Queue], topic: topics[tg.Topic]}
			var err error
			if x.input, err = compileInput(tg, r.Name, ruleARN(p.busName(r.Bus), r.Name)); err != nil {
				return fmt.Errorf("rule %s: %w", r.Name, err)
			}
			if tg.DeadLetterQueue != "" {
				x.dlq = p.queues[tg.DeadLetterQueue]
			}
			if tg.Lambda != "" {
				if x.fn, err = p.function(ctx, reg, deps, tg.Lambda); err != nil {
					return fmt.Errorf("rule %s: %w", r.Name, err)
				}
				x.name, x.onFailure = tg.Lambda, p.queues[p.top.Failures.Queue]
			}
			rl.targets = append(rl.targets, x)
		}
		if _, err := br.set.Add(r.Pattern); err != nil {
			return fmt.Errorf("rule %s: %w", r.Name, err)
		}
		br.rules = append(br.rules, rl)
	}
	for _, br := range p.Bus.buses {
		if err := br.sharePolicies(); err != nil {
			return err
		}
	}
	return nil
}

func (p *Platform) busName(logical string) string {
	if logical == "" || logical == "default" {
		return "default"
	}
	return p.Names.Buses[logical]
}

// names are the local physical names of the topology's resources.
func names(t *topology.Topology) topology.Names {
	n := topology.Names{Tables: map[string]string{}, Buckets: map[string]string{}, Topics: map[string]string{}, Buses: map[string]string{}, Queues: map[string]string{}}
	for _, x := range t.Tables {
		n.Tables[x.Name] = bootstrap.Name(Prefix, x.Name)
	}
	for _, x := range t.Buckets {
		n.Buckets[x.Name] = bootstrap.Name(Prefix, x.Name)
	}
	for _, x := range t.Topics {
		n.Topics[x.Name] = "arn:aws:sns:" + region + ":" + account + ":" + bootstrap.Name(Prefix, x.Name)
	}
	for _, x := range t.Buses {
		n.Buses[x.Name] = bootstrap.Name(Prefix, x.Name)
	}
	for _, x := range t.Queues {
		n.Queues[x.Name] = "local://queues/" + x.Name
	}
	return n
}

// Run runs the consumers, the bucket watcher and the schedules until ctx
// ends, then drains the consumers, waits for function deliveries, saves the
// queues and closes the storage.
func (p *Platform) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(p.consumers))
	for _, c := range p.consumers {
		if c.engine == nil {
			p.log.Warn("consumer not started", "consumer", c.Name, "reason", c.Disabled)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.engine.Run(ctx); err != nil && ctx.Err() == nil {
				errs <- fmt.Errorf("consumer %s: %w", c.Name, err)
			}
		}()
	}
	wg.Add(3)
	go func() { defer wg.Done(); p.signalUp(ctx) }()
	go func() { defer wg.Done(); p.watch(ctx) }()
	go func() { defer wg.Done(); p.schedule(ctx) }()
	wg.Wait()
	p.Bus.Wait()
	err := p.saveQueues()
	err = errors.Join(err, p.Tables.Close(), p.Objects.Close())
	close(errs)
	for e := range errs {
		err = errors.Join(err, e)
	}
	return err
}

// signalUp closes Started once every running consumer has polled its queue
// (or never, if ctx ends first).
func (p *Platform) signalUp(ctx context.Context) {
	for _, c := range p.consumers {
		if c.engine == nil {
			continue
		}
		select {
		case <-c.engine.Started():
		case <-ctx.Done():
			return
		}
	}
	close(p.up)
}

// Started is closed once Run has every running consumer polling its queue:
// wait on it (beside ctx) instead of polling Ready.
func (p *Platform) Started() <-chan struct{} { return p.up }

// Ready reports whether every running consumer has polled its queue.
func (p *Platform) Ready() bool {
	for _, c := range p.consumers {
		if c.engine != nil && !c.engine.Ready() {
			return false
		}
	}
	return true
}

// Topology is the topology the platform runs.
func (p *Platform) Topology() *topology.Topology { return p.top }
