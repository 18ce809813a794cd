package local

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// watch announces new or changed files of buckets with EventBridge
// notifications as S3 "Object Created" events on the default bus, as S3
// does; files present at start are announced too if not yet seen.
func (p *Platform) watch(ctx context.Context) {
	t := time.NewTicker(p.opts.WatchInterval)
	defer t.Stop()
	for {
		for _, b := range p.top.Buckets {
			if b.EventBridge {
				p.scanBucket(ctx, p.Names.Buckets[b.Name])
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *Platform) scanBucket(ctx context.Context, bucket string) {
	objs, err := p.Objects.List(bucket)
	if err != nil {
		p.log.Error("watch bucket", "bucket", bucket, "error", err)
		return
	}
	p.seenMu.Lock()
	defer p.seenMu.Unlock()
	changed := false
	for _, o := range objs {
		id := o.Bucket + "/" + o.Key
		if at, ok := p.seen[id]; ok && at.Equal(o.Modified) {
			continue
		}
		// Let a file being copied settle before announcing it.
		if time.Since(o.Modified) < p.opts.WatchInterval {
			continue
		}
		// S3 puts the object's ETag in the event: the MD5 of its bytes.
		etag, err := p.Objects.md5(o.Bucket, o.Key)
		if err != nil {
			continue // removed or unreadable meanwhile: the next scan sees it
		}
		if err := p.announce(ctx, o, "Object Created", "PutObject", map[string]any{"size": o.Size, "etag": etag}); err != nil {
			p.log.Error("announce upload", "object", id, "error", err)
			continue
		}
		p.seen[id] = o.Modified
		changed = true
		p.log.Info("upload announced", "bucket", o.Bucket, "key", o.Key, "size", o.Size)
	}
	if changed {
		p.saveSeen(bucket)
	}
}

// announce puts S3's EventBridge notification of an object on the default
// bus: detail-type "Object Created" or "Object Deleted", the reason (the S3
// operation), the object fields of that event type and any other detail
// fields (deletion-type).
func (p *Platform) announce(ctx context.Context, o Object, detailType, reason string, object map[string]any, more ...string) error {
	object["key"] = o.Key
	d := map[string]any{
		"version": "0", "bucket": map[string]string{"name": o.Bucket}, "object": object,
		"request-id": newID(), "requester": account, "reason": reason,
	}
	for i := 0; i+1 < len(more); i += 2 {
		d[more[i]] = more[i+1]
	}
	detail, _ := json.Marshal(d)
	_, err := p.Bus.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		Source: aws.String("aws.s3"), DetailType: aws.String(detailType), Detail: aws.String(string(detail)),
		Resources: []string{"arn:aws:s3:::" + o.Bucket}, EventBusName: aws.String("default"),
	}}})
	return err
}

// saveSeen writes what was announced; the caller holds seenMu.
func (p *Platform) saveSeen(bucket string) {
	b, _ := json.Marshal(p.seen)
	_ = os.WriteFile(p.seenFile(bucket), b, 0o600)
}

// seenFile remembers which objects of a bucket were announced, so a
// restart does not announce them again.
func (p *Platform) seenFile(bucket string) string {
	return filepath.Join(p.opts.Dir, "buckets", "."+bucket+".seen.json")
}
