// Command tfvars converts api/topology.yaml into a Terraform variables file
// ({"topology": ...}) for tools that cannot expand for_each over the contents
// of a file Terraform reads, such as trivy's evaluator, and for planning with
// another topology (hack/tfplan.sh).
//
// The YAML is read as YAML 1.2, as Terraform's yamldecode reads it: a key
// type N stays the string "N" (a YAML 1.1 reader makes it false).
//
//	go run ./hack/tfvars api/topology.yaml > build/topology.tfvars.json
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: tfvars TOPOLOGY.yaml")
		os.Exit(2)
	}
	out, err := convert(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "tfvars:", err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

func convert(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var top any
	if err := yaml.Unmarshal(b, &top); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return json.Marshal(map[string]any{"topology": top})
}
