package awsapi_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
)

const bucketsTopology = "testdata/buckets.yaml"

// s3 is an S3 client as the TESTBED notes set one up for an emulator:
// path style, checksums only when required, plain http.
func (s *stack) s3() *s3.Client {
	return s3.NewFromConfig(s.cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
}

func md5hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

// Every operation the issue names, with a real aws-sdk-go-v2 S3 client:
// PutObject writes the file of the folder bucket, GetObject/HeadObject read
// it back with S3's MD5 ETag, ListObjectsV2 lists by prefix, delimiter and
// page, DeleteObject removes it; a missing key or bucket is S3's NoSuchKey
// / NoSuchBucket (HEAD has no body: NotFound).
func TestS3OperationsOverFolderBuckets(t *testing.T) {
	s := start(t, bucketsTopology)
	c := s.s3()
	const bucket = "local-quiet"
	body := []byte("orderId,total\no-1,12.5\n")
	put, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("in/a.csv"), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(put.ETag) != `"`+md5hex(body)+`"` {
		t.Errorf("PutObject ETag %s, want the MD5 of the bytes", aws.ToString(put.ETag))
	}
	// The object is the file of the bucket's folder, and a file dropped
	// into the folder is an object.
	file := filepath.Join(s.dir, "buckets", bucket, "in", "a.csv")
	if b, err := os.ReadFile(file); err != nil || !bytes.Equal(b, body) {
		t.Fatalf("bucket folder holds %q (%v), want the put bytes", b, err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "buckets", bucket, "in", "b.txt"), []byte("dropped"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"in/sub/c.json", "top.txt"} {
		if _, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}

	got, err := c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("in/a.csv")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if !bytes.Equal(b, body) || aws.ToInt64(got.ContentLength) != int64(len(body)) || aws.ToString(got.ETag) != `"`+md5hex(body)+`"` {
		t.Errorf("GetObject: %q length %d etag %s", b, aws.ToInt64(got.ContentLength), aws.ToString(got.ETag))
	}
	rng, err := c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("in/a.csv"), Range: aws.String("bytes=8-12")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(rng.Body)
	rng.Body.Close()
	if string(b) != "total" || aws.ToString(rng.ContentRange) != "bytes 8-12/23" {
		t.Errorf("ranged GetObject: %q %s", b, aws.ToString(rng.ContentRange))
	}
	head, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("in/b.txt")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(head.ContentLength) != 7 || aws.ToString(head.ETag) != `"`+md5hex([]byte("dropped"))+`"` || head.LastModified == nil {
		t.Errorf("HeadObject of a dropped file: length %d etag %s modified %v", aws.ToInt64(head.ContentLength), aws.ToString(head.ETag), head.LastModified)
	}

	list, err := c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if keys := listKeys(list); !slices.Equal(keys, []string{"in/a.csv", "in/b.txt", "in/sub/c.json", "top.txt"}) || aws.ToInt32(list.KeyCount) != 4 {
		t.Errorf("ListObjectsV2: %v (KeyCount %d)", keys, aws.ToInt32(list.KeyCount))
	}
	if list.Contents[0].Size == nil || *list.Contents[0].Size != int64(len(body)) || aws.ToString(list.Contents[0].ETag) != `"`+md5hex(body)+`"` {
		t.Errorf("listed object: %+v", list.Contents[0])
	}
	dl, err := c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("in/"), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	var prefixes []string
	for _, p := range dl.CommonPrefixes {
		prefixes = append(prefixes, aws.ToString(p.Prefix))
	}
	if keys := listKeys(dl); !slices.Equal(keys, []string{"in/a.csv", "in/b.txt"}) || !slices.Equal(prefixes, []string{"in/sub/"}) {
		t.Errorf("ListObjectsV2 in/ with delimiter: keys %v prefixes %v", keys, prefixes)
	}
	// A full page with nothing after it under the prefix is the last page.
	full, err := c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("in/"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(3)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToBool(full.IsTruncated) || len(full.Contents)+len(full.CommonPrefixes) != 3 {
		t.Errorf("ListObjectsV2 in/ of 3 entries, MaxKeys 3: truncated %v, %d keys %d prefixes", aws.ToBool(full.IsTruncated), len(full.Contents), len(full.CommonPrefixes))
	}
	// Pages of one key, through the SDK's paginator.
	var paged []string
	pages := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(1)})
	for n := 0; pages.HasMorePages(); n++ {
		pg, err := pages.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(pg.Contents) > 1 || n > 10 {
			t.Fatalf("page %d has %d keys, want 1 a page", n, len(pg.Contents))
		}
		paged = append(paged, listKeys(pg)...)
	}
	if !slices.Equal(paged, []string{"in/a.csv", "in/b.txt", "in/sub/c.json", "top.txt"}) {
		t.Errorf("paginated ListObjectsV2: %v", paged)
	}

	if _, err := c.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("in/a.csv")}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("the file is still in the folder after DeleteObject: %v", err)
	}
	// Deleting a missing key succeeds, as in S3.
	if _, err := c.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("in/a.csv")}); err != nil {
		t.Errorf("DeleteObject of a missing key: %v", err)
	}
	_, err = c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("in/a.csv")})
	var nk *s3types.NoSuchKey
	if !errors.As(err, &nk) {
		t.Errorf("GetObject after DeleteObject: %v, want *types.NoSuchKey", err)
	}
	_, err = c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("in/a.csv")})
	var nf *s3types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("HeadObject after DeleteObject: %v, want *types.NotFound", err)
	}
	for name, call := range map[string]func() error{
		"GetObject": func() error {
			_, err := c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("nope"), Key: aws.String("k")})
			return err
		},
		"ListObjectsV2": func() error {
			_, err := c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String("nope")})
			return err
		},
		"PutObject": func() error {
			_, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("nope"), Key: aws.String("k"), Body: strings.NewReader("x")})
			return err
		},
	} {
		var ae smithy.APIError
		if err := call(); !errors.As(err, &ae) || ae.ErrorCode() != "NoSuchBucket" {
			t.Errorf("%s of an unknown bucket: %v, want NoSuchBucket", name, err)
		}
	}
}

func listKeys(l *s3.ListObjectsV2Output) []string {
	var out []string
	for _, o := range l.Contents {
		out = append(out, aws.ToString(o.Key))
	}
	return out
}

// A key a folder cannot hold is refused with InvalidArgument naming the
// reason, never stored under another name or outside the bucket's folder.
func TestS3KeysAFolderCannotHoldAreRefused(t *testing.T) {
	s := start(t, bucketsTopology)
	c := s.s3()
	for _, key := range []string{"a/../../escape", "a//b", "in/.hidden"} {
		_, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("local-quiet"), Key: aws.String(key), Body: strings.NewReader("x")})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidArgument" || !strings.Contains(ae.ErrorMessage(), "not valid") {
			t.Errorf("PutObject %q: %v, want InvalidArgument", key, err)
		}
	}
	// An object and a key under it cannot both be files: the second is
	// refused naming the object in the way, and reading under an object
	// is NoSuchKey.
	if _, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("local-quiet"), Key: aws.String("obj"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("local-quiet"), Key: aws.String("obj/under"), Body: strings.NewReader("x")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidArgument" || !strings.Contains(ae.ErrorMessage(), `"obj" is an object`) {
		t.Errorf("PutObject under an object: %v, want InvalidArgument naming obj", err)
	}
	if _, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("local-quiet"), Key: aws.String("dir/k"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("local-quiet"), Key: aws.String("dir"), Body: strings.NewReader("x")})
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidArgument" || !strings.Contains(ae.ErrorMessage(), `keys under "dir" exist`) {
		t.Errorf("PutObject over keys under it: %v, want InvalidArgument", err)
	}
	_, err = c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("local-quiet"), Key: aws.String("obj/under")})
	var nk *s3types.NoSuchKey
	if !errors.As(err, &nk) {
		t.Errorf("GetObject under an object: %v, want NoSuchKey", err)
	}
	if _, err := os.Stat(filepath.Join(s.dir, "escape")); !os.IsNotExist(err) {
		t.Errorf("a key escaped the bucket folder: %v", err)
	}
}

// A PutObject raises the same "Object Created" event as a file dropped
// into the folder, once (the upload watcher does not announce it again),
// with S3's MD5 ETag; a DeleteObject raises S3's "Object Deleted"
// ("Permanently Deleted": the buckets are not versioned). A bucket without
// EventBridge notifications raises nothing. (S3 user guide, "Using
// EventBridge": detail-types Object Created / Object Deleted.)
func TestS3PutAndDeleteRaiseEventBridgeEvents(t *testing.T) {
	s := start(t, bucketsTopology)
	c := s.s3()
	if _, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("local-quiet"), Key: aws.String("x"), Body: strings.NewReader("q")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("local-drops"), Key: aws.String("in/a.csv"), Body: strings.NewReader("a,b\n")}); err != nil {
		t.Fatal(err)
	}
	// A file dropped by hand, for the comparison.
	if err := os.WriteFile(filepath.Join(s.dir, "buckets", "local-drops", "in", "hand.csv"), []byte("a,b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String("local-drops"), Key: aws.String("in/a.csv")}); err != nil {
		t.Fatal(err)
	}
	q := s.sqs()
	var events []map[string]any
	// Past a few watch intervals after the third: a second announcement
	// would be here by then.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		out, err := q.ReceiveMessage(ctx(t), &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.queueURL("s3-events")), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			var e map[string]any
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &e); err != nil {
				t.Fatal(err)
			}
			events = append(events, e)
			if _, err := q.DeleteMessage(ctx(t), &sqs.DeleteMessageInput{QueueUrl: aws.String(s.queueURL("s3-events")), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
			if len(events) == 3 {
				deadline = time.Now().Add(500 * time.Millisecond)
			}
		}
	}
	if len(events) != 3 {
		t.Fatalf("%d S3 events, want 3 (put, delete, the dropped file): %v", len(events), events)
	}
	byKey := map[string]map[string]any{}
	for _, e := range events {
		d := e["detail"].(map[string]any)
		byKey[e["detail-type"].(string)+" "+d["object"].(map[string]any)["key"].(string)] = e
		if e["source"] != "aws.s3" || d["bucket"].(map[string]any)["name"] != "local-drops" {
			t.Errorf("event: %v", e)
		}
	}
	created, deleted, hand := byKey["Object Created in/a.csv"], byKey["Object Deleted in/a.csv"], byKey["Object Created in/hand.csv"]
	if created == nil || deleted == nil || hand == nil {
		t.Fatalf("events by type and key: %v", byKey)
	}
	cd := created["detail"].(map[string]any)
	if cd["reason"] != "PutObject" || cd["object"].(map[string]any)["etag"] != md5hex([]byte("a,b\n")) || cd["object"].(map[string]any)["size"] != float64(4) {
		t.Errorf("Object Created detail: %v", cd)
	}
	for _, f := range []string{"version", "bucket", "object", "request-id", "requester", "reason"} {
		if _, ok := hand["detail"].(map[string]any)[f]; ok != (cd[f] != nil) {
			t.Errorf("Object Created detail field %q: the API's and the dropped file's differ: %v vs %v", f, cd, hand["detail"])
		}
	}
	// S3's etag in the event is the MD5 of the bytes, whichever way the
	// file came: the same value HeadObject answers.
	if e := hand["detail"].(map[string]any)["object"].(map[string]any)["etag"]; e != md5hex([]byte("a,b\n")) {
		t.Errorf("Object Created of the dropped file: etag %v, want the MD5 of its bytes %s", e, md5hex([]byte("a,b\n")))
	}
	if dd := deleted["detail"].(map[string]any); dd["reason"] != "DeleteObject" || dd["deletion-type"] != "Permanently Deleted" {
		t.Errorf("Object Deleted detail: %v", dd)
	}
}

// An object put through the S3 API under incoming/ of the uploads bucket
// runs the files Lambda flow, as a file dropped into the folder does: its
// rows land in the files table.
func TestS3PutRunsTheFilesFlow(t *testing.T) {
	s := start(t, repoTopology)
	csv := "orderId,customerId,total\ns3-1,c-1,12.5\n"
	if _, err := s.s3().PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("local-uploads"), Key: aws.String("incoming/s3.csv"),
		Body: strings.NewReader(csv)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		items, err := s.p.Tables.Items(s.p.Names.Tables["files"], 100)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(items)
		if strings.Contains(string(b), "incoming/s3.csv") && strings.Contains(string(b), "s3-1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the files table has no row of incoming/s3.csv: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The bus counts a function target's delivery when the function has
	// returned, a moment after its row is written: wait for the count.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var delivered any
		for _, r := range s.p.State().Rules {
			if r["name"] == "uploads-incoming" {
				delivered = r["delivered"]
			}
		}
		if delivered == int64(1) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("uploads-incoming delivered %v, want 1", delivered)
		}
	}
}

// aws-chunked bodies as SDKs stream them (Go's SDK does over TLS only; the
// S3 API reference, "Signature Calculations for the Authorization Header:
// Transferring Payload in Multiple Chunks", and its trailer variant):
// unsigned chunks with the checksum in a trailer, and signed chunks. The
// object holds the bytes, not the chunk framing.
func TestS3ChunkedUploadsStoreTheBytes(t *testing.T) {
	s := start(t, bucketsTopology)
	data := bytes.Repeat([]byte("0123456789"), 1000)
	sig := ";chunk-signature=" + strings.Repeat("a", 64)
	for name, c := range map[string]struct{ sha, framing, trailer string }{
		"unsigned-trailer": {"STREAMING-UNSIGNED-PAYLOAD-TRAILER", "", "x-amz-checksum-crc32:AAAAAA==\r\n"},
		"signed":           {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", sig, ""},
	} {
		var b bytes.Buffer
		for _, part := range [][]byte{data[:6000], data[6000:]} {
			fmt.Fprintf(&b, "%x%s\r\n%s\r\n", len(part), c.framing, part)
		}
		fmt.Fprintf(&b, "0%s\r\n%s\r\n", c.framing, c.trailer)
		req, _ := http.NewRequest(http.MethodPut, s.url+"/local-quiet/"+name, &b)
		req.Header.Set("Content-Encoding", "aws-chunked")
		req.Header.Set("X-Amz-Content-Sha256", c.sha)
		req.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(data)))
		if c.trailer != "" {
			req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != `"`+md5hex(data)+`"` {
			t.Errorf("%s: %s %s (ETag %s)", name, resp.Status, msg, resp.Header.Get("ETag"))
		}
		got, err := os.ReadFile(filepath.Join(s.dir, "buckets", "local-quiet", name))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s: stored %d bytes (%v), want the %d decoded bytes; starts %q", name, len(got), err, len(data), got[:min(len(got), 40)])
		}
	}
}

// Virtual-hosted-style requests (the SDK's default addressing for a host
// name: http://BUCKET.localhost:PORT/KEY) reach the same bucket; against
// an IP address an SDK with no S3 options at all (default checksums, no
// UsePathStyle) addresses path-style by itself (the S3 endpoint rules do
// for an IP host) and works.
func TestS3VirtualHostedStyle(t *testing.T) {
	s := start(t, bucketsTopology)
	plain := s3.NewFromConfig(s.cfg)
	if _, err := plain.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("local-quiet"), Key: aws.String("plain.txt"), Body: strings.NewReader("plain")}); err != nil {
		t.Fatalf("PutObject with the SDK's defaults: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(s.dir, "buckets", "local-quiet", "plain.txt")); err != nil || string(b) != "plain" {
		t.Fatalf("default-SDK put stored %q (%v)", b, err)
	}
	if err := os.Remove(filepath.Join(s.dir, "buckets", "local-quiet", "plain.txt")); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(s.url)
	_, port, _ := net.SplitHostPort(u.Host)
	// BUCKET.localhost resolves to loopback (RFC 6761); dial it so
	// whatever the machine's resolver does with it.
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, u.Host)
	}}}
	c := s3.NewFromConfig(s.cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String("http://localhost:" + port)
		o.HTTPClient = hc
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	})
	if _, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("local-quiet"), Key: aws.String("vh/k.txt"), Body: strings.NewReader("vh")}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(s.dir, "buckets", "local-quiet", "vh", "k.txt")); err != nil || string(b) != "vh" {
		t.Fatalf("virtual-hosted put stored %q (%v)", b, err)
	}
	list, err := c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String("local-quiet")})
	if err != nil || !slices.Equal(listKeys(list), []string{"vh/k.txt"}) {
		t.Errorf("virtual-hosted list: %v %v", list, err)
	}
}

// CopyObject and DeleteObjects work over the folders too, and a body that
// does not match its Content-MD5 is refused with BadDigest and not stored.
func TestS3CopyDeleteObjectsAndContentMD5(t *testing.T) {
	s := start(t, bucketsTopology)
	c := s.s3()
	for _, k := range []string{"a.txt", "b.txt"} {
		if _, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("local-quiet"), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CopyObject(ctx(t), &s3.CopyObjectInput{Bucket: aws.String("local-drops"), Key: aws.String("copied/a.txt"), CopySource: aws.String("local-quiet/a.txt")}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(s.dir, "buckets", "local-drops", "copied", "a.txt")); err != nil || string(b) != "a.txt" {
		t.Errorf("copied object holds %q (%v)", b, err)
	}
	del, err := c.DeleteObjects(ctx(t), &s3.DeleteObjectsInput{Bucket: aws.String("local-quiet"), Delete: &s3types.Delete{
		Objects: []s3types.ObjectIdentifier{{Key: aws.String("a.txt")}, {Key: aws.String("b.txt")}, {Key: aws.String("x/../../y")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(del.Deleted) != 2 || len(del.Errors) != 1 || aws.ToString(del.Errors[0].Code) != "InvalidArgument" {
		t.Errorf("DeleteObjects: deleted %v errors %v", del.Deleted, del.Errors)
	}
	if objs, _ := os.ReadDir(filepath.Join(s.dir, "buckets", "local-quiet")); len(objs) != 0 {
		t.Errorf("bucket folder after DeleteObjects: %v", objs)
	}
	sum := md5.Sum([]byte("other bytes"))
	_, err = c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("local-quiet"), Key: aws.String("bad.txt"), Body: strings.NewReader("bytes"),
		ContentMD5: aws.String(base64.StdEncoding.EncodeToString(sum[:]))})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "BadDigest" {
		t.Errorf("PutObject with a wrong Content-MD5: %v, want BadDigest", err)
	}
	if _, err := os.Stat(filepath.Join(s.dir, "buckets", "local-quiet", "bad.txt")); !os.IsNotExist(err) {
		t.Errorf("an object with a wrong Content-MD5 was stored: %v", err)
	}
}

// Buckets come from the topology: CreateBucket of one of them succeeds (it
// exists, as S3's us-east-1 answers its owner), any other is refused with
// a message that says so, and ListBuckets lists the topology's.
func TestS3BucketsAreTheTopologys(t *testing.T) {
	s := start(t, bucketsTopology)
	c := s.s3()
	if _, err := c.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("local-drops")}); err != nil {
		t.Errorf("CreateBucket of a topology bucket: %v", err)
	}
	_, err := c.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("made-up")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "NotImplemented" || !strings.Contains(ae.ErrorMessage(), "topology") {
		t.Errorf("CreateBucket of another bucket: %v, want NotImplemented naming the topology", err)
	}
	list, err := c.ListBuckets(ctx(t), &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range list.Buckets {
		names = append(names, aws.ToString(b.Name))
	}
	if !slices.Equal(names, []string{"local-drops", "local-quiet"}) {
		t.Errorf("ListBuckets: %v", names)
	}
}
