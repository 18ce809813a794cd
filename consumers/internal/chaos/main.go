// Command chaos is eventplane's fault suite: it starts moto, a fault proxy
// of its own (per-service connection resets, black-holes and latency, with
// SQS mutations serialised because moto 5.2.1 loses deletes and delivers
// twice under concurrent requests) and the consumer binary, and runs the
// operator's worst days against it: crashes, sink outages, SQS faults,
// poison messages, a shutdown with a slow sink. Each scenario prints one
// row: events, lost, duplicate effects (counted through publish -> SNS ->
// queue), dead-lettered correctly / wrongly, requests per second during the
// outage and the recovery time. Everything runs on loopback, every loop is
// bounded, and it stops by itself.
//
//	go run ./consumers/internal/chaos [-only crash,poison] [-scale 0.5]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	only := fs.String("only", "", "comma-separated scenario names to run (default: all)")
	scale := fs.Float64("scale", 1, "multiply every scenario's event count")
	repo := fs.String("repo", "", "build the consumer from the module in this folder (default: the working directory's)")
	keep := fs.Bool("keep-logs", false, "keep the consumers' logs (their folder is printed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	dir, err := os.MkdirTemp("", "eventplane-chaos-")
	if err != nil {
		return err
	}
	if *keep {
		log.Info("consumer logs", "dir", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	env, err := NewEnv(ctx, dir, *repo)
	if err != nil {
		return err
	}
	defer env.Close()
	want := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			want[s] = true
		}
	}
	known := map[string]bool{}
	for _, sc := range Scenarios(*scale) {
		known[sc.Name] = true
	}
	for name := range want {
		if !known[name] {
			return fmt.Errorf("-only: no scenario named %q", name)
		}
	}
	fmt.Fprintln(stdout, Header())
	for _, sc := range Scenarios(*scale) {
		if len(want) > 0 && !want[sc.Name] {
			continue
		}
		start := time.Now()
		row, err := env.Execute(ctx, sc, log)
		if err != nil {
			return err
		}
		log.Info("scenario done", "name", sc.Name, "took", time.Since(start).Round(time.Second).String())
		fmt.Fprintln(stdout, row.Markdown())
	}
	return nil
}

// Header is the table's heading.
func Header() string {
	return "| scenario | events | lost | duplicate effects | DLQ correct / wrong | req/s in outage | recovery | drain | notes |\n" +
		"| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
}

// Markdown is the row as a table line.
func (r Row) Markdown() string {
	return fmt.Sprintf("| %s | %d | %d | %d | %d / %d | %s | %s | %s | %s |", r.Name, r.Events, r.Lost, r.Duplicates,
		r.DLQCorrect, r.DLQWrong, r.OutageRPS, r.Recovery, r.Drain, strings.ReplaceAll(r.Note, "|", "/"))
}
