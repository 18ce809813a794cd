package local

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/eventplane/eventplane/consumers/jsonscan"
	"github.com/eventplane/eventplane/consumers/topology"
)

// input is what a rule target gets instead of the whole event, as
// EventBridge computes it: the part a target's inputPath selects, or an
// input transformer's template filled in. Sources, quoted where they decide
// a case (the tests name them too):
//
//   - [guide] "Amazon EventBridge input transformation" (user guide,
//     eb-transform-target-input), with its "Common issues with transforming
//     input";
//   - [api] the InputTransformer API reference;
//   - [recorded] bodies AWS delivered to SQS, recorded by LocalStack's
//     AWS-validated snapshot tests (tests/aws/services/events/
//     test_events_inputs.snapshot.json), for what the guide leaves open.
type input struct {
	path     *jsonPath            // inputPath
	vars     map[string]*jsonPath // an input transformer's inputPaths
	template string
	json     bool // the template is a JSON object [api]
	ruleName string
	ruleARN  string
}

// compileInput builds a target's input (nil: the whole event).
func compileInput(tg topology.Target, ruleName, ruleARN string) (*input, error) {
	switch {
	case tg.InputPath != "":
		p, err := parsePath(tg.InputPath)
		if err != nil {
			return nil, fmt.Errorf("inputPath: %w", err)
		}
		return &input{path: p}, nil
	case tg.InputTransformer != nil:
		in := &input{vars: map[string]*jsonPath{}, template: tg.InputTransformer.InputTemplate, ruleName: ruleName, ruleARN: ruleARN}
		in.json = strings.HasPrefix(strings.TrimSpace(in.template), "{")
		for name, path := range tg.InputTransformer.InputPathsMap {
			p, err := parsePath(path)
			if err != nil {
				return nil, fmt.Errorf("inputTransformer.inputPaths.%s: %w", name, err)
			}
			in.vars[name] = p
		}
		return in, nil
	}
	return nil, nil
}

// apply computes the target's input from the event doc received at
// ingested. An error (an inputPath that selects nothing, a JSON template
// that does not give JSON) fails the delivery to this target: the event goes
// to its dead-letter queue with the reason, never silently nowhere.
func (in *input) apply(doc []byte, ingested time.Time) ([]byte, error) {
	if in == nil {
		return doc, nil
	}
	if in.path != nil {
		v, ok := in.path.eval(string(doc))
		if !ok {
			return nil, fmt.Errorf("inputPath %s selects nothing in the event", in.path.src)
		}
		return []byte(v), nil
	}
	return in.fill(string(doc), ingested)
}

// fill substitutes the template's placeholders, tracking whether each is
// inside a JSON string literal of the template:
//
//   - outside quotes in a JSON template, a value goes in as JSON: a string
//     quoted, a number, object or array as it is ([guide] "Simple JSON":
//     {"instance": <instance>} gives {"instance": "i-0123456789"});
//   - inside quotes, and anywhere in a template that is not JSON, a string
//     goes in as its characters, unescaped ([guide] "EventBridge does not
//     escape values extracted by Input Path"; [recorded] the template
//     "Event of <detail-type> type ..." gives that string, quotes included)
//     and an object or array as its JSON text without its quotes ([guide]
//     "If a JSON path references a JSON object or array, but the variable is
//     referenced in a string, EventBridge removes any internal quotes");
//   - a path that matches nothing gives no variable ([guide] "that variable
//     isn't created and will not appear in the output"): nothing inside a
//     string, "" outside quotes in a JSON template ([recorded]
//     {"command": <command>} with $.detail.notinmessage gives
//     {"command": ""});
//   - the predefined variables ([guide] "Predefined variables"): the rule's
//     ARN and name, the ingestion time (ISO 8601), aws.events.event (the
//     event without detail; [recorded] its detail-type is named detailType)
//     and aws.events.event.json (the whole event).
//
// A JSON template's result is minified ([guide] "The JSON that is passed to
// the target is minified") and must be JSON: an unescaped quote in a value
// inserted inside a string breaks it, and the delivery fails with that.
func (in *input) fill(doc string, ingested time.Time) ([]byte, error) {
	t := in.template
	var b strings.Builder
	inString, last := false, 0
	for _, m := range topology.Placeholder.FindAllStringSubmatchIndex(t, -1) {
		inString = quoteState(t[last:m[0]], inString)
		b.WriteString(t[last:m[0]])
		last = m[1]
		raw, ok := in.variable(t[m[2]:m[3]], doc, ingested)
		if !in.json || inString {
			b.WriteString(asText(raw, ok))
			continue
		}
		if !ok {
			raw = `""`
		}
		b.WriteString(raw)
	}
	b.WriteString(t[last:])
	if !in.json {
		return []byte(b.String()), nil
	}
	var out bytes.Buffer
	if err := json.Compact(&out, []byte(b.String())); err != nil {
		return nil, fmt.Errorf("inputTransformer: the template does not give JSON for this event (%v): %.200s", err, b.String())
	}
	return out.Bytes(), nil
}

// quoteState returns whether the template is inside a string literal after
// s, starting in state in (a backslash escapes the next character inside a
// string).
func quoteState(s string, in bool) bool {
	for i := 0; i < len(s); i++ {
		switch {
		case in && s[i] == '\\':
			i++
		case s[i] == '"':
			in = !in
		}
	}
	return in
}

// asText is a value's text inside a string.
func asText(raw string, ok bool) string {
	if !ok {
		return ""
	}
	if s, isString := jsonscan.String(raw); isString {
		return s
	}
	if raw != "" && (raw[0] == '{' || raw[0] == '[') {
		return strings.ReplaceAll(compact(raw), `"`, "")
	}
	return raw
}

func compact(raw string) string {
	var out bytes.Buffer
	if json.Compact(&out, []byte(raw)) != nil {
		return raw
	}
	return out.String()
}

// variable is a placeholder's raw JSON value (ok false: no variable).
func (in *input) variable(name, doc string, ingested time.Time) (string, bool) {
	switch name {
	case "aws.events.rule-arn":
		return strconv.Quote(in.ruleARN), true
	case "aws.events.rule-name":
		return strconv.Quote(in.ruleName), true
	case "aws.events.event.ingestion-time":
		return `"` + ingested.UTC().Format(time.RFC3339) + `"`, true
	case "aws.events.event.json":
		return doc, true
	case "aws.events.event":
		return withoutDetail(doc), true
	}
	p, ok := in.vars[name]
	if !ok {
		return "", false // refused by the topology's validation
	}
	return p.eval(doc)
}

// withoutDetail is the event without its detail, detail-type named
// detailType (as AWS delivers aws.events.event, [recorded]).
func withoutDetail(doc string) string {
	var b strings.Builder
	b.WriteByte('{')
	m := jsonscan.ObjectMembers(doc)
	n := 0
	for m.Next() {
		key := m.Key
		switch key {
		case "detail":
			continue
		case "detail-type":
			key = "detailType"
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.WriteString(strconv.Quote(key))
		b.WriteByte(':')
		b.WriteString(m.Value)
	}
	b.WriteByte('}')
	return b.String()
}

// jsonPath is a path of the syntax EventBridge evaluates ([guide]: dot
// notation, array indices, wildcards; the topology checks it with
// topology.JSONPath). A path with a wildcard selects the array of what it
// matches.
type jsonPath struct {
	src      string
	steps    []step
	wildcard bool
}

type step struct {
	name  string
	index int  // -1: a name step
	any   bool // * or [*]
}

func parsePath(src string) (*jsonPath, error) {
	if !topology.JSONPath.MatchString(src) {
		return nil, fmt.Errorf("%q is not a JSON path EventBridge evaluates", src)
	}
	p := &jsonPath{src: src}
	rest := src[1:]
	for rest != "" {
		var s step
		if rest[0] == '.' {
			end := strings.IndexAny(rest[1:], ".[")
			if end < 0 {
				end = len(rest) - 1
			}
			s = step{name: rest[1 : 1+end], index: -1}
			rest = rest[1+end:]
		} else { // [N] or [*]
			end := strings.IndexByte(rest, ']')
			inner := rest[1:end]
			rest = rest[end+1:]
			if inner == "*" {
				s = step{index: -1, any: true}
			} else {
				n, err := strconv.Atoi(inner)
				if err != nil {
					return nil, fmt.Errorf("%q: index %s: %w", src, inner, err)
				}
				s = step{index: n}
			}
		}
		if s.name == "*" {
			s = step{index: -1, any: true}
		}
		p.wildcard = p.wildcard || s.any
		p.steps = append(p.steps, s)
	}
	return p, nil
}

// eval returns the raw JSON the path selects in doc (ok false: nothing).
func (p *jsonPath) eval(doc string) (string, bool) {
	vals := []string{doc}
	for _, s := range p.steps {
		var next []string
		for _, v := range vals {
			next = s.apply(v, next)
		}
		if vals = next; len(vals) == 0 {
			return "", false
		}
	}
	if !p.wildcard {
		return vals[0], true
	}
	return "[" + strings.Join(vals, ",") + "]", true
}

// apply appends what the step selects in the value v to out.
func (s step) apply(v string, out []string) []string {
	if v == "" {
		return out
	}
	switch {
	case s.any && v[0] == '{':
		m := jsonscan.ObjectMembers(v)
		for m.Next() {
			out = append(out, m.Value)
		}
	case s.any && v[0] == '[':
		e := jsonscan.ArrayElements(v)
		for e.Next() {
			out = append(out, e.Value)
		}
	case s.index >= 0 && v[0] == '[':
		e := jsonscan.ArrayElements(v)
		for i := 0; e.Next(); i++ {
			if i == s.index {
				return append(out, e.Value)
			}
		}
	case s.name != "" && v[0] == '{':
		m := jsonscan.ObjectMembers(v)
		for m.Next() {
			if m.Key == s.name {
				return append(out, m.Value)
			}
		}
	}
	return out
}

// ruleARN is a local rule's ARN, as EventBridge's: rule/<name> on the
// default bus, rule/<bus>/<name> on a custom one ([recorded]
// aws.events.rule-arn).
func ruleARN(bus, rule string) string {
	arn := "arn:aws:events:" + region + ":" + account + ":rule/"
	if bus != "default" {
		arn += bus + "/"
	}
	return arn + rule
}
