package provider

import (
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tfprotov5"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// callFunction runs the aws provider's functions: arn_build, arn_parse and
// trim_iam_role_path.
func callFunction(name string, f *tfprotov5.Function, args []*tfprotov5.DynamicValue) *tfprotov5.CallFunctionResponse {
	fail := func(format string, a ...any) *tfprotov5.CallFunctionResponse {
		return &tfprotov5.CallFunctionResponse{Error: &tfprotov5.FunctionError{Text: fmt.Sprintf(name+": "+format, a...)}}
	}
	if len(args) != len(f.Parameters) {
		return fail("%d arguments, want %d", len(args), len(f.Parameters))
	}
	in := make([]string, len(args))
	for i, a := range args {
		v, err := a.Unmarshal(f.Parameters[i].Type)
		if err != nil {
			return fail("argument %s: %v", f.Parameters[i].Name, err)
		}
		in[i] = str(v)
	}
	var out tftypes.Value
	switch name {
	case "arn_build":
		out = stringValue(strings.Join(append([]string{"arn"}, in...), ":"))
	case "arn_parse":
		parts := strings.SplitN(in[0], ":", 6)
		if len(parts) != 6 || parts[0] != "arn" {
			return fail("%q is not an ARN", in[0])
		}
		out = tftypes.NewValue(f.Return.Type, map[string]tftypes.Value{
			"partition": stringValue(parts[1]), "service": stringValue(parts[2]), "region": stringValue(parts[3]),
			"account_id": stringValue(parts[4]), "resource": stringValue(parts[5]),
		})
	case "trim_iam_role_path":
		parts := strings.SplitN(in[0], ":", 6)
		if len(parts) != 6 || !strings.HasPrefix(parts[5], "role/") {
			return fail("%q is not an IAM role ARN", in[0])
		}
		res := parts[5]
		parts[5] = "role/" + res[strings.LastIndex(res, "/")+1:]
		out = stringValue(strings.Join(parts, ":"))
	default:
		return fail("not implemented by the schema provider")
	}
	dv, err := tfprotov5.NewDynamicValue(f.Return.Type, out)
	if err != nil {
		return fail("%v", err)
	}
	return &tfprotov5.CallFunctionResponse{Result: &dv}
}
