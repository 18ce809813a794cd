package charttest

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/eventplane/eventplane/api/v1alpha1"
	"github.com/eventplane/eventplane/consumers/internal/testenv/kubetest"
	"github.com/eventplane/eventplane/consumers/operator"
	"github.com/eventplane/eventplane/consumers/sqs"
)

// simCluster is hack/cluster.sh's simulated cluster.
type simCluster struct {
	kubetest.Cluster
	env map[string]string
}

func clusterUp(t *testing.T) *simCluster {
	t.Helper()
	state := filepath.Join(t.TempDir(), "cluster")
	script := filepath.Join(root, "hack", "cluster.sh")
	up := exec.Command("bash", script, "up")
	up.Env = append(os.Environ(), "EVENTPLANE_CLUSTER="+state)
	out, err := up.CombinedOutput()
	down := func() {
		d := exec.Command("bash", script, "down")
		d.Env = up.Env
		_ = d.Run()
	}
	if err != nil {
		logs, _ := filepath.Glob(filepath.Join(state, "logs", "*.log"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			t.Logf("%s:\n%s", filepath.Base(l), tail(b, 2000))
		}
		down()
		t.Fatalf("hack/cluster.sh up: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, name := range []string{"keda", "keda-adapter", "kube-controller-manager"} {
				b, _ := os.ReadFile(filepath.Join(state, "logs", name+".log"))
				t.Logf("%s log (tail):\n%s", name, tail(b, 3000))
			}
		}
		down()
	})
	env := map[string]string{}
	f, err := os.Open(filepath.Join(state, "env"))
	kubetest.Must(t, "cluster env", err)
	defer func() { _ = f.Close() }() // read only
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", env["KUBECONFIG"])
	kubetest.Must(t, "kubeconfig", err)
	return &simCluster{Cluster: kubetest.Cluster{Config: cfg, Kubeconfig: env["KUBECONFIG"]}, env: env}
}

// timeline records what happened when, for the test log and the report.
type timeline struct {
	start time.Time
	mu    sync.Mutex
	lines []string
}

func (tl *timeline) mark(format string, args ...any) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.lines = append(tl.lines, fmt.Sprintf("%6.1fs  %s", time.Since(tl.start).Seconds(), fmt.Sprintf(format, args...)))
}

// KEDA itself scales a chart-installed consumer on a moto queue's depth in
// the simulated cluster: to zero, not below the activation length, up to
// ceil(depth/target) capped at maxReplicas, down by removing idle pods first
// (pod-deletion-cost from the in-flight source), held up by in-flight
// messages while scaleOnInFlight is on, and back to zero after the cooldown.
func TestKEDAScalesConsumerOnQueueDepth(t *testing.T) {
	c := clusterUp(t)
	tl := &timeline{start: time.Now()}
	t.Cleanup(func() { t.Logf("timeline:\n%s", strings.Join(tl.lines, "\n")) })
	ctx := context.Background()
	endpoint := c.env["AWS_ENDPOINT_URL"]
	q := awssqs.New(awssqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
	dlq, err := q.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("eventplane-e2e-work-dlq")})
	kubetest.Must(t, "DLQ", err)
	a, err := q.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []types.QueueAttributeName{"QueueArn"}})
	kubetest.Must(t, "DLQ ARN", err)
	work, err := q.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("eventplane-e2e-work"), Attributes: map[string]string{
		"RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":5}`, a.Attributes["QueueArn"])}})
	kubetest.Must(t, "queue", err)
	url := aws.ToString(work.QueueUrl)

	if out, err := c.Kubectl(t, nil, "create", "namespace", "eventplane"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if out, err := c.Kubectl(t, nil, "-n", "eventplane", "create", "secret", "generic", "moto-credentials",
		"--from-literal=AWS_ACCESS_KEY_ID=testing", "--from-literal=AWS_SECRET_ACCESS_KEY=testing"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	values := fmt.Sprintf(`
region: us-east-1
operator:
  tolerations: [{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}]
  emulator: {sqsEndpoint: %[1]q, consumerEndpoint: %[1]q, kedaEndpoint: %[1]q, kedaCredentialsSecret: moto-credentials}
consumerDefaults:
  pod:
    nodeSelector: {type: kwok}
    tolerations: [{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}]
consumers:
  - name: work
    queue: {url: %[2]q}
    routes: [{name: all, handler: log}]
    handlerTimeout: 10s
    scaling: {minReplicas: 0, maxReplicas: 4, targetQueueLength: 5, activationQueueLength: 2,
              pollingIntervalSeconds: 2, cooldownSeconds: 10, scaleOnInFlight: true, scaleDownStabilizationSeconds: 5}
`, endpoint, url)
	vf := filepath.Join(t.TempDir(), "values-e2e.yaml")
	kubetest.Must(t, "values", os.WriteFile(vf, []byte(values), 0o600))
	if out, err := helm(t, &c.Cluster, "install", "eventplane", chart, "-n", "eventplane", "--wait=false", "-f", vf); err != nil {
		t.Fatalf("helm install: %v\n%s", err, out)
	}
	tl.mark("helm install done")

	// The operator, in this process so that the in-flight source can be
	// injected (kwok pods run no consumer to ask), with the chart's emulator
	// settings.
	busy := kubetest.NewInFlight()
	scheme, err := operator.NewScheme()
	kubetest.Must(t, "scheme", err)
	mgr, err := ctrl.NewManager(c.Config, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}})
	kubetest.Must(t, "manager", err)
	kubetest.Must(t, "setup", operator.Setup(mgr, operator.Options{
		SQS:               func(context.Context, string) (sqs.AdminAPI, error) { return q, nil },
		QueuePollInterval: 2 * time.Second, ConsumerEndpoint: endpoint,
		KEDA:     operator.KEDAOptions{AWSEndpoint: endpoint, CredentialsSecret: "moto-credentials"},
		InFlight: busy, DeletionCostInterval: 500 * time.Millisecond,
	}))
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	cl := c.Client(t, client.Options{Scheme: scheme})

	// replicas is the Deployment's replica count (-1 while it or KEDA's
	// control of it is missing), ready replicas and live pods.
	replicas := func() (spec, ready int32, pods []corev1.Pod) {
		spec = -1
		var d appsv1.Deployment
		var so kedav1alpha1.ScaledObject
		if err := cl.Get(ctx, client.ObjectKey{Namespace: "eventplane", Name: "work"}, &so); err != nil || !so.Status.Conditions.AreInitialized() {
			return spec, 0, nil
		}
		if rc := so.Status.Conditions.GetReadyCondition(); !rc.IsTrue() {
			return spec, 0, nil
		}
		if err := cl.Get(ctx, client.ObjectKey{Namespace: "eventplane", Name: "work"}, &d); err == nil && d.Spec.Replicas != nil {
			spec, ready = *d.Spec.Replicas, d.Status.ReadyReplicas
		}
		var pl corev1.PodList
		_ = cl.List(ctx, &pl, client.InNamespace("eventplane"), client.MatchingLabels{operator.LabelConsumer: "work"})
		return spec, ready, pl.Items
	}
	waitReplicas := func(want int32, within time.Duration, what string) {
		t.Helper()
		kubetest.Eventually(t, within, what, func() (bool, string) {
			spec, ready, _ := replicas()
			return spec == want && (want == 0 || ready == want), fmt.Sprintf("spec %d ready %d", spec, ready)
		})
		tl.mark("%s: %d replicas", what, want)
	}
	send := func(n int) {
		for i := range n {
			_, err := q.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(`{"n":` + strconv.Itoa(i) + `}`)})
			kubetest.Must(t, "send", err)
		}
	}

	// 1. Empty queue: scaled to zero.
	waitReplicas(0, 90*time.Second, "empty queue -> scale to zero")

	// 2. Depth at the activation length: stays at zero.
	send(2)
	tl.mark("sent 2 (= activationQueueLength)")
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		if spec, _, _ := replicas(); spec != 0 {
			t.Fatalf("depth 2 with activationQueueLength 2 scaled to %d replicas", spec)
		}
	}
	tl.mark("still 0 replicas after 10s at depth 2")

	// 3. 23 messages, target 5 per replica: ceil(23/5) = 5, capped at 4.
	send(21)
	tl.mark("sent 21 more (depth 23)")
	want := int32(min(4, math.Ceil(23.0/5)))
	waitReplicas(want, 120*time.Second, "depth 23 -> ceil(23/5) capped at maxReplicas")

	// 5. kubectl shows the queue in the EventConsumer.
	kubetest.Eventually(t, 20*time.Second, "kubectl get eventconsumers shows depth 23", func() (bool, string) {
		out, err := c.Kubectl(t, nil, "-n", "eventplane", "get", "eventconsumers")
		if err != nil {
			return false, out
		}
		f := strings.Fields(strings.Split(strings.TrimSpace(out), "\n")[1])
		return f[0] == "work" && f[2] == "23" && f[3] == "0" && f[5] == "4", out
	})

	// 4. Safe scale-in: two pods are busy; lowering the depth to 10 asks for
	// 2 replicas, and the ReplicaSet must remove the two idle ones.
	// The busy pods are the two newest: the ones a ReplicaSet removes first
	// when deletion costs are equal, so keeping them proves the cost counts.
	_, _, pods := replicas()
	names := podNames(pods)
	if len(names) != 4 {
		t.Fatalf("pods: %v", names)
	}
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := readySince(pods[i]), readySince(pods[j])
		if !a.Equal(b) {
			return a.After(b)
		}
		return pods[i].CreationTimestamp.After(pods[j].CreationTimestamp.Time)
	})
	busyPods := []string{pods[0].Name, pods[1].Name}
	sort.Strings(busyPods)
	for _, p := range names {
		busy.Set(p, 0)
	}
	for _, p := range busyPods {
		busy.Set(p, 7)
	}
	kubetest.Eventually(t, 20*time.Second, "deletion costs written", func() (bool, string) {
		_, _, pods := replicas()
		got := map[string]string{}
		for _, p := range pods {
			got[p.Name] = p.Annotations[operator.DeletionCostAnnotation]
		}
		for _, p := range names {
			if want := strconv.Itoa(busy.Get(p)); got[p] != want {
				return false, fmt.Sprint(got)
			}
		}
		return true, ""
	})
	tl.mark("pods %v (the newest) busy: cost 7; the other two idle: cost 0", busyPods)
	take(t, q, url, 13, true)
	tl.mark("deleted 13 messages (depth 10)")
	kubetest.Eventually(t, 120*time.Second, "scale-in to 2 keeping the busy pods", func() (bool, string) {
		spec, _, pods := replicas()
		var alive []string
		for _, p := range pods {
			if p.DeletionTimestamp.IsZero() {
				alive = append(alive, p.Name)
			}
		}
		sort.Strings(alive)
		return spec == 2 && slices.Equal(alive, busyPods), fmt.Sprintf("spec %d, alive %v", spec, alive)
	})
	tl.mark("scaled in to 2: kept the busy pods %v, removed the idle ones", busyPods)

	// 3b. Scale-on-in-flight: the 10 left go in flight; with scaleOnInFlight
	// they keep the replicas (no visible message left).
	take(t, q, url, 10, false)
	tl.mark("received the last 10 (in flight, not deleted)")
	kubetest.Eventually(t, 20*time.Second, "status shows depth 0, in flight 10", func() (bool, string) {
		var ec v1alpha1.EventConsumer
		if err := cl.Get(ctx, client.ObjectKey{Namespace: "eventplane", Name: "work"}, &ec); err != nil {
			return false, err.Error()
		}
		return ec.Status.Queue.Depth == 0 && ec.Status.Queue.InFlight == 10, fmt.Sprintf("%+v", ec.Status.Queue)
	})
	out, _ := c.Kubectl(t, nil, "-n", "eventplane", "get", "eventconsumers")
	tl.mark("kubectl get eventconsumers:\n%s", out)
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(time.Second) {
		if spec, _, _ := replicas(); spec != 2 {
			t.Fatalf("scaleOnInFlight: 10 in flight should hold 2 replicas, got %d", spec)
		}
	}
	tl.mark("in flight 10 held 2 replicas for 20s (longer than cooldown + stabilization)")

	// 3c. Without scaleOnInFlight, in-flight work no longer counts: the
	// queue is drained as far as KEDA sees, and it goes back to zero after
	// the cooldown.
	var ec v1alpha1.EventConsumer
	kubetest.Must(t, "get", cl.Get(ctx, client.ObjectKey{Namespace: "eventplane", Name: "work"}, &ec))
	patch := client.MergeFrom(ec.DeepCopy())
	ec.Spec.Scaling.ScaleOnInFlight = false
	kubetest.Must(t, "patch", cl.Patch(ctx, &ec, patch))
	tl.mark("scaleOnInFlight set to false")
	waitReplicas(0, 120*time.Second, "only in-flight messages, scaleOnInFlight off -> back to zero after cooldown")
}

// readySince is when a pod last became Ready.
func readySince(p corev1.Pod) time.Time {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.LastTransitionTime.Time
		}
	}
	return p.CreationTimestamp.Time
}

func podNames(pods []corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		if p.DeletionTimestamp.IsZero() {
			out = append(out, p.Name)
		}
	}
	sort.Strings(out)
	return out
}

// take receives n messages with a 10-minute visibility timeout and deletes
// them if del.
func take(t *testing.T, q *awssqs.Client, url string, n int, del bool) {
	t.Helper()
	ctx := context.Background()
	for got := 0; got < n; {
		out, err := q.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url),
			MaxNumberOfMessages: int32(min(10, n-got)), VisibilityTimeout: 600, WaitTimeSeconds: 1})
		kubetest.Must(t, "receive", err)
		for _, m := range out.Messages {
			if del {
				_, err := q.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle})
				kubetest.Must(t, "delete", err)
			}
		}
		got += len(out.Messages)
	}
}
