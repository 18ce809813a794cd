package local

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eventplane/eventplane/consumers/bootstrap"
)

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
