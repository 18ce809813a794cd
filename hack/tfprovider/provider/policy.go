package provider

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// The JSON the aws provider's aws_iam_policy_document renders: keys in this
// order, a list with one element as a plain string, longer lists sorted in
// reverse, &{var} written ${var}, json indented by two spaces.
type policyDoc struct {
	Version    string             `json:"Version,omitempty"`
	ID         string             `json:"Id,omitempty"`
	Statements []*policyStatement `json:"Statement,omitempty"`
}

type policyStatement struct {
	Sid          string `json:"Sid,omitempty"`
	Effect       string `json:"Effect,omitempty"`
	Actions      any    `json:"Action,omitempty"`
	NotActions   any    `json:"NotAction,omitempty"`
	Resources    any    `json:"Resource,omitempty"`
	NotResources any    `json:"NotResource,omitempty"`
	Principals   any    `json:"Principal,omitempty"`
	Conditions   any    `json:"Condition,omitempty"`
	NotPrincipal any    `json:"NotPrincipal,omitempty"`
}

// merge adds the statements of other: one with the Sid of an existing
// statement replaces it, the others are appended.
func (d *policyDoc) merge(other *policyDoc) {
	if other.Version != "" {
		d.Version = other.Version
	}
	if other.ID != "" {
		d.ID = other.ID
	}
	for _, st := range other.Statements {
		replaced := false
		if st.Sid != "" {
			for i, have := range d.Statements {
				if have.Sid == st.Sid {
					d.Statements[i], replaced = st, true
					break
				}
			}
		}
		if !replaced {
			d.Statements = append(d.Statements, st)
		}
	}
}

func readPolicyDocument(_ *Server, cfg map[string]tftypes.Value) (map[string]tftypes.Value, error) {
	merged := &policyDoc{}
	var sources []string
	if s := str(cfg["source_json"]); s != "" {
		sources = append(sources, s)
	}
	sources = append(sources, strings_(cfg["source_policy_documents"])...)
	for i, src := range sources {
		var d policyDoc
		if err := json.Unmarshal([]byte(src), &d); err != nil {
			return nil, fmt.Errorf("source policy document %d: %w", i, err)
		}
		merged.merge(&d)
	}

	doc := &policyDoc{Version: firstNonEmpty(str(cfg["version"]), "2012-10-17"), ID: str(cfg["policy_id"])}
	sids := map[string]bool{}
	for i, st := range blocks(cfg["statement"]) {
		ps := &policyStatement{
			Sid:          str(st["sid"]),
			Effect:       firstNonEmpty(str(st["effect"]), "Allow"),
			Actions:      stringOrList(strings_(st["actions"])),
			NotActions:   stringOrList(strings_(st["not_actions"])),
			Resources:    stringOrList(strings_(st["resources"])),
			NotResources: stringOrList(strings_(st["not_resources"])),
			Principals:   principals(blocks(st["principals"])),
			NotPrincipal: principals(blocks(st["not_principals"])),
			Conditions:   conditions(blocks(st["condition"])),
		}
		if ps.Effect != "Allow" && ps.Effect != "Deny" {
			return nil, fmt.Errorf("statement %d: effect must be Allow or Deny, not %q", i, ps.Effect)
		}
		if ps.Sid != "" {
			if sids[ps.Sid] {
				return nil, fmt.Errorf("statement %d: duplicate Sid %q", i, ps.Sid)
			}
			sids[ps.Sid] = true
		}
		doc.Statements = append(doc.Statements, ps)
	}
	merged.merge(doc)

	var overrides []string
	if s := str(cfg["override_json"]); s != "" {
		overrides = append(overrides, s)
	}
	overrides = append(overrides, strings_(cfg["override_policy_documents"])...)
	for i, src := range overrides {
		var d policyDoc
		if err := json.Unmarshal([]byte(src), &d); err != nil {
			return nil, fmt.Errorf("override policy document %d: %w", i, err)
		}
		merged.merge(&d)
	}

	indented, err := json.MarshalIndent(merged, "", "  ")
	if err != nil {
		return nil, err
	}
	minified, err := json.Marshal(merged)
	if err != nil {
		return nil, err
	}
	return map[string]tftypes.Value{
		"json":          stringValue(string(indented)),
		"minified_json": stringValue(string(minified)),
		"id":            stringValue(strconv.Itoa(int(crc32.ChecksumIEEE(indented)))),
	}, nil
}

// strings_ reads a known list or set of strings, policy variables &{x}
// written ${x}.
func strings_(v tftypes.Value) []string {
	if !v.IsKnown() || v.IsNull() {
		return nil
	}
	var elems []tftypes.Value
	if err := v.As(&elems); err != nil {
		return nil
	}
	out := make([]string, 0, len(elems))
	for _, e := range elems {
		out = append(out, strings.ReplaceAll(str(e), "&{", "${"))
	}
	return out
}

func blocks(v tftypes.Value) []map[string]tftypes.Value {
	if !v.IsKnown() || v.IsNull() {
		return nil
	}
	var elems []tftypes.Value
	if err := v.As(&elems); err != nil {
		return nil
	}
	out := make([]map[string]tftypes.Value, 0, len(elems))
	for _, e := range elems {
		var m map[string]tftypes.Value
		if err := e.As(&m); err == nil {
			out = append(out, m)
		}
	}
	return out
}

func stringOrList(s []string) any {
	switch len(s) {
	case 0:
		return nil
	case 1:
		return s[0]
	}
	sort.Sort(sort.Reverse(sort.StringSlice(s)))
	return s
}

func principals(bs []map[string]tftypes.Value) any {
	if len(bs) == 0 {
		return nil
	}
	byType := map[string][]string{}
	for _, b := range bs {
		t := str(b["type"])
		ids := strings_(b["identifiers"])
		if t == "*" {
			return "*"
		}
		byType[t] = append(byType[t], ids...)
	}
	out := make(map[string]any, len(byType))
	for t, ids := range byType {
		out[t] = stringOrList(ids)
	}
	return out
}

func conditions(bs []map[string]tftypes.Value) any {
	if len(bs) == 0 {
		return nil
	}
	out := map[string]map[string]any{}
	for _, b := range bs {
		test, variable := str(b["test"]), str(b["variable"])
		if out[test] == nil {
			out[test] = map[string]any{}
		}
		values := strings_(b["values"])
		if have, ok := out[test][variable]; ok {
			switch h := have.(type) {
			case string:
				values = append(values, h)
			case []string:
				values = append(values, h...)
			}
		}
		out[test][variable] = stringOrList(values)
	}
	return out
}
