package provider

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov5"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/eventplane/eventplane/hack/tfprovider/schemas"
)

var (
	loadOnce sync.Once
	aws      *schemas.Provider
	loadErr  error
)

// awsServer serves the real hashicorp/aws 6.47.1 schemas (hack/tfprovider/schemas,
// or EVENTPLANE_TF_SCHEMAS), configured for region.
func awsServer(t *testing.T, region string, defaultTags map[string]string) *Server {
	t.Helper()
	loadOnce.Do(func() {
		path := os.Getenv("EVENTPLANE_TF_SCHEMAS")
		if path == "" {
			path, _ = filepath.Abs("../schemas/provider-schemas.json.gz")
		}
		aws, loadErr = schemas.LoadFile(path, "hashicorp/aws", "")
	})
	if loadErr != nil {
		t.Fatalf("provider schemas (set EVENTPLANE_TF_SCHEMAS): %v", loadErr)
	}
	s := New(aws)
	attrs := map[string]tftypes.Value{"region": tftypes.NewValue(tftypes.String, region)}
	if defaultTags != nil {
		tags := map[string]tftypes.Value{}
		for k, v := range defaultTags {
			tags[k] = tftypes.NewValue(tftypes.String, v)
		}
		attrs["default_tags"] = blockList(t, aws.Provider.Block, "default_tags", map[string]tftypes.Value{"tags": tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, tags)})
	}
	cfg := config(t, aws.Provider.Block, attrs)
	resp, err := s.ConfigureProvider(context.Background(), &tfprotov5.ConfigureProviderRequest{Config: dynamic(t, aws.Provider, cfg)})
	if err != nil || len(resp.Diagnostics) > 0 {
		t.Fatalf("configure: %v %v", err, resp.Diagnostics)
	}
	return s
}

// config builds a configuration value of block b: the given attributes,
// every other attribute null and every absent block empty, as Terraform
// sends it.
func config(t *testing.T, b *tfprotov5.SchemaBlock, set map[string]tftypes.Value) tftypes.Value {
	t.Helper()
	typ := b.ValueType().(tftypes.Object)
	out := map[string]tftypes.Value{}
	for _, a := range b.Attributes {
		out[a.Name] = tftypes.NewValue(a.Type, nil)
	}
	for _, nb := range b.BlockTypes {
		switch nb.Nesting {
		case tfprotov5.SchemaNestedBlockNestingModeList, tfprotov5.SchemaNestedBlockNestingModeSet:
			out[nb.TypeName] = tftypes.NewValue(nb.ValueType(), []tftypes.Value{})
		default:
			out[nb.TypeName] = tftypes.NewValue(nb.ValueType(), nil)
		}
	}
	for k, v := range set {
		if _, ok := out[k]; !ok {
			t.Fatalf("no attribute or block %q", k)
		}
		out[k] = v
	}
	return tftypes.NewValue(typ, out)
}

// blockList is a list (or set) of nested blocks named name of b.
func blockList(t *testing.T, b *tfprotov5.SchemaBlock, name string, elems ...map[string]tftypes.Value) tftypes.Value {
	t.Helper()
	for _, nb := range b.BlockTypes {
		if nb.TypeName == name {
			var vals []tftypes.Value
			for _, e := range elems {
				vals = append(vals, config(t, nb.Block, e))
			}
			return tftypes.NewValue(nb.ValueType(), vals)
		}
	}
	t.Fatalf("no block %q", name)
	return tftypes.Value{}
}

func dynamic(t *testing.T, s *tfprotov5.Schema, v tftypes.Value) *tfprotov5.DynamicValue {
	t.Helper()
	dv, err := encode(s, v)
	if err != nil {
		t.Fatal(err)
	}
	return dv
}

func attrs(t *testing.T, s *tfprotov5.Schema, dv *tfprotov5.DynamicValue) map[string]tftypes.Value {
	t.Helper()
	v, err := decode(dv, s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]tftypes.Value
	if err := v.As(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func strVal(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }

func strSet(s ...string) tftypes.Value {
	var v []tftypes.Value
	for _, x := range s {
		v = append(v, strVal(x))
	}
	return tftypes.NewValue(tftypes.Set{ElementType: tftypes.String}, v)
}

// Before apply the real provider knows only what the configuration says:
// an ARN, an ID or a URL is unknown, so anything keyed on them cannot be
// planned (Terraform's "Invalid for_each argument").
func TestPlanLeavesComputedAttributesUnknownOnCreate(t *testing.T) {
	s := awsServer(t, "eu-west-1", map[string]string{"managed-by": "terraform"})
	sc, _ := s.resource("aws_sqs_queue")
	cfg := config(t, sc.Block, map[string]tftypes.Value{
		"name": strVal("orders"),
		"tags": tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, map[string]tftypes.Value{"team": strVal("a")}),
	})
	resp, err := s.PlanResourceChange(context.Background(), &tfprotov5.PlanResourceChangeRequest{
		TypeName: "aws_sqs_queue", PriorState: dynamic(t, sc, tftypes.NewValue(sc.ValueType(), nil)),
		ProposedNewState: dynamic(t, sc, cfg), Config: dynamic(t, sc, cfg),
	})
	if err != nil || len(resp.Diagnostics) > 0 {
		t.Fatalf("plan: %v %v", err, resp.Diagnostics)
	}
	got := attrs(t, sc, resp.PlannedState)
	for _, name := range []string{"arn", "id", "url"} {
		if got[name].IsKnown() {
			t.Errorf("%s = %v before apply, want unknown", name, got[name])
		}
	}
	if str(got["name"]) != "orders" {
		t.Errorf("name = %v, want the configured orders", got["name"])
	}
	// aws v6 plans the provider's region and tags_all (default tags merged).
	if str(got["region"]) != "eu-west-1" {
		t.Errorf("region = %v, want eu-west-1", got["region"])
	}
	var tags map[string]tftypes.Value
	if err := got["tags_all"].As(&tags); err != nil || str(tags["team"]) != "a" || str(tags["managed-by"]) != "terraform" {
		t.Errorf("tags_all = %v, want team and managed-by", got["tags_all"])
	}
	// A destroy plans null.
	del, err := s.PlanResourceChange(context.Background(), &tfprotov5.PlanResourceChangeRequest{
		TypeName: "aws_sqs_queue", PriorState: resp.PlannedState,
		ProposedNewState: dynamic(t, sc, tftypes.NewValue(sc.ValueType(), nil)), Config: dynamic(t, sc, tftypes.NewValue(sc.ValueType(), nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := decode(del.PlannedState, sc); !v.IsNull() {
		t.Errorf("destroy planned %v, want null", v)
	}
}

func TestValidateRejectsWhatTheSchemaRejects(t *testing.T) {
	s := awsServer(t, "eu-west-1", nil)
	sc, _ := s.resource("aws_dynamodb_table")
	sse := map[string]tftypes.Value{"enabled": tftypes.NewValue(tftypes.Bool, true)}
	for _, tc := range []struct {
		name string
		set  map[string]tftypes.Value
		want string
	}{
		{"missing required", map[string]tftypes.Value{}, `"name" is required`},
		{"computed only", map[string]tftypes.Value{"name": strVal("t"), "arn": strVal("x")}, `"arn" is set by the provider`},
		{"too many blocks", map[string]tftypes.Value{"name": strVal("t"), "server_side_encryption": blockList(t, sc.Block, "server_side_encryption", sse, map[string]tftypes.Value{"enabled": tftypes.NewValue(tftypes.Bool, false)})}, `No more than 1 "server_side_encryption"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := s.ValidateResourceTypeConfig(context.Background(), &tfprotov5.ValidateResourceTypeConfigRequest{TypeName: "aws_dynamodb_table", Config: dynamic(t, sc, config(t, sc.Block, tc.set))})
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			for _, d := range resp.Diagnostics {
				if d.Severity == tfprotov5.DiagnosticSeverityError {
					msgs = append(msgs, d.Detail)
				}
			}
			if !strings.Contains(strings.Join(msgs, "\n"), tc.want) {
				t.Errorf("errors %q, want one containing %q", msgs, tc.want)
			}
		})
	}
	resp, _ := s.ValidateResourceTypeConfig(context.Background(), &tfprotov5.ValidateResourceTypeConfigRequest{TypeName: "aws_dynamodb_table",
		Config: dynamic(t, sc, config(t, sc.Block, map[string]tftypes.Value{"name": strVal("t"), "server_side_encryption": blockList(t, sc.Block, "server_side_encryption", sse)}))})
	if len(resp.Diagnostics) != 0 {
		t.Errorf("a valid table: %v", resp.Diagnostics)
	}
	if _, diags := s.resource("aws_no_such_thing"); diags == nil {
		t.Error("an unknown resource type: want an error")
	}
}

func read(t *testing.T, s *Server, typeName string, set map[string]tftypes.Value) map[string]tftypes.Value {
	t.Helper()
	sc, diags := s.dataSource(typeName)
	if diags != nil {
		t.Fatal(diags)
	}
	resp, err := s.ReadDataSource(context.Background(), &tfprotov5.ReadDataSourceRequest{TypeName: typeName, Config: dynamic(t, sc, config(t, sc.Block, set))})
	if err != nil || len(resp.Diagnostics) > 0 {
		t.Fatalf("read %s: %v %v", typeName, err, resp.Diagnostics[0])
	}
	got := attrs(t, sc, resp.State)
	if err := tftypes.Walk(tftypes.NewValue(sc.ValueType(), got), func(p *tftypes.AttributePath, v tftypes.Value) (bool, error) {
		if !v.IsKnown() {
			t.Errorf("%s: %s unknown, data sources answer known values", typeName, p)
		}
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// aws_iam_policy_document renders as the aws provider does: a list of one
// is a string, longer lists sorted in reverse, &{var} becomes ${var}.
func TestPolicyDocumentIsRenderedAsTheProviderRendersIt(t *testing.T) {
	s := awsServer(t, "eu-west-1", nil)
	sc, _ := s.dataSource("aws_iam_policy_document")
	var statement *tfprotov5.SchemaNestedBlock
	for _, nb := range sc.Block.BlockTypes {
		if nb.TypeName == "statement" {
			statement = nb
		}
	}
	st := blockList(t, sc.Block, "statement",
		map[string]tftypes.Value{
			"sid": strVal("Send"), "actions": strSet("sqs:SendMessage", "sqs:GetQueueUrl"), "resources": strSet("arn:aws:sqs:eu-west-1:123456789012:q"),
			"principals": blockList(t, statement.Block, "principals", map[string]tftypes.Value{"type": strVal("Service"), "identifiers": strSet("events.amazonaws.com")}),
			"condition": blockList(t, statement.Block, "condition", map[string]tftypes.Value{"test": strVal("ArnEquals"), "variable": strVal("aws:SourceArn"),
				"values": tftypes.NewValue(tftypes.List{ElementType: tftypes.String}, []tftypes.Value{strVal("arn:aws:events:eu-west-1:123456789012:rule/r")})}),
		},
		map[string]tftypes.Value{"effect": strVal("Deny"), "actions": strSet("s3:*"), "resources": strSet("arn:aws:s3:::b/&{aws:username}/*")},
	)
	got := read(t, s, "aws_iam_policy_document", map[string]tftypes.Value{"statement": st})
	want := `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Send",
      "Effect": "Allow",
      "Action": [
        "sqs:SendMessage",
        "sqs:GetQueueUrl"
      ],
      "Resource": "arn:aws:sqs:eu-west-1:123456789012:q",
      "Principal": {
        "Service": "events.amazonaws.com"
      },
      "Condition": {
        "ArnEquals": {
          "aws:SourceArn": "arn:aws:events:eu-west-1:123456789012:rule/r"
        }
      }
    },
    {
      "Effect": "Deny",
      "Action": "s3:*",
      "Resource": "arn:aws:s3:::b/${aws:username}/*"
    }
  ]
}`
	if str(got["json"]) != want {
		t.Errorf("json:\n%s\nwant:\n%s", str(got["json"]), want)
	}
	if m := str(got["minified_json"]); strings.ContainsAny(m, "\n ") || !strings.HasPrefix(m, `{"Version":"2012-10-17","Statement":[{"Sid":"Send"`) {
		t.Errorf("minified_json: %s", m)
	}
}

func TestIdentityRegionAndPartitionAreKnownAtPlan(t *testing.T) {
	s := awsServer(t, "cn-north-1", nil)
	if got := read(t, s, "aws_partition", nil); str(got["partition"]) != "aws-cn" || str(got["dns_suffix"]) != "amazonaws.com.cn" || str(got["reverse_dns_prefix"]) != "cn.com.amazonaws" {
		t.Errorf("aws_partition in cn-north-1: %v", got)
	}
	if got := read(t, s, "aws_region", nil); str(got["region"]) != "cn-north-1" {
		t.Errorf("aws_region: %v", got)
	}
	if got := read(t, s, "aws_region", map[string]tftypes.Value{"region": strVal("eu-west-1")}); str(got["region"]) != "eu-west-1" || str(got["description"]) != "Europe (Ireland)" {
		t.Errorf("aws_region with region = eu-west-1: %v", got)
	}
	if got := read(t, s, "aws_caller_identity", nil); str(got["account_id"]) != AccountID || !strings.HasPrefix(str(got["arn"]), "arn:aws-cn:iam::") {
		t.Errorf("aws_caller_identity: %v", got)
	}
	// Any other data source answers known placeholders of its types.
	if got := read(t, s, "aws_sqs_queue", map[string]tftypes.Value{"name": strVal("q")}); str(got["name"]) != "q" || !strings.HasPrefix(str(got["arn"]), "arn:aws-cn:sqs:cn-north-1:") {
		t.Errorf("aws_sqs_queue: %v", got)
	}
}
