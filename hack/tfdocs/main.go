// Command tfdocs writes the inputs and outputs tables of each Terraform
// module's README.md from its variables.tf and outputs.tf, between the
// markers <!-- BEGIN_TF_DOCS --> and <!-- END_TF_DOCS --> (appended if absent).
//
//	go run ./hack/tfdocs terraform/modules/*
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-config-inspect/tfconfig"
)

const begin, end = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"

func main() {
	for _, dir := range os.Args[1:] {
		if err := write(dir); err != nil {
			fmt.Fprintln(os.Stderr, "tfdocs:", err)
			os.Exit(1)
		}
	}
}

// Render returns the Markdown tables of a module.
func render(m *tfconfig.Module) string {
	var b strings.Builder
	b.WriteString(begin + "\n## Inputs\n\n| name | type | default | required | description |\n| --- | --- | --- | --- | --- |\n")
	vars := make([]string, 0, len(m.Variables))
	for n := range m.Variables {
		vars = append(vars, n)
	}
	sort.Strings(vars)
	for _, n := range vars {
		v := m.Variables[n]
		def := ""
		if !v.Required {
			def = fmt.Sprintf("`%v`", jsonish(v.Default))
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %v | %s |\n", n, oneLine(v.Type), def, v.Required, oneLine(v.Description))
	}
	b.WriteString("\n## Outputs\n\n| name | description |\n| --- | --- |\n")
	outs := make([]string, 0, len(m.Outputs))
	for n := range m.Outputs {
		outs = append(outs, n)
	}
	sort.Strings(outs)
	for _, n := range outs {
		fmt.Fprintf(&b, "| `%s` | %s |\n", n, oneLine(m.Outputs[n].Description))
	}
	b.WriteString(end + "\n")
	return b.String()
}

func jsonish(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", "\\|")
}

func write(dir string) error {
	m, diags := tfconfig.LoadModule(dir)
	if diags.HasErrors() {
		return diags.Err()
	}
	path := filepath.Join(dir, "README.md")
	old, err := os.ReadFile(path) // #nosec G304,G703 -- a developer tool: rewrites the module README it is pointed at
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	text := string(old)
	if text == "" {
		text = "# " + filepath.Base(dir) + "\n"
	}
	table := render(m)
	if i, j := strings.Index(text, begin), strings.Index(text, end); i >= 0 && j > i {
		text = text[:i] + table + text[j+len(end)+1:]
	} else {
		text = strings.TrimRight(text, "\n") + "\n\n" + table
	}
	return os.WriteFile(path, []byte(text), 0o644) // #nosec G306,G703 -- a module README in the work tree: 0644 like every tracked file
}
