package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-go/tfprotov5"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// attributeAt returns the schema attribute that path names, or nil when the
// path names a block, a block element or a value inside an attribute.
func attributeAt(b *tfprotov5.SchemaBlock, path *tftypes.AttributePath) *tfprotov5.SchemaAttribute {
	steps := path.Steps()
	for i := 0; i < len(steps); i++ {
		name, ok := steps[i].(tftypes.AttributeName)
		if !ok {
			return nil
		}
		var next *tfprotov5.SchemaNestedBlock
		for _, a := range b.Attributes {
			if a.Name == string(name) {
				if i == len(steps)-1 {
					return a
				}
				return nil
			}
		}
		for _, nb := range b.BlockTypes {
			if nb.TypeName == string(name) {
				next = nb
				break
			}
		}
		if next == nil {
			return nil
		}
		switch next.Nesting {
		case tfprotov5.SchemaNestedBlockNestingModeList, tfprotov5.SchemaNestedBlockNestingModeSet, tfprotov5.SchemaNestedBlockNestingModeMap:
			i++ // the element key
		}
		b = next.Block
	}
	return nil
}

// plan returns the planned state: a create leaves every computed attribute
// that the configuration does not set unknown, as the real provider does;
// write-only attributes are never planned or stored. An update keeps the
// proposed state (prior values for what the configuration leaves unset).
func (s *Server) plan(b *tfprotov5.SchemaBlock, prior, proposed tftypes.Value) (tftypes.Value, error) {
	if proposed.IsNull() {
		return proposed, nil // destroy
	}
	create := prior.IsNull()
	planned, err := tftypes.Transform(proposed, func(path *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		a := attributeAt(b, path)
		if a == nil {
			return v, nil
		}
		if a.WriteOnly {
			return tftypes.NewValue(v.Type(), nil), nil
		}
		if create && a.Computed && v.IsNull() {
			return tftypes.NewValue(v.Type(), tftypes.UnknownValue), nil
		}
		return v, nil
	})
	if err != nil {
		return proposed, fmt.Errorf("planning: %w", err)
	}
	if s.aws && create {
		return s.awsPlanned(b, proposed, planned)
	}
	return planned, nil
}

// awsPlanned sets what the aws provider knows at plan time: the region of
// a resource (v6: the provider's unless the resource sets its own) and
// tags_all (the provider's default tags merged with the resource's tags).
func (s *Server) awsPlanned(b *tfprotov5.SchemaBlock, proposed, planned tftypes.Value) (tftypes.Value, error) {
	var cfg, out map[string]tftypes.Value
	if err := proposed.As(&cfg); err != nil {
		return planned, err
	}
	if err := planned.As(&out); err != nil {
		return planned, err
	}
	for _, a := range b.Attributes {
		switch {
		case a.Name == "region" && a.Computed && a.Type.Is(tftypes.String) && cfg["region"].IsNull() && s.region != "":
			out["region"] = tftypes.NewValue(tftypes.String, s.region)
		case a.Name == "tags_all" && a.Computed && cfg["tags_all"].IsNull():
			tags, ok := cfg["tags"]
			if ok && !tags.IsFullyKnown() {
				continue
			}
			merged := map[string]tftypes.Value{}
			for k, v := range s.defaultTags {
				merged[k] = v
			}
			if ok && !tags.IsNull() {
				var m map[string]tftypes.Value
				if err := tags.As(&m); err != nil {
					return planned, err
				}
				for k, v := range m {
					merged[k] = v
				}
			}
			out["tags_all"] = tftypes.NewValue(a.Type, merged)
		}
	}
	return tftypes.NewValue(planned.Type(), out), nil
}
