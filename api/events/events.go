// Package events holds the JSON Schemas of eventplane's own event types and
// validates CloudEvent data against them.
//
// Each schema file is named after the CloudEvents type it describes, whose last
// dot-separated part is its version ("io.eventplane.file.processed.v1"). The
// schema's $id is the type's dataschema URI. See README.md for the versioning
// rule.
package events

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed *.json
var files embed.FS

// SchemaBase is the prefix of every schema $id (the dataschema URI).
const SchemaBase = "https://schemas.eventplane.io/events/"

// ErrUnknownType is wrapped by errors for types without a schema.
var ErrUnknownType = errors.New("no schema for this event type")

// Registry holds compiled schemas by type and by $id.
type Registry struct {
	byType map[string]*jsonschema.Schema
	byID   map[string]string    // $id -> type
	accept map[string]*acceptor // type -> its fast accept, when the schema has one
}

// Load compiles the embedded schemas.
func Load() (*Registry, error) {
	return load(files)
}

func load(fsys fs.FS) (*Registry, error) {
	r := &Registry{byType: map[string]*jsonschema.Schema{}, byID: map[string]string{}, accept: map[string]*acceptor{}}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, err
	}
	ids := map[string]string{}
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
		var meta struct {
			ID   string `json:"$id"`
			Type string `json:"x-eventplane-type"`
		}
		if err := json.Unmarshal(b, &meta); err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
		typ := strings.TrimSuffix(name, ".json")
		if meta.Type != typ || meta.ID != SchemaBase+name {
			return nil, fmt.Errorf("schema %s: x-eventplane-type must be %q and $id %q", name, typ, SchemaBase+name)
		}
		if _, err := Version(typ); err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
		if err := c.AddResource(meta.ID, doc); err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
		ids[typ] = meta.ID
	}
	for typ, id := range ids {
		s, err := c.Compile(id)
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", typ, err)
		}
		r.byType[typ] = s
		r.byID[id] = typ
		if a := newAcceptor(s); a != nil {
			r.accept[typ] = a
		}
	}
	return r, nil
}

// Types lists the event types with a schema, sorted.
func (r *Registry) Types() []string {
	out := make([]string, 0, len(r.byType))
	for t := range r.byType {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Known reports whether typ has a schema.
func (r *Registry) Known(typ string) bool { _, ok := r.byType[typ]; return ok }

// SchemaURI returns the dataschema URI of typ.
func SchemaURI(typ string) string { return SchemaBase + typ + ".json" }

// DataError reports event data that does not conform to its schema.
type DataError struct {
	Type string
	// Details has one line per violation: "<JSON pointer>: <message>".
	Details []string
}

func (e *DataError) Error() string {
	return fmt.Sprintf("data of %s does not match its schema: %s", e.Type, strings.Join(e.Details, "; "))
}

// Validate checks data against the schema of the event: by dataschema when
// set (it must name a known schema, and that schema's type must be typ), else
// by type. An unknown type yields an error wrapping ErrUnknownType.
func (r *Registry) Validate(typ, dataschema string, data []byte) error {
	if dataschema != "" {
		st, ok := r.byID[dataschema]
		if !ok {
			return fmt.Errorf("dataschema %q: %w", dataschema, ErrUnknownType)
		}
		if st != typ {
			return fmt.Errorf("dataschema %q describes %s, not %s", dataschema, st, typ)
		}
	}
	s, ok := r.byType[typ]
	if !ok {
		return fmt.Errorf("type %q: %w", typ, ErrUnknownType)
	}
	inst, err := instance(data)
	if err != nil {
		return &DataError{Type: typ, Details: []string{"data is not JSON: " + err.Error()}}
	}
	if a := r.accept[typ]; a != nil && a.accepts(inst) {
		return nil
	}
	err = s.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	de := &DataError{Type: typ, Details: leaves(ve.BasicOutput())}
	if len(de.Details) == 0 {
		de.Details = []string{ve.Error()}
	}
	return de
}

// leaves flattens the basic output of a validation into "pointer: message"
// lines, most specific first.
func leaves(u *jsonschema.OutputUnit) []string {
	var out []string
	var walk func(u *jsonschema.OutputUnit)
	walk = func(u *jsonschema.OutputUnit) {
		if u.Error != nil && len(u.Errors) == 0 {
			loc := u.InstanceLocation
			if loc == "" {
				loc = "/"
			}
			out = append(out, loc+": "+u.Error.String())
		}
		for i := range u.Errors {
			walk(&u.Errors[i])
		}
	}
	walk(u)
	return out
}

// Version returns the version number at the end of an event type
// ("...placed.v2" -> 2).
func Version(typ string) (int, error) {
	_, n, err := split(typ)
	return n, err
}

func split(typ string) (family string, version int, err error) {
	i := strings.LastIndex(typ, ".v")
	if i < 0 {
		return "", 0, fmt.Errorf("type %q does not end in .v<N>", typ)
	}
	n, err := strconv.Atoi(typ[i+2:])
	if err != nil || n < 1 || strconv.Itoa(n) != typ[i+2:] {
		return "", 0, fmt.Errorf("type %q does not end in .v<N> with N >= 1", typ)
	}
	return typ[:i], n, nil
}

// Accepts reports whether a consumer written for type want accepts an event
// of type got: the same family at version N (want's) or N-1.
func Accepts(want, got string) bool {
	wf, wv, err := split(want)
	if err != nil {
		return want == got
	}
	gf, gv, err := split(got)
	return err == nil && wf == gf && (gv == wv || gv == wv-1)
}
