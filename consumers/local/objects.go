package local

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Objects keeps the topology's S3 buckets as folders (<root>/<bucket>/<key>)
// with the operations the handlers use: GetObject and PutObject. Files
// dropped into a bucket's folder by hand are objects too.
//
// Each bucket is opened as an os.Root: no key reaches outside its folder,
// neither with ".." segments (refused as keys) nor through a symlink
// planted in the folder (os.Root refuses to follow one that leaves it).
type Objects struct {
	root    string
	buckets map[string]*os.Root
	dirs    sync.Map   // bucket/folder known to exist
	storeMu sync.Mutex // Store's check and rename
}

// NewObjects uses root as the parent folder of the buckets.
func NewObjects(root string, buckets []string) (*Objects, error) {
	o := &Objects{root: root, buckets: map[string]*os.Root{}}
	for _, b := range buckets {
		if err := validBucket(b); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Join(root, b), 0o750); err != nil {
			return nil, err
		}
		r, err := os.OpenRoot(filepath.Join(root, b))
		if err != nil {
			return nil, err
		}
		o.buckets[b] = r
	}
	return o, nil
}

// Close releases the buckets' folders.
func (o *Objects) Close() error {
	var errs []error
	for _, r := range o.buckets {
		errs = append(errs, r.Close())
	}
	return errors.Join(errs...)
}

func validBucket(b string) error {
	if b == "" || strings.ContainsAny(b, `/\`) || b == "." || b == ".." {
		return fmt.Errorf("bucket name %q is not valid", b)
	}
	return nil
}

// locate returns the bucket's root and the key as a path inside it. A key
// with an empty, "." or ".." segment is refused: S3 stores such keys
// verbatim, a folder cannot, and cleaning them would alias another key.
func (o *Objects) locate(bucket, key string) (*os.Root, string, error) {
	if err := validBucket(bucket); err != nil {
		return nil, "", err
	}
	r := o.buckets[bucket]
	if r == nil {
		return nil, "", &s3types.NoSuchBucket{Message: aws.String(fmt.Sprintf("bucket %q is not in the topology", bucket))}
	}
	if key == "" || strings.HasSuffix(key, "/") || strings.HasPrefix(key, "/") || strings.Contains(key, "\\") {
		return nil, "", fmt.Errorf("object key %q is not valid", key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return nil, "", fmt.Errorf("object key %q is not valid locally: empty, \".\" and \"..\" segments cannot be stored in a bucket folder", key)
		}
	}
	return r, filepath.FromSlash(key), nil
}

// Path is the file that holds bucket/key, or an error for a key that would
// leave the bucket's folder. (Symlinks are checked when the file is opened.)
func (o *Objects) Path(bucket, key string) (string, error) {
	_, rel, err := o.locate(bucket, key)
	if err != nil {
		return "", err
	}
	return filepath.Join(o.root, bucket, rel), nil
}

// GetObject implements the S3 operation.
func (o *Objects) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	r, rel, err := o.locate(aws.ToString(in.Bucket), aws.ToString(in.Key))
	if err != nil {
		return nil, err
	}
	f, err := r.Open(rel)
	if err != nil {
		if os.IsNotExist(err) || errors.Is(err, syscall.ENOTDIR) { // ENOTDIR: a key under an object
			return nil, &s3types.NoSuchKey{Message: aws.String(fmt.Sprintf("s3://%s/%s does not exist (%s)", aws.ToString(in.Bucket), aws.ToString(in.Key),
				filepath.Join(o.root, aws.ToString(in.Bucket), rel)))}
		}
		return nil, fmt.Errorf("s3://%s/%s: %w", aws.ToString(in.Bucket), aws.ToString(in.Key), err)
	}
	st, err := f.Stat()
	if err == nil && st.IsDir() {
		err = &s3types.NoSuchKey{Message: aws.String(fmt.Sprintf("s3://%s/%s is a folder", aws.ToString(in.Bucket), aws.ToString(in.Key)))}
	}
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
	bucket := aws.ToString(in.Bucket)
	r, rel, err := o.locate(bucket, aws.ToString(in.Key))
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(rel)
	if _, ok := o.dirs.Load(bucket + "/" + dir); !ok && dir != "." {
		if err := r.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("s3://%s/%s: %w", bucket, aws.ToString(in.Key), err)
		}
		o.dirs.Store(bucket+"/"+dir, true)
	}
	f, err := r.OpenFile(rel, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if os.IsNotExist(err) && dir != "." { // the folder was removed meanwhile
		if err = r.MkdirAll(dir, 0o750); err == nil {
			f, err = r.OpenFile(rel, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("s3://%s/%s: %w", bucket, aws.ToString(in.Key), err)
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
		_ = r.Remove(rel)
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

// List returns the objects of a bucket (hidden temporary files excluded,
// and symlinks that lead out of the bucket's folder).
func (o *Objects) List(bucket string) ([]Object, error) {
	r := o.buckets[bucket]
	if r == nil {
		return nil, fmt.Errorf("bucket %q is not in the topology", bucket)
	}
	var out []Object
	err := fs.WalkDir(r.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		var info fs.FileInfo
		if d.Type()&fs.ModeSymlink != 0 {
			info, err = r.Stat(filepath.FromSlash(p)) // follows it only inside the folder
			if err != nil || info.IsDir() {
				return nil
			}
		} else if info, err = d.Info(); err != nil {
			return nil // removed meanwhile
		}
		out = append(out, Object{Bucket: bucket, Key: p, Size: info.Size(), Modified: info.ModTime()})
		return nil
	})
	return out, err
}

// Store writes bucket/key from body as S3 does a PUT: whole or not at all.
// The bytes go to a hidden file beside the key (List skips it, so neither
// the upload watcher nor a listing sees a partial object) that is renamed
// over the key once complete. check, when set, runs just before the rename
// with the object the key holds then (nil for none) and may refuse the
// write (S3's conditional PUT); the renames of one Objects are serialised
// so that check and rename are one step. It returns the stored object and
// the MD5 of its bytes (S3's ETag of a single-part upload).
func (o *Objects) Store(bucket, key string, body io.Reader, check func(current *Object) error) (Object, []byte, error) {
	r, rel, err := o.locate(bucket, key)
	if err != nil {
		return Object{}, nil, err
	}
	if strings.HasPrefix(filepath.Base(rel), ".") {
		return Object{}, nil, fmt.Errorf("object key %q is not valid locally: a name starting with \".\" is a hidden file of the bucket folder, which is neither listed nor announced", key)
	}
	// S3 keeps "a" and "a/b" side by side; a folder cannot.
	segs := strings.Split(key, "/")
	for i := 1; i < len(segs); i++ {
		if st, err := r.Lstat(filepath.FromSlash(strings.Join(segs[:i], "/"))); err == nil && !st.IsDir() {
			return Object{}, nil, fmt.Errorf("object key %q is not valid locally: %q is an object, and a bucket folder cannot hold keys under an object", key, strings.Join(segs[:i], "/"))
		}
	}
	if st, err := r.Lstat(rel); err == nil && st.IsDir() {
		return Object{}, nil, fmt.Errorf("object key %q is not valid locally: keys under %q exist (%s/...), and a bucket folder cannot hold an object there too", key, key, key)
	}
	dir := filepath.Dir(rel)
	if dir != "." {
		if err := r.MkdirAll(dir, 0o750); err != nil {
			return Object{}, nil, fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
		}
	}
	tmp := filepath.Join(dir, "."+filepath.Base(rel)+"."+newID()+".part")
	f, err := r.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return Object{}, nil, fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
	}
	h := md5.New()
	_, err = io.Copy(io.MultiWriter(f, h), body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		o.storeMu.Lock()
		defer o.storeMu.Unlock()
		if check != nil {
			var cur *Object
			if st, serr := r.Stat(rel); serr == nil && !st.IsDir() {
				cur = &Object{Bucket: bucket, Key: key, Size: st.Size(), Modified: st.ModTime()}
			}
			err = check(cur)
		}
	}
	if err == nil {
		err = r.Rename(tmp, rel)
	}
	if err != nil {
		_ = r.Remove(tmp)
		return Object{}, nil, err
	}
	st, err := r.Stat(rel)
	if err != nil {
		return Object{}, nil, fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
	}
	return Object{Bucket: bucket, Key: key, Size: st.Size(), Modified: st.ModTime()}, h.Sum(nil), nil
}

// Delete removes bucket/key and reports whether it existed (deleting a
// missing key is no error, as in S3). Folders the key leaves empty stay:
// a bucket folder has no objects for them.
func (o *Objects) Delete(bucket, key string) (bool, error) {
	r, rel, err := o.locate(bucket, key)
	if err != nil {
		return false, err
	}
	st, err := r.Lstat(rel)
	switch {
	case os.IsNotExist(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
	case st.IsDir():
		return false, nil // a folder is no object
	}
	if err := r.Remove(rel); err != nil && !os.IsNotExist(err) {
		return false, fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
	}
	return true, nil
}

// Buckets returns the names of the buckets.
func (o *Objects) Buckets() []string {
	out := make([]string, 0, len(o.buckets))
	for b := range o.buckets {
		out = append(out, b)
	}
	slices.Sort(out)
	return out
}

// Open opens bucket/key for reading, with its size and modification time;
// errors as GetObject's (NoSuchBucket, NoSuchKey).
func (o *Objects) Open(bucket, key string) (*os.File, Object, error) {
	out, err := o.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, Object{}, err
	}
	f := out.Body.(*os.File)
	return f, Object{Bucket: bucket, Key: key, Size: aws.ToInt64(out.ContentLength), Modified: aws.ToTime(out.LastModified)}, nil
}

// md5 is the hex MD5 of an object's bytes (S3's ETag of a single-part
// upload).
func (o *Objects) md5(bucket, key string) (string, error) {
	f, _, err := o.Open(bucket, key)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
