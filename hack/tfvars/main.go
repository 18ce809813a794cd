// Command tfvars converts api/topology.yaml into a Terraform variables file
// ({"topology": ...}) for tools that cannot expand for_each over the contents
// of a file Terraform reads, such as trivy's evaluator.
//
//	go run ./hack/tfvars api/topology.yaml > build/topology.tfvars.json
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: tfvars TOPOLOGY.yaml")
		os.Exit(2)
	}
	b, err := os.ReadFile(os.Args[1]) // #nosec G304,G703 -- a developer tool: reads the file named on its command line
	if err == nil {
		b, err = yaml.YAMLToJSON(b)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tfvars:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(map[string]json.RawMessage{"topology": b})
	fmt.Println(string(out))
}
