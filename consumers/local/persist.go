package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/memqueue"
	"github.com/eventplane/eventplane/consumers/sqs"
)

// loadSeen reads which bucket objects were already announced.
func (p *Platform) loadSeen() error {
	for _, b := range p.top.Buckets {
		f := p.seenFile(p.Names.Buckets[b.Name])
		if raw, err := os.ReadFile(f); err == nil {
			if err := json.Unmarshal(raw, &p.seen); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
		}
	}
	return nil
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
