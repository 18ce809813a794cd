// Command eventplane is the platform's command-line tool.
//
//	eventplane normalize [--queue-arn ARN] [--attributes FILE] [--message-id ID] [--fallback-type TYPE] [FILE|-]
//	eventplane match --pattern FILE [FILE|-]
//	eventplane bootstrap [--topology FILE] [--prefix P] [--endpoint URL] [--region R]
//	eventplane dev [--topology FILE] [--dir DIR] [--addr HOST:PORT] [--log-level L]
//	eventplane send [--endpoint URL | --bus NAME [--region R] [--profile P] [--aws-endpoint URL]] [--batch N] [FILE|-]
//	eventplane tail [--endpoint URL | --admin URL] [--json]
//	eventplane dlq list|redrive QUEUE [--endpoint URL] | --queue-url URL [--region R] [--profile P] [--aws-endpoint URL]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/eventplane/eventplane/consumers/awsconf"
	"github.com/eventplane/eventplane/consumers/bootstrap"
	"github.com/eventplane/eventplane/consumers/event"
	"github.com/eventplane/eventplane/consumers/route"
	"github.com/eventplane/eventplane/consumers/topology"
)

// Exit codes.
const (
	exitOK      = 0
	exitNoMatch = 1
	exitBad     = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage: eventplane <command> [flags] [FILE|-]

commands:
  normalize   turn one message body or Lambda event into CloudEvents (one JSON per line)
  match       test one JSON event against an EventBridge event pattern
  bootstrap   create everything api/topology.yaml declares through the AWS APIs (moto, LocalStack, a sandbox)
  dev         run the whole platform locally: bus, topics, queues, consumers, storage, dashboard
  send        post events (a JSON array, one object or JSON Lines) to eventplane dev, or to an EventBridge bus (--bus)
  tail        follow processed events of eventplane dev, or of a consumer's admin endpoint (--admin)
  dlq         list or redrive dead letters: eventplane dlq list|redrive QUEUE, or --queue-url URL in the cloud

Run 'eventplane <command> -h' for a command's flags.
`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitBad
	}
	switch args[0] {
	case "normalize":
		return normalize(args[1:], stdin, stdout, stderr)
	case "match":
		return match(args[1:], stdin, stdout, stderr)
	case "bootstrap":
		return bootstrapCmd(args[1:], stdout, stderr)
	case "dev":
		return devCmd(args[1:], stdout, stderr)
	case "send":
		return sendCmd(args[1:], stdin, stdout, stderr)
	case "tail":
		return tailCmd(args[1:], stdout, stderr)
	case "dlq":
		return dlqCmd(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "eventplane: unknown command %q\n%s", args[0], usage)
	return exitBad
}

// parseExit maps a flag parsing error to an exit code: -h is not a failure.
func parseExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitBad
}

// input reads the single optional FILE argument, or stdin for none or "-".
func input(fs *flag.FlagSet, stdin io.Reader) ([]byte, error) {
	switch fs.NArg() {
	case 0:
		return io.ReadAll(stdin)
	case 1:
		if fs.Arg(0) == "-" {
			return io.ReadAll(stdin)
		}
		return os.ReadFile(fs.Arg(0))
	}
	return nil, fmt.Errorf("expected at most one FILE, got %d", fs.NArg())
}

func normalize(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("normalize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	queue := fs.String("queue-arn", "", "ARN of the queue the message came from (source of fallback events, `sqsqueue` extension)")
	attrs := fs.String("attributes", "", "JSON `FILE` with the message's MessageId, Attributes and MessageAttributes in the SQS API's shape (as `aws sqs receive-message` prints them)")
	msgID := fs.String("message-id", "", "SQS message `ID` (overrides the attributes file)")
	fallbackType := fs.String("fallback-type", event.DefaultFallbackType, "CloudEvents `type` of bodies of no known shape")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: eventplane normalize [flags] [FILE|-]\n\nReads one message body or Lambda event and prints one CloudEvent (structured JSON) per line.\nExit 2 with the reason on stderr for input that cannot be normalized.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	body, err := input(fs, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "eventplane normalize: %v\n", err)
		return exitBad
	}
	m := event.Message{Body: string(body), QueueARN: *queue}
	if *attrs != "" {
		doc, err := os.ReadFile(*attrs)
		if err == nil {
			err = event.ParseSQSAttributes(doc, &m)
		}
		if err != nil {
			fmt.Fprintf(stderr, "eventplane normalize: --attributes: %v\n", err)
			return exitBad
		}
	}
	if *msgID != "" {
		m.MessageID = *msgID
	}
	n := event.Normalizer{FallbackType: *fallbackType}
	events, ctl, err := n.Normalize(nil, m)
	if err != nil {
		fmt.Fprintf(stderr, "eventplane normalize: %v\n", err)
		return exitBad
	}
	if ctl != nil {
		fmt.Fprintf(stderr, "eventplane normalize: control message %s for %s (not a business event)\n", ctl.Kind, ctl.Source)
		return exitOK
	}
	enc := json.NewEncoder(stdout)
	for _, e := range events {
		if err := enc.Encode(e); err != nil {
			fmt.Fprintf(stderr, "eventplane normalize: %v\n", err)
			return exitBad
		}
	}
	return exitOK
}

func match(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("match", flag.ContinueOnError)
	fs.SetOutput(stderr)
	patternFile := fs.String("pattern", "", "`FILE` holding an EventBridge event pattern (required)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: eventplane match --pattern FILE [FILE|-]\n\nPrints true or false for one JSON event. Exit 0 on a match, 1 on no match,\n2 on an invalid pattern or event.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if *patternFile == "" {
		fmt.Fprintln(stderr, "eventplane match: --pattern is required")
		return exitBad
	}
	pdoc, err := os.ReadFile(*patternFile)
	if err != nil {
		fmt.Fprintf(stderr, "eventplane match: %v\n", err)
		return exitBad
	}
	p, err := route.Compile(pdoc)
	if err != nil {
		fmt.Fprintf(stderr, "eventplane match: %s: %v\n", *patternFile, err)
		return exitBad
	}
	doc, err := input(fs, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "eventplane match: %v\n", err)
		return exitBad
	}
	ok, err := p.MatchJSON(doc)
	if err != nil {
		fmt.Fprintf(stderr, "eventplane match: %v\n", err)
		return exitBad
	}
	fmt.Fprintln(stdout, ok)
	if !ok {
		return exitNoMatch
	}
	return exitOK
}

func bootstrapCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bootstrap", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("topology", "api/topology.yaml", "topology `FILE`")
	prefix := fs.String("prefix", "eventplane-local", "`prefix` of every resource name")
	endpoint := fs.String("endpoint", "", "AWS endpoint `URL` (moto, LocalStack); empty: the real AWS endpoints")
	region := fs.String("region", "", "AWS `region` (default: AWS_REGION or the profile's)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: eventplane bootstrap [flags]\n\nCreates (or finds) every bus, rule, schedule, topic, subscription, queue, table and bucket\nof the topology and prints their names as JSON. Idempotent: a second run changes nothing.\nCredentials come from the AWS default chain.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	top, err := topology.Load(*file)
	if err != nil {
		fmt.Fprintf(stderr, "eventplane bootstrap: %v\n", err)
		return exitBad
	}
	ctx := context.Background()
	cfg, err := awsconf.Load(ctx, awsconf.Options{Region: *region, Endpoint: *endpoint})
	if err != nil {
		fmt.Fprintf(stderr, "eventplane bootstrap: %v\n", err)
		return exitBad
	}
	res, err := bootstrap.Apply(ctx, bootstrap.NewClients(cfg), top, *prefix)
	if err != nil {
		fmt.Fprintf(stderr, "eventplane bootstrap: %v\n", err)
		return 1
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(res)
	return exitOK
}
