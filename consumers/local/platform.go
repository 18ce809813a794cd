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
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	ce "github.com/cloudevents/sdk-go/v2/event"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventplane/eventplane/consumers/assemble"
	"github.com/eventplane/eventplane/consumers/bootstrap"
	"github.com/eventplane/eventplane/consumers/config"
	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/engine"
	"github.com/eventplane/eventplane/consumers/handlers"
	"github.com/eventplane/eventplane/consumers/memqueue"
	"github.com/eventplane/eventplane/consumers/route"
	"github.com/eventplane/eventplane/consumers/sqs"
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
		schedules: map[string]topology.Schedule{}, seen: map[string]time.Time{}, started: time.Now()}
	if err := os.MkdirAll(filepath.Join(opts.Dir, "queues"), 0o750); err != nil {
		return nil, err
	}
	p.Names = names(t)
	var tables []topology.Table
	for _, tb := range t.Tables {
		tb.Name = p.Names.Tables[tb.Name]
		tables = append(tables, tb)
	}
	var err error
	if p.Tables, err = OpenTables(filepath.Join(opts.Dir, "tables.db"), tables); err != nil {
		return nil, err
	}
	var buckets []string
	for _, b := range t.Buckets {
		buckets = append(buckets, p.Names.Buckets[b.Name])
	}
	if p.Objects, err = NewObjects(filepath.Join(opts.Dir, "buckets"), buckets); err != nil {
		return nil, err
	}
	for _, q := range t.Queues {
		vt := time.Duration(q.VisibilityTimeoutSeconds) * time.Second
		var dlq *memqueue.Queue
		if q.HasDeadLetter() {
			dlq = memqueue.New(memqueue.Config{Name: q.Name + "-dlq", FIFO: q.FIFO, VisibilityTimeout: vt})
			p.dlqs[q.Name] = dlq
		}
		// A short long-poll wait: consumers are ready within it at start,
		// and an idle wake-up costs nothing in process.
		p.queues[q.Name] = memqueue.New(memqueue.Config{Name: q.Name, FIFO: q.FIFO, VisibilityTimeout: vt,
			MaxReceiveCount: q.MaxReceiveCount, DeadLetter: dlq, WaitTime: 200 * time.Millisecond})
	}
	if err := p.restoreQueues(); err != nil {
		return nil, err
	}
	p.Topics = &Topics{byARN: map[string]*topic{}}
	topics := map[string]*topic{}
	for _, tp := range t.Topics {
		c := &Counter{}
		p.topicCnt[tp.Name] = c
		tt := &topic{arn: p.Names.Topics[tp.Name], count: c}
		for _, s := range tp.Subscriptions {
			sc := &Counter{}
			p.subCnt[tp.Name+"/"+s.Queue] = sc
			sub := subscription{queue: p.queues[s.Queue], raw: s.RawMessageDelivery != nil && *s.RawMessageDelivery,
				body: s.FilterPolicyScope == "MessageBody", count: sc}
			if len(s.FilterPolicy) > 0 {
				sub.set = route.NewSet()
				if _, err := sub.set.Add(s.FilterPolicy); err != nil {
					return nil, fmt.Errorf("topic %s subscription %s: filter policy: %w", tp.Name, s.Queue, err)
				}
			}
			tt.subs = append(tt.subs, sub)
		}
		topics[tp.Name] = tt
		p.Topics.byARN[tt.arn] = tt
	}
	p.Bus = &Bus{log: p.log, buses: map[string]*busRules{"default": {set: route.NewSet()}}, RetryBase: opts.RetryBase}
	for _, b := range t.Buses {
		p.Bus.buses[p.Names.Buses[b.Name]] = &busRules{set: route.NewSet()}
	}
	deps := handlers.Deps{Logger: p.log, DynamoDB: p.Tables, S3: p.Objects, EventBridge: p.Bus, SNS: p.Topics, Getenv: opts.Getenv}
	reg := opts.Registry
	if reg == nil {
		reg = handlers.NewRegistry()
	}
	for _, r := range t.Rules {
		br := p.Bus.buses[p.busName(r.Bus)]
		c := &Counter{}
		p.rules[r.Name] = c
		rl := &rule{name: r.Name, count: c}
		for _, tg := range r.Targets {
			x := target{spec: tg, queue: p.queues[tg.Queue], topic: topics[tg.Topic]}
			if tg.DeadLetterQueue != "" {
				x.dlq = p.queues[tg.DeadLetterQueue]
			}
			if tg.Lambda != "" {
				if x.fn, err = p.function(ctx, reg, deps, tg.Lambda); err != nil {
					return nil, fmt.Errorf("rule %s: %w", r.Name, err)
				}
				x.name, x.onFailure = tg.Lambda, p.queues[lambdaFailureDestination]
			}
			rl.targets = append(rl.targets, x)
		}
		if _, err := br.set.Add(r.Pattern); err != nil {
			return nil, fmt.Errorf("rule %s: %w", r.Name, err)
		}
		br.rules = append(br.rules, rl)
	}
	for _, s := range t.Schedules {
		p.schedules[s.Name] = s
	}
	for _, b := range t.Buckets {
		if raw, err := os.ReadFile(p.seenFile(p.Names.Buckets[b.Name])); err == nil {
			if err := json.Unmarshal(raw, &p.seen); err != nil {
				return nil, fmt.Errorf("%s: %w", p.seenFile(p.Names.Buckets[b.Name]), err)
			}
		}
	}
	for _, c := range t.Consumers {
		lc, err := p.consumer(ctx, reg, deps, c)
		if err != nil {
			return nil, err
		}
		p.consumers = append(p.consumers, lc)
	}
	return p, nil
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

// lambdaFailureDestination is the queue Terraform makes every function's
// on-failure destination and lambda-files' dead-letter queue
// (terraform/main.tf: failure_destination_arn).
const lambdaFailureDestination = "eventbridge-dlq"

// function builds a Lambda target: the function's Go core with the
// settings Terraform gives it in the cloud.
func (p *Platform) function(ctx context.Context, reg *handlers.Registry, deps handlers.Deps, name string) (Function, error) {
	var lam *topology.Lambda
	for i := range p.top.Lambdas {
		if p.top.Lambdas[i].Name == name {
			lam = &p.top.Lambdas[i]
		}
	}
	if lam == nil {
		return nil, fmt.Errorf("lambda %s is not declared", name)
	}
	switch lam.Handler {
	case "lambda-files":
		opts := map[string]string{"table": p.Names.Tables["files"]}
		if bus, ok := p.Names.Buses["main"]; ok {
			opts["completionBus"] = bus
		}
		raw, _ := json.Marshal(opts)
		h, err := reg.Build(ctx, "file", deps, raw)
		if err != nil {
			return nil, fmt.Errorf("lambda %s: %w", name, err)
		}
		// The function's core settles through the engine's one settlement
		// function, as lambda-files does: a permanent failure goes to its
		// dead-letter queue with the reason (no retries), anything else is
		// an error that Lambda's asynchronous policy retries (Bus.invoke).
		proc, err := delivery.NewProcessor(delivery.ProcessorOptions{System: "aws_lambda", Tracer: p.opts.Tracer, Routes: []route.Route[delivery.Handler]{{Name: name, Handler: h}}})
		if err != nil {
			return nil, fmt.Errorf("lambda %s: %w", name, err)
		}
		dlq := p.queues[lambdaFailureDestination]
		return func(ctx context.Context, doc []byte) error {
			return proc.Invocation(ctx, doc, func(_ context.Context, reason string) error {
				if dlq == nil {
					return fmt.Errorf("no %s queue", lambdaFailureDestination)
				}
				_, err := dlq.Send(string(doc), map[string]string{delivery.AttrFailureReason: reason, delivery.AttrSourceQueue: "lambda:" + name}, "dead-letter")
				return err
			})
		}, nil
	}
	return nil, fmt.Errorf("lambda %s: handler %s cannot run as a local rule target", name, lam.Handler)
}

// consumer builds the engine of a topology consumer the way the operator
// configures it in a cluster, on the local queue and storage.
func (p *Platform) consumer(ctx context.Context, reg *handlers.Registry, deps handlers.Deps, c topology.Consumer) (*Consumer, error) {
	lc := &Consumer{Name: c.Name, Queue: c.Queue}
	cfg := config.Default()
	cfg.Queue.URL = p.Names.Queues[c.Queue]
	if p.opts.BackoffBase > 0 {
		cfg.Consumer.BackoffBase = config.Duration(p.opts.BackoffBase)
	}
	cfg.Consumer.MaxInFlight = 500
	// Stopping does not wait for batching handlers (the archive's group
	// commit): what they hold is released, saved and handled after the
	// next start.
	cfg.Consumer.ShutdownGrace = config.Duration(2 * time.Second)
	if slices.Contains(c.Uses.Tables, "idempotency") {
		cfg.Consumer.IdempotencyTable = p.Names.Tables["idempotency"]
	}
	for _, r := range c.Routes {
		opts := r.Options
		if len(opts) > 0 {
			var err error
			if opts, err = topology.ResolveOptions(opts, p.Names); err != nil {
				return nil, fmt.Errorf("consumer %s route %s: %w", c.Name, r.Name, err)
			}
		}
		if r.Handler == "archive" {
			opts = localArchiveAge(opts)
		}
		if r.Handler == "sql" {
			if env := sqlDSNEnv(opts); p.opts.Getenv(env) == "" {
				lc.Disabled = fmt.Sprintf("route %s needs PostgreSQL: set %s to a DSN (its queue keeps the messages meanwhile)", r.Name, env)
				return lc, nil
			}
		}
		cfg.Routes = append(cfg.Routes, config.Route{Name: r.Name, Handler: r.Handler, Pattern: r.Pattern, Options: opts})
	}
	count := func(next delivery.Handler) delivery.Handler {
		return delivery.HandlerFunc(func(ctx context.Context, e *ce.Event) error {
			err := next.Handle(ctx, e)
			lc.routeRun.Add(1)
			if err != nil && !errors.Is(err, delivery.ErrSkip) {
				lc.failed.Add(1)
			}
			return err
		})
	}
	lc.source = &countedSource{Source: p.queues[c.Queue]}
	eng, err := assemble.Engine(ctx, cfg, assemble.Parts{
		Source: lc.source, FIFO: strings.HasSuffix(c.Queue, ".fifo"), Registry: reg, Deps: deps,
		Idempotency: p.Tables, Middlewares: []delivery.Middleware{count}, Logger: p.log.With("consumer", c.Name), Tracer: p.opts.Tracer,
	})
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", c.Name, err)
	}
	lc.engine = eng
	return lc, nil
}

// LocalArchiveMaxAge caps the archive's group commit locally: in the cloud
// an archive route holds an event up to its maxAge (10s in the topology)
// to fill an S3 object, which locally only shows as ten-second handling
// times on the dashboard and in tail. A batch still fills to maxEvents
// under load.
const LocalArchiveMaxAge = time.Second

func localArchiveAge(opts json.RawMessage) json.RawMessage {
	o := map[string]any{}
	if len(opts) > 0 && json.Unmarshal(opts, &o) != nil {
		return opts // the handler reports the bad options
	}
	if s, _ := o["maxAge"].(string); s != "" {
		if d, err := time.ParseDuration(s); err != nil || d <= LocalArchiveMaxAge {
			return opts
		}
	}
	o["maxAge"] = LocalArchiveMaxAge.String()
	b, _ := json.Marshal(o)
	return b
}

func sqlDSNEnv(opts json.RawMessage) string {
	var o struct {
		DSNEnv string `json:"dsnEnv"`
	}
	_ = json.Unmarshal(opts, &o)
	if o.DSNEnv == "" {
		return "EVENTPLANE_POSTGRES_DSN"
	}
	return o.DSNEnv
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
	wg.Add(2)
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

// Ready reports whether every running consumer has polled its queue.
func (p *Platform) Ready() bool {
	for _, c := range p.consumers {
		if c.engine != nil && !c.engine.Ready() {
			return false
		}
	}
	return true
}

func (p *Platform) queueFile(name string) string {
	return filepath.Join(p.opts.Dir, "queues", name+".json")
}

// saveQueues writes every queue's and DLQ's messages (after the consumers
// stopped, so in-flight work was settled or released).
func (p *Platform) saveQueues() error {
	var errs []error
	save := func(name string, q *memqueue.Queue) {
		b, err := json.Marshal(q.Save())
		if err == nil {
			err = os.WriteFile(p.queueFile(name)+".tmp", b, 0o600)
		}
		if err == nil {
			err = os.Rename(p.queueFile(name)+".tmp", p.queueFile(name))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("save queue %s: %w", name, err))
		}
	}
	for name, q := range p.queues {
		save(name, q)
		if d := p.dlqs[name]; d != nil {
			save(name+"-dlq", d)
		}
	}
	return errors.Join(errs...)
}

func (p *Platform) restoreQueues() error {
	load := func(name string, q *memqueue.Queue) error {
		b, err := os.ReadFile(p.queueFile(name))
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		var saved []memqueue.Saved
		if err := json.Unmarshal(b, &saved); err != nil {
			return fmt.Errorf("queue file %s: %w", p.queueFile(name), err)
		}
		q.Restore(saved)
		return os.Remove(p.queueFile(name))
	}
	for name, q := range p.queues {
		if err := load(name, q); err != nil {
			return err
		}
		if d := p.dlqs[name]; d != nil {
			if err := load(name+"-dlq", d); err != nil {
				return err
			}
		}
	}
	return nil
}

// watch announces new or changed files of buckets with EventBridge
// notifications as S3 "Object Created" events on the default bus, as S3
// does; files present at start are announced too if not yet seen.
func (p *Platform) watch(ctx context.Context) {
	t := time.NewTicker(p.opts.WatchInterval)
	defer t.Stop()
	for {
		for _, b := range p.top.Buckets {
			if b.EventBridge {
				p.scanBucket(ctx, p.Names.Buckets[b.Name])
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *Platform) scanBucket(ctx context.Context, bucket string) {
	objs, err := p.Objects.List(bucket)
	if err != nil {
		p.log.Error("watch bucket", "bucket", bucket, "error", err)
		return
	}
	seenFile := p.seenFile(bucket)
	p.seenMu.Lock()
	defer p.seenMu.Unlock()
	changed := false
	for _, o := range objs {
		id := o.Bucket + "/" + o.Key
		if at, ok := p.seen[id]; ok && at.Equal(o.Modified) {
			continue
		}
		// Let a file being copied settle before announcing it.
		if time.Since(o.Modified) < p.opts.WatchInterval {
			continue
		}
		detail, _ := json.Marshal(map[string]any{
			"version": "0", "bucket": map[string]string{"name": o.Bucket},
			"object":     map[string]any{"key": o.Key, "size": o.Size, "etag": strconv.FormatInt(o.Modified.UnixNano(), 16)},
			"request-id": newID(), "requester": account, "reason": "PutObject",
		})
		_, err := p.Bus.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
			Source: aws.String("aws.s3"), DetailType: aws.String("Object Created"), Detail: aws.String(string(detail)),
			Resources: []string{"arn:aws:s3:::" + o.Bucket}, EventBusName: aws.String("default"),
		}}})
		if err != nil {
			p.log.Error("announce upload", "object", id, "error", err)
			continue
		}
		p.seen[id] = o.Modified
		changed = true
		p.log.Info("upload announced", "bucket", o.Bucket, "key", o.Key, "size", o.Size)
	}
	if changed {
		b, _ := json.Marshal(p.seen)
		_ = os.WriteFile(seenFile, b, 0o600)
	}
}

// seenFile remembers which objects of a bucket were announced, so a
// restart does not announce them again.
func (p *Platform) seenFile(bucket string) string {
	return filepath.Join(p.opts.Dir, "buckets", "."+bucket+".seen.json")
}

var rateExpr = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)

// schedule fires rate() schedules on time; cron() schedules can be fired
// by hand (Trigger).
func (p *Platform) schedule(ctx context.Context) {
	var wg sync.WaitGroup
	for _, s := range p.schedules {
		m := rateExpr.FindStringSubmatch(s.Expression)
		if m == nil {
			p.log.Warn("schedule runs only when triggered by hand locally", "schedule", s.Name, "expression", s.Expression)
			continue
		}
		n, _ := strconv.Atoi(m[1])
		unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(m[2], "s")]
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(time.Duration(n) * unit)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if err := p.Trigger(s.Name); err != nil {
						p.log.Error("schedule", "schedule", s.Name, "error", err)
					}
				}
			}
		}()
	}
	wg.Wait()
}

// Trigger sends a schedule's Scheduled Event to its queue now.
func (p *Platform) Trigger(name string) error {
	s, ok := p.schedules[name]
	if !ok {
		return fmt.Errorf("no schedule %q (schedules: %s)", name, strings.Join(sortedKeys(p.schedules), ", "))
	}
	doc, _ := json.Marshal(map[string]any{
		"version": "0", "id": newID(), "detail-type": "Scheduled Event", "source": "aws.events", "account": account,
		"time": time.Now().UTC().Format(time.RFC3339), "region": region,
		"resources": []string{"arn:aws:scheduler:" + region + ":" + account + ":schedule/default/" + bootstrap.Name(Prefix, name)},
		"detail":    map[string]any{},
	})
	_, err := p.queues[s.Queue].Send(string(doc), nil, "schedule")
	return err
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Redrive moves a queue's dead-letter messages back to it.
func (p *Platform) Redrive(queue string) (int, error) {
	q, d := p.queues[queue], p.dlqs[queue]
	if q == nil {
		return 0, fmt.Errorf("no queue %q", queue)
	}
	if d == nil {
		return 0, fmt.Errorf("queue %q has no dead-letter queue", queue)
	}
	return d.MoveTo(q, sqs.IsFailureAttribute)
}

// DeadLetters returns a queue's dead-letter messages.
func (p *Platform) DeadLetters(queue string) ([]delivery.Message, error) {
	d := p.dlqs[queue]
	if d == nil {
		if q := p.queues[queue]; q != nil {
			return q.Peek(), nil // a queue that is itself a DLQ (eventbridge-dlq)
		}
		return nil, fmt.Errorf("no queue %q", queue)
	}
	return d.Peek(), nil
}
