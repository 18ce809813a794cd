package handlers

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/klauspost/compress/gzip"

	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/jsonscan"
)

// ArchiveOptions configure the archive handler.
type ArchiveOptions struct {
	// Bucket is the data lake bucket.
	Bucket string `json:"bucket"`
	// Prefix is prepended to every object key (default "events/").
	Prefix string `json:"prefix,omitempty"`
	// MaxEvents flushes a partition's batch at this many events (default 500).
	MaxEvents int `json:"maxEvents,omitempty"`
	// MaxBytes flushes a batch at this many uncompressed bytes (default 8 MiB).
	MaxBytes int `json:"maxBytes,omitempty"`
	// MaxAge flushes a batch this long after its first event (default 10s).
	// Events are acknowledged only once their object is written, so keep it
	// well below the queue's visibility timeout.
	MaxAge string `json:"maxAge,omitempty"`
	// GzipLevel is the objects' deflate level, 1 (fastest) to 9 (smallest);
	// default 6, gzip's own. Any gzip reader reads any level and the lines
	// are the same. The writer is klauspost/compress's gzip (RFC 1952
	// output like compress/gzip's, with faster encoders and a cheap Reset):
	// on the lake's JSON Lines (BenchmarkArchiveGzip) its default level
	// takes 0.32x of compress/gzip's time and its level 2 0.44x of
	// compress/gzip's level 2 at the same size; level 2 compresses ~1.6x
	// faster than 6 into objects ~12% larger, which the local platform
	// chooses (disk is cheap there, CPU is the limit).
	GzipLevel int `json:"gzipLevel,omitempty"`
}

// ArchiveAPI is the part of the S3 client the archive handler uses.
type ArchiveAPI interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Archive batches events into the S3 data lake as gzip JSON Lines (one
// structured CloudEvent per line), partitioned by
// type=<type>/year=YYYY/month=MM/day=DD/hour=HH (event time, UTC). Handle
// returns only when the object holding the event is written — a group
// commit: the engine acknowledges the message after that, so an event is
// never acked before it is durable. Run the consumer with enough in-flight
// messages (maxInFlight) to fill batches; S3 PUTs per event are about
// 1/MaxEvents at steady load.
type Archive struct {
	api    ArchiveAPI
	opt    ArchiveOptions
	maxAge time.Duration

	// gzipWriters pools writers at the options' level (a gzip.Writer holds
	// ~1 MB of deflate state: one per batch dominated the cost).
	gzipWriters sync.Pool

	mu      sync.Mutex
	batches map[string]*batch
	closed  bool
}

type batch struct {
	partition string
	lines     *bytes.Buffer // JSON Lines, compressed at flush (then back to linesBuffers)
	n         int
	done      chan struct{}
	err       error
	timer     *time.Timer
}

// NewArchive builds an archive handler.
func NewArchive(api ArchiveAPI, opt ArchiveOptions) (*Archive, error) {
	if opt.Bucket == "" {
		return nil, errors.New("options.bucket: required")
	}
	if opt.Prefix == "" {
		opt.Prefix = "events/"
	}
	if opt.MaxEvents <= 0 {
		opt.MaxEvents = 500
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = 8 << 20
	}
	if opt.GzipLevel == 0 {
		opt.GzipLevel = gzip.DefaultCompression
	}
	if opt.GzipLevel != gzip.DefaultCompression && (opt.GzipLevel < gzip.BestSpeed || opt.GzipLevel > gzip.BestCompression) {
		return nil, fmt.Errorf("options.gzipLevel: %d is not a level from 1 to 9", opt.GzipLevel)
	}
	a := &Archive{api: api, opt: opt, maxAge: 10 * time.Second, batches: map[string]*batch{}}
	level := opt.GzipLevel
	a.gzipWriters.New = func() any {
		zw, _ := gzip.NewWriterLevel(nil, level) // checked above
		return zw
	}
	if opt.MaxAge != "" {
		d, err := time.ParseDuration(opt.MaxAge)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("options.maxAge: %q is not a positive duration", opt.MaxAge)
		}
		a.maxAge = d
	}
	return a, nil
}

func newArchive(_ context.Context, deps Deps, options json.RawMessage) (delivery.Handler, error) {
	var o ArchiveOptions
	if err := decodeOptions(options, &o); err != nil {
		return nil, err
	}
	if err := need("archive", map[string]bool{"S3": deps.S3 != nil}); err != nil {
		return nil, err
	}
	return NewArchive(deps.S3, o)
}

// ManagesDuplicates exempts the archive from idempotency records: the lake
// is at-least-once by design (a redelivered event may appear twice) and every
// line carries the event id that readers deduplicate by.
func (a *Archive) ManagesDuplicates() {}

// partition names the event's partition.
func partition(e *ce.Event) string {
	t := e.Time().UTC()
	if t.IsZero() {
		t = time.Now().UTC()
	}
	b := make([]byte, 0, 48+len(e.Type()))
	b = append(b, "type="...)
	b = append(b, partitionType.Replace(e.Type())...)
	b = append(b, "/year="...)
	b = appendPadded(b, t.Year(), 4)
	b = append(b, "/month="...)
	b = appendPadded(b, int(t.Month()), 2)
	b = append(b, "/day="...)
	b = appendPadded(b, t.Day(), 2)
	b = append(b, "/hour="...)
	b = appendPadded(b, t.Hour(), 2)
	return string(b)
}

// partitionType keeps an event type from adding path levels (one Replacer
// for all events: building one per event was a tenth of the handler).
var partitionType = strings.NewReplacer("/", "_", "=", "_")

// appendPadded appends n in decimal with at least width digits, as %0*d.
func appendPadded(b []byte, n, width int) []byte {
	if n < 0 {
		return fmt.Appendf(b, "%0*d", width, n)
	}
	digits := 1
	for x := n; x >= 10; x /= 10 {
		digits++
	}
	for ; digits < width; digits++ {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(n), 10)
}

// Handle implements delivery.Handler.
func (a *Archive) Handle(ctx context.Context, e *ce.Event) error {
	buf := lineBuffers.Get().(*bytes.Buffer)
	line, err := marshalLine(buf, e)
	if err != nil {
		lineBuffers.Put(buf)
		return delivery.Permanentf("archive: event %s does not marshal: %v", e.ID(), err)
	}
	p := partition(e)
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		lineBuffers.Put(buf)
		return fmt.Errorf("archive: closed, event %s not written", e.ID())
	}
	b := a.batches[p]
	if b == nil {
		b = &batch{partition: p, done: make(chan struct{})}
		b.lines = batchBuffers.Get().(*bytes.Buffer)
		b.lines.Grow(min(a.opt.MaxEvents*(len(line)+1), a.opt.MaxBytes)) // one allocation per batch, or none with a pooled buffer
		b.timer = time.AfterFunc(a.maxAge, func() { a.flush(b) })
		a.batches[p] = b
	}
	b.lines.Write(line)
	b.lines.WriteByte('\n')
	lineBuffers.Put(buf)
	b.n++
	full := b.n >= a.opt.MaxEvents || b.lines.Len() >= a.opt.MaxBytes
	a.mu.Unlock()
	if full {
		a.flush(b)
	}
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		return ctx.Err() // the batch may still be written: the lake is at-least-once
	}
}

var lineBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// batchBuffers hold batches' lines (MaxEvents lines, ~100 KB) from one
// object to the next.
var batchBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// marshalLine returns json.Marshal(e), the line the lake has always held,
// written into buf (valid until buf's next use). json.Marshal runs sdk-go's
// MarshalJSON and then compacts its output through encoding/json's scanner,
// escaping <, >, & and U+2028/9 (HTMLEscape): half of the archive's cost.
// sdk-go's output is used as it is when that would change nothing — it is
// valid JSON (jsonscan.Valid is fuzzed against json.Valid) with no white
// space outside strings and no byte HTMLEscape rewrites; anything else goes
// through json.Marshal itself.
func marshalLine(buf *bytes.Buffer, e *ce.Event) ([]byte, error) {
	buf.Reset()
	if b, ok := appendPlainLine(buf.AvailableBuffer(), e); ok {
		buf.Write(b) // keeps the grown buffer for the next line
		return buf.Bytes(), nil
	}
	buf.Reset()
	if err := ce.WriteJson(e, buf); err == nil {
		b := buf.Bytes()
		if compactAndSafe(b) && jsonscan.Valid(unsafe.String(unsafe.SliceData(b), len(b))) { // #nosec G103 -- a view of buf's bytes, read while buf is not written
			return b, nil
		}
	}
	return json.Marshal(e)
}

// appendPlainLine appends what sdk-go's WriteJson writes for e, and so what
// json.Marshal returns, when that is plain: a CloudEvents 1.0 context
// whose attributes and (string) extensions are printable ASCII with nothing
// to escape, and JSON data that is valid, compact and safe. WriteJson's
// order: specversion, id, source, type, subject, datacontenttype,
// dataschema, time, data, then the extensions sorted by name. false: the
// caller takes sdk-go's path.
func appendPlainLine(b []byte, e *ce.Event) ([]byte, bool) {
	ec, ok := e.Context.(*ce.EventContextV1)
	if !ok || e.DataBase64 {
		return b, false
	}
	b = append(b, `{"specversion":"1.0","id":`...)
	var plain bool
	attr := func(name, v string) {
		if !plain {
			return
		}
		if name != "" {
			b = append(b, `,"`...)
			b = append(b, name...)
			b = append(b, `":`...)
		}
		if plain = plainString(v); plain {
			b = append(b, '"')
			b = append(b, v...)
			b = append(b, '"')
		}
	}
	plain = true
	attr("", ec.ID)
	attr("source", ec.Source.String())
	attr("type", ec.Type)
	if ec.Subject != nil {
		attr("subject", *ec.Subject)
	}
	media := ce.ApplicationJSON
	if ec.DataContentType != nil {
		attr("datacontenttype", *ec.DataContentType)
		media = *ec.DataContentType
		if i := strings.IndexByte(media, ';'); i >= 0 {
			media = media[:i]
		}
		media = strings.TrimSpace(strings.ToLower(media))
	}
	if ec.DataSchema != nil {
		attr("dataschema", ec.DataSchema.String())
	}
	if ec.Time != nil {
		attr("time", ec.Time.String())
	}
	if !plain {
		return b, false
	}
	if e.DataEncoded != nil {
		switch media {
		case ce.ApplicationJSON, ce.TextJSON, ce.ApplicationCloudEventsJSON, ce.ApplicationCloudEventsBatchJSON:
		default:
			return b, false // a string of text: sdk-go's escaping
		}
		// #nosec G103 -- a view of the event's data, read here only (appended below as bytes)
		if !compactAndSafe(e.DataEncoded) || !jsonscan.Valid(unsafe.String(unsafe.SliceData(e.DataEncoded), len(e.DataEncoded))) {
			return b, false
		}
		b = append(b, `,"data":`...)
		b = append(b, e.DataEncoded...)
	}
	if len(ec.Extensions) > 0 {
		var names [8]string
		sorted := names[:0]
		for name := range ec.Extensions {
			sorted = append(sorted, name)
		}
		slices.Sort(sorted)
		for _, name := range sorted {
			v, ok := ec.Extensions[name].(string)
			if !ok || !plainString(name) {
				return b, false
			}
			attr(name, v)
		}
		if !plain {
			return b, false
		}
	}
	return append(b, '}'), true
}

// plainString reports whether s is printable ASCII with nothing JSON or
// HTML escaping changes: quoted, it is its own JSON string everywhere.
func plainString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// compactAndSafe reports whether JSON text b has no white space outside its
// strings and none of the bytes encoding/json's HTML escaping rewrites (<, >,
// &, and 0xE2, which starts U+2028 and U+2029): json.Marshal would return it
// unchanged if it is valid.
func compactAndSafe(b []byte) bool {
	in, esc := false, false
	for _, c := range b {
		switch {
		case c == '<' || c == '>' || c == '&' || c == 0xE2:
			return false
		case in && esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			in = !in
		case !in && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return false
		}
	}
	return true
}

// Close writes the batches still waiting for MaxAge or MaxEvents (stopping
// their timers) and wakes their waiters; later events are refused. It is an
// io.Closer, which the engine closes at shutdown after the last Handle.
func (a *Archive) Close() error {
	a.mu.Lock()
	a.closed = true
	pending := make([]*batch, 0, len(a.batches))
	for _, b := range a.batches {
		pending = append(pending, b)
	}
	a.mu.Unlock()
	var errs []error
	for _, b := range pending {
		a.flush(b)
		<-b.done // flushed here or by its timer: b.err is set before done closes
		errs = append(errs, b.err)
	}
	return errors.Join(errs...)
}

// flush writes a batch once and wakes its waiters.
func (a *Archive) flush(b *batch) {
	a.mu.Lock()
	if a.batches[b.partition] != b {
		a.mu.Unlock()
		return // flushed already
	}
	delete(a.batches, b.partition)
	b.timer.Stop()
	a.mu.Unlock()

	// One compression per object, with a pooled writer.
	var gz bytes.Buffer
	zw := a.gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&gz)
	_, _ = zw.Write(b.lines.Bytes())
	err := zw.Close()
	a.gzipWriters.Put(zw)
	// Nothing reads the lines after this (Handle writes only to batches
	// still in a.batches): the buffer serves a later batch. The compressed
	// body is not pooled: an HTTP transport may read it after PutObject
	// returns an error.
	b.lines.Reset()
	batchBuffers.Put(b.lines)
	b.lines = nil
	if err != nil {
		b.err = err
		close(b.done)
		return
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	key := fmt.Sprintf("%s%s/%s-%s.jsonl.gz", a.opt.Prefix, b.partition, time.Now().UTC().Format("20060102T150405.000Z"), hex.EncodeToString(suffix[:]))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	body := gz.Bytes()
	_, err = a.api.PutObject(ctx, &s3.PutObjectInput{
		Bucket:          aws.String(a.opt.Bucket),
		Key:             aws.String(key),
		Body:            bytes.NewReader(body),
		ContentLength:   aws.Int64(int64(len(body))),
		ContentType:     aws.String("application/x-ndjson"),
		ContentEncoding: aws.String("gzip"),
	})
	if err != nil {
		b.err = fmt.Errorf("archive: put s3://%s/%s: %w", a.opt.Bucket, key, err)
	}
	close(b.done)
}
