package main

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"
)

// TestSmoke runs one small scenario of the fault suite end to end (moto, the
// fault proxy, the consumer binary): malformed bodies among good events and
// a kill -9 mid-drain. Nothing may be lost, every malformed body must reach
// the DLQ with a reason, and no good event may be dead-lettered.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto and the consumer binary")
	}
	ctx := context.Background()
	env, err := NewEnv(ctx, t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	sc := Scenario{Name: "smoke", Events: 40, Poison: 10, Deadline: 2 * time.Minute, Visibility: 5,
		Drive: func(ctx context.Context, r *Run) error {
			if err := r.waitProgress(ctx, 0.3); err != nil {
				return err
			}
			r.consumer.kill()
			return r.restart()
		}}
	row, err := env.Execute(ctx, sc, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	t.Log(Header() + "\n" + row.Markdown())
	if row.Lost != 0 || row.DLQWrong != 0 || row.DLQCorrect != sc.Poison {
		t.Errorf("lost %d, wrongly dead-lettered %d, correctly dead-lettered %d of %d malformed: %s",
			row.Lost, row.DLQWrong, row.DLQCorrect, sc.Poison, row.Note)
	}
}
