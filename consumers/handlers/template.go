package handlers

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/tidwall/gjson"
)

// template renders "{{path}}" placeholders from an event: id, source, type,
// subject, time, an extension name, or data.<json path>.
type template struct {
	raw   string
	parts []string // literal, path, literal, path, ..., literal
}

var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_.\-#]+)\s*\}\}`)

func parseTemplate(s string) (template, error) {
	t := template{raw: s}
	last := 0
	for _, m := range placeholder.FindAllStringSubmatchIndex(s, -1) {
		t.parts = append(t.parts, s[last:m[0]], s[m[2]:m[3]])
		last = m[1]
	}
	t.parts = append(t.parts, s[last:])
	for i := 0; i < len(t.parts); i += 2 {
		if strings.Contains(t.parts[i], "{{") || strings.Contains(t.parts[i], "}}") {
			return t, fmt.Errorf("template %q: unbalanced or invalid placeholder", s)
		}
	}
	return t, nil
}

// render fills the template; a missing value is an error naming the path.
func (t template) render(e *ce.Event) (string, error) {
	if len(t.parts) == 1 {
		return t.parts[0], nil // no placeholder
	}
	var b strings.Builder
	for i, p := range t.parts {
		if i%2 == 0 {
			b.WriteString(p)
			continue
		}
		v, err := lookup(e, p)
		if err != nil {
			return "", fmt.Errorf("template %q: %w", t.raw, err)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

func lookup(e *ce.Event, path string) (string, error) {
	switch path {
	case "id":
		return e.ID(), nil
	case "source":
		return e.Source(), nil
	case "type":
		return e.Type(), nil
	case "subject":
		if e.Subject() == "" {
			return "", fmt.Errorf("event %s has no subject", e.ID())
		}
		return e.Subject(), nil
	case "time":
		if e.Time().IsZero() {
			return "", fmt.Errorf("event %s has no time", e.ID())
		}
		return e.Time().UTC().Format(time.RFC3339Nano), nil
	}
	if rest, ok := strings.CutPrefix(path, "data."); ok {
		r := gjson.GetBytes(e.Data(), rest)
		if !r.Exists() || r.Type == gjson.Null || r.IsObject() || r.IsArray() {
			return "", fmt.Errorf("event %s has no scalar at data.%s", e.ID(), rest)
		}
		return r.String(), nil
	}
	if v, ok := e.Extensions()[path]; ok {
		return fmt.Sprint(v), nil
	}
	return "", fmt.Errorf("unknown placeholder %q (use id, source, type, subject, time, an extension or data.<path>)", path)
}
