package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventplane/eventplane/consumers/idempotency"
)

// Scenario is one row of the table.
type Scenario struct {
	Name string
	// Promise is what the row tests, in the README's words.
	Promise     string
	Events      int // good events
	Poison      int // malformed bodies among them
	Idempotency bool
	// FIFOTopic publishes to an SNS FIFO topic (deduplication by event id).
	FIFOTopic bool
	// Sink is where the effect lands: SinkSNS (default), SinkStore or
	// SinkDownstream.
	Sink       string
	Visibility int // work queue's visibility timeout, seconds (default 30)
	Flags      []string
	// Deadline bounds the whole run (default 10m).
	Deadline time.Duration
	// Drive injects the scenario's faults while the consumer drains the
	// queue; it returns when its faults are over.
	Drive func(ctx context.Context, r *Run) error
}

// Run is a scenario in progress.
type Run struct {
	env      *Env
	sc       Scenario
	world    *World
	tally    *Tally
	consumer *Consumer
	// downstream is the downstream consumer of SinkDownstream (never
	// interrupted: the row shows what it drops).
	downstream *Consumer
	starts     int
	lives      []Life // ended consumers
	flags      []string
	log        *slog.Logger

	// Filled by Drive.
	outageRPS float64
	outageSet bool
	recovery  time.Duration
	recovered bool
	notes     []string
}

// Row is one line of the result table.
type Row struct {
	Name, Promise                    string
	Events, Lost, Duplicates         int
	DLQCorrect, DLQWrong             int
	OutageRPS, Recovery, Drain, Note string
}

func (r *Run) restart() error {
	if r.consumer != nil {
		r.lives = append(r.lives, r.consumer.life)
	}
	r.starts++
	c, err := r.env.startConsumer(r.world.QueueURL, r.world.Routes(), r.sc.Name, r.starts, r.flags)
	if err != nil {
		return err
	}
	r.consumer = c
	return nil
}

// progress is the share of sent messages already accounted for (with a
// FIFO topic, whose effects are read at the end: the share that left the
// work queue).
func (r *Run) progress() float64 {
	if r.sc.FIFOTopic {
		depth, err := r.env.queueDepth(context.Background(), r.world.QueueURL)
		if err != nil {
			return 0
		}
		return 1 - float64(depth)/float64(r.sc.Events+r.sc.Poison)
	}
	fx, dl := r.tally.progress()
	if r.sc.Sink == SinkStore {
		fx = len(r.env.puts(r.world))
	}
	return float64(fx+dl) / float64(r.sc.Events+r.sc.Poison)
}

// waitProgress waits until at least frac of the messages are accounted for.
func (r *Run) waitProgress(ctx context.Context, frac float64) error {
	for r.progress() < frac {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
	return nil
}

func (r *Run) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
	r.log.Info(r.sc.Name + ": " + fmt.Sprintf(format, args...))
}

// Execute runs one scenario from an empty emulator to its row.
func (e *Env) Execute(ctx context.Context, sc Scenario, log *slog.Logger) (Row, error) {
	if sc.Visibility == 0 {
		sc.Visibility = 30
	}
	if sc.Deadline == 0 {
		sc.Deadline = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, sc.Deadline)
	defer cancel()
	w, err := e.newWorld(ctx, sc.Visibility, sc.FIFOTopic, sc.Sink)
	if err != nil {
		return Row{}, err
	}
	e.Proxy.ResetCalls()
	r := &Run{env: e, sc: sc, world: w, log: log, tally: &Tally{effects: map[string]int{}, dlq: map[string][]string{}, last: time.Now()}}
	r.flags = append([]string{}, sc.Flags...)
	if sc.Idempotency {
		r.flags = append(r.flags, "--idempotency-table", w.Table)
	}
	msgs := append(Events(sc.Events), Poison(sc.Poison)...)
	rand.Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })
	loadStart := time.Now()
	if err := e.send(ctx, w.QueueURL, msgs); err != nil {
		return Row{}, err
	}
	log.Info(sc.Name+": loaded", "messages", len(msgs), "took", time.Since(loadStart).Round(time.Millisecond).String())

	cctx, stopCollect := context.WithCancel(context.WithoutCancel(ctx))
	collected := make(chan struct{})
	go func() { e.collect(cctx, w, r.tally, sc.FIFOTopic); close(collected) }()
	defer func() { stopCollect(); <-collected }()

	start := time.Now()
	if err := r.restart(); err != nil {
		return Row{}, err
	}
	if sc.Sink == SinkDownstream {
		if r.downstream, err = e.startConsumer(w.EffectsURL, w.DownstreamRoutes(), sc.Name+"-downstream", 1,
			[]string{"--idempotency-table", w.Table}); err != nil {
			return Row{}, err
		}
	}
	defer func() {
		if r.consumer != nil {
			r.consumer.kill()
		}
		if r.downstream != nil {
			r.downstream.kill()
		}
		e.Proxy.SetFault("", Fault{})
	}()
	driveErr := make(chan error, 1)
	if sc.Drive != nil {
		go func() { driveErr <- sc.Drive(ctx, r) }()
	} else {
		driveErr <- nil
	}
	var drained time.Duration
	driving := true
	var downstreamDone <-chan struct{}
	if r.downstream != nil {
		downstreamDone = r.downstream.done
	}
	for {
		select {
		case <-downstreamDone:
			return Row{}, fmt.Errorf("%s: the downstream consumer exited by itself (%v): see its log in %s", sc.Name, r.downstream.err, e.LogDir)
		case err := <-driveErr:
			if err != nil && ctx.Err() == nil {
				return Row{}, fmt.Errorf("%s: %w", sc.Name, err)
			}
			driving = false
			continue
		case <-ctx.Done():
			r.note("deadline %v reached before the queue drained", sc.Deadline)
		case <-time.After(2 * time.Second):
			if driving {
				continue
			}
			depth, err := e.queueDepth(ctx, w.QueueURL)
			if err != nil || depth > 0 || r.tally.quietFor() < 3*time.Second {
				continue
			}
			if sc.Sink == SinkDownstream {
				if depth, err := e.queueDepth(ctx, w.EffectsURL); err != nil || depth > 0 {
					continue
				}
			}
		}
		break
	}
	drained = time.Since(start)
	if r.consumer != nil {
		took, err := r.consumer.term(90 * time.Second)
		if err != nil {
			r.note("final SIGTERM: %v", err)
		}
		_ = took
		r.consumer.life.How = "final SIGTERM"
		r.lives = append(r.lives, r.consumer.life)
		r.consumer = nil
	}
	var downstream Life
	if r.downstream != nil {
		downstream = r.downstream.life
		if _, err := r.downstream.term(90 * time.Second); err != nil {
			r.note("downstream SIGTERM: %v", err)
		}
		r.downstream = nil
	}
	// Late effects and DLQ copies: wait until both queues stay quiet.
	for i := 0; i < 20 && r.tally.quietFor() < 3*time.Second; i++ {
		time.Sleep(500 * time.Millisecond)
	}
	if sc.FIFOTopic {
		e.readEffects(context.WithoutCancel(ctx), w, r.tally)
	}
	keyOf := func(string) string { return "" }
	if sc.Idempotency {
		keyOf = func(id string) string {
			ev := ce.New()
			ev.SetSource("chaos")
			ev.SetID(id)
			return idempotency.Key("effects", &ev)
		}
	}
	effect := func(c Call) bool { return c.Kind == "publish" && c.Topic == w.TopicARN }
	switch sc.Sink {
	case SinkStore:
		effect = func(c Call) bool { return c.Kind == "put" && c.Table == w.StoreTable }
		r.storeNote(ctx)
	case SinkDownstream:
		var up int
		for _, n := range r.env.publishes(w.TopicARN) {
			up += n - 1
		}
		r.note("%d repeats reached the SNS standard topic (duplicates are counted after the downstream consumer)", up)
		keyOf2 := func(id string) string {
			ev := ce.New()
			ev.SetSource("chaos")
			ev.SetID(id)
			return idempotency.Key("downstream", &ev)
		}
		// The downstream consumer's promise: its handler completes once per
		// event id, whatever copies arrive (a second completed marker for a
		// key would be a second run). Its own publish to the second SNS
		// standard topic is again at least once: those repeats, which the
		// duplicates column counts, are attributed separately.
		completes := map[string]int{}
		for _, c := range e.Proxy.Calls() {
			if c.Kind == "complete" && c.Status == 200 {
				completes[c.Key]++
			}
		}
		runs, again := 0, 0
		for _, m := range msgs {
			if !m.Good {
				continue
			}
			n := completes[keyOf2("evt-"+strings.TrimPrefix(m.ID, "g"))]
			runs += min(n, 1)
			again += max(n-1, 0)
		}
		r.note("downstream handler completed %d events, %d of them more than once", runs, again)
		if rp := Attribute(e.Proxy.Calls(), []Life{downstream}, func(c Call) bool { return c.Kind == "publish" && c.Topic == w.Topic2ARN }, keyOf2); rp.Total > 0 {
			r.note("downstream's own publishes: %s", rp)
		}
	}
	if rp := Attribute(e.Proxy.Calls(), r.lives, effect, keyOf).String(); rp != "" {
		r.note("%s", rp)
	}
	return r.row(msgs, drained), nil
}

// Reason problems the table counts as wrong dead-letters: none at all, a
// trailing newline, an empty value.
func badReason(s string) bool {
	return s == "" || strings.TrimSpace(s) != s || strings.HasSuffix(s, ": ") || strings.HasSuffix(s, ":")
}

func (r *Run) row(msgs []Msg, drain time.Duration) Row {
	t := r.tally
	t.mu.Lock()
	defer t.mu.Unlock()
	row := Row{Name: r.sc.Name, Promise: r.sc.Promise, Events: len(msgs), Drain: fmt.Sprintf("%.0f s", drain.Seconds()),
		OutageRPS: "–", Recovery: "–"}
	var wrong []string
	for _, m := range msgs {
		reasons := t.dlq[m.ID]
		if m.Good {
			id := "evt-" + strings.TrimPrefix(m.ID, "g")
			n := t.effects[id]
			switch {
			case len(reasons) > 0:
				row.DLQWrong++
				wrong = append(wrong, m.ID+": "+reasons[0])
			case n == 0:
				row.Lost++
			}
			if n > 1 {
				row.Duplicates += n - 1
			}
			continue
		}
		switch {
		case len(reasons) == 0:
			row.Lost++
		case badReason(reasons[0]):
			row.DLQWrong++
			wrong = append(wrong, m.ID+": "+fmt.Sprintf("%q", reasons[0]))
		default:
			row.DLQCorrect++
		}
	}
	if r.outageSet {
		row.OutageRPS = fmt.Sprintf("%.1f", r.outageRPS)
	}
	if r.recovered {
		row.Recovery = fmt.Sprintf("%.1f s", r.recovery.Seconds())
	} else if r.outageSet {
		row.Recovery = "never"
	}
	sort.Strings(wrong)
	if len(wrong) > 3 {
		wrong = append(wrong[:3], fmt.Sprintf("… %d more", len(wrong)-3))
	}
	notes := append([]string{}, r.notes...)
	if len(wrong) > 0 {
		notes = append(notes, "wrongly dead-lettered: "+strings.Join(wrong, "; "))
	}
	row.Note = strings.Join(notes, "; ")
	return row
}

// storeNote fills the tally from the store sink: each event's effects are
// the PutItems moto applied for it (a second one would be an overwrite), and
// the note gives the table's item count and the conditional writes the
// table refused (repeats it detected).
func (r *Run) storeNote(ctx context.Context) {
	puts := r.env.puts(r.world)
	refused := 0
	for _, c := range r.env.Proxy.Calls() {
		if c.Kind == "put" && c.Table == r.world.StoreTable && c.Status == 400 {
			refused++
		}
	}
	r.tally.mu.Lock()
	overwrites := 0
	for id, n := range puts {
		r.tally.effects[id] = n
		overwrites += n - 1
	}
	r.tally.mu.Unlock()
	items, err := r.env.items(context.WithoutCancel(ctx), r.world.StoreTable)
	if err != nil {
		r.note("scan %s: %v", r.world.StoreTable, err)
	}
	r.note("%d items, %d overwrites, %d repeated writes refused by the table's condition", items, overwrites, refused)
}
