package topology

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/eventplane/eventplane/consumers/route"
)

var (
	queueName    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,50}(\.fifo)?$`)
	simpleName   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)
	bucketName   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,20}$`)
	consumerName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$`)
	scheduleRe   = regexp.MustCompile(`^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$`)
)

const simpleRule = "1-40 letters, digits, - or _"

// validator collects the problems of one topology and the declared names
// references are checked against.
type validator struct {
	t    *Topology
	errs []error

	buses, queues, topics, tables, buckets, lambdas map[string]bool
}

func (v *validator) bad(where, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...)))
}

// ref reports name unless it is declared in in.
func (v *validator) ref(where, kind, name string, in map[string]bool) {
	if !in[name] {
		v.bad(where, "%q is not a declared %s", name, kind)
	}
}

// names checks the names of one list (legal, unique) and returns them.
func (v *validator) names(kind string, names []string, re *regexp.Regexp, rule string) map[string]bool {
	out := map[string]bool{}
	for i, nm := range names {
		where := fmt.Sprintf("%s[%d].name", kind, i)
		if !re.MatchString(nm) {
			v.bad(where, "%q is not a legal name (%s)", nm, rule)
		}
		if out[nm] {
			v.bad(where, "%q is declared twice", nm)
		}
		out[nm] = true
	}
	return out
}

func namesOf[T any](xs []T, name func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = name(x)
	}
	return out
}

// Validate checks the whole topology and reports every problem, each naming
// its entry (rules[orders-placed].targets[0].queue: ...).
func (t *Topology) Validate() error {
	v := &validator{t: t}
	if t.Version != 1 {
		v.bad("version", "%d is not supported (want 1)", t.Version)
	}
	v.buses = v.names("buses", namesOf(t.Buses, func(x Bus) string { return x.Name }), simpleName, simpleRule)
	v.queues = v.names("queues", namesOf(t.Queues, func(x Queue) string { return x.Name }), queueName, "1-50 letters, digits, - or _, plus .fifo for FIFO queues")
	v.topics = v.names("topics", namesOf(t.Topics, func(x Topic) string { return x.Name }), simpleName, simpleRule)
	v.tables = v.names("tables", namesOf(t.Tables, func(x Table) string { return x.Name }), simpleName, simpleRule)
	v.buckets = v.names("buckets", namesOf(t.Buckets, func(x Bucket) string { return x.Name }), bucketName, "2-21 lower-case letters, digits or hyphens")
	v.lambdas = v.names("lambdas", namesOf(t.Lambdas, func(x Lambda) string { return x.Name }), simpleName, simpleRule)
	v.names("rules", namesOf(t.Rules, func(x Rule) string { return x.Name }), simpleName, simpleRule)
	v.names("schedules", namesOf(t.Schedules, func(x Schedule) string { return x.Name }), simpleName, simpleRule)
	v.names("consumers", namesOf(t.Consumers, func(x Consumer) string { return x.Name }), consumerName, "a DNS label: lower-case letters, digits and -")

	v.validateBuses()
	for _, r := range t.Rules {
		v.validateRule(r)
	}
	for _, s := range t.Schedules {
		if !scheduleRe.MatchString(s.Expression) {
			v.bad("schedules["+s.Name+"].expression", "%q is not rate(N unit) or cron(...)", s.Expression)
		}
		v.ref("schedules["+s.Name+"].queue", "queue", s.Queue, v.queues)
	}
	for _, tp := range t.Topics {
		v.validateTopic(tp)
	}
	for _, q := range t.Queues {
		v.validateQueue(q)
	}
	v.validateTables()
	v.validateBuckets()
	for _, l := range t.Lambdas {
		v.validateLambda(l)
	}
	for _, c := range t.Consumers {
		v.validateConsumer(c)
	}
	v.validateRoles()
	return errors.Join(v.errs...)
}

func (v *validator) validateBuses() {
	if v.buses["default"] {
		v.bad("buses", `"default" is AWS's bus; do not declare it`)
	}
	for _, b := range v.t.Buses {
		if b.Archive != nil && b.Archive.RetentionDays < 0 {
			v.bad("buses["+b.Name+"].archive.retentionDays", "must be 0 (forever) or more")
		}
	}
}

func (v *validator) validateRule(r Rule) {
	where := "rules[" + r.Name + "]"
	if r.Bus != "default" {
		v.ref(where+".bus", "bus", r.Bus, v.buses)
	}
	if len(r.Pattern) == 0 {
		v.bad(where+".pattern", "required")
	} else if _, err := route.Compile(r.Pattern); err != nil {
		v.bad(where+".pattern", "%v", err)
	}
	if len(r.Targets) == 0 || len(r.Targets) > 5 {
		v.bad(where+".targets", "a rule has 1 to 5 targets, got %d", len(r.Targets))
	}
	for i, tg := range r.Targets {
		tw := fmt.Sprintf("%s.targets[%d]", where, i)
		kinds := 0
		if tg.Queue != "" {
			kinds++
			v.ref(tw+".queue", "queue", tg.Queue, v.queues)
		}
		if tg.Topic != "" {
			kinds++
			v.ref(tw+".topic", "topic", tg.Topic, v.topics)
		}
		if tg.Lambda != "" {
			kinds++
			v.ref(tw+".lambda", "lambda", tg.Lambda, v.lambdas)
		}
		if kinds != 1 {
			v.bad(tw, "name exactly one of queue, topic or lambda")
		}
		if tg.DeadLetterQueue != "" {
			v.ref(tw+".deadLetterQueue", "queue", tg.DeadLetterQueue, v.queues)
		}
		v.validateInput(tw, tg)
		if rt := tg.Retry; rt != nil && (rt.MaximumRetryAttempts < 0 || rt.MaximumRetryAttempts > 185 || rt.MaximumEventAgeSeconds < 60 || rt.MaximumEventAgeSeconds > 86400) {
			v.bad(tw+".retry", "maximumRetryAttempts must be 0-185 and maximumEventAgeSeconds 60-86400")
		}
	}
}

// JSONPath is the part of JSONPath EventBridge evaluates in a target's
// inputPath and a transformer's inputPaths ("Amazon EventBridge input
// transformation": dot notation, dashes, underscores, alphanumeric
// characters, forward slashes, array indices, wildcards).
var JSONPath = regexp.MustCompile(`^\$(\.([A-Za-z0-9_/-]+|\*)|\[([0-9]+|\*)\])*$`)

// Placeholder is an input template's <name>; PredefinedVariables are the
// ones EventBridge fills without an input path.
var (
	Placeholder         = regexp.MustCompile(`<([A-Za-z0-9_.-]+)>`)
	PredefinedVariables = []string{"aws.events.rule-arn", "aws.events.rule-name", "aws.events.event.ingestion-time", "aws.events.event", "aws.events.event.json"}
)

// validateInput checks a target's inputPath and inputTransformer as
// PutTargets does (API reference, Target and InputTransformer): at most one
// of them; at most 100 input paths whose names do not start with "aws."
// (reserved for the predefined variables); a template of 1 to 8192
// characters whose every placeholder is an input path or a predefined
// variable (PutTargets: "InputTemplate for target ... contains invalid
// placeholder ..."). EventBridge does not check the paths themselves: here
// they must be of the syntax it evaluates.
func (v *validator) validateInput(tw string, tg Target) {
	if tg.InputPath != "" && !JSONPath.MatchString(tg.InputPath) {
		v.bad(tw+".inputPath", "%q is not a JSON path EventBridge evaluates ($ then .name, .*, [N] or [*])", tg.InputPath)
	}
	it := tg.InputTransformer
	if it == nil {
		return
	}
	tw += ".inputTransformer"
	if tg.InputPath != "" {
		v.bad(tw, "a target has an inputPath or an inputTransformer, not both (PutTargets: only one of Input, InputPath or InputTransformer)")
	}
	if len(it.InputPathsMap) > 100 {
		v.bad(tw+".inputPaths", "%d paths: at most 100", len(it.InputPathsMap))
	}
	for name, path := range it.InputPathsMap {
		switch {
		case strings.HasPrefix(strings.ToLower(name), "aws."):
			v.bad(tw+".inputPaths."+name, "names starting with aws. are reserved for EventBridge's predefined variables")
		case !Placeholder.MatchString("<" + name + ">"):
			v.bad(tw+".inputPaths."+name, "a name is letters, digits, '.', '-' or '_'")
		}
		if !JSONPath.MatchString(path) {
			v.bad(tw+".inputPaths."+name, "%q is not a JSON path EventBridge evaluates ($ then .name, .*, [N] or [*])", path)
		}
	}
	if it.InputTemplate == "" || len(it.InputTemplate) > 8192 {
		v.bad(tw+".inputTemplate", "required, at most 8192 characters")
	}
	for _, m := range Placeholder.FindAllStringSubmatch(it.InputTemplate, -1) {
		if _, ok := it.InputPathsMap[m[1]]; !ok && !slices.Contains(PredefinedVariables, m[1]) {
			v.bad(tw+".inputTemplate", "placeholder <%s> is neither in inputPaths nor a predefined variable (%s)", m[1], strings.Join(PredefinedVariables, ", "))
		}
	}
}

func (v *validator) validateTopic(tp Topic) {
	for i, s := range tp.Subscriptions {
		sw := fmt.Sprintf("topics[%s].subscriptions[%d]", tp.Name, i)
		v.ref(sw+".queue", "queue", s.Queue, v.queues)
		if s.FilterPolicyScope != "" && s.FilterPolicyScope != "MessageAttributes" && s.FilterPolicyScope != "MessageBody" {
			v.bad(sw+".filterPolicyScope", "%q: want MessageAttributes or MessageBody", s.FilterPolicyScope)
		}
		if len(s.FilterPolicy) > 0 && !strings.HasPrefix(strings.TrimSpace(string(s.FilterPolicy)), "{") {
			v.bad(sw+".filterPolicy", "must be an object")
		}
	}
}

func (v *validator) validateQueue(q Queue) {
	where := "queues[" + q.Name + "]"
	if q.FIFO != strings.HasSuffix(q.Name, ".fifo") {
		v.bad(where, "a queue is FIFO exactly when its name ends in .fifo")
	}
	if q.VisibilityTimeoutSeconds < 0 || q.VisibilityTimeoutSeconds > 43200 {
		v.bad(where+".visibilityTimeoutSeconds", "%d is outside 0..43200", q.VisibilityTimeoutSeconds)
	}
	if q.RetentionSeconds != 0 && (q.RetentionSeconds < 60 || q.RetentionSeconds > 1209600) {
		v.bad(where+".retentionSeconds", "%d is outside 60..1209600 (14 days)", q.RetentionSeconds)
	}
	if q.DelaySeconds < 0 || q.DelaySeconds > 900 {
		v.bad(where+".delaySeconds", "%d is outside 0..900 (SQS's DelaySeconds)", q.DelaySeconds)
	}
	if q.HasDeadLetter() && (q.MaxReceiveCount < 1 || q.MaxReceiveCount > 1000) {
		v.bad(where+".maxReceiveCount", "%d is outside 1..1000 (a queue with a dead-letter queue needs one)", q.MaxReceiveCount)
	}
}

// keyType checks a DynamoDB key. A bare N in YAML is YAML 1.1's false, both
// here (sigs.k8s.io/yaml) and in Terraform's yamldecode, so the type arrives
// as "false": the message says to quote it.
func (v *validator) keyType(where string, k Key) {
	if k.Name == "" || (k.Type != "S" && k.Type != "N" && k.Type != "B") {
		hint := ""
		if k.Type == "false" {
			hint = ` (YAML reads a bare N as false: write "N" in quotes)`
		}
		v.bad(where, "needs a name and a type of S, N or B%s", hint)
	}
}

func (v *validator) validateTables() {
	idem := 0
	for _, tb := range v.t.Tables {
		where := "tables[" + tb.Name + "]"
		v.keyType(where+".hashKey", tb.HashKey)
		if tb.RangeKey != nil {
			v.keyType(where+".rangeKey", *tb.RangeKey)
		}
		for i, g := range tb.GlobalSecondaryIndexes {
			v.keyType(fmt.Sprintf("%s.globalSecondaryIndexes[%d].hashKey", where, i), g.HashKey)
			if g.RangeKey != nil {
				v.keyType(fmt.Sprintf("%s.globalSecondaryIndexes[%d].rangeKey", where, i), *g.RangeKey)
			}
			if g.ProjectionType != "" && g.ProjectionType != "ALL" && g.ProjectionType != "KEYS_ONLY" {
				v.bad(fmt.Sprintf("%s.globalSecondaryIndexes[%d].projectionType", where, i), "%q: want ALL or KEYS_ONLY", g.ProjectionType)
			}
		}
		switch tb.Purpose {
		case "":
		case PurposeIdempotency:
			if idem++; idem > 1 {
				v.bad(where+".purpose", "a second table with purpose idempotency (there is one idempotency store)")
			}
		default:
			v.bad(where+".purpose", "%q: want idempotency or nothing", tb.Purpose)
		}
	}
}

func (v *validator) validateBuckets() {
	for _, b := range v.t.Buckets {
		where := "buckets[" + b.Name + "]"
		switch b.Purpose {
		case "", PurposeUploads, "datalake":
		default:
			v.bad(where+".purpose", "%q: want uploads, datalake or nothing", b.Purpose)
		}
		for i, tr := range b.Transitions {
			switch tr.StorageClass {
			case "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE":
			default:
				v.bad(fmt.Sprintf("%s.transitions[%d].storageClass", where, i), "%q is not a storage class", tr.StorageClass)
			}
		}
	}
}

func (v *validator) uses(where string, u Uses) {
	for _, x := range u.Tables {
		v.ref(where+".uses.tables", "table", x, v.tables)
	}
	for _, x := range u.Buckets {
		v.ref(where+".uses.buckets", "bucket", x, v.buckets)
	}
	for _, x := range u.Topics {
		v.ref(where+".uses.topics", "topic", x, v.topics)
	}
	for _, x := range u.Buses {
		v.ref(where+".uses.buses", "bus", x, v.buses)
	}
}

// inUses reports a function's own resource that its uses (its IAM role)
// leaves out.
func (v *validator) inUses(where, kind, name string, uses []string) {
	for _, u := range uses {
		if u == name {
			return
		}
	}
	v.bad(where, "%q is not in uses.%s (the function's IAM role is built from uses)", name, kind)
}

func (v *validator) validateLambda(l Lambda) {
	where := "lambdas[" + l.Name + "]"
	if l.Handler == "" {
		v.bad(where+".handler", "required")
	}
	if l.MemoryMB != 0 && (l.MemoryMB < 128 || l.MemoryMB > 10240) {
		v.bad(where+".memoryMb", "%d is outside 128..10240", l.MemoryMB)
	}
	if l.TimeoutSeconds != 0 && (l.TimeoutSeconds < 1 || l.TimeoutSeconds > 900) {
		v.bad(where+".timeoutSeconds", "%d is outside 1..900", l.TimeoutSeconds)
	}
	v.uses(where, l.Uses)
	if l.Table != "" {
		v.ref(where+".table", "table", l.Table, v.tables)
		v.inUses(where+".table", "tables", l.Table, l.Uses.Tables)
	}
	if l.Bus != "" {
		v.ref(where+".bus", "bus", l.Bus, v.buses)
		v.inUses(where+".bus", "buses", l.Bus, l.Uses.Buses)
	}
	switch l.Handler {
	case "lambda-files":
		if l.Table == "" {
			v.bad(where+".table", "required: lambda-files writes its results to this table (EVENTPLANE_FILES_TABLE)")
		}
	case "lambda-ingest":
		if l.Bus == "" {
			v.bad(where+".bus", "required: lambda-ingest puts events on this bus (EVENTPLANE_BUS)")
		}
	case "lambda-sqs":
		v.validateLambdaQueue(where, l)
		return
	}
	if l.Queue != "" {
		v.bad(where+".queue", "only a lambda-sqs function has a queue")
	}
	if len(l.Routes) > 0 {
		v.bad(where+".routes", "only a lambda-sqs function has routes")
	}
}

// validateLambdaQueue checks a lambda-sqs function's trigger and routes.
// Lambda validates, when the event source mapping is created, that the
// function's timeout is at most the queue's visibility timeout (and
// recommends six times): an error only apply would show.
func (v *validator) validateLambdaQueue(where string, l Lambda) {
	if l.Queue == "" {
		v.bad(where+".queue", "required: lambda-sqs is triggered by this queue (an SQS event source mapping)")
	} else {
		v.ref(where+".queue", "queue", l.Queue, v.queues)
	}
	if len(l.Routes) == 0 {
		v.bad(where+".routes", "required: at least one route (EVENTPLANE_ROUTES)")
	}
	v.routes(where, l.Routes, l.Uses)
	if l.BatchSize < 0 || l.BatchSize > 10000 {
		v.bad(where+".batchSize", "%d is outside 1..10000", l.BatchSize)
	}
	for _, q := range v.t.Queues {
		if q.Name != l.Queue {
			continue
		}
		if q.FIFO && l.BatchSize > 10 {
			v.bad(where+".batchSize", "%d: a FIFO queue's event source mapping takes at most 10", l.BatchSize)
		}
		visibility, timeout := q.VisibilityTimeoutSeconds, l.TimeoutSeconds
		if visibility == 0 {
			visibility = 30 // SQS's default, as the sqs module's
		}
		if timeout == 0 {
			timeout = 30 // the lambda module's default
		}
		if timeout > visibility {
			v.bad(where+".timeoutSeconds", "%d s is longer than queue %q's visibility timeout (%d s): Lambda refuses the event source mapping", timeout, q.Name, visibility)
		}
	}
}

func (v *validator) validateConsumer(c Consumer) {
	where := "consumers[" + c.Name + "]"
	v.ref(where+".queue", "queue", c.Queue, v.queues)
	v.uses(where, c.Uses)
	if len(c.Routes) == 0 {
		v.bad(where+".routes", "at least one route is required")
	}
	v.routes(where, c.Routes, c.Uses)
}

// routes checks a consumer's or a lambda-sqs function's routes.
func (v *validator) routes(where string, routes []Route, u Uses) {
	seen := map[string]bool{}
	for i, r := range routes {
		rw := fmt.Sprintf("%s.routes[%d]", where, i)
		if r.Name == "" || seen[r.Name] {
			v.bad(rw+".name", "%q: routes need unique, non-empty names", r.Name)
		}
		seen[r.Name] = true
		if r.Handler == "" {
			v.bad(rw+".handler", "required")
		}
		if len(r.Pattern) > 0 {
			if _, err := route.Compile(r.Pattern); err != nil {
				v.bad(rw+".pattern", "%v", err)
			}
		}
		if len(r.Options) > 0 && !json.Valid(r.Options) {
			v.bad(rw+".options", "not valid JSON")
		}
		for _, p := range checkRefs(rw+".options", r.Options, u, v.queues) {
			v.errs = append(v.errs, errors.New(p))
		}
	}
}

// validateRoles checks ingest, alarms and failures: each names a declared
// resource, and what needs a role has one.
func (v *validator) validateRoles() {
	t := v.t
	if t.Ingest.Bus != "" {
		v.ref("ingest.bus", "bus", t.Ingest.Bus, v.buses)
	}
	if t.Ingest.Lambda != "" {
		v.ref("ingest.lambda", "lambda", t.Ingest.Lambda, v.lambdas)
		if l, ok := t.Lambda(t.Ingest.Lambda); ok && l.Bus != t.Ingest.Bus {
			v.bad("ingest.lambda", "%q puts events on bus %q, but ingest.bus is %q", l.Name, l.Bus, t.Ingest.Bus)
		}
	}
	if t.Alarms.Topic != "" {
		v.ref("alarms.topic", "topic", t.Alarms.Topic, v.topics)
	}
	if t.Failures.Queue != "" {
		v.ref("failures.queue", "queue", t.Failures.Queue, v.queues)
	} else if len(t.Lambdas) > 0 {
		v.bad("failures.queue", "required with lambdas: their on-failure destination and dead-letter queue")
	}
}
