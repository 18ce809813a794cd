package local

import (
	"context"
	"encoding/hex"
	"io"

	"github.com/eventplane/eventplane/consumers/local/awsapi"
)

// The buckets as the S3 API (awsapi/s3.go) sees them: the folders, with
// S3's EventBridge notifications for the puts and deletes made through it.

func (a awsPlatform) BucketNames() []string { return a.p.Objects.Buckets() }

func (a awsPlatform) ListObjects(bucket string) ([]awsapi.ObjectInfo, error) {
	if _, _, err := a.p.Objects.locate(bucket, "k"); err != nil {
		return nil, err // NoSuchBucket
	}
	objs, err := a.p.Objects.List(bucket)
	if err != nil {
		return nil, err
	}
	out := make([]awsapi.ObjectInfo, len(objs))
	for i, o := range objs {
		out[i] = awsapi.ObjectInfo{Key: o.Key, Size: o.Size, Modified: o.Modified}
	}
	return out, nil
}

func (a awsPlatform) OpenObject(bucket, key string) (io.ReadSeekCloser, awsapi.ObjectInfo, error) {
	f, o, err := a.p.Objects.Open(bucket, key)
	if err != nil {
		return nil, awsapi.ObjectInfo{}, err
	}
	return f, awsapi.ObjectInfo{Key: key, Size: o.Size, Modified: o.Modified}, nil
}

// PutObject stores the object whole and, when the bucket sends EventBridge
// notifications, raises its "Object Created" event at once (S3 sends it
// when the PUT completes), with the MD5 ETag S3 puts in the event. The
// upload watcher then knows the file and does not announce it again.
func (a awsPlatform) PutObject(ctx context.Context, bucket, key string, body io.Reader, check func(*awsapi.ObjectInfo) error) (awsapi.ObjectInfo, []byte, error) {
	var chk func(*Object) error
	if check != nil {
		chk = func(cur *Object) error {
			if cur == nil {
				return check(nil)
			}
			return check(&awsapi.ObjectInfo{Key: cur.Key, Size: cur.Size, Modified: cur.Modified})
		}
	}
	o, sum, err := a.p.Objects.Store(bucket, key, body, chk)
	if err != nil {
		return awsapi.ObjectInfo{}, nil, err
	}
	info := awsapi.ObjectInfo{Key: o.Key, Size: o.Size, Modified: o.Modified}
	if !a.notifies(bucket) {
		return info, sum, nil
	}
	p := a.p
	p.seenMu.Lock()
	defer p.seenMu.Unlock()
	id := bucket + "/" + key
	if at, ok := p.seen[id]; ok && at.Equal(o.Modified) {
		return info, sum, nil // the watcher was first
	}
	if err := p.announce(ctx, o, "Object Created", "PutObject", map[string]any{"size": o.Size, "etag": hex.EncodeToString(sum)}); err != nil {
		return info, sum, err
	}
	p.seen[id] = o.Modified
	p.saveSeen(bucket)
	p.log.Info("upload announced", "bucket", bucket, "key", key, "size", o.Size, "via", "s3 api")
	return info, sum, nil
}

// DeleteObject removes the object and, when it existed in a bucket that
// sends EventBridge notifications, raises S3's "Object Deleted" event
// (deletion-type "Permanently Deleted": the buckets are not versioned).
func (a awsPlatform) DeleteObject(ctx context.Context, bucket, key string) error {
	existed, err := a.p.Objects.Delete(bucket, key)
	if err != nil || !existed || !a.notifies(bucket) {
		return err
	}
	p := a.p
	p.seenMu.Lock()
	defer p.seenMu.Unlock()
	delete(p.seen, bucket+"/"+key)
	p.saveSeen(bucket)
	return p.announce(ctx, Object{Bucket: bucket, Key: key}, "Object Deleted", "DeleteObject", map[string]any{}, "deletion-type", "Permanently Deleted")
}

// notifies reports whether a bucket (physical name) sends EventBridge
// notifications.
func (a awsPlatform) notifies(bucket string) bool {
	for _, b := range a.p.top.Buckets {
		if a.p.Names.Buckets[b.Name] == bucket {
			return b.EventBridge
		}
	}
	return false
}
