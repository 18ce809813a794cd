package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventplane/eventplane/consumers/internal/testenv/testserver"
)

// devStack is a running `eventplane dev` with the environment its banner
// says to export.
type devStack struct {
	url, awsURL string
	dir         string
	env         []string // the banner's export line
	banner      string
	home        string // HOME of the clients: no ~/.aws of the machine
}

func startAWSDev(t *testing.T) *devStack {
	t.Helper()
	port, _ := testserver.FreePort()
	awsPort, _ := testserver.FreePort()
	addr, awsAddr := fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("127.0.0.1:%d", awsPort)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	out := &syncBuilder{}
	dir := t.TempDir()
	go func() {
		done <- dev(ctx, devOptions{topology: "../../../api/topology.yaml", dir: dir, addr: addr, awsAddr: awsAddr,
			log: slog.New(slog.NewTextHandler(io.Discard, nil))}, out)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("eventplane dev: %v", err)
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(out.String(), "eventplane is up") {
		if time.Now().After(deadline) {
			t.Fatalf("eventplane dev did not start: %s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	s := &devStack{url: "http://" + addr, awsURL: "http://" + awsAddr, dir: dir, home: t.TempDir(), banner: out.String()}
	for _, l := range strings.Split(out.String(), "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "export ") {
			s.env = strings.Fields(strings.TrimPrefix(l, "export "))
		}
	}
	if !strings.Contains(strings.Join(s.env, " "), "AWS_ENDPOINT_URL="+s.awsURL) {
		t.Fatalf("banner has no export line with the endpoint:\n%s", out.String())
	}
	return s
}

// environ is the process environment of a client: PATH, a HOME of its
// own, no AWS config of the machine, and the banner's variables.
func (s *devStack) environ(extra ...string) []string {
	env := []string{"HOME=" + s.home, "PATH=" + os.Getenv("PATH"), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
	return append(append(env, s.env...), extra...)
}

// tableRows is the number of items of a topology table, from the
// dashboard's state API.
func (s *devStack) tableRows(t *testing.T, table string) int {
	t.Helper()
	resp, err := http.Get(s.url + "/api/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Tables map[string]int `json:"tables"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st.Tables[table]
}

func (s *devStack) waitRows(t *testing.T, table string, atLeast int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for n := s.tableRows(t, table); n < atLeast; n = s.tableRows(t, table) {
		if time.Now().After(deadline) {
			t.Fatalf("table %s has %d items, want at least %d", table, n, atLeast)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The aws CLI's S3 commands against `eventplane dev`, configured by the
// banner's variables and path-style addressing (s3.addressing_style, as
// for any S3 emulator): `aws s3 cp` of a CSV under incoming/ runs the files
// Lambda flow (rows in the files table), `aws s3api list-objects-v2` lists
// it, `aws s3 cp` back to stdout reads it, a missing key is a 404 and
// `aws s3 rm` removes it.
func TestAWSCLIS3AgainstDev(t *testing.T) {
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		t.Fatal("the aws CLI is not installed: run hack/awscli.sh (hack/setup.sh test does)")
	}
	s := startAWSDev(t)
	// The banner says how to address buckets and that credentials are not checked.
	for _, want := range []string{"S3", "addressing_style path", "credentials are accepted, not checked", "AWS_ACCESS_KEY_ID=test"} {
		if !strings.Contains(s.banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, s.banner)
		}
	}
	work := t.TempDir()
	cfg := filepath.Join(work, "config")
	aws := func(args ...string) (string, error) {
		cmd := exec.Command(awsBin, args...)
		cmd.Dir = work
		cmd.Env = append(s.environ(), "AWS_CONFIG_FILE="+cfg) // the later entry wins
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := aws(args...)
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	// The banner's S3 line, run as it says.
	must("configure", "set", "default.s3.addressing_style", "path")
	if b, err := os.ReadFile(cfg); err != nil || !strings.Contains(string(b), "addressing_style = path") {
		t.Fatalf("aws configure wrote %q (%v)", b, err)
	}
	csv := "orderId,customerId,total\ncli-1,c-1,12.5\ncli-2,c-2,30\n"
	if err := os.WriteFile(filepath.Join(work, "orders.csv"), []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	if n := s.tableRows(t, "files"); n != 0 {
		t.Fatalf("files table has %d items before the upload", n)
	}
	must("s3", "cp", "orders.csv", "s3://local-uploads/incoming/orders.csv")
	s.waitRows(t, "files", 1)

	var list struct {
		Contents []struct {
			Key  string
			Size int
			ETag string
		}
	}
	if err := json.Unmarshal([]byte(must("s3api", "list-objects-v2", "--bucket", "local-uploads", "--prefix", "incoming/", "--output", "json")), &list); err != nil {
		t.Fatal(err)
	}
	// (The CLI pages through the listing and merges Contents; it drops KeyCount.)
	if len(list.Contents) != 1 || list.Contents[0].Key != "incoming/orders.csv" || list.Contents[0].Size != len(csv) {
		t.Errorf("list-objects-v2: %+v", list)
	}
	if got := must("s3", "cp", "s3://local-uploads/incoming/orders.csv", "-"); got != csv {
		t.Errorf("aws s3 cp to stdout: %q, want the uploaded CSV", got)
	}
	out, err := aws("s3api", "head-object", "--bucket", "local-uploads", "--key", "incoming/nope.csv")
	if err == nil || !strings.Contains(out, "404") {
		t.Errorf("head-object of a missing key: %v %s, want a 404", err, out)
	}
	out, err = aws("s3api", "get-object", "--bucket", "local-uploads", "--key", "incoming/nope.csv", filepath.Join(work, "x"))
	if err == nil || !strings.Contains(out, "NoSuchKey") {
		t.Errorf("get-object of a missing key: %v %s, want NoSuchKey", err, out)
	}
	out, err = aws("s3", "ls", "s3://no-such-bucket/")
	if err == nil || !strings.Contains(out, "NoSuchBucket") {
		t.Errorf("ls of an unknown bucket: %v %s, want NoSuchBucket", err, out)
	}
	if out := must("s3", "ls"); !strings.Contains(out, "local-uploads") || !strings.Contains(out, "local-lake") {
		t.Errorf("aws s3 ls: %s", out)
	}
	// Over 8 MiB the CLI uploads in parts (CreateMultipartUpload, UploadPart,
	// CompleteMultipartUpload): the object is whole in the folder.
	big := make([]byte, 9<<20)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	if err := os.WriteFile(filepath.Join(work, "big.bin"), big, 0o600); err != nil {
		t.Fatal(err)
	}
	must("s3", "cp", "big.bin", "s3://local-lake/big/big.bin")
	if b, err := os.ReadFile(filepath.Join(s.dir, "buckets", "local-lake", "big", "big.bin")); err != nil || !bytes.Equal(b, big) {
		t.Errorf("multipart upload stored %d bytes (%v), want %d", len(b), err, len(big))
	}
	must("s3", "rm", "s3://local-uploads/incoming/orders.csv")
	if _, err := os.Stat(filepath.Join(s.dir, "buckets", "local-uploads", "incoming", "orders.csv")); !os.IsNotExist(err) {
		t.Errorf("the object's file is still there after aws s3 rm: %v", err)
	}
}

// boto3 (a second language's SDK, PyPI, hack/boto3.sh) drives flows 1 and
// 3 against `eventplane dev`, configured only by the banner's variables:
// an S3 put under incoming/ runs the files Lambda (rows in the files
// table) and reads back; an SNS publish to order-events reaches the
// order-analytics queue, which boto3 receives and deletes from.
func TestBoto3AgainstDev(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Fatal("boto3 is not installed: run hack/boto3.sh (hack/setup.sh test does)")
	}
	s := startAWSDev(t)
	cmd := exec.Command("python3", "testdata/boto3_flow.py")
	cmd.Env = s.environ()
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("boto3 flow: %v\n%s%s", err, out, stderr)
	}
	var res struct {
		ETag, Body  string
		Keys        []string
		MessageID   string
		Received    string
		Left        string
		MissingCode string
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("boto3 flow output %q: %v", out, err)
	}
	if res.Body != "orderId,customerId,total\nboto-1,c-1,9.5\n" || len(res.Keys) != 1 || res.Keys[0] != "incoming/boto3.csv" || res.ETag == "" {
		t.Errorf("boto3 S3: %+v", res)
	}
	if res.MissingCode != "NoSuchKey" {
		t.Errorf("boto3 get_object of a missing key: error code %q, want NoSuchKey", res.MissingCode)
	}
	s.waitRows(t, "files", 1)
	if res.MessageID == "" || res.Received != `{"detail":{"total":7,"source":"boto3"}}` || res.Left != "0" {
		t.Errorf("boto3 SNS -> SQS: %+v", res)
	}
}

// The project's own consumer binary (consumers/cmd/consumer) consumes a
// topology queue of `eventplane dev` as it consumes SQS: --endpoint and the
// banner's variables, nothing else. An order put on the bus by the aws
// CLI's put-events reaches order-analytics (through the order-events
// topic); the external consumer handles it and deletes it (the queue
// empties). The platform's own analytics consumer is stopped (no
// PostgreSQL), so the external process is the only reader.
func TestConsumerBinaryAgainstDev(t *testing.T) {
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		t.Fatal("the aws CLI is not installed: run hack/awscli.sh (hack/setup.sh test does)")
	}
	bin := filepath.Join(t.TempDir(), "consumer")
	if out, err := exec.Command("go", "build", "-o", bin, "../consumer").CombinedOutput(); err != nil {
		t.Fatalf("go build consumer: %v\n%s", err, out)
	}
	s := startAWSDev(t)
	queue := s.awsURL + "/000000000000/order-analytics"
	cmd := exec.Command(bin, "--endpoint", s.awsURL, "--queue-url", queue, "--wait-time", "1s", "--admin-addr", "",
		"--routes", `[{"name":"all","handler":"log"}]`)
	cmd.Env = s.environ()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuilder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// exited is closed when the consumer has exited, with its error in
	// exitErr: both the wait loop and the clean-up read it.
	exited := make(chan struct{})
	var exitErr error
	var mu sync.Mutex
	handled := map[string]int{}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var line struct {
				Msg     string `json:"msg"`
				EventID string `json:"event_id"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "event" {
				mu.Lock()
				handled[line.EventID]++
				mu.Unlock()
			}
		}
		exitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	work := t.TempDir()
	ev := `[{"Source":"shop","DetailType":"io.eventplane.demo.order.placed.v1","EventBusName":"local-main",` +
		`"Detail":"{\"_cloudevent\":{\"specversion\":\"1.0\",\"id\":\"ext-1\",\"source\":\"shop\",\"datacontenttype\":\"application/json\"},\"orderId\":\"ext-1\",\"total\":20}"}]`
	if err := os.WriteFile(filepath.Join(work, "test-event.json"), []byte(ev), 0o600); err != nil {
		t.Fatal(err)
	}
	put := exec.Command(awsBin, "events", "put-events", "--entries", "file://test-event.json")
	put.Dir, put.Env = work, s.environ()
	if out, err := put.CombinedOutput(); err != nil || !strings.Contains(string(out), `"FailedEntryCount": 0`) {
		t.Fatalf("aws events put-events: %v\n%s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := handled["ext-1"]
		mu.Unlock()
		if n >= 1 {
			break
		}
		select {
		case <-exited:
			t.Fatalf("the consumer exited: %v\n%s", exitErr, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the consumer did not handle ext-1; stderr:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Settled: deleted from the queue, not merely received.
	attrs := exec.Command(awsBin, "sqs", "get-queue-attributes", "--queue-url", queue, "--attribute-names", "All", "--output", "json")
	attrs.Env = s.environ()
	for deadline := time.Now().Add(10 * time.Second); ; {
		out, err := attrs.Output()
		if err != nil {
			t.Fatal(err)
		}
		var a struct{ Attributes map[string]string }
		_ = json.Unmarshal(out, &a)
		if a.Attributes["ApproximateNumberOfMessages"] == "0" && a.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("order-analytics still holds the message after the consumer handled it: %v", a.Attributes)
		}
		time.Sleep(100 * time.Millisecond)
		attrs = exec.Command(attrs.Path, attrs.Args[1:]...)
		attrs.Env = s.environ()
	}
	mu.Lock()
	defer mu.Unlock()
	if handled["ext-1"] != 1 {
		t.Errorf("ext-1 handled %d times, want 1", handled["ext-1"])
	}
}

// The "done when": the four flows driven entirely by the aws CLI
// against `eventplane dev`, results read back with the CLI where they land
// in a bucket or queue (tables through the dashboard's state API until
// DynamoDB is served).
//  1. aws s3 cp under incoming/ (files Lambda) and batch/ (files consumer)
//     -> rows in the files table.
//  2. aws sqs send-message of an order to the orders queue -> orders table
//     and the lake archive (events/ in local-lake).
//  3. aws events put-events of a 1500 order -> order-events topic ->
//     order-analytics (received with the CLI) and order-alerts (alerts
//     topic published once).
//  4. aws sqs send-message of EventBridge's Scheduled Event to reports ->
//     the hourly report in local-lake reports/.
func TestFourFlowsByAWSCLI(t *testing.T) {
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		t.Fatal("the aws CLI is not installed: run hack/awscli.sh (hack/setup.sh test does)")
	}
	s := startAWSDev(t)
	work := t.TempDir()
	cfg := filepath.Join(work, "config")
	aws := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(awsBin, args...)
		cmd.Dir = work
		cmd.Env = append(s.environ(), "AWS_CONFIG_FILE="+cfg)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		return string(b)
	}
	eventually := func(what string, f func() (bool, string)) {
		t.Helper()
		var last string
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			var ok bool
			if ok, last = f(); ok {
				return
			}
		}
		t.Fatalf("%s: not within 30 s; last: %s", what, last)
	}
	aws("configure", "set", "default.s3.addressing_style", "path")
	queue := func(name string) string { return s.awsURL + "/000000000000/" + name }

	// Flow 1.
	for _, sub := range []string{"incoming", "batch"} {
		f := filepath.Join(work, sub+".csv")
		if err := os.WriteFile(f, []byte("orderId,customerId,total\n"+sub+"-1,c-1,12.5\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		aws("s3", "cp", f, "s3://local-uploads/"+sub+"/orders.csv")
	}
	s.waitRows(t, "files", 2)

	// Flow 2.
	order := func(id string, total int) string {
		return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"shop","type":"io.eventplane.demo.order.placed.v1","time":"2026-11-26T17:10:00Z",`+
			`"datacontenttype":"application/json","data":{"orderId":%q,"customerId":"c-1","currency":"EUR","total":%d,"items":[{"sku":"a","quantity":1,"price":%d}]}}`, id, id, total, total)
	}
	aws("sqs", "send-message", "--queue-url", queue("orders"), "--message-body", order("cli-sqs-1", 40))
	s.waitRows(t, "orders", 1)
	eventually("the order archived in the lake", func() (bool, string) {
		out := aws("s3api", "list-objects-v2", "--bucket", "local-lake", "--prefix", "events/", "--output", "json")
		return strings.Contains(out, `"Key": "events/`), out
	})

	// Flow 3.
	ev := `[{"Source":"shop","DetailType":"io.eventplane.demo.order.placed.v1","EventBusName":"local-main",` +
		`"Detail":"{\"_cloudevent\":{\"specversion\":\"1.0\",\"id\":\"cli-bus-1\",\"source\":\"shop\",\"datacontenttype\":\"application/json\"},` +
		`\"orderId\":\"cli-bus-1\",\"customerId\":\"c-1\",\"currency\":\"EUR\",\"total\":1500,\"items\":[{\"sku\":\"a\",\"quantity\":1,\"price\":1500}]}"}]`
	if err := os.WriteFile(filepath.Join(work, "test-event.json"), []byte(ev), 0o600); err != nil {
		t.Fatal(err)
	}
	aws("events", "put-events", "--entries", "file://test-event.json")
	got := aws("sqs", "receive-message", "--queue-url", queue("order-analytics"), "--wait-time-seconds", "10", "--output", "json")
	if !strings.Contains(got, `cli-bus-1`) {
		t.Errorf("order-analytics: %s", got)
	}
	s.waitRows(t, "orders", 2)
	eventually("the alert published", func() (bool, string) {
		resp, err := http.Get(s.url + "/api/state")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		var st struct{ Topics []map[string]any }
		_ = json.NewDecoder(resp.Body).Decode(&st)
		for _, tp := range st.Topics {
			if tp["name"] == "alerts" {
				return tp["published"] == float64(1), fmt.Sprint(tp)
			}
		}
		return false, fmt.Sprint(st.Topics)
	})

	// Flow 4: what EventBridge Scheduler delivers to the reports queue.
	sched := fmt.Sprintf(`{"version":"0","id":"cli-sched-1","detail-type":"Scheduled Event","source":"aws.events","account":"000000000000",`+
		`"time":%q,"region":"local","resources":["arn:aws:scheduler:local:000000000000:schedule/default/local-hourly-report"],"detail":{}}`,
		time.Now().UTC().Format(time.RFC3339))
	aws("sqs", "send-message", "--queue-url", queue("reports"), "--message-body", sched)
	var key string
	eventually("the hourly report in the lake", func() (bool, string) {
		out := aws("s3api", "list-objects-v2", "--bucket", "local-lake", "--prefix", "reports/", "--output", "json")
		var l struct{ Contents []struct{ Key string } }
		_ = json.Unmarshal([]byte(out), &l)
		if len(l.Contents) > 0 {
			key = l.Contents[0].Key
		}
		return key != "", out
	})
	if rep := aws("s3", "cp", "s3://local-lake/"+key, "-"); !strings.Contains(rep, "orders-hourly") {
		t.Errorf("report %s: %s", key, rep)
	}
}
