package operator

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/eventplane/eventplane/api/v1alpha1"
	"github.com/eventplane/eventplane/consumers/sqs"
)

// polls remembers each EventConsumer's last queue figures, to rate-limit
// SQS reads per EventConsumer.
type polls struct {
	mu sync.Mutex
	m  map[types.NamespacedName]poll
}

type poll struct {
	at    time.Time
	url   string
	stats sqs.Stats
}

func (p *polls) fresh(key types.NamespacedName, url string, maxAge time.Duration) (sqs.Stats, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	last, ok := p.m[key]
	if !ok || last.url != url || time.Since(last.at) >= maxAge {
		return sqs.Stats{}, false
	}
	return last.stats, true
}

func (p *polls) put(key types.NamespacedName, url string, st sqs.Stats) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[types.NamespacedName]poll{}
	}
	p.m[key] = poll{at: time.Now(), url: url, stats: st}
}

func (p *polls) forget(key types.NamespacedName) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, key)
}

type redriveJob struct {
	key               types.NamespacedName
	request, region   string
	queue, deadLetter string
}

// Redriver moves dead-letter queues back to their queues outside the
// reconcile loop, a few at a time (Workers), at most one per EventConsumer:
// a redrive of many messages takes minutes, during which the EventConsumer
// (and every other one) keeps being reconciled. It runs on the leader only.
type Redriver struct {
	Client   client.Client
	Recorder events.EventRecorder
	SQS      func(ctx context.Context, region string) (sqs.AdminAPI, error)
	// Workers bounds redrives running at once (default 2).
	Workers int
	// Done is called after a redrive was recorded (the figures changed).
	Done func(types.NamespacedName)

	once    sync.Once
	jobs    chan redriveJob
	mu      sync.Mutex
	running map[types.NamespacedName]string
}

func (d *Redriver) init() {
	d.once.Do(func() {
		d.jobs = make(chan redriveJob, 64)
		d.running = map[types.NamespacedName]string{}
	})
}

// Submit queues a redrive unless the same request for the EventConsumer is
// queued or running; a full queue drops it, and the next reconcile (the
// request is still unanswered in the status) submits it again.
func (d *Redriver) Submit(j redriveJob) {
	d.init()
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, busy := d.running[j.key]; busy {
		return
	}
	select {
	case d.jobs <- j:
		d.running[j.key] = j.request
	default:
	}
}

// Start implements manager.Runnable.
func (d *Redriver) Start(ctx context.Context) error {
	d.init()
	n := d.Workers
	if n <= 0 {
		n = 2
	}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-d.jobs:
					d.run(ctx, j)
				}
			}
		}()
	}
	wg.Wait()
	return nil
}

// NeedLeaderElection implements manager.LeaderElectionRunnable.
func (d *Redriver) NeedLeaderElection() bool { return true }

func (d *Redriver) run(ctx context.Context, j redriveJob) {
	defer func() {
		d.mu.Lock()
		delete(d.running, j.key)
		d.mu.Unlock()
	}()
	ec := &v1alpha1.EventConsumer{}
	if err := d.Client.Get(ctx, j.key, ec); err != nil {
		return // deleted meanwhile
	}
	if ec.Status.LastRedrive != nil && ec.Status.LastRedrive.Request == j.request {
		return // handled already (another leader, an earlier job)
	}
	out := runRedrive(ctx, d.SQS, d.Recorder, ec, j)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := d.Client.Get(ctx, j.key, ec); err != nil {
			return err
		}
		ec.Status.LastRedrive = out
		return d.Client.Status().Update(ctx, ec)
	})
	if err != nil {
		log.FromContext(ctx).Error(err, "record redrive", "eventconsumer", j.key.String())
	}
	if d.Done != nil {
		d.Done(j.key)
	}
}

// runRedrive moves the messages and emits the Event; it returns the status
// to record.
func runRedrive(ctx context.Context, clients func(context.Context, string) (sqs.AdminAPI, error), rec events.EventRecorder,
	ec *v1alpha1.EventConsumer, j redriveJob) *v1alpha1.RedriveStatus {
	out := &v1alpha1.RedriveStatus{Request: j.request, Time: metav1.Now()}
	switch api, err := clients(ctx, j.region); {
	case err != nil:
		out.Error = err.Error()
	case j.deadLetter == "":
		out.Error = "the queue has no dead-letter queue (no redrive policy and no spec.queue.deadLetterUrl)"
	default:
		moved, err := sqs.Redrive(ctx, api, j.deadLetter, j.queue, 0)
		out.Moved = int32(moved) // #nosec G115 -- messages moved in one redrive: an SQS queue's approximate count, below 2^31
		redrives.WithLabelValues(ec.Namespace, ec.Name).Add(float64(moved))
		if err != nil {
			out.Error = err.Error()
		}
	}
	if out.Error != "" {
		rec.Eventf(ec, nil, corev1.EventTypeWarning, "RedriveFailed", "Redrive", "moved %d messages, then: %s", out.Moved, out.Error)
	} else {
		rec.Eventf(ec, nil, corev1.EventTypeNormal, "Redriven", "Redrive", "moved %d messages from %s back to the queue", out.Moved, j.deadLetter)
	}
	return out
}
