package local

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Objects keeps the topology's S3 buckets as folders (<root>/<bucket>/<key>)
// with the operations the handlers use: GetObject and PutObject. Files
// dropped into a bucket's folder by hand are objects too.
type Objects struct {
	root string
	dirs sync.Map // folders known to exist
}

// NewObjects uses root as the parent folder of the buckets.
func NewObjects(root string, buckets []string) (*Objects, error) {
	for _, b := range buckets {
		if err := os.MkdirAll(filepath.Join(root, b), 0o750); err != nil {
			return nil, err
		}
	}
	return &Objects{root: root}, nil
}

// Path is the file that holds bucket/key, or an error for a key that would
// leave the bucket's folder.
func (o *Objects) Path(bucket, key string) (string, error) {
	if bucket == "" || strings.ContainsAny(bucket, `/\`) || bucket == "." || bucket == ".." {
		return "", fmt.Errorf("bucket name %q is not valid", bucket)
	}
	clean := filepath.Clean("/" + key)
	if key == "" || strings.HasSuffix(key, "/") || clean == "/" {
		return "", fmt.Errorf("object key %q is not valid", key)
	}
	return filepath.Join(o.root, bucket, filepath.FromSlash(clean)), nil
}

// GetObject implements the S3 operation.
func (o *Objects) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	p, err := o.Path(aws.ToString(in.Bucket), aws.ToString(in.Key))
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, &s3types.NoSuchKey{Message: aws.String(fmt.Sprintf("s3://%s/%s does not exist (%s)", aws.ToString(in.Bucket), aws.ToString(in.Key), p))}
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &s3.GetObjectOutput{Body: f, ContentLength: aws.Int64(st.Size()), LastModified: aws.Time(st.ModTime())}, nil
}

// PutObject implements the S3 operation. The file is written in place (a
// temporary file and a rename cost more than the write itself in folders
// of thousands of objects); the upload watcher lets a file settle before
// announcing it.
func (o *Objects) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	p, err := o.Path(aws.ToString(in.Bucket), aws.ToString(in.Key))
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(p)
	if _, ok := o.dirs.Load(dir); !ok {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, err
		}
		o.dirs.Store(dir, true)
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if os.IsNotExist(err) { // the folder was removed meanwhile
		if err = os.MkdirAll(dir, 0o750); err == nil {
			f, err = os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
		}
	}
	if err != nil {
		return nil, err
	}
	h := md5.New()
	var body io.Reader = bytes.NewReader(nil)
	if in.Body != nil {
		body = in.Body
	}
	_, err = io.Copy(io.MultiWriter(f, h), body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(p)
		return nil, err
	}
	return &s3.PutObjectOutput{ETag: aws.String(`"` + hex.EncodeToString(h.Sum(nil)) + `"`)}, nil
}

// Object is one file of a bucket.
type Object struct {
	Bucket, Key string
	Size        int64
	Modified    time.Time
}

// List returns the objects of a bucket (hidden temporary files excluded).
func (o *Objects) List(bucket string) ([]Object, error) {
	dir := filepath.Join(o.root, bucket)
	var out []Object
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, Object{Bucket: bucket, Key: filepath.ToSlash(rel), Size: info.Size(), Modified: info.ModTime()})
		return nil
	})
	return out, err
}
