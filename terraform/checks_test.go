// Package terraform holds offline checks of the Terraform configuration
// beside `make iac` (which validates and plans every environment against the
// real providers' schemas, hack/tfplan.sh). These tests read the HCL with
// hashicorp/terraform-config-inspect and hashicorp/hcl/v2 and check the
// platform's own rules: every module call passes only declared variables and
// every required one, every variable is typed and described, every output
// described, every topology entry is consistent and created, no IAM
// statement grants every action on every resource, and the EKS nodes'
// instance metadata is out of the pods' reach.
package terraform

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/terraform-config-inspect/tfconfig"

	"github.com/eventplane/eventplane/consumers/topology"
)

// moduleDirs lists every Terraform module: the root composition, the
// modules and the environments.
func moduleDirs(t *testing.T) []string {
	t.Helper()
	dirs := []string{"."}
	for _, pattern := range []string{"modules/*", "environments/*"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, m...)
	}
	sort.Strings(dirs)
	return dirs
}

func load(t *testing.T, dir string) *tfconfig.Module {
	t.Helper()
	m, diags := tfconfig.LoadModule(dir)
	if diags.HasErrors() {
		t.Fatalf("%s: %v", dir, diags.Err())
	}
	return m
}

func TestVariablesAndOutputsAreTypedAndDescribed(t *testing.T) {
	for _, dir := range moduleDirs(t) {
		m := load(t, dir)
		for name, v := range m.Variables {
			if v.Type == "" {
				t.Errorf("%s: variable %q has no type", dir, name)
			}
			if strings.TrimSpace(v.Description) == "" {
				t.Errorf("%s: variable %q has no description", dir, name)
			}
		}
		for name, o := range m.Outputs {
			if strings.TrimSpace(o.Description) == "" {
				t.Errorf("%s: output %q has no description", dir, name)
			}
		}
		if strings.HasPrefix(dir, "modules") {
			for _, f := range []string{"versions.tf", "variables.tf", "main.tf", "outputs.tf", "README.md"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("%s: missing %s", dir, f)
				}
			}
			readme, _ := os.ReadFile(filepath.Join(dir, "README.md"))
			for name := range m.Variables {
				if !strings.Contains(string(readme), "| `"+name+"` |") {
					t.Errorf("%s/README.md does not list input %q: run `go run ./hack/tfdocs %s`", dir, name, dir)
				}
			}
			for name := range m.Outputs {
				if !strings.Contains(string(readme), "| `"+name+"` |") {
					t.Errorf("%s/README.md does not list output %q: run `go run ./hack/tfdocs %s`", dir, name, dir)
				}
			}
		}
	}
}

// moduleArgs reads the argument names of every module block in dir.
func moduleArgs(t *testing.T, dir string) map[string]map[string]bool {
	t.Helper()
	p := hclparse.NewParser()
	out := map[string]map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.tf"))
	for _, f := range files {
		file, diags := p.ParseHCLFile(f)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", f, diags)
		}
		body := file.Body.(*hclsyntax.Body)
		for _, b := range body.Blocks {
			if b.Type != "module" {
				continue
			}
			args := map[string]bool{}
			for name := range b.Body.Attributes {
				args[name] = true
			}
			out[b.Labels[0]] = args
		}
	}
	return out
}

var metaArgs = map[string]bool{"source": true, "version": true, "count": true, "for_each": true, "providers": true, "depends_on": true}

func TestModuleCallsMatchModuleVariables(t *testing.T) {
	for _, dir := range moduleDirs(t) {
		m := load(t, dir)
		args := moduleArgs(t, dir)
		for name, call := range m.ModuleCalls {
			callee := filepath.Join(dir, call.Source)
			if !strings.HasPrefix(call.Source, ".") {
				t.Errorf("%s: module %q uses a non-local source %q", dir, name, call.Source)
				continue
			}
			cm := load(t, callee)
			for arg := range args[name] {
				if metaArgs[arg] {
					continue
				}
				if _, ok := cm.Variables[arg]; !ok {
					t.Errorf("%s: module %q passes %q, which %s does not declare", dir, name, arg, callee)
				}
			}
			for vname, v := range cm.Variables {
				if v.Required && !args[name][vname] {
					t.Errorf("%s: module %q does not pass the required variable %q of %s", dir, name, vname, callee)
				}
			}
		}
	}
}

// The root module finds the parts the platform needs by the topology's
// roles (ingest, alarms, failures), never by a name of the repository's
// topology: a user who renames their bus must get a working plan
// (tests/topology.tftest.hcl plans a differently named topology).
func TestRootModuleNamesNoTopologyEntry(t *testing.T) {
	top, err := topology.Load("../api/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if top.Ingest.Bus == "" || top.Ingest.Lambda == "" || top.Alarms.Topic == "" || top.Failures.Queue == "" {
		t.Fatalf("terraform/main.tf needs ingest.bus, ingest.lambda, alarms.topic and failures.queue: %+v %+v %+v", top.Ingest, top.Alarms, top.Failures)
	}
	raw, err := os.ReadFile("main.tf")
	if err != nil {
		t.Fatal(err)
	}
	// A table's purpose is a role word that the repository's idempotency
	// table happens to share as its name.
	src := strings.ReplaceAll(string(raw), `"purpose", null) == "`+topology.PurposeIdempotency+`"`, "")
	var names []string
	for _, x := range top.Buses {
		names = append(names, x.Name)
	}
	for _, x := range top.Topics {
		names = append(names, x.Name)
	}
	for _, x := range top.Queues {
		names = append(names, x.Name)
	}
	for _, x := range top.Lambdas {
		names = append(names, x.Name)
	}
	for _, x := range top.Tables {
		names = append(names, x.Name)
	}
	for _, n := range names {
		for _, lit := range []string{`"` + n + `"`, `-` + n + `"`, `{ ` + n + ` =`} {
			if strings.Contains(src, lit) {
				t.Errorf("terraform/main.tf names the topology's %q (%s): find it by its role instead", n, lit)
			}
		}
	}
}

// Every EVENTPLANE_ variable a Lambda main requires is set by main.tf
// (lambda-files exits at start without EVENTPLANE_FILES_TABLE, and without
// EVENTPLANE_DEAD_LETTER_URL Lambda retries its permanent failures).
func TestLambdaEnvironmentIsSet(t *testing.T) {
	// Every function a topology can declare, not only the repository's.
	mains, err := filepath.Glob("../consumers/cmd/lambda-*/main.go")
	if err != nil || len(mains) < 3 {
		t.Fatalf("lambda mains: %v %v", mains, err)
	}
	// Read by the mains but set by hand, never by Terraform: a local
	// endpoint, the HTTP mode for local runs, optional parser settings
	// and lambda-sqs's fallback type.
	notFromTerraform := map[string]bool{"EVENTPLANE_ENDPOINT": true, "EVENTPLANE_HTTP_ADDR": true, "EVENTPLANE_REQUIRED": true, "EVENTPLANE_NUMERIC": true, "EVENTPLANE_FALLBACK_TYPE": true}
	tf, err := os.ReadFile("main.tf")
	if err != nil {
		t.Fatal(err)
	}
	getenv := regexp.MustCompile(`Getenv\("(EVENTPLANE_[A-Z_]+)"\)`)
	for _, m := range mains {
		src, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range getenv.FindAllStringSubmatch(string(src), -1) {
			if !notFromTerraform[g[1]] && !strings.Contains(string(tf), g[1]+" =") {
				t.Errorf("%s reads %s, which terraform/main.tf never sets", m, g[1])
			}
		}
	}
}

// Every topology collection reaches a module resource that iterates over it.
func TestTopologyEntriesAreCreated(t *testing.T) {
	root := load(t, ".")
	want := []struct{ local, module, variable, resource string }{
		{"local.buses", "eventbridge", "buses", "aws_cloudwatch_event_bus.this"},
		{"local.rules", "eventbridge", "rules", "aws_cloudwatch_event_rule.this"},
		{"local.rules", "eventbridge", "rules", "aws_cloudwatch_event_target.this"},
		{"local.schedules", "eventbridge", "schedules", "aws_cloudwatch_event_rule.schedule"},
		{"local.topics", "sns", "topics", "aws_sns_topic.this"},
		{"local.topics", "sns", "topics", "aws_sns_topic_subscription.queue"},
		{"local.queues", "sqs", "queues", "aws_sqs_queue.this"},
		{"local.queues", "sqs", "queues", "aws_sqs_queue.dlq"},
		{"local.tables", "dynamodb", "tables", "aws_dynamodb_table.this"},
		{"local.buckets", "s3", "buckets", "aws_s3_bucket.this"},
	}
	src, err := os.ReadFile("main.tf")
	if err != nil {
		t.Fatal(err)
	}
	file, diags := hclsyntax.ParseConfig(src, "main.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	passed := map[string]string{} // module.variable -> expression text
	for _, b := range file.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "module" {
			continue
		}
		for name, a := range b.Body.Attributes {
			passed[b.Labels[0]+"."+name] = string(a.Expr.Range().SliceBytes(src))
		}
	}
	for _, w := range want {
		if _, ok := root.ModuleCalls[w.module]; !ok {
			t.Errorf("the root does not call module %q", w.module)
			continue
		}
		if got := passed[w.module+"."+w.variable]; got != w.local {
			t.Errorf("module %s.%s = %q, want the topology's %s", w.module, w.variable, got, w.local)
		}
		mod := load(t, filepath.Join("modules", w.module))
		if _, ok := mod.ManagedResources[w.resource]; !ok {
			t.Errorf("modules/%s has no %s", w.module, w.resource)
		}
	}
	// The locals read the topology file's collections.
	for _, key := range []string{"buses", "rules", "schedules", "topics", "queues", "tables", "buckets", "lambdas", "consumers"} {
		if !strings.Contains(string(src), `lookup(local.topology, "`+key+`", [])`) {
			t.Errorf("main.tf does not read %q from the topology", key)
		}
	}
}

// No IAM statement may allow every action ("*" or "<service>:*") on every
// resource ("*").
func TestNoWildcardActionOnWildcardResource(t *testing.T) {
	files, _ := filepath.Glob("modules/*/*.tf")
	root, _ := filepath.Glob("*.tf")
	files = append(files, root...)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		file, diags := hclsyntax.ParseConfig(src, f, hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		statements := 0
		_ = hclsyntax.VisitAll(file.Body.(*hclsyntax.Body), func(n hclsyntax.Node) hcl.Diagnostics {
			b, ok := n.(*hclsyntax.Block)
			if !ok || (b.Type != "statement" && b.Type != "content") {
				return nil
			}
			actions, aok := b.Body.Attributes["actions"]
			resources, rok := b.Body.Attributes["resources"]
			if !aok || !rok {
				return nil
			}
			statements++
			if effect, ok := b.Body.Attributes["effect"]; ok && strings.Contains(string(effect.Expr.Range().SliceBytes(src)), "Deny") {
				return nil
			}
			acts := literals(actions.Expr)
			res := literals(resources.Expr)
			wildAction := false
			for _, a := range acts {
				if a == "*" || strings.HasSuffix(a, ":*") {
					wildAction = true
				}
			}
			for _, r := range res {
				if r == "*" && wildAction {
					t.Errorf("%s:%d: statement allows %v on every resource", f, b.Range().Start.Line, acts)
				}
			}
			return nil
		})
		_ = statements
	}
}

// literals returns the string literals of a tuple expression (others are
// skipped: they are references to ARNs, never "*").
func literals(e hclsyntax.Expression) []string {
	var out []string
	tuple, ok := e.(*hclsyntax.TupleConsExpr)
	if !ok {
		return nil
	}
	for _, item := range tuple.Exprs {
		if tpl, ok := item.(*hclsyntax.TemplateExpr); ok && tpl.IsStringLiteral() {
			v, _ := tpl.Value(nil)
			out = append(out, v.AsString())
		}
	}
	return out
}

// The EKS nodes' instance metadata answers only requests from the node itself:
// IMDSv2 tokens required and a PUT response hop limit of 1, so a pod (one
// hop further, behind the node's network namespace) cannot take the node
// role's credentials; pods get their own from EKS Pod Identity / IRSA.
func TestNodeMetadataIsNotReachableFromPods(t *testing.T) {
	src, err := os.ReadFile("modules/eks/main.tf")
	if err != nil {
		t.Fatal(err)
	}
	file, diags := hclsyntax.ParseConfig(src, "modules/eks/main.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	found := 0
	for _, b := range file.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "resource" || b.Labels[0] != "aws_launch_template" {
			continue
		}
		for _, mb := range b.Body.Blocks {
			if mb.Type != "metadata_options" {
				continue
			}
			found++
			want := map[string]string{"http_tokens": `"required"`, "http_put_response_hop_limit": "1", "http_endpoint": `"enabled"`}
			for name, w := range want {
				a, ok := mb.Body.Attributes[name]
				if !ok {
					t.Errorf("launch template %s: metadata_options has no %s", b.Labels[1], name)
					continue
				}
				if got := string(a.Expr.Range().SliceBytes(src)); got != w {
					t.Errorf("launch template %s: %s = %s, want %s", b.Labels[1], name, got, w)
				}
			}
		}
	}
	if found == 0 {
		t.Error("modules/eks: no aws_launch_template with metadata_options")
	}
}
