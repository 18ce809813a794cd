package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-go/tfprotov5"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// Validate checks a configuration value against its schema block the way the
// real providers' SDKs do beyond Terraform's own decoding (which already
// rejects unknown arguments and values of the wrong type): required
// arguments, arguments that only the provider may set, the number of nested
// blocks, and a warning for each deprecated argument that is set.
func Validate(b *tfprotov5.SchemaBlock, v tftypes.Value) []*tfprotov5.Diagnostic {
	var diags []*tfprotov5.Diagnostic
	validateBlock(b, v, tftypes.NewAttributePath(), &diags)
	return diags
}

func validateBlock(b *tfprotov5.SchemaBlock, v tftypes.Value, path *tftypes.AttributePath, diags *[]*tfprotov5.Diagnostic) {
	if !v.IsKnown() || v.IsNull() {
		return
	}
	var attrs map[string]tftypes.Value
	if err := v.As(&attrs); err != nil {
		*diags = append(*diags, errorDiag("Invalid configuration", err.Error(), path))
		return
	}
	for _, a := range b.Attributes {
		av, ok := attrs[a.Name]
		at := path.WithAttributeName(a.Name)
		switch {
		case a.Required && (!ok || av.IsNull()):
			*diags = append(*diags, errorDiag("Missing required argument", fmt.Sprintf("The argument %q is required, but no definition was found.", a.Name), at))
		case a.Computed && !a.Optional && ok && !av.IsNull():
			*diags = append(*diags, errorDiag("Invalid argument", fmt.Sprintf("%q is set by the provider and cannot be configured.", a.Name), at))
		case a.Deprecated && ok && !av.IsNull():
			*diags = append(*diags, &tfprotov5.Diagnostic{Severity: tfprotov5.DiagnosticSeverityWarning, Summary: "Argument is deprecated",
				Detail: fmt.Sprintf("%q is deprecated; see the provider's documentation.", a.Name), Attribute: at})
		}
	}
	for _, nb := range b.BlockTypes {
		bv, ok := attrs[nb.TypeName]
		at := path.WithAttributeName(nb.TypeName)
		if !ok || !bv.IsKnown() {
			continue
		}
		var elems []tftypes.Value
		switch nb.Nesting {
		case tfprotov5.SchemaNestedBlockNestingModeSingle, tfprotov5.SchemaNestedBlockNestingModeGroup:
			if !bv.IsNull() {
				elems = []tftypes.Value{bv}
			}
			validateCount(nb, len(elems), at, diags)
			for _, e := range elems {
				validateBlock(nb.Block, e, at, diags)
			}
			continue
		case tfprotov5.SchemaNestedBlockNestingModeMap:
			var m map[string]tftypes.Value
			if !bv.IsNull() {
				_ = bv.As(&m)
			}
			validateCount(nb, len(m), at, diags)
			for k, e := range m {
				validateBlock(nb.Block, e, at.WithElementKeyString(k), diags)
			}
			continue
		default:
			if !bv.IsNull() {
				_ = bv.As(&elems)
			}
		}
		// A dynamic block over an unknown collection yields unknown elements:
		// their number is not known yet.
		if bv.IsFullyKnown() || !hasUnknownElement(elems) {
			validateCount(nb, len(elems), at, diags)
		}
		for i, e := range elems {
			ep := at.WithElementKeyInt(i)
			if nb.Nesting == tfprotov5.SchemaNestedBlockNestingModeSet {
				ep = at.WithElementKeyValue(e)
			}
			validateBlock(nb.Block, e, ep, diags)
		}
	}
}

func hasUnknownElement(elems []tftypes.Value) bool {
	for _, e := range elems {
		if !e.IsKnown() {
			return true
		}
	}
	return false
}

func validateCount(nb *tfprotov5.SchemaNestedBlock, n int, path *tftypes.AttributePath, diags *[]*tfprotov5.Diagnostic) {
	if nb.MinItems > 0 && int64(n) < nb.MinItems {
		*diags = append(*diags, errorDiag("Insufficient "+nb.TypeName+" blocks", fmt.Sprintf("At least %d %q blocks are required.", nb.MinItems, nb.TypeName), path))
	}
	if nb.MaxItems > 0 && int64(n) > nb.MaxItems {
		*diags = append(*diags, errorDiag("Too many "+nb.TypeName+" blocks", fmt.Sprintf("No more than %d %q blocks are allowed.", nb.MaxItems, nb.TypeName), path))
	}
}
