package awsapi

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/eventplane/eventplane/consumers/route"
)

// EventBridge over AWS JSON 1.1 (X-Amz-Target: AWSEvents.<Op>). Errors
// are {"__type": "<Code>", "message": ...}.
func eventsOps(s *Server) map[string]jsonOp {
	return map[string]jsonOp{
		"PutEvents":        s.putEvents,
		"ListRules":        s.listRules,
		"DescribeRule":     s.describeRule,
		"TestEventPattern": s.testEventPattern,
	}
}

func eventsError(e *apiError) (string, http.Header) { return e.Code, nil }

func validation(format string, args ...any) *apiError {
	return &apiError{Code: "ValidationException", Message: fmt.Sprintf(format, args...)}
}

// epochOrISO is a timestamp member: AWS JSON protocols send epoch seconds
// (a number); a string in RFC 3339 is accepted too.
type epochOrISO struct{ t *time.Time }

func (e *epochOrISO) UnmarshalJSON(b []byte) error {
	var n float64
	if err := json.Unmarshal(b, &n); err == nil {
		sec, frac := math.Modf(n)
		t := time.Unix(int64(sec), int64(frac*1e9)).UTC()
		e.t = &t
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("timestamp %s is neither epoch seconds nor a string", b)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	e.t = &t
	return nil
}

// busName is the bus of an EventBusName (a name or an ARN).
func busName(s string) string {
	if s == "" {
		return "default"
	}
	if i := strings.LastIndex(s, ":event-bus/"); i >= 0 {
		return s[i+len(":event-bus/"):]
	}
	return s
}

// putEvents puts each entry on its bus, where the topology's rules match
// it. An entry without Source, DetailType or Detail fails alone with
// InvalidArgument, as in EventBridge; the others are put.
func (s *Server) putEvents(ctx context.Context, _ *http.Request, body []byte) (any, error) {
	var in struct {
		Entries []struct {
			Source, DetailType, Detail, EventBusName, TraceHeader *string
			Resources                                             []string
			Time                                                  epochOrISO
		}
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.Entries) < 1 || len(in.Entries) > 10 {
		return nil, validation("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10 (it has %d)", len(in.Entries))
	}
	type result struct {
		EventID      string `json:"EventId,omitempty"`
		ErrorCode    string `json:",omitempty"`
		ErrorMessage string `json:",omitempty"`
	}
	out := struct {
		FailedEntryCount int
		Entries          []result
	}{Entries: make([]result, len(in.Entries))}
	var put []ebtypes.PutEventsRequestEntry
	var at []int
	for i, e := range in.Entries {
		missing := ""
		switch {
		case aws.ToString(e.Source) == "":
			missing = "Source"
		case aws.ToString(e.DetailType) == "":
			missing = "DetailType"
		case aws.ToString(e.Detail) == "":
			missing = "Detail"
		}
		if missing != "" {
			out.FailedEntryCount++
			out.Entries[i] = result{ErrorCode: "InvalidArgument", ErrorMessage: fmt.Sprintf("Parameter %s is not valid. Reason: %s is a required argument.", missing, missing)}
			continue
		}
		put = append(put, ebtypes.PutEventsRequestEntry{Source: e.Source, DetailType: e.DetailType, Detail: e.Detail,
			EventBusName: aws.String(busName(aws.ToString(e.EventBusName))), TraceHeader: e.TraceHeader, Resources: e.Resources, Time: e.Time.t})
		at = append(at, i)
	}
	if len(put) > 0 {
		res, err := s.p.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: put})
		if err != nil {
			return nil, err
		}
		for j, r := range res.Entries {
			out.Entries[at[j]] = result{EventID: aws.ToString(r.EventId), ErrorCode: aws.ToString(r.ErrorCode), ErrorMessage: aws.ToString(r.ErrorMessage)}
		}
		out.FailedEntryCount += int(res.FailedEntryCount)
	}
	return out, nil
}

type ruleOut struct {
	Name, Arn, EventPattern, State, EventBusName string
	Description                                  string `json:",omitempty"`
}

func ruleARN(r Rule) string {
	bus := ""
	if r.Bus != "default" {
		bus = r.Bus + "/"
	}
	return "arn:aws:events:local:" + Account + ":rule/" + bus + r.Name
}

func describe(r Rule) ruleOut {
	return ruleOut{Name: r.Name, Arn: ruleARN(r), EventPattern: string(r.Pattern), State: "ENABLED", EventBusName: r.Bus, Description: r.Description}
}

func (s *Server) busExists(bus string) bool {
	if bus == "default" {
		return true
	}
	for _, r := range s.p.Rules() {
		if r.Bus == bus {
			return true
		}
	}
	return false
}

func (s *Server) listRules(_ context.Context, _ *http.Request, body []byte) (any, error) {
	var in struct {
		NamePrefix, EventBusName, NextToken string
		Limit                               int
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	bus := busName(in.EventBusName)
	if !s.busExists(bus) {
		return nil, errorf("ResourceNotFoundException", "Event bus %s does not exist.", bus)
	}
	rules := []ruleOut{}
	for _, r := range s.p.Rules() {
		if r.Bus == bus && strings.HasPrefix(r.Name, in.NamePrefix) && r.Name > in.NextToken {
			rules = append(rules, describe(r))
		}
	}
	out := map[string]any{}
	if in.Limit > 0 && len(rules) > in.Limit {
		rules = rules[:in.Limit]
		out["NextToken"] = rules[len(rules)-1].Name
	}
	out["Rules"] = rules
	return out, nil
}

func (s *Server) describeRule(_ context.Context, _ *http.Request, body []byte) (any, error) {
	var in struct{ Name, EventBusName string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Name == "" {
		return nil, validation("1 validation error detected: Value at 'name' failed to satisfy constraint: Member must not be null")
	}
	bus := busName(in.EventBusName)
	for _, r := range s.p.Rules() {
		if r.Bus == bus && r.Name == in.Name {
			return describe(r), nil
		}
	}
	return nil, errorf("ResourceNotFoundException", "Rule %s does not exist on EventBus %s.", in.Name, bus)
}

// testEventPattern matches an event with the platform's own matcher (the
// one the local bus and the consumers' routes use). The event must carry
// the fields of an EventBridge event, as TestEventPattern requires.
func (s *Server) testEventPattern(_ context.Context, _ *http.Request, body []byte) (any, error) {
	var in struct{ EventPattern, Event string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.EventPattern == "" || in.Event == "" {
		return nil, validation("EventPattern and Event are required")
	}
	var ev map[string]json.RawMessage
	if err := json.Unmarshal([]byte(in.Event), &ev); err != nil {
		return nil, validation("Parameter Event is not valid: %v", err)
	}
	for _, f := range []string{"id", "account", "source", "time", "region", "detail-type"} {
		if _, ok := ev[f]; !ok {
			return nil, validation("Parameter Event is not valid. Reason: Provided Event must have the field %q (id, account, source, time, region, detail-type).", f)
		}
	}
	set := route.NewSet()
	if _, err := set.Add([]byte(in.EventPattern)); err != nil {
		return nil, errorf("InvalidEventPatternException", "Event pattern is not valid. Reason: %v", err)
	}
	m, err := set.MatchJSON([]byte(in.Event), nil)
	if err != nil {
		return nil, validation("Parameter Event is not valid: %v", err)
	}
	return map[string]bool{"Result": len(m) > 0}, nil
}
