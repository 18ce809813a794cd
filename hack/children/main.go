// Command children reads Kubernetes manifests (e.g. `helm template` output),
// and prints, for every EventConsumer among them, the objects the operator
// would create for it (ServiceAccount, ConfigMap, Deployment, Service,
// PodDisruptionBudget, TriggerAuthentication, ScaledObject), with defaults
// applied as the API server would. hack/iac-check.sh scans them with trivy,
// so the consumers' pods are checked, not only the chart's.
//
//	helm template ... | go run ./hack/children > children.yaml
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/eventplane/eventplane/api/v1alpha1"
	"github.com/eventplane/eventplane/consumers/operator"
)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "children:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	dec := yaml.NewYAMLReader(bufio.NewReader(in))
	n := 0
	for {
		doc, err := dec.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		var head struct{ Kind string }
		if err := sigsyaml.Unmarshal(doc, &head); err != nil || head.Kind != "EventConsumer" {
			continue
		}
		var ec v1alpha1.EventConsumer
		if err := sigsyaml.UnmarshalStrict(doc, &ec); err != nil {
			return fmt.Errorf("EventConsumer: %w", err)
		}
		defaults(&ec)
		objs, err := operator.Children(&ec, "", operator.KEDAOptions{})
		if err != nil {
			return err
		}
		for _, o := range objs {
			b, err := sigsyaml.Marshal(o)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "---\n%s", bytes.TrimSpace(b))
			fmt.Fprintln(out)
		}
		n++
	}
	if n == 0 {
		return errors.New("no EventConsumer in the input")
	}
	return nil
}

// defaults fills what the CRD's schema defaults would (the fields the
// children depend on).
func defaults(ec *v1alpha1.EventConsumer) {
	if ec.Namespace == "" {
		ec.Namespace = "default"
	}
	s := &ec.Spec
	if s.HandlerTimeout.Duration == 0 {
		s.HandlerTimeout.Duration = 300e9
	}
	if s.Scaling.MaxReplicas == 0 {
		s.Scaling.MaxReplicas = 10
	}
	if s.Scaling.TargetQueueLength == 0 {
		s.Scaling.TargetQueueLength = 5
	}
	if s.Scaling.PollingIntervalSeconds == 0 {
		s.Scaling.PollingIntervalSeconds = 15
	}
}
