// Package kubetest runs a real Kubernetes control plane for tests: etcd and
// kube-apiserver through envtest (built by hack/kube.sh), the project's CRDs
// and KEDA's (from the keda/v2 Go module), and optionally
// kube-controller-manager for garbage collection and ReplicaSets. It also
// writes an admin kubeconfig so that kubectl and helm can be pointed at it.
package kubetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/eventplane/eventplane/consumers/internal/testenv/testserver"
)

// Cluster is a running control plane.
type Cluster struct {
	Env *envtest.Environment
	// Config is a system:masters client configuration.
	Config *rest.Config
	// Kubeconfig is the path of an admin kubeconfig file.
	Kubeconfig string
	// Assets is the folder holding the control-plane binaries.
	Assets string
}

// Assets returns the folder holding etcd, kube-apiserver and the other
// control-plane binaries (KUBEBUILDER_ASSETS or hack/kube.sh's cache) and
// fails the test, naming the command that builds them, when one is missing.
func Assets(tb testing.TB, binaries ...string) string {
	tb.Helper()
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "eventplane", "kube")
	}
	for _, b := range append([]string{"etcd", "kube-apiserver"}, binaries...) {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil { // #nosec G703 -- test helper: looks for tool binaries in the project's cache folder
			tb.Fatalf("%s not found in %s: build the control plane with `hack/kube.sh`", b, dir)
		}
	}
	return dir
}

// RepoRoot is the repository's root folder.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..")
}

// KEDACRDs is the folder of KEDA's CRDs in the keda/v2 module the
// operator is built with.
func KEDACRDs(tb testing.TB) string {
	tb.Helper()
	cmd := exec.Command("go", "list", "-m", "-json", "github.com/kedacore/keda/v2")
	cmd.Dir = RepoRoot()
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("locate the keda/v2 module (run `go mod download github.com/kedacore/keda/v2`): %v", err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		tb.Fatalf("locate the keda/v2 module: %s (run `go mod download github.com/kedacore/keda/v2`)", out)
	}
	return filepath.Join(m.Dir, "config", "crd", "bases")
}

// Start runs etcd and kube-apiserver with the EventConsumer CRD and KEDA's
// CRDs installed, stopped when the test ends.
func Start(tb testing.TB) *Cluster {
	tb.Helper()
	return StartWith(tb, true)
}

// StartWith is Start, with or without KEDA's CRDs.
func StartWith(tb testing.TB, keda bool) *Cluster {
	tb.Helper()
	tmp := tb.TempDir()
	crds := []string{filepath.Join(RepoRoot(), "charts", "eventplane", "crds")}
	if keda {
		crds = append(crds, KEDACRDs(tb))
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: Assets(tb),
		CRDDirectoryPaths:     crds,
		ErrorIfCRDPathMissing: true,
	}
	// envtest puts etcd's data and certificates under TMPDIR.
	tb.Setenv("TMPDIR", tmp)
	cfg, err := env.Start()
	if err != nil {
		tb.Fatalf("start kube-apiserver: %v", err)
	}
	tb.Cleanup(func() { _ = env.Stop() })
	user, err := env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tmp, "kubeconfig")
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		tb.Fatal(err)
	}
	return &Cluster{Env: env, Config: cfg, Kubeconfig: path, Assets: env.BinaryAssetsDirectory}
}

// Client returns a client for the cluster with the given scheme.
func (c *Cluster) Client(tb testing.TB, opts client.Options) client.Client {
	tb.Helper()
	cl, err := client.New(c.Config, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return cl
}

// Tool returns the path of a command-line tool built by hack/tools.sh (its
// cache folder, EVENTPLANE_TOOLS, or the PATH) and fails the test with the
// command that builds it when it is missing.
func Tool(tb testing.TB, name string) string {
	tb.Helper()
	dir := os.Getenv("EVENTPLANE_TOOLS")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "eventplane", "bin")
	}
	if p := filepath.Join(dir, name); fileExists(p) {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	tb.Fatalf("%s not found in %s or on the PATH: build it with `hack/tools.sh %s`", name, dir, name)
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil } // #nosec G703 -- test helper: looks for tool binaries in the project's cache folder

// Run runs a command with KUBECONFIG pointing at the cluster and returns its
// combined output.
func (c *Cluster) Run(tb testing.TB, stdin []byte, name string, args ...string) (string, error) {
	tb.Helper()
	cmd := exec.Command(name, args...) // #nosec G204 -- test helper: runs the tool (kubectl, helm) its test names
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	return out.String(), err
}

// Kubectl runs kubectl against the cluster and returns its output.
func (c *Cluster) Kubectl(tb testing.TB, stdin []byte, args ...string) (string, error) {
	tb.Helper()
	if _, err := exec.LookPath("kubectl"); err != nil {
		tb.Fatal("kubectl not on PATH: install it (apt-get install kubectl, or the distribution's kubernetes-client package)")
	}
	return c.Run(tb, stdin, "kubectl", args...)
}

// StartControllerManager runs kube-controller-manager with the given
// controllers (e.g. "garbagecollector", "replicaset") against the cluster
// until the test ends.
func (c *Cluster) StartControllerManager(tb testing.TB, controllers string, extra ...string) {
	tb.Helper()
	Assets(tb, "kube-controller-manager")
	port, err := testserver.FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	args := append([]string{
		"--kubeconfig=" + c.Kubeconfig,
		"--authentication-kubeconfig=" + c.Kubeconfig,
		"--authorization-kubeconfig=" + c.Kubeconfig,
		"--controllers=" + controllers,
		"--leader-elect=false",
		"--use-service-account-credentials=false",
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + tb.TempDir(),
	}, extra...)
	cmd := exec.Command(filepath.Join(c.Assets, "kube-controller-manager"), args...) // #nosec G204 -- test helper: kube-controller-manager built by hack/kube.sh
	logf, err := os.Create(filepath.Join(tb.TempDir(), "kube-controller-manager.log"))
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start kube-controller-manager: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done //nolint:errcheck // killed: its exit status says only that
		if tb.Failed() {
			b, _ := os.ReadFile(logf.Name())
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			tb.Logf("kube-controller-manager log (tail):\n%s", b)
		}
		_ = logf.Close()
	})
	select {
	case err := <-done:
		b, _ := os.ReadFile(logf.Name())
		tb.Fatalf("kube-controller-manager exited: %v\n%s", err, b)
	case <-time.After(500 * time.Millisecond):
	}
}

// Eventually polls until cond holds (testserver.Eventually).
var Eventually = testserver.Eventually

// Must fails the test on err, naming what failed.
func Must(tb testing.TB, what string, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(fmt.Errorf("%s: %w", what, err))
	}
}

// InFlight is an operator.InFlightSource for tests: pods under envtest or
// kwok run no consumer to ask, so the test sets each pod's figure.
type InFlight struct {
	mu sync.Mutex
	n  map[string]int
}

// NewInFlight returns an InFlight with no figures.
func NewInFlight() *InFlight { return &InFlight{n: map[string]int{}} }

// Set sets a pod's in-flight count.
func (f *InFlight) Set(pod string, n int) { f.mu.Lock(); f.n[pod] = n; f.mu.Unlock() }

// Get returns a pod's in-flight count.
func (f *InFlight) Get(pod string) int { f.mu.Lock(); defer f.mu.Unlock(); return f.n[pod] }

// InFlight implements operator.InFlightSource; a pod without a figure is an
// error, as an unreachable admin endpoint would be.
func (f *InFlight) InFlight(_ context.Context, pod *corev1.Pod) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, ok := f.n[pod.Name]
	if !ok {
		return 0, fmt.Errorf("no in-flight figure for pod %s", pod.Name)
	}
	return n, nil
}

// StartProcess starts cmd (a controller under test, such as the operator
// binary) with its output in a log file, and at the test's end interrupts
// it, waits for it and, when the test failed, logs the last 6 kB of its
// output under name.
func StartProcess(tb testing.TB, name string, cmd *exec.Cmd) {
	tb.Helper()
	logf, err := os.Create(filepath.Join(tb.TempDir(), name+".log"))
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", name, err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait() // interrupted: its exit status says only that
		if tb.Failed() {
			b, _ := os.ReadFile(logf.Name())
			if len(b) > 6000 {
				b = b[len(b)-6000:]
			}
			tb.Logf("%s log:\n%s", name, b)
		}
	})
}
