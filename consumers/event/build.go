package event

import (
	"net/url"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
)

// Extension attribute names set for the envelopes a normalizer removed.
const (
	ExtSQSMessageID = "sqsmessageid"
	ExtSQSQueue     = "sqsqueue"
	ExtSNSTopic     = "snstopic"
	ExtSNSMessageID = "snsmessageid"
	ExtTraceParent  = "traceparent"
	ExtTraceState   = "tracestate"
)

// Content types the normalizer assigns.
const (
	ContentJSON   = "application/json"
	ContentText   = "text/plain; charset=utf-8"
	ContentBinary = "application/octet-stream"
)

const maxExtensions = 8

type extension struct{ name, value string }

// envelope accumulates what the removed envelopes contribute to the final event:
// identity extensions and trace context. It lives on the stack.
type envelope struct {
	ext         [maxExtensions]extension
	n           int
	traceparent string
	tracestate  string
	depth       int
}

func (e *envelope) add(name, value string) {
	if value == "" || e.n == maxExtensions {
		return
	}
	e.ext[e.n] = extension{name, value}
	e.n++
}

// attrs are the fields of one CloudEvent before it is built.
type attrs struct {
	id, source, typ, subject string
	time                     time.Time
	contentType              string
	data                     []byte
	base64                   bool
	dataSchema               string
	// ext are the producer's extensions (from an EventBridge carriage).
	ext []extension
}

// block holds an event context and the values its pointers refer to, so that
// one allocation carries them all.
type block struct {
	ctx         ce.EventContextV1
	subject     string
	contentType string
	time        types.Timestamp
}

// build appends the CloudEvent described by a, carrying env's extensions.
func build(dst []ce.Event, env *envelope, shape string, a attrs) ([]ce.Event, error) {
	if strings.TrimSpace(a.id) == "" {
		return dst, errorf(shape, "", "event id is empty")
	}
	if strings.TrimSpace(a.source) == "" {
		return dst, errorf(shape, "", "event source is empty")
	}
	if strings.TrimSpace(a.typ) == "" {
		return dst, errorf(shape, "", "event type is empty")
	}
	src, err := parseSource(a.source)
	if err != nil {
		return dst, errorf(shape, "", "event source %q is not a URI-reference: %v", a.source, err)
	}
	b := &block{subject: a.subject, contentType: a.contentType}
	b.ctx.ID = a.id
	b.ctx.Source = src
	b.ctx.Type = a.typ
	if a.subject != "" {
		b.ctx.Subject = &b.subject
	}
	if a.contentType != "" {
		b.ctx.DataContentType = &b.contentType
	}
	if !a.time.IsZero() {
		b.time.Time = a.time
		b.ctx.Time = &b.time
	}
	if a.dataSchema != "" {
		u, err := url.Parse(a.dataSchema)
		if err != nil || !u.IsAbs() {
			return dst, errorf(shape, "", "dataschema %q is not an absolute URI", a.dataSchema)
		}
		b.ctx.DataSchema = &types.URI{URL: *u}
	}
	n := env.n + len(a.ext)
	if env.traceparent != "" {
		n++
	}
	if env.tracestate != "" {
		n++
	}
	if n > 0 {
		b.ctx.Extensions = make(map[string]any, n)
		for _, x := range env.ext[:env.n] {
			b.ctx.Extensions[x.name] = x.value
		}
		for _, x := range a.ext {
			b.ctx.Extensions[x.name] = x.value
		}
		if env.traceparent != "" {
			b.ctx.Extensions[ExtTraceParent] = env.traceparent
		}
		if env.tracestate != "" {
			b.ctx.Extensions[ExtTraceState] = env.tracestate
		}
	}
	return append(dst, ce.Event{Context: &b.ctx, DataEncoded: a.data, DataBase64: a.base64}), nil
}

// decorate adds env's extensions to an event decoded from a CloudEvent
// representation (structured or binary mode). Attributes the event already
// carries win over the envelope's.
func decorate(e *ce.Event, env *envelope) {
	for _, x := range env.ext[:env.n] {
		if _, ok := e.Extensions()[x.name]; !ok {
			_ = e.Context.SetExtension(x.name, x.value)
		}
	}
	if env.traceparent != "" {
		if _, ok := e.Extensions()[ExtTraceParent]; !ok {
			_ = e.Context.SetExtension(ExtTraceParent, env.traceparent)
			if env.tracestate != "" {
				_ = e.Context.SetExtension(ExtTraceState, env.tracestate)
			}
		}
	}
}

// parseSource builds the URI-reference of a source. The common shapes (ARNs,
// reverse-DNS names like aws.s3) are built directly, everything else goes through
// url.Parse; both give the same URL value.
func parseSource(s string) (types.URIRef, error) {
	if simpleSource(s) {
		if i := strings.IndexByte(s, ':'); i > 0 {
			return types.URIRef{URL: url.URL{Scheme: s[:i], Opaque: s[i+1:]}}, nil
		}
		return types.URIRef{URL: url.URL{Path: s}}, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return types.URIRef{}, err
	}
	return types.URIRef{URL: *u}, nil
}

// simpleSource reports whether s is either a path of unreserved characters
// without ':' or a lower-case scheme followed by ':' and an opaque part of
// unreserved characters and ':' — the shapes for which url.Parse yields exactly
// URL{Path: s} or URL{Scheme, Opaque}.
func simpleSource(s string) bool {
	colon := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '.', c == '-', c == '_', c == '~':
		case c == ':':
			if colon < 0 {
				colon = i
			}
		default:
			return false
		}
	}
	if colon < 0 {
		return s != ""
	}
	if colon == 0 || colon == len(s)-1 {
		return false
	}
	// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ); url.Parse lower-cases
	// it, so only lower-case schemes take the direct path.
	if c := s[0]; c < 'a' || c > 'z' {
		return false
	}
	for i := 1; i < colon; i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
