package topology

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Handler options in the topology name resources by their logical name as
// ${kind.name} (kinds: tables, buckets, topics, buses, queues), e.g.
// {"table": "${tables.orders}"}. Each deployment resolves them to its own
// physical names: Terraform outputs (hack/helm-values.sh), the resources
// bootstrap created, or the local stack's.
var refPattern = regexp.MustCompile(`\$\{(tables|buckets|topics|buses|queues)\.([A-Za-z0-9_.-]+)\}`)

// Names holds physical names by kind and logical name: table and bucket
// names, topic ARNs, bus names and queue URLs.
type Names struct {
	Tables  map[string]string `json:"tables"`
	Buckets map[string]string `json:"buckets"`
	Topics  map[string]string `json:"topics"`
	Buses   map[string]string `json:"buses"`
	Queues  map[string]string `json:"queues"`
}

func (n Names) lookup(kind, name string) (string, bool) {
	m := map[string]map[string]string{"tables": n.Tables, "buckets": n.Buckets, "topics": n.Topics, "buses": n.Buses, "queues": n.Queues}[kind]
	v, ok := m[name]
	return v, ok
}

// Ref is one ${kind.name} reference.
type Ref struct{ Kind, Name string }

func (r Ref) String() string { return "${" + r.Kind + "." + r.Name + "}" }

// Refs lists the references in options, in order of appearance.
func Refs(options json.RawMessage) []Ref {
	var out []Ref
	for _, m := range refPattern.FindAllSubmatch(options, -1) {
		out = append(out, Ref{Kind: string(m[1]), Name: string(m[2])})
	}
	return out
}

// ResolveOptions replaces every reference in options with its physical
// name; a reference names has no entry for is an error naming it.
func ResolveOptions(options json.RawMessage, names Names) (json.RawMessage, error) {
	var missing []string
	out := refPattern.ReplaceAllFunc(options, func(m []byte) []byte {
		sub := refPattern.FindSubmatch(m)
		v, ok := names.lookup(string(sub[1]), string(sub[2]))
		if !ok {
			missing = append(missing, string(m))
			return m
		}
		q, _ := json.Marshal(v)
		return q[1 : len(q)-1] // the value sits inside a JSON string already
	})
	if len(missing) > 0 {
		return nil, fmt.Errorf("unresolved references %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// checkRefs verifies a consumer's or function's option references: each
// names a declared resource the consumer also lists in uses (its IAM role is
// built from uses, so anything else would be denied at run time).
func checkRefs(where string, options json.RawMessage, u Uses, queues map[string]bool) []string {
	var probs []string
	allowed := map[string][]string{"tables": u.Tables, "buckets": u.Buckets, "topics": u.Topics, "buses": u.Buses}
	for _, r := range Refs(options) {
		if r.Kind == "queues" {
			if !queues[r.Name] {
				probs = append(probs, fmt.Sprintf("%s: %s is not a declared queue", where, r))
			}
			continue
		}
		if !slices.Contains(allowed[r.Kind], r.Name) {
			probs = append(probs, fmt.Sprintf("%s: %s is not in uses.%s (the consumer's IAM role is built from uses)", where, r, r.Kind))
		}
	}
	return probs
}
