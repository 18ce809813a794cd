// Package charttest tests the Helm chart (charts/eventplane) and the kustomize overlays with real
// tools: helm built from the Go module proxy (hack/tools.sh helm), kubectl,
// and a real kube-apiserver (hack/kube.sh) with the project's and KEDA's CRDs.
package charttest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eventplane/eventplane/api/v1alpha1"
	"github.com/eventplane/eventplane/consumers/bootstrap"
	"github.com/eventplane/eventplane/consumers/internal/testenv/kubetest"
	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
	"github.com/eventplane/eventplane/consumers/internal/testenv/testserver"
	"github.com/eventplane/eventplane/consumers/operator"
	"github.com/eventplane/eventplane/consumers/topology"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }

var (
	root  = kubetest.RepoRoot()
	chart = filepath.Join(root, "charts", "eventplane")
	envs  = []string{"dev", "staging", "prod"}
)

// values writes the values hack/helm-values.sh makes from a Terraform
// output document and returns the file's path.
func values(t *testing.T, env, tfOutput string) string {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(root, "hack", "helm-values.sh"), env)
	cmd.Env = append(os.Environ(), "TF_OUTPUT_JSON="+tfOutput)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hack/helm-values.sh %s: %v\n%s", env, err, stderr(err))
	}
	p := filepath.Join(t.TempDir(), "values-"+env+".generated.yaml")
	if err := os.WriteFile(p, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func stderr(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

func helm(t *testing.T, c *kubetest.Cluster, args ...string) (string, error) {
	t.Helper()
	bin := kubetest.Tool(t, "helm")
	if c != nil {
		return c.Run(t, nil, bin, args...)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	return string(out), err
}

var fixture = filepath.Join(root, "hack", "helmvalues", "testdata", "dev-output.json")

func TestHelmLintStrictPerEnvironment(t *testing.T) {
	gen := values(t, "dev", fixture)
	for _, env := range envs {
		out, err := helm(t, nil, "lint", "--strict", chart, "-f", filepath.Join(chart, "values-"+env+".yaml"), "-f", gen)
		if err != nil {
			t.Errorf("helm lint --strict with values-%s.yaml: %v\n%s", env, err, out)
		}
	}
}

// The schema stops bad values before anything reaches the cluster, and the
// message names the offending key.
func TestSchemaRejectsBadValues(t *testing.T) {
	gen := values(t, "dev", fixture)
	cases := []struct{ set, want string }{
		{"consumers[0].queue.url=orders", "/consumers/0/queue/url"},
		{"consumerDefaults.scaling.maxReplicas=0", "/consumerDefaults/scaling/maxReplicas"},
		{"operator.logLevel=loud", "/operator/logLevel"},
		{"consumers[1].routes[0].handler=1teleport", "/consumers/1/routes/0/handler"},
		{"image.digest=latest", "/image/digest"},
		{"consumerDefaults.handlerTimeout=soon", "/consumerDefaults/handlerTimeout"},
		{"consumers[0].replicas=3", "replicas"},
	}
	for _, tc := range cases {
		out, err := helm(t, nil, "template", "x", chart, "-f", gen, "--set", tc.set)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("--set %s: err = %v, want a schema error naming %s; output:\n%.600s", tc.set, err, tc.want, out)
		}
	}
}

// Every environment's rendering, and every kustomize overlay, is accepted by
// a real API server (server-side dry run, with our CRD and KEDA's).
func TestRenderedManifestsPassServerDryRun(t *testing.T) {
	c := kubetest.Start(t)
	if out, err := c.Kubectl(t, nil, "create", "namespace", "eventplane"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	gen := values(t, "dev", fixture)
	for _, env := range envs {
		// No Prometheus Operator CRDs here: its ServiceMonitor is checked
		// by rendering only.
		rendered, err := helm(t, nil, "template", "eventplane", chart, "-n", "eventplane",
			"-f", filepath.Join(chart, "values-"+env+".yaml"), "-f", gen, "--set", "serviceMonitor.enabled=false")
		if err != nil {
			t.Fatalf("helm template %s: %v\n%s", env, err, rendered)
		}
		if n := strings.Count(rendered, "kind: EventConsumer"); n != 5 {
			t.Errorf("%s: %d EventConsumers rendered, want the topology's 5", env, n)
		}
		if out, err := c.Kubectl(t, []byte(rendered), "apply", "--dry-run=server", "-f", "-"); err != nil {
			t.Errorf("helm template %s | kubectl apply --dry-run=server: %v\n%s", env, err, out)
		}
		built, err := c.Kubectl(t, nil, "kustomize", filepath.Join(root, "kustomize", "overlays", env))
		if err != nil {
			t.Fatalf("kubectl kustomize %s: %v\n%s", env, err, built)
		}
		if out, err := c.Kubectl(t, []byte(built), "apply", "--dry-run=server", "-f", "-"); err != nil {
			t.Errorf("kubectl kustomize overlays/%s | kubectl apply --dry-run=server: %v\n%s", env, err, out)
		}
	}
}

func TestInstallFailsClearlyWithoutKEDA(t *testing.T) {
	c := kubetest.StartWith(t, false)
	out, err := helm(t, c, "install", "eventplane", chart, "-n", "eventplane", "--create-namespace", "-f", values(t, "dev", fixture))
	if err == nil || !strings.Contains(out, "KEDA is not installed in this cluster") || !strings.Contains(out, "scaledobjects.keda.sh") {
		t.Fatalf("helm install without KEDA: err = %v, want the KEDA explanation; output:\n%s", err, out)
	}
}

// End to end: the dev values made from Terraform outputs (here: moto queues
// named as Terraform names them), a real helm install, then the operator
// binary running with the chart's ServiceAccount permissions (impersonated):
// every consumer gets its Deployment, ScaledObject and TriggerAuthentication,
// leader election works, and the status shows the moto queue's depth.
func TestHelmInstallThenOperatorDeploysConsumers(t *testing.T) {
	c := kubetest.Start(t)
	moto := motoserver.Shared(t)
	sqs := awssqs.NewFromConfig(moto.Config())
	tfOut := motoOutputs(t, sqs, moto.Endpoint)
	gen := values(t, "dev", tfOut)
	if out, err := helm(t, c, "install", "eventplane", chart, "-n", "eventplane", "--create-namespace", "--wait=false",
		"-f", filepath.Join(chart, "values-dev.yaml"), "-f", gen); err != nil {
		t.Fatalf("helm install: %v\n%s", err, out)
	}
	if out, err := helm(t, c, "status", "eventplane", "-n", "eventplane"); err != nil || !strings.Contains(out, "port-forward deploy/<consumer> 9090:9090") {
		t.Errorf("helm status (NOTES): %v\n%s", err, out)
	}

	bin := filepath.Join(t.TempDir(), "operator")
	build := exec.Command("go", "build", "-o", bin, "./consumers/cmd/operator")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build operator: %v\n%s", err, out)
	}
	kc := impersonating(t, c.Kubeconfig, "system:serviceaccount:eventplane:eventplane-operator")
	probe, _ := testserver.FreePort()
	// --watch-namespace as the chart's default (namespaced RBAC) passes it.
	cmd := exec.Command(bin, "--leader-elect=true", "--leader-election-namespace=eventplane", "--watch-namespace=eventplane",
		"--metrics-bind-address=0", fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probe),
		"--aws-region=us-east-1", "--sqs-endpoint="+moto.Endpoint, "--queue-poll-interval=1s", "--deletion-cost-interval=-1s")
	cmd.Env = append(append(os.Environ(), moto.Env()...), "KUBECONFIG="+kc)
	logf, _ := os.Create(filepath.Join(t.TempDir(), "operator.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("operator log:\n%s", tail(b, 6000))
		}
	})
	kubetest.Eventually(t, 30*time.Second, "operator /readyz", func() (bool, string) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", probe))
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})

	scheme, err := operator.NewScheme()
	kubetest.Must(t, "scheme", err)
	cl := c.Client(t, client.Options{Scheme: scheme})
	ctx := context.Background()
	top, err := topology.Load(filepath.Join(root, "api", "topology.yaml"))
	kubetest.Must(t, "topology", err)
	for _, tc := range top.Consumers {
		key := client.ObjectKey{Namespace: "eventplane", Name: tc.Name}
		kubetest.Eventually(t, 30*time.Second, "children of "+tc.Name, func() (bool, string) {
			var d appsv1.Deployment
			var so kedav1alpha1.ScaledObject
			var ta kedav1alpha1.TriggerAuthentication
			for _, o := range []client.Object{&d, &so, &ta} {
				if err := cl.Get(ctx, key, o); err != nil {
					return false, err.Error()
				}
			}
			if so.Spec.Triggers[0].Metadata["queueURL"] != queueURL(moto.Endpoint, tc.Queue) || *so.Spec.MaxReplicaCount != 3 {
				return false, fmt.Sprintf("ScaledObject %+v", so.Spec)
			}
			if ta.Spec.PodIdentity == nil || ta.Spec.PodIdentity.Provider != kedav1alpha1.PodIdentityProviderAws {
				return false, fmt.Sprintf("TriggerAuthentication %+v", ta.Spec)
			}
			if d.Spec.Template.Spec.Containers[0].Image != "ghcr.io/eventplane/eventplane:0.1.0" {
				return false, "image " + d.Spec.Template.Spec.Containers[0].Image
			}
			return true, ""
		})
	}
	var lease coordinationv1.Lease
	kubetest.Must(t, "leader-election Lease", cl.Get(ctx, client.ObjectKey{Namespace: "eventplane", Name: "eventplane-operator.eventplane.io"}, &lease))

	for range 4 {
		_, err := sqs.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(queueURL(moto.Endpoint, "orders")), MessageBody: aws.String(`{}`)})
		kubetest.Must(t, "send", err)
	}
	kubetest.Eventually(t, 30*time.Second, "orders depth 4 in status", func() (bool, string) {
		var ec v1alpha1.EventConsumer
		if err := cl.Get(ctx, client.ObjectKey{Namespace: "eventplane", Name: "orders"}, &ec); err != nil {
			return false, err.Error()
		}
		return ec.Status.Queue.Depth == 4, fmt.Sprintf("%+v", ec.Status.Queue)
	})
}

const prefix = "eventplane-dev"

func queueURL(endpoint, logical string) string {
	return endpoint + "/123456789012/" + bootstrap.Name(prefix, logical)
}

// motoOutputs creates the topology's queues in moto under Terraform's names
// and returns a `terraform output -json` document describing them.
func motoOutputs(t *testing.T, sqs *awssqs.Client, endpoint string) string {
	t.Helper()
	top, err := topology.Load(filepath.Join(root, "api", "topology.yaml"))
	kubetest.Must(t, "topology", err)
	ctx := context.Background()
	names := map[string]map[string]string{"table_names": {}, "bucket_names": {}, "topic_arns": {}, "bus_names": {}, "queue_urls": {}}
	for _, x := range top.Tables {
		names["table_names"][x.Name] = bootstrap.Name(prefix, x.Name)
	}
	for _, x := range top.Buckets {
		names["bucket_names"][x.Name] = bootstrap.Name(prefix, x.Name)
	}
	for _, x := range top.Topics {
		names["topic_arns"][x.Name] = "arn:aws:sns:us-east-1:123456789012:" + bootstrap.Name(prefix, x.Name)
	}
	for _, x := range top.Buses {
		names["bus_names"][x.Name] = bootstrap.Name(prefix, x.Name)
	}
	consumerQueues := map[string]map[string]string{}
	for _, q := range top.Queues {
		attrs := map[string]string{}
		if strings.HasSuffix(q.Name, ".fifo") {
			attrs["FifoQueue"] = "true"
		}
		dlq, err := sqs.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(bootstrap.Name(prefix, q.Name+"-dlq")), Attributes: attrs})
		kubetest.Must(t, "create DLQ", err)
		a, err := sqs.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []types.QueueAttributeName{"QueueArn"}})
		kubetest.Must(t, "DLQ ARN", err)
		attrs["RedrivePolicy"] = fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":5}`, a.Attributes["QueueArn"])
		out, err := sqs.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(bootstrap.Name(prefix, q.Name)), Attributes: attrs})
		kubetest.Must(t, "create queue", err)
		names["queue_urls"][q.Name] = aws.ToString(out.QueueUrl)
		for _, c := range top.Consumers {
			if c.Queue == q.Name {
				consumerQueues[c.Name] = map[string]string{"queue_url": aws.ToString(out.QueueUrl), "dlq_url": aws.ToString(dlq.QueueUrl)}
			}
		}
	}
	value := map[string]any{"region": "us-east-1", "name_prefix": prefix, "consumer_queues": consumerQueues}
	for k, v := range names {
		value[k] = v
	}
	b, _ := json.Marshal(map[string]any{"platform": map[string]any{"value": value}})
	p := filepath.Join(t.TempDir(), "tf-output.json")
	kubetest.Must(t, "write outputs", os.WriteFile(p, b, 0o600))
	return p
}

// impersonating writes a copy of a kubeconfig whose user acts as another.
func impersonating(t *testing.T, kubeconfig, as string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	kubetest.Must(t, "load kubeconfig", err)
	for _, u := range cfg.AuthInfos {
		u.Impersonate = as
	}
	p := filepath.Join(t.TempDir(), "kubeconfig-as")
	kubetest.Must(t, "write kubeconfig", clientcmd.WriteToFile(*cfg, p))
	return p
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
