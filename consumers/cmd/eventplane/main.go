// Command eventplane is the platform's command-line tool.
//
//	eventplane normalize [--queue-arn ARN] [--attributes FILE] [--message-id ID] [--fallback-type TYPE] [FILE|-]
//	eventplane match --pattern FILE [FILE|-]
//	eventplane bootstrap [--topology FILE] [--prefix P] [--aws-endpoint URL] [--region R] [--profile P]
//	eventplane dev [--topology FILE] [--dir DIR] [--addr HOST:PORT] [--log-level L]
//	eventplane send [--endpoint URL | --bus NAME [--region R] [--profile P] [--aws-endpoint URL]] [--batch N] [FILE|-]
//	eventplane tail [--endpoint URL | --admin URL] [--json]
//	eventplane dlq list|redrive QUEUE [--endpoint URL] | --queue-url URL [--region R] [--profile P] [--aws-endpoint URL]
//	eventplane --version
//
// --endpoint is always the URL of `eventplane dev`; --aws-endpoint is
// always an AWS API endpoint (emulators). Exit codes: 0 success, 1 the
// command ran and failed (events rejected, no match, AWS error), 2 bad
// usage or input.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/eventplane/eventplane/consumers/awsconf"
	"github.com/eventplane/eventplane/consumers/bootstrap"
	"github.com/eventplane/eventplane/consumers/buildinfo"
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

const usage = `Usage: eventplane <command> [flags] [FILE|-]

The eventplane command-line tool: run the platform locally, send and follow
events, inspect dead letters, test patterns and normalization.

Commands:
  normalize   turn one message body or Lambda event into CloudEvents (one JSON per line)
  match       test one JSON event against an EventBridge event pattern
  bootstrap   create everything api/topology.yaml declares through the AWS APIs (moto, LocalStack, a sandbox)
  dev         run the whole platform locally: bus, topics, queues, consumers, storage, dashboard
  send        post events (a JSON array, one object or JSON Lines) to eventplane dev, or to an EventBridge bus (--bus)
  tail        follow processed events of eventplane dev, or of a consumer's admin endpoint (--admin)
  dlq         list or redrive dead letters: eventplane dlq list|redrive QUEUE, or --queue-url URL in the cloud

  version     print the version (also: eventplane --version)

Run 'eventplane <command> --help' for a command's flags. --endpoint is always
the URL of eventplane dev, --aws-endpoint an AWS API endpoint (emulators).
Exit codes: 0 success, 1 the command failed (events rejected, no match,
AWS error), 2 bad usage or input.
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
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, buildinfo.String("eventplane"))
		return exitOK
	}
	fmt.Fprintf(stderr, "eventplane: unknown command %q\n%s", args[0], usage)
	return exitBad
}

// input reads the single optional FILE argument, or stdin for none or "-".
// Empty input (nothing but white space) is an error that says where from.
func input(fs *flag.FlagSet, stdin io.Reader) ([]byte, error) {
	var b []byte
	var err error
	from := "standard input"
	switch fs.NArg() {
	case 0:
		b, err = io.ReadAll(stdin)
	case 1:
		if fs.Arg(0) == "-" {
			b, err = io.ReadAll(stdin)
		} else {
			from = fs.Arg(0)
			b, err = os.ReadFile(fs.Arg(0))
		}
	default:
		return nil, fmt.Errorf("expected at most one FILE, got %d: %s", fs.NArg(), strings.Join(fs.Args(), " "))
	}
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("empty input: %s holds nothing to read", from)
	}
	return b, nil
}

func normalize(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newCommand("normalize", "normalize [flags] [FILE|-]", `Reads one message body or Lambda event (FILE, or standard input) and prints
one CloudEvent (structured JSON) per line. Exit 2 with the reason on stderr
for input that cannot be normalized.`, stdout, stderr)
	fs := c.fs
	queue := fs.String("queue-arn", "", "`ARN` of the queue the message came from (the source of fallback events and the sqsqueue extension)")
	attrs := fs.String("attributes", "", "JSON `FILE` with the message's MessageId, Attributes and MessageAttributes in the SQS API's shape (as `aws sqs receive-message` prints them)")
	msgID := fs.String("message-id", "", "SQS message `ID` (overrides the attributes file)")
	fallbackType := fs.String("fallback-type", event.DefaultFallbackType, "CloudEvents `TYPE` of bodies of no known shape")
	if code, ok := c.parse(args); !ok {
		return code
	}
	m := event.Message{QueueARN: *queue}
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
	body, err := input(fs, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "eventplane normalize: %v\n", err)
		return exitBad
	}
	m.Body = string(body)
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
	c := newCommand("match", "match --pattern FILE [FILE|-]", `Tests one JSON event (FILE, or standard input) against an EventBridge event
pattern and prints true or false. Exit 0 on a match, 1 on no match, 2 on an
invalid pattern or event.`, stdout, stderr)
	fs := c.fs
	patternFile := fs.String("pattern", "", "`FILE` holding an EventBridge event pattern (required)")
	if code, ok := c.parse(args); !ok {
		return code
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
	c := newCommand("bootstrap", "bootstrap [flags]", `Creates (or finds) every bus, rule, schedule, topic, subscription, queue,
table and bucket of the topology through the AWS APIs and prints their names
as JSON. Idempotent: a second run changes nothing. For moto, LocalStack or a
sandbox account; credentials come from the AWS default chain.`, stdout, stderr)
	fs := c.fs
	file := fs.String("topology", "api/topology.yaml", "topology `FILE`")
	prefix := fs.String("prefix", "eventplane-local", "`PREFIX` of every resource name")
	endpoint := fs.String("aws-endpoint", "", "AWS API endpoint `URL` (moto, LocalStack); empty: the real AWS endpoints")
	region := fs.String("region", "", "AWS `REGION` (default: AWS_REGION or the profile's)")
	profile := fs.String("profile", "", "AWS `PROFILE` (default: AWS_PROFILE)")
	if code, ok := c.parse(args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return c.fail("unexpected argument %q", fs.Arg(0))
	}
	top, err := topology.Load(*file)
	if err != nil {
		fmt.Fprintf(stderr, "eventplane bootstrap: %v\n", err)
		return exitBad
	}
	ctx := context.Background()
	cfg, err := awsconf.Load(ctx, awsconf.Options{Region: *region, Endpoint: *endpoint, Profile: *profile})
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
