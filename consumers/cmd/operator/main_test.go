package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/eventplane/eventplane/consumers/internal/testenv/kubetest"
	"github.com/eventplane/eventplane/consumers/internal/testenv/testserver"
)

// The operator binary, started with its default metrics settings (what the
// chart runs), refuses to hand /metrics to a caller without a bearer token
// (401), to one whose ServiceAccount is not allowed `get /metrics` (403),
// and to plain HTTP; a ServiceAccount bound to the metrics-reader rule
// scrapes it. The API server judges the tokens (TokenReview,
// SubjectAccessReview), so the operator needs no copy of any credential.
func TestOperatorMetricsRefuseUnauthenticatedScrapes(t *testing.T) {
	c := kubetest.Start(t)
	ctx := context.Background()
	bin := build(t)
	port, _ := testserver.FreePort()
	probe, _ := testserver.FreePort()
	cmd := exec.Command(bin, "--leader-elect=false", fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", port),
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probe), "--aws-region=us-east-1", "--deletion-cost-interval=-1s")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig)
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
			t.Logf("operator log:\n%s", b)
		}
	})

	cs, err := kubernetes.NewForConfig(c.Config)
	kubetest.Must(t, "clientset", err)
	token := func(sa string) string {
		_, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{})
		kubetest.Must(t, "create ServiceAccount "+sa, err)
		tr, err := cs.CoreV1().ServiceAccounts("default").CreateToken(ctx, sa, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
		kubetest.Must(t, "token of "+sa, err)
		return tr.Status.Token
	}
	// The chart's metrics-reader ClusterRole, bound to the scraper.
	_, err = cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "metrics-reader"},
		Rules: []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}}, metav1.CreateOptions{})
	kubetest.Must(t, "ClusterRole", err)
	_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "prometheus-metrics"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "metrics-reader"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "prometheus", Namespace: "default"}}}, metav1.CreateOptions{})
	kubetest.Must(t, "ClusterRoleBinding", err)
	prometheus, stranger := token("prometheus"), token("stranger")

	// The certificate is self-signed: the test checks who may read, not the
	// chain (Prometheus' ServiceMonitor sets insecureSkipVerify the same way).
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // #nosec G402 -- self-signed test server
	scrape := func(scheme, bearer string) (int, string, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s://127.0.0.1:%d/metrics", scheme, port), nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, string(b), nil
	}
	testserver.Eventually(t, 60*time.Second, "metrics endpoint answers", func() (bool, string) {
		code, body, err := scrape("https", prometheus)
		if err != nil {
			return false, err.Error()
		}
		return code == http.StatusOK && strings.Contains(body, "controller_runtime_"), fmt.Sprintf("%d %.200s", code, body)
	})
	for _, tc := range []struct {
		name, scheme, bearer string
		want                 int
	}{
		{"no token", "https", "", http.StatusUnauthorized},
		// controller-runtime's filter answers a token TokenReview rejects
		// with 500 "Authentication failed": refused all the same.
		{"a token the API server does not know", "https", "forged.token.value", 0},
		{"a ServiceAccount without get /metrics", "https", stranger, http.StatusForbidden},
	} {
		code, body, err := scrape(tc.scheme, tc.bearer)
		refused := code == tc.want || tc.want == 0 && code >= 400
		if err != nil || !refused || strings.Contains(body, "controller_runtime_") {
			t.Errorf("%s: %d %v (%.120q), want %d (0: any refusal) and no metrics", tc.name, code, err, body, tc.want)
		}
	}
	if code, body, err := scrape("http", ""); err == nil && strings.Contains(body, "controller_runtime_") {
		t.Errorf("plain http: %d, served the metrics", code)
	}
}

// build compiles the operator binary into a temporary folder.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "operator")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// The operator logs as every other eventplane binary does: log/slog's JSON
// lines on stdout (time, level, msg), at the level --log-level names. The
// lines of controller-runtime (the controller starting) and of client-go's
// klog (leader election) go through the same handler, so nothing on
// stdout or stderr is zap's or klog's own format. Before, zap wrote
// "ts"-keyed lines and the flag did not exist.
func TestOperatorLogsJSONLinesWithSlog(t *testing.T) {
	c := kubetest.StartWith(t, true)
	bin := build(t)
	probe, _ := testserver.FreePort()
	cmd := exec.Command(bin, "--log-level=debug", "--leader-elect=true", "--leader-election-namespace=default", "--metrics-bind-address=0",
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probe), "--aws-region=us-east-1", "--deletion-cost-interval=-1s")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Signal(os.Interrupt)
			_ = cmd.Wait()
		}
	}
	t.Cleanup(stop)
	want := map[string]func(map[string]any) bool{
		"the binary's own start line": func(l map[string]any) bool { return l["msg"] == "starting" && l["binary"] == "operator" },
		"controller-runtime's controller start": func(l map[string]any) bool {
			return l["msg"] == "Starting Controller" && l["controller"] == "eventconsumer"
		},
		"client-go's leader election (klog)": func(l map[string]any) bool {
			m, _ := l["msg"].(string)
			return strings.Contains(strings.ToLower(m), "successfully acquired lease")
		},
		"a debug line (--log-level=debug)": func(l map[string]any) bool { return l["level"] == "DEBUG" },
	}
	testserver.Eventually(t, 60*time.Second, "the operator's log lines", func() (bool, string) {
		var missing []string
		lines := jsonLines(t, stdout.Bytes())
		for what, match := range want {
			found := false
			for _, l := range lines {
				found = found || match(l)
			}
			if !found {
				missing = append(missing, what)
			}
		}
		return len(missing) == 0, fmt.Sprintf("missing %v in:\n%s", missing, stdout.Bytes())
	})
	stop()
	for i, l := range jsonLines(t, stdout.Bytes()) {
		_, isTime := l["time"].(string)
		level, _ := l["level"].(string)
		_, hasMsg := l["msg"].(string)
		if !isTime || !hasMsg || !strings.Contains(" DEBUG INFO WARN ERROR ", " "+level+" ") {
			t.Errorf("stdout line %d is not a slog JSON line (time, level, msg): %v", i+1, l)
		}
	}
	if s := strings.TrimSpace(string(stderr.Bytes())); s != "" {
		t.Errorf("the operator wrote outside its JSON log, on stderr:\n%s", s)
	}

	// A level that does not exist is refused at start, naming the flag.
	out, err := exec.Command(bin, "--log-level=loud").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--log-level") || !strings.Contains(string(out), "loud") {
		t.Errorf("--log-level=loud: %v %s, want a refusal naming the flag and the value", err, out)
	}
}

// jsonLines parses each line of out as a JSON object and fails the test on
// the first line that is not one.
func jsonLines(t *testing.T, out []byte) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for i, b := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		if len(b) == 0 {
			continue
		}
		var l map[string]any
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatalf("stdout line %d is not JSON (%v): %s", i+1, err, b)
		}
		lines = append(lines, l)
	}
	return lines
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}
