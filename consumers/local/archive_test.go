package local_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The orders consumer's archive route writes the lake locally as in the
// cloud: gzip JSON Lines under events/type=<type>/..., one structured
// CloudEvent per line with the producer's id and data, whatever deflate
// level the local platform picks (any gzip reader reads it).
func TestLocalArchiveWritesGzipJSONLines(t *testing.T) {
	s := start(t, t.TempDir(), func(string) string { return "" })
	s.post("[" + order("arch-1", 10) + "," + order("arch-2", 20) + "," + order("arch-<3>&", 30) + "]")
	lake := s.p.Names.Buckets["lake"]
	var lines []map[string]any
	eventually(t, 10*time.Second, "three events archived", func() (bool, string) {
		objs, err := s.p.Objects.List(lake)
		if err != nil {
			return false, err.Error()
		}
		lines = lines[:0]
		var keys []string
		for _, o := range objs {
			if !strings.HasPrefix(o.Key, "events/type=io.eventplane.demo.order.placed.v1/") || !strings.HasSuffix(o.Key, ".jsonl.gz") {
				continue
			}
			keys = append(keys, o.Key)
			out, err := s.p.Objects.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(lake), Key: aws.String(o.Key)})
			if err != nil {
				return false, err.Error()
			}
			zr, err := gzip.NewReader(out.Body)
			if err != nil {
				return false, fmt.Sprintf("%s is not gzip: %v", o.Key, err)
			}
			sc := bufio.NewScanner(zr)
			for sc.Scan() {
				var line map[string]any
				if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
					t.Fatalf("%s: line %q is not a JSON object: %v", o.Key, sc.Text(), err)
				}
				lines = append(lines, line)
			}
			if err := sc.Err(); err != nil {
				t.Fatalf("%s: %v", o.Key, err)
			}
			_ = out.Body.Close()
		}
		return len(lines) == 3, fmt.Sprintf("objects %v, %d lines", keys, len(lines))
	})
	got := map[string]any{}
	for _, l := range lines {
		got[fmt.Sprint(l["id"])] = l["data"].(map[string]any)["total"]
	}
	if fmt.Sprint(got) != "map[arch-1:10 arch-2:20 arch-<3>&:30]" {
		t.Fatalf("archived ids and totals = %v", got)
	}
}
