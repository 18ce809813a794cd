package awsapi

// S3 is served by gofakes3 (github.com/johannesboyne/gofakes3), which
// speaks S3's REST/XML protocol (path-style and, rewritten here, virtual
// host style addressing), over a gofakes3.Backend on the platform's folder
// buckets (s3Backend below). What the backend adds is the platform's: keys
// are files under the bucket's folder (os.Root), a PUT is renamed into
// place whole, and a PUT or DELETE on a bucket with EventBridge
// notifications raises S3's "Object Created" / "Object Deleted" event on
// the default bus, as a file dropped into the folder does.

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/johannesboyne/gofakes3"
)

// Buckets is what the S3 API needs of the platform: its buckets, kept as
// folders. Errors for an unknown bucket or key are s3types.NoSuchBucket and
// s3types.NoSuchKey; any other error of a key is the key's fault (a key a
// folder cannot hold) and answers InvalidArgument.
type Buckets interface {
	// BucketNames returns the names of the buckets.
	BucketNames() []string
	// ListObjects returns a bucket's objects, in any order.
	ListObjects(bucket string) ([]ObjectInfo, error)
	// OpenObject opens an object for reading.
	OpenObject(bucket, key string) (io.ReadSeekCloser, ObjectInfo, error)
	// PutObject stores an object whole (check may refuse the write, given
	// the object the key holds then, nil for none) and announces it; it
	// returns the object and the MD5 of its bytes.
	PutObject(ctx context.Context, bucket, key string, body io.Reader, check func(current *ObjectInfo) error) (ObjectInfo, []byte, error)
	// DeleteObject removes an object (a missing one is no error) and
	// announces it.
	DeleteObject(ctx context.Context, bucket, key string) error
}

// ObjectInfo is one object of a bucket.
type ObjectInfo struct {
	Key      string
	Size     int64
	Modified time.Time
}

// newS3 is the S3 handler over b.
func newS3(b Buckets) http.Handler {
	g := gofakes3.New(&s3Backend{b: b, sums: map[string]sum{}},
		// Buckets come from the topology: a request for another bucket is
		// NoSuchBucket, not a bucket made on the fly.
		gofakes3.WithAutoBucket(false),
		// Credentials are not checked; neither is the client's clock.
		gofakes3.WithTimeSkewLimit(0))
	return virtualHost(awsChunked(g.Server()))
}

// isS3 tells an S3 request from the other services' on the shared port:
// the JSON protocols name their operation in X-Amz-Target, the query
// protocol (SNS, SQS's older clients) POSTs a form; S3 is REST: any
// method on /bucket/key, its POSTs (DeleteObjects, multipart uploads)
// carry XML or nothing, a browser upload is multipart/form-data.
func isS3(r *http.Request) bool {
	if r.Header.Get("X-Amz-Target") != "" {
		return false
	}
	if r.Method != http.MethodPost {
		return true
	}
	ct := r.Header.Get("Content-Type")
	return !strings.HasPrefix(ct, "application/x-www-form-urlencoded")
}

// virtualHost rewrites a virtual-hosted-style request
// (http://BUCKET.localhost:4566/KEY, which SDKs send unless told to use
// path style) into the path style gofakes3 routes (/BUCKET/KEY). Only
// names under "localhost" are buckets: an IP address or a plain host name
// is the endpoint itself.
func virtualHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if bucket, ok := strings.CutSuffix(strings.ToLower(host), ".localhost"); ok && bucket != "" && !strings.Contains(bucket, ".") {
			r.URL.Path = "/" + bucket + r.URL.Path
			r.URL.RawPath = ""
		}
		next.ServeHTTP(w, r)
	})
}

// awsChunked decodes an aws-chunked request body (Content-Encoding
// aws-chunked, X-Amz-Content-Sha256 STREAMING-...): the SDKs send one when
// they stream a checksum in a trailer (over TLS, or when a ChecksumAlgorithm
// is set) or sign each chunk. The body is HTTP/1.1 chunked framing with
// chunk extensions (";chunk-signature=...") and trailers
// (x-amz-checksum-crc32:...), so net/http/httputil's chunked reader reads
// it; the trailer checksum is not verified (the MD5 ETag still is, against
// Content-MD5 when the client sends one). gofakes3 decodes only the signed
// form, and stores the framing verbatim otherwise.
func awsChunked(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sha := r.Header.Get("X-Amz-Content-Sha256")
		chunked := strings.HasPrefix(sha, "STREAMING-") || slices.Contains(contentEncodings(r), "aws-chunked")
		if !chunked || r.Method != http.MethodPut {
			next.ServeHTTP(w, r)
			return
		}
		n, err := strconv.ParseInt(r.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64)
		if err != nil || n < 0 {
			s3Error(w, r, "MissingContentLength", "an aws-chunked body needs X-Amz-Decoded-Content-Length", http.StatusLengthRequired)
			return
		}
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.LimitReader(httputil.NewChunkedReader(r.Body), n), r.Body}
		r.ContentLength = n
		r.Header.Set("Content-Length", strconv.FormatInt(n, 10))
		r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		var enc []string
		for _, e := range contentEncodings(r) {
			if e != "aws-chunked" {
				enc = append(enc, e)
			}
		}
		r.Header.Del("Content-Encoding")
		if len(enc) > 0 {
			r.Header.Set("Content-Encoding", strings.Join(enc, ","))
		}
		next.ServeHTTP(w, r)
	})
}

func contentEncodings(r *http.Request) []string {
	var out []string
	for _, v := range r.Header.Values("Content-Encoding") {
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				out = append(out, e)
			}
		}
	}
	return out
}

// s3Error writes an error in S3's XML shape.
func s3Error(w http.ResponseWriter, r *http.Request, code, msg string, status int) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<Error><Code>%s</Code><Message>%s</Message></Error>", code, msg)
	}
}

// s3Backend is the gofakes3.Backend over the platform's buckets.
// gofakes3's Backend has no context: the puts and deletes announce on the
// in-process bus with a background one.
type s3Backend struct {
	b    Buckets
	mu   sync.Mutex
	sums map[string]sum // bucket/key -> MD5 of the bytes of that size and time
}

type sum struct {
	size     int64
	modified time.Time
	md5      []byte
}

var _ gofakes3.Backend = (*s3Backend)(nil)

// s3Err maps the platform's errors to S3's error codes.
func s3Err(bucket, key string, err error) error {
	var nb *s3types.NoSuchBucket
	var nk *s3types.NoSuchKey
	switch {
	case err == nil:
		return nil
	case errors.As(err, &nb):
		return gofakes3.BucketNotFound(bucket)
	case errors.As(err, &nk):
		return gofakes3.KeyNotFound(key)
	}
	var ge gofakes3.Error
	if errors.As(err, &ge) {
		return err
	}
	return gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, err.Error())
}

// etag is the MD5 of an object's bytes, read once per size and time.
func (s *s3Backend) etag(bucket string, o ObjectInfo) ([]byte, error) {
	id := bucket + "/" + o.Key
	s.mu.Lock()
	c, ok := s.sums[id]
	s.mu.Unlock()
	if ok && c.size == o.Size && c.modified.Equal(o.Modified) {
		return c.md5, nil
	}
	f, cur, err := s.b.OpenObject(bucket, o.Key)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	s.remember(bucket, cur, h.Sum(nil))
	return h.Sum(nil), nil
}

func (s *s3Backend) remember(bucket string, o ObjectInfo, md5 []byte) {
	s.mu.Lock()
	s.sums[bucket+"/"+o.Key] = sum{size: o.Size, modified: o.Modified, md5: md5}
	s.mu.Unlock()
}

func (s *s3Backend) forget(bucket, key string) {
	s.mu.Lock()
	delete(s.sums, bucket+"/"+key)
	s.mu.Unlock()
}

func (s *s3Backend) ListBuckets() ([]gofakes3.BucketInfo, error) {
	var out []gofakes3.BucketInfo
	for _, b := range s.b.BucketNames() {
		out = append(out, gofakes3.BucketInfo{Name: b, CreationDate: gofakes3.NewContentTime(time.Unix(0, 0).UTC())})
	}
	return out, nil
}

func (s *s3Backend) BucketExists(name string) (bool, error) {
	return slices.Contains(s.b.BucketNames(), name), nil
}

// ListBucket lists in S3's order (UTF-8 bytes of the key), after the
// page's marker, up to its MaxKeys keys and common prefixes.
func (s *s3Backend) ListBucket(name string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	objs, err := s.b.ListObjects(name)
	if err != nil {
		return nil, s3Err(name, "", err)
	}
	slices.SortFunc(objs, func(a, b ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	if prefix == nil {
		prefix = &gofakes3.Prefix{}
	}
	out := gofakes3.NewObjectList()
	var n int64
	last := "" // the last key or common prefix listed
	for _, o := range objs {
		if page.HasMarker && o.Key <= page.Marker {
			continue
		}
		var m gofakes3.PrefixMatch
		if !prefix.Match(o.Key, &m) {
			continue
		}
		if m.CommonPrefix && (m.MatchedPart == last || (page.HasMarker && m.MatchedPart == page.Marker)) {
			continue // a key under a common prefix already listed
		}
		if page.MaxKeys > 0 && n >= page.MaxKeys {
			// One more entry exists: the page is full and there is another.
			out.IsTruncated, out.NextMarker = true, last
			break
		}
		if m.CommonPrefix {
			out.AddPrefix(m.MatchedPart)
			last = m.MatchedPart
		} else {
			sum, err := s.etag(name, o)
			if err != nil {
				continue // removed meanwhile
			}
			out.Add(&gofakes3.Content{Key: o.Key, LastModified: gofakes3.NewContentTime(o.Modified), ETag: gofakes3.FormatETag(sum),
				Size: o.Size, StorageClass: gofakes3.StorageStandard})
			last = o.Key
		}
		n++
	}
	return out, nil
}

func (s *s3Backend) object(bucket, key string, rng *gofakes3.ObjectRangeRequest, head bool) (*gofakes3.Object, error) {
	f, o, err := s.b.OpenObject(bucket, key)
	if err != nil {
		return nil, s3Err(bucket, key, err)
	}
	sum, err := s.etag(bucket, o)
	if err != nil {
		f.Close()
		return nil, s3Err(bucket, key, err)
	}
	obj := &gofakes3.Object{Name: key, Size: o.Size, Hash: sum, Contents: f,
		Metadata: map[string]string{"Last-Modified": o.Modified.UTC().Format(http.TimeFormat)}}
	if head {
		f.Close()
		obj.Contents = io.NopCloser(strings.NewReader(""))
		return obj, nil
	}
	if obj.Range, err = rng.Range(o.Size); err != nil {
		f.Close()
		return nil, err
	}
	if obj.Range != nil {
		if _, err := f.Seek(obj.Range.Start, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
		obj.Contents = struct {
			io.Reader
			io.Closer
		}{io.LimitReader(f, obj.Range.Length), f}
	}
	return obj, nil
}

func (s *s3Backend) GetObject(bucket, key string, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	return s.object(bucket, key, rng, false)
}

func (s *s3Backend) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	return s.object(bucket, key, nil, true)
}

// PutObject stores the object; user metadata and Content-Type are not
// kept (a bucket is a folder of plain files).
func (s *s3Backend) PutObject(bucket, key string, _ map[string]string, input io.Reader, _ int64, cond *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	var check func(*ObjectInfo) error
	if cond != nil && (cond.IfMatch != nil || cond.IfNoneMatch != nil) {
		check = func(cur *ObjectInfo) error {
			info := &gofakes3.ConditionalObjectInfo{Exists: cur != nil}
			if cur != nil {
				sum, err := s.etag(bucket, *cur)
				if err != nil {
					return err
				}
				info.Hash = sum
			}
			return gofakes3.CheckPutConditions(cond, info)
		}
	}
	// input ends at the request's Content-Length (or the decoded length of
	// an aws-chunked body), where gofakes3's reader checks Content-MD5.
	o, sum, err := s.b.PutObject(context.Background(), bucket, key, input, check)
	if err != nil {
		return gofakes3.PutObjectResult{}, s3Err(bucket, key, err)
	}
	s.remember(bucket, o, sum)
	return gofakes3.PutObjectResult{}, nil
}

func (s *s3Backend) DeleteObject(bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	err := s.b.DeleteObject(context.Background(), bucket, key)
	s.forget(bucket, key)
	return gofakes3.ObjectDeleteResult{}, s3Err(bucket, key, err)
}

func (s *s3Backend) DeleteMulti(bucket string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	var out gofakes3.MultiDeleteResult
	for _, k := range keys {
		err := s.b.DeleteObject(context.Background(), bucket, k)
		s.forget(bucket, k)
		if err != nil {
			var ge *gofakes3.ErrorResponse
			code, msg := gofakes3.ErrInternal, err.Error()
			if errors.As(s3Err(bucket, k, err), &ge) {
				code, msg = ge.Code, ge.Message
			}
			out.Error = append(out.Error, gofakes3.ErrorResult{Key: k, Code: code, Message: msg})
			continue
		}
		out.Deleted = append(out.Deleted, gofakes3.ObjectID{Key: k})
	}
	return out, nil
}

func (s *s3Backend) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	return gofakes3.CopyObject(s, srcBucket, srcKey, dstBucket, dstKey, meta)
}

// The buckets are the topology's: they are neither made nor removed here.
var errTopologyBuckets = gofakes3.ErrorMessage(gofakes3.ErrNotImplemented, "eventplane dev serves the topology's buckets (api/topology.yaml); it does not create or delete buckets")

// CreateBucket of a topology bucket succeeds (it exists), as S3's
// us-east-1 answers a bucket already owned by the caller, so a script's
// `aws s3 mb` runs unchanged; any other name is refused.
func (s *s3Backend) CreateBucket(name string) error {
	if slices.Contains(s.b.BucketNames(), name) {
		return nil
	}
	return errTopologyBuckets
}

func (s *s3Backend) DeleteBucket(string) error      { return errTopologyBuckets }
func (s *s3Backend) ForceDeleteBucket(string) error { return errTopologyBuckets }
