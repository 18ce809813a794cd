package charttest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
)

// `helm test` runs one Pod per consumer (templates/tests/): as the
// consumer's ServiceAccount, `eventplane dlq stats` on its queue. Without a
// kubelet here, the test renders those Pods and runs each one's command
// with the real eventplane binary against moto: it passes for a queue with
// a DLQ and fails for a queue that does not exist.
func TestHelmTestPodsCheckEachConsumersQueue(t *testing.T) {
	srv := motoserver.Shared(t)
	ctx := context.Background()
	c := awssqs.NewFromConfig(srv.Config())
	dlq, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("helmtest-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := c.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []types.QueueAttributeName{"QueueArn"}})
	q, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("helmtest"), Attributes: map[string]string{
		"RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":3}`, a.Attributes["QueueArn"])}})
	if err != nil {
		t.Fatal(err)
	}
	missing := strings.Replace(aws.ToString(q.QueueUrl), "/helmtest", "/helmtest-missing", 1)

	bin := filepath.Join(t.TempDir(), "eventplane")
	if out, err := exec.Command("go", "build", "-o", bin, filepath.Join(root, "consumers", "cmd", "eventplane")).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	rendered, err := helm(t, nil, "template", "eventplane", chart, "-n", "eventplane", "-f", values(t, fixture),
		"--set", "consumers[0].queue.url="+aws.ToString(q.QueueUrl), "--set", "consumers[0].queue.region=us-east-1",
		"--set", "consumers[1].queue.url="+missing, "--set", "consumers[1].queue.region=us-east-1",
		"--set", "operator.emulator.consumerEndpoint="+srv.Endpoint,
		"--show-only", "templates/tests/consumer-queues.yaml")
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, rendered)
	}
	var pods []corev1.Pod
	for _, doc := range strings.Split(rendered, "\n---\n") {
		var p corev1.Pod
		if err := yaml.Unmarshal([]byte(doc), &p); err != nil {
			t.Fatal(err)
		}
		if p.Kind == "Pod" {
			pods = append(pods, p)
		}
	}
	if len(pods) < 2 {
		t.Fatalf("%d test pods rendered:\n%s", len(pods), rendered)
	}
	for i, p := range pods[:2] {
		if p.Annotations["helm.sh/hook"] != "test" {
			t.Errorf("pod %s is not a helm test hook: %v", p.Name, p.Annotations)
		}
		ctr := p.Spec.Containers[0]
		if ctr.Command[0] != "/usr/local/bin/eventplane" || p.Spec.ServiceAccountName == "" ||
			p.Spec.SecurityContext == nil || p.Spec.SecurityContext.RunAsNonRoot == nil || !*p.Spec.SecurityContext.RunAsNonRoot {
			t.Errorf("pod %s: command %v, service account %q, security %+v", p.Name, ctr.Command, p.Spec.ServiceAccountName, p.Spec.SecurityContext)
		}
		cmd := exec.Command(bin, ctr.Args...)
		cmd.Env = append(os.Environ(), srv.Env()...)
		out, err := cmd.CombinedOutput()
		switch i {
		case 0:
			if err != nil || !strings.Contains(string(out), "helmtest-dlq: 0 dead letters") {
				t.Errorf("test pod %s (%v) on a queue with a DLQ: %v\n%s", p.Name, ctr.Args, err, out)
			}
		case 1:
			if err == nil {
				t.Errorf("test pod %s passed for a queue that does not exist:\n%s", p.Name, out)
			}
		}
	}
}
