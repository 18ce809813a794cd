package handlers

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/tidwall/gjson"

	"github.com/eventplane/eventplane/consumers/bus"
	"github.com/eventplane/eventplane/consumers/delivery"
)

// FileOptions configure the file handler.
type FileOptions struct {
	// Table receives a summary item per file and an item per good record.
	Table string `json:"table"`
	// Format is csv, jsonl or auto (by the key's extension: .csv, .jsonl,
	// .ndjson; default auto).
	Format string `json:"format,omitempty"`
	// Required fields every record must have (non-empty).
	Required []string `json:"required,omitempty"`
	// Numeric fields that must parse as numbers (stored as numbers).
	Numeric []string `json:"numeric,omitempty"`
	// MaxErrors caps the bad rows listed in the summary (default 100); all
	// are counted.
	MaxErrors int `json:"maxErrors,omitempty"`
	// CompletionBus, when set, receives an io.eventplane.file.processed.v1
	// event per file.
	CompletionBus string `json:"completionBus,omitempty"`
}

// FileType is the completion event's type.
const FileType = "io.eventplane.file.processed.v1"

// FileAPI is what the file handler needs from AWS.
type FileAPI struct {
	S3 interface {
		GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	}
	DynamoDB interface {
		BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
		PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	}
	EventBridge EventBridgeAPI
}

// File parses uploaded objects named by S3 "Object Created" events (through
// EventBridge or S3 notifications): CSV with a header row, or JSON Lines,
// streamed record by record so that large files are never held in memory.
// Each good record becomes an item (pk "file#<bucket>/<key>", sk
// "record#<line>"), bad rows are reported in the per-file summary item
// (sk "summary") instead of failing the file, and a completion event can be
// published. Keys are deterministic, so reprocessing a file rewrites the same
// items: redeliveries are harmless.
type File struct {
	api FileAPI
	opt FileOptions
	now func() time.Time
}

// NewFile builds a file handler.
func NewFile(api FileAPI, opt FileOptions) (*File, error) {
	if opt.Table == "" {
		return nil, errors.New("options.table: required")
	}
	switch opt.Format {
	case "":
		opt.Format = "auto"
	case "auto", "csv", "jsonl":
	default:
		return nil, fmt.Errorf("options.format: %q: want auto, csv or jsonl", opt.Format)
	}
	if opt.MaxErrors <= 0 {
		opt.MaxErrors = 100
	}
	if opt.CompletionBus != "" && api.EventBridge == nil {
		return nil, errors.New("options.completionBus: no EventBridge client")
	}
	return &File{api: api, opt: opt, now: time.Now}, nil
}

func newFile(_ context.Context, deps Deps, options json.RawMessage) (delivery.Handler, error) {
	var o FileOptions
	if err := decodeOptions(options, &o); err != nil {
		return nil, err
	}
	if err := need("file", map[string]bool{"S3": deps.S3 != nil, "DynamoDB": deps.DynamoDB != nil,
		"EventBridge": deps.EventBridge != nil || o.CompletionBus == ""}); err != nil {
		return nil, err
	}
	return NewFile(FileAPI{S3: deps.S3, DynamoDB: deps.DynamoDB, EventBridge: deps.EventBridge}, o)
}

// ManagesDuplicates marks the handler as its own deduplication:
// deterministic item keys make reprocessing harmless.
func (f *File) ManagesDuplicates() {}

// object extracts bucket and key from an EventBridge Object Created event or
// an S3 notification record (whose keys are URL-encoded).
func object(e *ce.Event) (bucket, key string, err error) {
	d := e.Data()
	if b := gjson.GetBytes(d, "bucket.name"); b.Exists() {
		return b.String(), gjson.GetBytes(d, "object.key").String(), nil
	}
	if b := gjson.GetBytes(d, "s3.bucket.name"); b.Exists() {
		k, err := url.QueryUnescape(gjson.GetBytes(d, "s3.object.key").String())
		return b.String(), k, err
	}
	return "", "", fmt.Errorf("event %s (%s) names no S3 object", e.ID(), e.Type())
}

type rowError struct {
	Line   int    `json:"line" dynamodbav:"line"`
	Reason string `json:"reason" dynamodbav:"reason"`
}

// Handle implements delivery.Handler.
func (f *File) Handle(ctx context.Context, e *ce.Event) error {
	bucket, key, err := object(e)
	if err != nil || bucket == "" || key == "" {
		return delivery.Permanentf("file: %v", err)
	}
	format := f.opt.Format
	if format == "auto" {
		switch strings.ToLower(path.Ext(key)) {
		case ".csv":
			format = "csv"
		case ".jsonl", ".ndjson":
			format = "jsonl"
		default:
			return delivery.Permanentf("file: s3://%s/%s: cannot tell the format from the extension (set options.format)", bucket, key)
		}
	}
	started := f.now().UTC()
	obj, err := f.api.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("file: get s3://%s/%s: %w", bucket, key, err)
	}
	defer obj.Body.Close()
	pk := "file#" + bucket + "/" + key
	w := &batchWriter{api: f.api.DynamoDB, table: f.opt.Table}
	var records, rejected int
	var errs []rowError
	reject := func(line int, reason string) {
		rejected++
		if len(errs) < f.opt.MaxErrors {
			errs = append(errs, rowError{line, reason})
		}
	}
	accept := func(line int, rec map[string]any) error {
		if reason := f.validate(rec); reason != "" {
			reject(line, reason)
			return nil
		}
		item, err := attributevalue.MarshalMap(rec)
		if err != nil {
			reject(line, err.Error())
			return nil
		}
		item["pk"] = &types.AttributeValueMemberS{Value: pk}
		item["sk"] = &types.AttributeValueMemberS{Value: fmt.Sprintf("record#%09d", line)}
		records++
		return w.put(ctx, item)
	}
	if format == "csv" {
		err = readCSV(obj.Body, accept, reject)
	} else {
		err = readJSONL(obj.Body, accept, reject)
	}
	if err == nil {
		err = w.flush(ctx)
	}
	if err != nil {
		return fmt.Errorf("file: s3://%s/%s: %w", bucket, key, err)
	}
	finished := f.now().UTC()
	summary := map[string]any{"pk": pk, "sk": "summary", "bucket": bucket, "key": key, "format": format,
		"records": records, "rejected": rejected, "errors": errs, "eventId": e.ID(),
		"startedAt": started.Format(time.RFC3339Nano), "finishedAt": finished.Format(time.RFC3339Nano)}
	item, err := attributevalue.MarshalMap(summary)
	if err != nil {
		return delivery.Permanent(err)
	}
	if _, err := f.api.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(f.opt.Table), Item: item}); err != nil {
		return fmt.Errorf("file: summary of s3://%s/%s: %w", bucket, key, err)
	}
	if f.opt.CompletionBus == "" {
		return nil
	}
	done := ce.New()
	done.SetID("file-processed:" + bucket + "/" + key + ":" + e.ID()) // stable across redeliveries
	done.SetSource("eventplane/file")
	done.SetType(FileType)
	done.SetSubject(key)
	done.SetTime(finished)
	done.SetDataSchema("https://schemas.eventplane.io/events/" + FileType + ".json")
	delete(summary, "pk")
	delete(summary, "sk")
	delete(summary, "eventId")
	summary["table"] = f.opt.Table
	_ = done.SetData(ce.ApplicationJSON, summary)
	return putEvents(ctx, f.api.EventBridge, bus.Entry(f.opt.CompletionBus, &done))
}

func (f *File) validate(rec map[string]any) string {
	for _, name := range f.opt.Required {
		v, ok := rec[name]
		if !ok || v == nil || v == "" {
			return "missing " + name
		}
	}
	for _, name := range f.opt.Numeric {
		switch v := rec[name].(type) {
		case float64, nil:
		case json.Number:
			n, err := v.Float64()
			if err != nil {
				return name + " is not a number"
			}
			rec[name] = n
		case string:
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return fmt.Sprintf("%s %q is not a number", name, v)
			}
			rec[name] = n
		default:
			return name + " is not a number"
		}
	}
	return ""
}

func readCSV(r io.Reader, accept func(int, map[string]any) error, reject func(int, string)) error {
	cr := csv.NewReader(bufio.NewReaderSize(r, 64<<10))
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("csv header: %w", err)
	}
	header = append([]string(nil), header...)
	for line := 2; ; line++ {
		row, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				reject(line, pe.Err.Error())
				continue
			}
			return err
		}
		if len(row) != len(header) {
			reject(line, fmt.Sprintf("%d fields, the header has %d", len(row), len(header)))
			continue
		}
		rec := make(map[string]any, len(header))
		for i, h := range header {
			rec[h] = row[i]
		}
		if err := accept(line, rec); err != nil {
			return err
		}
	}
}

func readJSONL(r io.Reader, accept func(int, map[string]any) error, reject func(int, string)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(text))
		dec.UseNumber()
		var rec map[string]any
		if err := dec.Decode(&rec); err != nil {
			reject(line, "not a JSON object: "+err.Error())
			continue
		}
		for k, v := range rec {
			if n, ok := v.(json.Number); ok {
				if f, err := n.Float64(); err == nil {
					rec[k] = f
				}
			}
		}
		if err := accept(line, rec); err != nil {
			return err
		}
	}
	return sc.Err()
}

// batchWriter writes items 25 at a time, retrying unprocessed items.
type batchWriter struct {
	api interface {
		BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	}
	table   string
	pending []types.WriteRequest
}

func (w *batchWriter) put(ctx context.Context, item map[string]types.AttributeValue) error {
	w.pending = append(w.pending, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	if len(w.pending) == 25 {
		return w.flush(ctx)
	}
	return nil
}

func (w *batchWriter) flush(ctx context.Context) error {
	reqs := w.pending
	w.pending = nil
	for attempt := 0; len(reqs) > 0; attempt++ {
		if attempt == 5 {
			return fmt.Errorf("%d items still unprocessed after retries", len(reqs))
		}
		if attempt > 0 {
			time.Sleep(time.Duration(50<<attempt) * time.Millisecond)
		}
		out, err := w.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{w.table: reqs}})
		if err != nil {
			return err
		}
		reqs = out.UnprocessedItems[w.table]
	}
	return nil
}
