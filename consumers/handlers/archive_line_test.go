package handlers

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	ce "github.com/cloudevents/sdk-go/v2/event"
	kgzip "github.com/klauspost/compress/gzip"
)

func lineEvent(t testing.TB, contentType string, data []byte, ext map[string]any) *ce.Event {
	t.Helper()
	e := ce.New()
	e.SetID("id-1")
	e.SetSource("shop/checkout")
	e.SetType("io.eventplane.demo.order.placed.v1")
	e.SetTime(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC))
	e.SetSubject("order 1")
	for k, v := range ext {
		e.SetExtension(k, v)
	}
	if data != nil {
		e.SetDataContentType(contentType)
		e.DataEncoded = data
	}
	return &e
}

// The lake's lines stay byte for byte what json.Marshal wrote (readers
// and the object's dedup by id rely on one JSON object per line): data with
// white space or line breaks between its tokens is compacted, <, >, & and
// U+2028/9 are escaped as encoding/json does, and anything else is kept.
func TestArchiveLineIsWhatJSONMarshalWrites(t *testing.T) {
	cases := map[string]*ce.Event{
		"plain json":           lineEvent(t, "application/json", []byte(`{"orderId":"o-1","total":10,"items":[{"sku":"a b","qty":2}]}`), nil),
		"indented json":        lineEvent(t, "application/json", []byte("{\n  \"orderId\": \"o-1\",\n\t\"total\": 10\r\n}"), nil),
		"html characters":      lineEvent(t, "application/json", []byte(`{"note":"<b>a & b</b>"}`), nil),
		"line separators":      lineEvent(t, "application/json", []byte("{\"note\":\"a\u2028b\u2029c\"}"), nil),
		"escaped quotes":       lineEvent(t, "application/json", []byte(`{"note":"say \"hi\" \\ ok","k":"\\"}`), nil),
		"no data":              lineEvent(t, "", nil, nil),
		"text data":            lineEvent(t, "text/plain", []byte("line one\nline <two>"), nil),
		"binary data":          lineEvent(t, "application/octet-stream", []byte{0, 1, 2, 0xE2, 0x80, 0xA8}, nil),
		"extensions":           lineEvent(t, "application/json", []byte(`{"a":1}`), map[string]any{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "partitionkey": "a&b", "count": 3}),
		"attribute with space": lineEvent(t, "application/json; charset=utf-8", []byte(` [1, 2] `), nil),
		"media type case":      lineEvent(t, "Application/JSON ; charset=utf-8", []byte(`{"a":1}`), nil),
		"cloudevents media":    lineEvent(t, "application/cloudevents+json", []byte(`{"a":1}`), nil),
		"empty json data":      lineEvent(t, "application/json", []byte{}, nil),
		"string extensions":    lineEvent(t, "application/json", []byte(`{"a":1}`), map[string]any{"sqsmessageid": "m-1", "sqsqueue": "arn:aws:sqs:local:000000000000:orders", "b": "x", "a": "y"}),
		"quote in extension":   lineEvent(t, "application/json", []byte(`{"a":1}`), map[string]any{"note": `say "hi"`}),
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) {
			want, wantErr := json.Marshal(e)
			got, err := marshalLine(new(bytes.Buffer), e)
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("error = %v, json.Marshal's = %v", err, wantErr)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("line:\n got %s\nwant %s", got, want)
			}
			if bytes.IndexByte(got, '\n') >= 0 {
				t.Fatalf("line %q holds a line break", got)
			}
		})
	}
}

// An event whose JSON data is not JSON is refused as json.Marshal refuses
// it (the archive answers a permanent error: the message goes to the DLQ).
func TestArchiveLineRefusesInvalidJSONData(t *testing.T) {
	e := lineEvent(t, "application/json", []byte(`{"a":`), nil)
	if _, err := json.Marshal(e); err == nil {
		t.Fatal("json.Marshal accepted invalid data")
	}
	if line, err := marshalLine(new(bytes.Buffer), e); err == nil {
		t.Fatalf("marshalLine accepted invalid data: %s", line)
	}
}

func FuzzArchiveLine(f *testing.F) {
	f.Add([]byte(`{"a":"<&>","b":[1, 2]}`), "x", "i", "v", "application/json")
	f.Add([]byte("{\"a\":\"\u2028\"}"), "a b", "i", "\x7f", "text/plain")
	f.Add([]byte(`{"a":1}`), "plain subject", "id-2", "ext value", "application/json; charset=utf-8")
	f.Fuzz(func(t *testing.T, data []byte, subject, id, ext, contentType string) {
		e := lineEvent(t, contentType, data, map[string]any{"sqsmessageid": ext, "count": len(ext)})
		e.SetSubject(subject)
		e.SetID(id)
		want, wantErr := json.Marshal(e)
		got, err := marshalLine(new(bytes.Buffer), e)
		if (err != nil) != (wantErr != nil) || (err == nil && !bytes.Equal(got, want)) {
			t.Fatalf("marshalLine = %s, %v; json.Marshal = %s, %v", got, err, want, wantErr)
		}
	})
}

func BenchmarkArchiveLine(b *testing.B) {
	e := lineEvent(b, "application/json", []byte(`{"orderId":"o-123456","customerId":"c-42","total":10,"currency":"EUR","items":[{"sku":"sku-1","qty":2,"price":5}]}`),
		map[string]any{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
	b.Run("baseline json.Marshal", func(b *testing.B) {
		for range b.N {
			if _, err := json.Marshal(e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("marshalLine", func(b *testing.B) {
		buf := new(bytes.Buffer)
		for range b.N {
			if _, err := marshalLine(buf, e); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkArchiveGzip compresses one object of 200 lines at the default
// level (the baseline) and at level 2 (the local platform's), reporting the size ratio
// to the uncompressed lines.
func BenchmarkArchiveGzip(b *testing.B) {
	var lines bytes.Buffer
	for i := range 200 {
		e := lineEvent(b, "application/json", fmt.Appendf(nil, `{"orderId":"o-%06d","customerId":"c-%d","currency":"EUR","total":%d.%02d,"items":[{"sku":"sku-%d","quantity":%d,"price":%d}]}`,
			i*7919%1000000, i%97, i*31%1000, i%100, i%13, 1+i%5, i%200), map[string]any{"sqsmessageid": fmt.Sprintf("orders-%08d", i)})
		e.SetID(fmt.Sprintf("%08x-4bd1-9c2e-%012x", i*2654435761, i*40503))
		line, err := marshalLine(new(bytes.Buffer), e)
		if err != nil {
			b.Fatal(err)
		}
		lines.Write(line)
		lines.WriteByte('\n')
	}
	type writer interface {
		io.Writer
		Reset(io.Writer)
		Close() error
	}
	std := func(level int) (writer, error) { return gzip.NewWriterLevel(nil, level) }
	kp := func(level int) (writer, error) { return kgzip.NewWriterLevel(nil, level) }
	for _, c := range []struct {
		name  string
		level int
		new   func(int) (writer, error)
	}{
		{"baseline compress/gzip default level", gzip.DefaultCompression, std},
		{"compress/gzip level 2", 2, std},
		{"klauspost gzip default level", kgzip.DefaultCompression, kp},
		{"klauspost gzip level 2 (the archive's writer)", 2, kp},
	} {
		b.Run(c.name, func(b *testing.B) {
			zw, err := c.new(c.level)
			if err != nil {
				b.Fatal(err)
			}
			var out bytes.Buffer
			for range b.N {
				out.Reset()
				zw.Reset(&out)
				_, _ = zw.Write(lines.Bytes())
				if err := zw.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(out.Len())/float64(lines.Len()), "size-ratio")
		})
	}
}

// capturedPuts keeps the objects an archive writes (a unit test of the
// option; the S3 adapter itself is exercised against moto in archive_test).
type capturedPuts struct{ bodies [][]byte }

func (c *capturedPuts) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	b, err := io.ReadAll(in.Body)
	c.bodies = append(c.bodies, b)
	return &s3.PutObjectOutput{}, err
}

// options.gzipLevel picks the deflate level: out of 1-9 is refused naming
// the option, and any level writes gzip that reads back to the same lines.
func TestArchiveGzipLevelOption(t *testing.T) {
	for _, bad := range []int{10, -2} {
		if _, err := NewArchive(&capturedPuts{}, ArchiveOptions{Bucket: "lake", GzipLevel: bad}); err == nil || !strings.Contains(err.Error(), "options.gzipLevel") {
			t.Errorf("gzipLevel %d: error %v, want one naming options.gzipLevel", bad, err)
		}
	}
	e := lineEvent(t, "application/json", []byte(`{"orderId":"o-1"}`), nil)
	want, _ := json.Marshal(e)
	for _, level := range []int{0, 1, 2, 9} {
		puts := &capturedPuts{}
		a, err := NewArchive(puts, ArchiveOptions{Bucket: "lake", MaxEvents: 1, GzipLevel: level})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Handle(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		if len(puts.bodies) != 1 {
			t.Fatalf("level %d: %d objects, want 1", level, len(puts.bodies))
		}
		zr, err := gzip.NewReader(bytes.NewReader(puts.bodies[0]))
		if err != nil {
			t.Fatalf("level %d: not gzip: %v", level, err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || string(got) != string(want)+"\n" {
			t.Fatalf("level %d: object holds %q (%v), want %q", level, got, err, string(want)+"\n")
		}
	}
}
