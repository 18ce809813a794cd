package local

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/event"
	"github.com/eventplane/eventplane/consumers/internal/testenv/testserver"
	"github.com/eventplane/eventplane/consumers/topology"
)

// The user guide's example event (eb-transform-target-input), with a
// number, a nested object and an array added.
const ec2Event = `{"version":"0","id":"7bf73129-1428-4cd3-a780-95db273d1602","detail-type":"EC2 Instance State-change Notification",` +
	`"source":"aws.ec2","account":"123456789012","time":"2015-11-11T21:29:54Z","region":"us-east-1",` +
	`"resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],` +
	`"detail":{"instance-id":"i-0123456789","state":"RUNNING","cpu":4,"tags":{"team":"a"},"volumes":[{"id":"v-1"},{"id":"v-2"}],"a/b":"slash","say":"he said \"hi\""}}`

var ingested = time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)

func transform(t *testing.T, paths map[string]string, template string) (string, error) {
	t.Helper()
	in, err := compileInput(topology.Target{Queue: "q", InputTransformer: &topology.InputTransformer{InputPathsMap: paths, InputTemplate: template}},
		"shape", ruleARN("default", "shape"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := in.apply([]byte(ec2Event), ingested)
	return string(out), err
}

func TestInputPathSelectsWhatEventBridgeDelivers(t *testing.T) {
	for _, tc := range []struct {
		name, path, want string
	}{
		// [recorded] test_put_events_with_input_path: $.detail delivers the detail object.
		{"guide/recorded: dot notation selects an object", "$.detail", `{"instance-id":"i-0123456789","state":"RUNNING","cpu":4,"tags":{"team":"a"},"volumes":[{"id":"v-1"},{"id":"v-2"}],"a/b":"slash","say":"he said \"hi\""}`},
		// [recorded] test_put_events_with_input_path_max_level_depth: a string is delivered as a JSON string.
		{"recorded: a string value is delivered quoted", "$.detail.state", `"RUNNING"`},
		{"guide: dashes", "$.detail-type", `"EC2 Instance State-change Notification"`},
		{"guide: a number", "$.detail.cpu", `4`},
		{"guide: forward slashes", "$.detail.a/b", `"slash"`},
		{"guide: array indices", "$.detail.volumes[1].id", `"v-2"`},
		{"guide: wildcards give the array of matches", "$.detail.volumes[*].id", `["v-1","v-2"]`},
		{"guide: a wildcard over an object", "$.detail.tags.*", `["a"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := compileInput(topology.Target{Queue: "q", InputPath: tc.path}, "r", "arn")
			if err != nil {
				t.Fatal(err)
			}
			out, err := in.apply([]byte(ec2Event), ingested)
			if err != nil || string(out) != tc.want {
				t.Fatalf("%s gives %s (%v), want %s", tc.path, out, err, tc.want)
			}
		})
	}
	// Undocumented: the local platform fails the target (its DLQ gets the
	// event and the reason) rather than deliver something made up.
	in, _ := compileInput(topology.Target{Queue: "q", InputPath: "$.detail.nothing"}, "r", "arn")
	if _, err := in.apply([]byte(ec2Event), ingested); err == nil || !strings.Contains(err.Error(), "inputPath $.detail.nothing selects nothing") {
		t.Fatalf("a path that selects nothing: %v", err)
	}
}

func TestInputTransformerFillsTheTemplateAsEventBridge(t *testing.T) {
	paths := map[string]string{"instance": "$.detail.instance-id", "state": "$.detail.state", "cpu": "$.detail.cpu",
		"tags": "$.detail.tags", "missing": "$.detail.notinmessage", "say": "$.detail.say"}
	for _, tc := range []struct {
		name, template, want string
	}{
		// [guide] "Simple string" / [recorded] input_template_string: the quotes stay, values go in as text.
		{"guide: a string template", `"instance <instance> is in <state>"`, `"instance i-0123456789 is in RUNNING"`},
		// [api] "<instance> is in state <status>": a template that is not JSON gives plain text.
		{"api: a non-JSON template gives a plain string", `<instance> is in state <state>`, `i-0123456789 is in state RUNNING`},
		// [guide] "Simple JSON": outside quotes a string is inserted quoted; minified ("Common issues").
		{"guide: JSON template, strings outside quotes are quoted", `{ "instance" : <instance>, "state": <state> }`, `{"instance":"i-0123456789","state":"RUNNING"}`},
		// [guide] "JSON with a mix of variables and static information".
		{"guide: variables and static values", `{"instance": <instance>, "state": [9, <state>, true], "Transformed": "Yes"}`, `{"instance":"i-0123456789","state":[9,"RUNNING",true],"Transformed":"Yes"}`},
		{"guide: numbers and objects go in as JSON", `{"cpu": <cpu>, "tags": <tags>}`, `{"cpu":4,"tags":{"team":"a"}}`},
		// [api] '{"myInstance": <instance>,"myStatus": "<instance> is in state \"<status>\""}'.
		{"api: variables in quotes or out", `{"myInstance": <instance>,"myStatus": "<instance> is in state \"<state>\""}`, `{"myInstance":"i-0123456789","myStatus":"i-0123456789 is in state \"RUNNING\""}`},
		// [guide] Common issues: an object referenced in a string loses its internal quotes.
		{"guide: an object inside a string loses its quotes", `"tags: <tags>"`, `"tags: {team:a}"`},
		// [recorded] custom-variables-not-match-all: nothing inside a string, "" outside.
		{"recorded: a missing path in a string gives nothing", `"state <state>, <missing>."`, `"state RUNNING, ."`},
		{"recorded: a missing path outside quotes gives an empty string", `{"state": <state>, "command": <missing>}`, `{"state":"RUNNING","command":""}`},
		// [guide] Predefined variables; [recorded] the rule ARN and ingestion time inside a string.
		{"guide: predefined variables in a string", `"<aws.events.rule-name> <aws.events.rule-arn> <aws.events.event.ingestion-time>"`,
			`"shape arn:aws:events:local:000000000000:rule/shape 2026-12-02T03:00:00Z"`},
		{"guide: predefined variables in JSON", `{"rule": <aws.events.rule-name>, "at": <aws.events.event.ingestion-time>}`, `{"rule":"shape","at":"2026-12-02T03:00:00Z"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := transform(t, paths, tc.template)
			if err != nil || got != tc.want {
				t.Fatalf("template %s\n got %s (%v)\nwant %s", tc.template, got, err, tc.want)
			}
		})
	}

	t.Run("guide: aws.events.event is the event without detail, aws.events.event.json the whole event", func(t *testing.T) {
		got, err := transform(t, nil, `{"originalEvent": <aws.events.event>, "originalEventJson": <aws.events.event.json>}`)
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Original     map[string]any  `json:"originalEvent"`
			OriginalJSON json.RawMessage `json:"originalEventJson"`
		}
		if err := json.Unmarshal([]byte(got), &v); err != nil {
			t.Fatal(err)
		}
		// [recorded] AWS names detail-type detailType in aws.events.event.
		if _, has := v.Original["detail"]; has || v.Original["detailType"] != "EC2 Instance State-change Notification" || v.Original["id"] != "7bf73129-1428-4cd3-a780-95db273d1602" {
			t.Errorf("aws.events.event = %v", v.Original)
		}
		if string(v.OriginalJSON) != ec2Event {
			t.Errorf("aws.events.event.json = %s", v.OriginalJSON)
		}
	})

	t.Run("guide: values are not escaped, so a quote breaks a JSON template and fails the delivery", func(t *testing.T) {
		if got, err := transform(t, paths, `{"said": "<say>"}`); err == nil || !strings.Contains(err.Error(), "does not give JSON") {
			t.Fatalf("got %s, %v", got, err)
		}
		// Outside quotes the value is JSON and stays escaped.
		if got, err := transform(t, paths, `{"said": <say>}`); err != nil || got != `{"said":"he said \"hi\""}` {
			t.Fatalf("got %s, %v", got, err)
		}
	})
}

func TestRuleARNNamesTheBus(t *testing.T) {
	// [recorded] arn:<partition>:events:<region>:<account>:rule/<bus-name>/<rule-name> on a custom bus.
	if got := ruleARN("main", "r"); got != "arn:aws:events:local:000000000000:rule/main/r" {
		t.Fatal(got)
	}
	if got := ruleARN("default", "r"); got != "arn:aws:events:local:000000000000:rule/r" {
		t.Fatal(got)
	}
}

// Through the platform: the targets of a rule get what EventBridge would
// deliver them, and a consumer of a queue that gets a transformed input
// (no longer an EventBridge envelope) neither drops it nor mistakes it for
// an event: the normalizer makes a fallback-typed event of it, and an event
// no route wants goes to the DLQ with the reason (README, Delivery).
func TestTargetsGetTheirInputLocally(t *testing.T) {
	top, err := topology.Parse([]byte(`
version: 1
rules:
  - name: shape
    pattern: {source: ["shop"]}
    targets:
      - {queue: whole}
      - {queue: picked, inputPath: $.detail}
      - {queue: shaped, inputTransformer: {inputPaths: {order: $.detail.orderId}, inputTemplate: '{"order": <order>, "rule": <aws.events.rule-name>}'}}
      - {queue: picked, inputPath: $.detail.nothing, deadLetterQueue: failed}
  - name: consume
    pattern: {source: ["shop"]}
    targets:
      - {queue: handled, inputPath: $.detail}
      - {queue: unrouted, inputPath: $.detail}
queues:
  - {name: whole, deadLetter: false}
  - {name: picked, deadLetter: false}
  - {name: shaped, deadLetter: false}
  - {name: handled}
  - {name: unrouted}
  - {name: failed, deadLetter: false}
consumers:
  - {name: handled, queue: handled, routes: [{name: any, handler: log}]}
  - {name: unrouted, queue: unrouted, routes: [{name: orders, handler: log, pattern: {type: ["io.eventplane.order"]}}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(context.Background(), Options{Topology: top, Dir: t.TempDir(), Getenv: func(string) string { return "" },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), BackoffBase: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	out, err := p.Bus.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		Source: aws.String("shop"), DetailType: aws.String("order placed"), Detail: aws.String(`{"orderId":"o-1","total":12}`)}}})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutEvents: %v %+v", err, out)
	}
	body := func(queue string) []string {
		msgs, err := p.DeadLetters(queue) // a queue without a DLQ: its own messages
		if err != nil {
			t.Fatal(err)
		}
		var bodies []string
		for _, m := range msgs {
			bodies = append(bodies, m.Body)
		}
		return bodies
	}
	if b := body("whole"); len(b) != 1 || !strings.Contains(b[0], `"detail-type":"order placed"`) {
		t.Errorf("whole: %v, want the event", b)
	}
	if b := body("picked"); len(b) != 1 || b[0] != `{"orderId":"o-1","total":12}` {
		t.Errorf("picked (inputPath $.detail): %v, want the detail only", b)
	}
	if b := body("shaped"); len(b) != 1 || b[0] != `{"order":"o-1","rule":"shape"}` {
		t.Errorf("shaped (inputTransformer): %v", b)
	}
	// The target whose inputPath selects nothing: its DLQ has the event and
	// the reason, as EventBridge's dead-letter attributes.
	if f, _ := p.DeadLetters("failed"); len(f) != 1 || !strings.Contains(f[0].Body, `"detail-type":"order placed"`) ||
		!strings.Contains(f[0].MessageAttributes["ERROR_MESSAGE"], "selects nothing") {
		t.Errorf("failed: %+v", f)
	}

	testserver.Eventually(t, 10*time.Second, "the consumers settle the transformed inputs", func() (bool, string) {
		var handled []Processed
		for _, r := range p.State().Recent {
			if r.Consumer == "handled" {
				handled = append(handled, r)
			}
		}
		dl, _ := p.DeadLetters("unrouted")
		ok := len(handled) == 1 && handled[0].Type == event.DefaultFallbackType && len(dl) == 1 &&
			strings.Contains(dl[0].MessageAttributes[delivery.AttrFailureReason], "unrouted")
		return ok, fmt.Sprintf("handled %+v, unrouted DLQ %+v", handled, dl)
	})
}
