package local_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eventplane/eventplane/consumers/local"
)

// A bucket is a folder and nothing outside it is reachable through an
// object key: not with "../" segments, not through a symlink planted in
// the folder (to a file or a folder outside). Keys are S3's, so "a/../b"
// is refused rather than silently stored as "b".
func TestBucketPathsCannotEscapeTheBucket(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "buckets")
	outside := filepath.Join(base, "outside")
	if err := os.MkdirAll(outside, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	objs, err := local.NewObjects(root, []string{"b", "other"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	put := func(key string) error {
		_, err := objs.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String(key), Body: bytes.NewReader([]byte("x"))})
		return err
	}
	get := func(key string) (string, error) {
		out, err := objs.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String(key)})
		if err != nil {
			return "", err
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		return string(b), err
	}

	for _, key := range []string{"../escape.txt", "../../escape.txt", "a/../../escape.txt", "a/../b.txt", "./x", "a//b", "../other/x"} {
		if err := put(key); err == nil || !strings.Contains(err.Error(), "not valid") {
			t.Errorf("PutObject %q: %v, want a \"not valid\" key error", key, err)
		}
		if _, err := get(key); err == nil {
			t.Errorf("GetObject %q succeeded", key)
		}
	}
	for _, p := range []string{filepath.Join(base, "escape.txt"), filepath.Join(root, "escape.txt"), filepath.Join(root, "other", "x")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("a key wrote %s outside its bucket", p)
		}
	}

	// Symlinks planted in the bucket's folder, pointing outside it.
	if err := os.Symlink(outside, filepath.Join(root, "b", "dirlink")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(root, "b", "filelink")); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"dirlink/secret.txt", "filelink"} {
		if got, err := get(key); err == nil {
			t.Errorf("GetObject %q read %q from outside the bucket", key, got)
		}
	}
	if err := put("dirlink/planted.txt"); err == nil {
		t.Error("PutObject through a symlinked folder succeeded")
	}
	if _, err := os.Stat(filepath.Join(outside, "planted.txt")); err == nil {
		t.Error("PutObject wrote through the symlink, outside the bucket")
	}
	if err := put("filelink"); err == nil {
		t.Error("PutObject over a symlink to a file outside succeeded")
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "secret.txt")); string(b) != "secret" {
		t.Errorf("the file outside was overwritten: %q", b)
	}
	list, err := objs.List("b")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range list {
		if strings.Contains(o.Key, "link") {
			t.Errorf("List announces %q, a link out of the bucket", o.Key)
		}
	}

	// Ordinary keys still work, nested folders included.
	if err := put("events/2026/12/01/a.json"); err != nil {
		t.Fatal(err)
	}
	if got, err := get("events/2026/12/01/a.json"); err != nil || got != "x" {
		t.Errorf("GetObject: %q, %v", got, err)
	}
	if _, err := objs.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("nope"), Key: aws.String("k")}); err == nil {
		t.Error("GetObject of an unknown bucket succeeded")
	}
}
