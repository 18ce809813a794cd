package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	bin := filepath.Join(t.TempDir(), "operator")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	port, _ := testserver.FreePort()
	probe, _ := testserver.FreePort()
	cmd := exec.Command(bin, "--leader-elect=false", fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", port),
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probe), "--aws-region=us-east-1", "--deletion-cost-interval=-1s")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig)
	kubetest.StartProcess(t, "operator", cmd)

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
