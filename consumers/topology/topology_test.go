package topology

import (
	"fmt"
	"strings"
	"testing"
)

func TestRepositoryTopologyIsValid(t *testing.T) {
	top, err := Load("../../api/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Rules) == 0 || len(top.Consumers) == 0 {
		t.Fatalf("topology looks empty: %+v", top)
	}
	if q, ok := top.Queue("orders"); !ok || !q.HasDeadLetter() {
		t.Fatalf("orders queue: %+v %v", q, ok)
	}
}

func TestValidationNamesTheOffendingEntry(t *testing.T) {
	doc := `
version: 1
buses: [{name: main}]
rules:
  - name: r1
    bus: nope
    pattern: {source: "aws.s3"}
    targets: [{queue: missing, deadLetterQueue: also-missing}, {queue: q1, topic: t1}]
schedules: [{name: s1, expression: "every hour", queue: q1}]
topics: [{name: t1, subscriptions: [{queue: ghost, filterPolicyScope: Body}]}]
queues:
  - {name: q1, maxReceiveCount: 5}
  - {name: q2.fifo, maxReceiveCount: 5}
  - {name: q1, maxReceiveCount: 0}
tables: [{name: t, hashKey: {name: pk, type: X}}]
buckets: [{name: Lake}]
consumers:
  - {name: Orders, queue: q1, uses: {tables: [nope]}, routes: [{name: a, handler: ""}, {name: a, handler: log, pattern: {type: "x"}}]}
  - {name: refs, queue: q1, routes: [{name: s, handler: store, options: {table: "${tables.t}", queue: "${queues.q9}"}}]}
`
	_, err := Parse([]byte(doc))
	if err == nil {
		t.Fatal("invalid topology accepted")
	}
	for _, want := range []string{
		`rules[r1].bus: "nope" is not a declared bus`,
		`rules[r1].pattern: invalid event pattern: field "source": match values must be in an array`,
		`rules[r1].targets[0].queue: "missing" is not a declared queue`,
		`rules[r1].targets[0].deadLetterQueue: "also-missing" is not a declared queue`,
		`rules[r1].targets[1]: name exactly one of queue, topic or lambda`,
		`schedules[s1].expression: "every hour" is not rate(N unit) or cron(...)`,
		`topics[t1].subscriptions[0].queue: "ghost" is not a declared queue`,
		`topics[t1].subscriptions[0].filterPolicyScope: "Body"`,
		`queues[2].name: "q1" is declared twice`,
		`queues[q2.fifo]: a queue is FIFO exactly when its name ends in .fifo`,
		`queues[q1].maxReceiveCount: 0 is outside 1..1000`,
		`tables[t].hashKey: needs a name and a type of S, N or B`,
		`buckets[0].name: "Lake" is not a legal name`,
		`consumers[0].name: "Orders" is not a legal name`,
		`consumers[Orders].uses.tables: "nope" is not a declared table`,
		`consumers[Orders].routes[0].handler: required`,
		`consumers[Orders].routes[1].name: "a": routes need unique`,
		`consumers[Orders].routes[1].pattern: invalid event pattern`,
		`consumers[refs].routes[0].options: ${tables.t} is not in uses.tables`,
		`consumers[refs].routes[0].options: ${queues.q9} is not a declared queue`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(err)
	}
}

func TestUnknownKeysAreErrors(t *testing.T) {
	_, err := Parse([]byte("version: 1\nqueues: [{name: q, visiblityTimeout: 3}]\n"))
	if err == nil || !strings.Contains(err.Error(), "visiblityTimeout") {
		t.Fatalf("err = %v", err)
	}
}

func TestResolveOptions(t *testing.T) {
	names := Names{Tables: map[string]string{"orders": "eventplane-prod-orders"}, Topics: map[string]string{"alerts": `arn:aws:sns:eu-west-1:1:a"b`}}
	got, err := ResolveOptions([]byte(`{"table":"${tables.orders}","key":{"pk":"order#{{data.orderId}}"},"topicArn":"${topics.alerts}"}`), names)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"table":"eventplane-prod-orders","key":{"pk":"order#{{data.orderId}}"},"topicArn":"arn:aws:sns:eu-west-1:1:a\"b"}`; string(got) != want {
		t.Errorf("resolved = %s, want %s", got, want)
	}
	if _, err := ResolveOptions([]byte(`{"bucket":"${buckets.lake}"}`), names); err == nil || !strings.Contains(err.Error(), "${buckets.lake}") {
		t.Errorf("missing name: err = %v, want it to name ${buckets.lake}", err)
	}
}

// Roles name declared resources; a function's own table and bus are in its
// uses; a bare N (YAML 1.1's false, as in Terraform's yamldecode) is
// reported with the fix.
func TestRolesAreValidated(t *testing.T) {
	doc := `
version: 1
ingest: { bus: nope, lambda: in }
alarms: { topic: ghost }
buses: [{name: b}]
queues: [{name: q, maxReceiveCount: 1}]
tables: [{name: t, purpose: cache, hashKey: {name: pk, type: N}}]
lambdas:
  - {name: in, handler: lambda-ingest, bus: b}
  - {name: f, handler: lambda-files, uses: {tables: []}, table: t}
`
	_, err := Parse([]byte(doc))
	if err == nil {
		t.Fatal("invalid roles accepted")
	}
	for _, want := range []string{
		`ingest.bus: "nope" is not a declared bus`,
		`ingest.lambda: "in" puts events on bus "b", but ingest.bus is "nope"`,
		`alarms.topic: "ghost" is not a declared topic`,
		`failures.queue: required with lambdas`,
		`tables[t].purpose: "cache": want idempotency or nothing`,
		`tables[t].hashKey: needs a name and a type of S, N or B (YAML reads a bare N as false: write "N" in quotes)`,
		`lambdas[f].table: "t" is not in uses.tables`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

// A lambda-sqs function is triggered by a queue and routes like a consumer.
// Lambda refuses an SQS event source mapping whose queue's visibility
// timeout is shorter than the function's timeout ("Your function's timeout
// must be less than or equal to the queue's visibility timeout", AWS Lambda
// Developer Guide, services-sqs-configure): terraform plan cannot see that,
// apply fails, so the topology refuses it.
func TestLambdaSQSNeedsQueueAndRoutes(t *testing.T) {
	doc := `
version: 1
failures: { queue: dead }
queues: [{name: dead}, {name: work}, {name: slow, visibilityTimeoutSeconds: 60}]
tables: [{name: t, hashKey: {name: pk, type: S}}]
lambdas:
  - {name: bare, handler: lambda-sqs}
  - {name: short, handler: lambda-sqs, queue: work, timeoutSeconds: 120, routes: [{name: all, handler: log}]}
  - {name: refs, handler: lambda-sqs, queue: slow, timeoutSeconds: 60, routes: [{name: put, handler: store, options: {table: "${tables.t}"}}]}
  - {name: files, handler: lambda-files, table: t, uses: {tables: [t]}, queue: work, routes: [{name: all, handler: log}]}
  - {name: ghost, handler: lambda-sqs, queue: nope, routes: [{name: all, handler: log}]}
`
	_, err := Parse([]byte(doc))
	if err == nil {
		t.Fatal("invalid lambda-sqs functions accepted")
	}
	for _, want := range []string{
		`lambdas[bare].queue: required: lambda-sqs is triggered by this queue (an SQS event source mapping)`,
		`lambdas[bare].routes: required: at least one route (EVENTPLANE_ROUTES)`,
		`lambdas[short].timeoutSeconds: 120 s is longer than queue "work"'s visibility timeout (30 s): Lambda refuses the event source mapping`,
		`lambdas[refs].routes[0].options: ${tables.t} is not in uses.tables`,
		`lambdas[files].queue: only a lambda-sqs function has a queue`,
		`lambdas[files].routes: only a lambda-sqs function has routes`,
		`lambdas[ghost].queue: "nope" is not a declared queue`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	ok := `
version: 1
failures: { queue: dead }
queues: [{name: dead, deadLetter: false}, {name: work, visibilityTimeoutSeconds: 180, maxReceiveCount: 5}]
lambdas:
  - {name: worker, handler: lambda-sqs, queue: work, timeoutSeconds: 30, batchSize: 10, routes: [{name: all, handler: log}]}
`
	top, err := Parse([]byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := top.Lambda("worker"); l.Queue != "work" || len(l.Routes) != 1 || l.BatchSize != 10 {
		t.Fatalf("lambda read as %+v", l)
	}
}

// The Terraform test's fixture sets every optional field Terraform accepts
// (terraform/main.tf), queues[].delaySeconds and a target's inputTransformer
// among them: the Go reader must accept the same file.
func TestTerraformVariantsTopologyLoads(t *testing.T) {
	top, err := Load("../../terraform/testdata/topology-variants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	q, _ := top.Queue("ordered.fifo")
	if q.DelaySeconds != 5 {
		t.Errorf("ordered.fifo delaySeconds = %d, want 5", q.DelaySeconds)
	}
	var it *InputTransformer
	for _, r := range top.Rules {
		for _, tg := range r.Targets {
			if tg.InputTransformer != nil {
				it = tg.InputTransformer
			}
		}
	}
	if it == nil || it.InputPathsMap["id"] != "$.id" || it.InputTemplate != `{"id": <id>}` {
		t.Fatalf("inputTransformer = %+v", it)
	}
}

// PutTargets' and SQS's limits, checked before anything is deployed.
func TestInputAndDelayValidation(t *testing.T) {
	many := "{"
	for i := 0; i < 101; i++ {
		if i > 0 {
			many += ", "
		}
		many += fmt.Sprintf("v%d: $.detail", i)
	}
	many += "}"
	doc := `
version: 1
rules:
  - name: r1
    pattern: {source: ["a"]}
    targets:
      - {queue: q1, inputPath: $.detail, inputTransformer: {inputPaths: {a: $.id}, inputTemplate: "<a>"}}
      - {queue: q1, inputTransformer: {inputPaths: {aws.mine: $.id, ok: "$..deep", b: "$.detail"}, inputTemplate: '{"x": <b>, "y": <nope>, "z": <aws.events.rule-arn>}'}}
      - {queue: q1, inputTransformer: {inputTemplate: ""}}
      - {queue: q1, inputPath: "$['detail']"}
      - {queue: q1, inputTransformer: {inputPaths: ` + many + `, inputTemplate: "<v1>"}}
queues:
  - {name: q1, delaySeconds: 901}
  - {name: q2, delaySeconds: -1}
`
	_, err := Parse([]byte(doc))
	if err == nil {
		t.Fatal("invalid topology accepted")
	}
	for _, want := range []string{
		`rules[r1].targets[0].inputTransformer: a target has an inputPath or an inputTransformer, not both`,
		`rules[r1].targets[1].inputTransformer.inputPaths.aws.mine: names starting with aws. are reserved`,
		`rules[r1].targets[1].inputTransformer.inputPaths.ok: "$..deep" is not a JSON path EventBridge evaluates`,
		`rules[r1].targets[1].inputTransformer.inputTemplate: placeholder <nope> is neither in inputPaths nor a predefined variable`,
		`rules[r1].targets[2].inputTransformer.inputTemplate: required`,
		`rules[r1].targets[3].inputPath: "$['detail']" is not a JSON path EventBridge evaluates`,
		`rules[r1].targets[4].inputTransformer.inputPaths: 101 paths: at most 100`,
		`queues[q1].delaySeconds: 901 is outside 0..900`,
		`queues[q2].delaySeconds: -1 is outside 0..900`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "placeholder <aws.events.rule-arn>") {
		t.Errorf("a predefined variable refused: %v", err)
	}
}

// What the file leaves out means what Terraform gives it: the default bus,
// EventBridge's retry defaults, the sqs module's maxReceiveCount.
func TestDefaultsAreTerraformsDefaults(t *testing.T) {
	top, err := Parse([]byte(`
version: 1
rules: [{name: r, pattern: {source: ["a"]}, targets: [{queue: q, retry: {maximumEventAgeSeconds: 600}}]}]
queues: [{name: q}]
`))
	if err != nil {
		t.Fatal(err)
	}
	r := top.Rules[0]
	if r.Bus != "default" || *r.Targets[0].Retry != (Retry{MaximumRetryAttempts: 185, MaximumEventAgeSeconds: 600}) || top.Queues[0].MaxReceiveCount != 5 {
		t.Fatalf("defaults: bus %q, retry %+v, maxReceiveCount %d", r.Bus, *r.Targets[0].Retry, top.Queues[0].MaxReceiveCount)
	}
	if _, err := Parse([]byte("version: 1\nqueues: [{name: q, colour: red}]\n")); err == nil || !strings.Contains(err.Error(), `unknown field "colour"`) {
		t.Fatalf("unknown key inside a queue: %v", err)
	}
}
