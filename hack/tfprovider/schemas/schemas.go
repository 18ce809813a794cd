// Package schemas loads one provider's schemas from the output of
// `terraform providers schema -json` (optionally gzipped) and converts them
// to the plugin protocol's types, so that a provider process can serve
// exactly the schemas the real provider serves.
package schemas

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-go/tfprotov5"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// Provider holds every schema of one provider. The provider configuration
// and the functions are converted at load; a resource, data source or
// ephemeral resource schema when it is first asked for (a provider process
// that plans a few types never converts the other 1,600), or all at once
// for GetProviderSchema.
type Provider struct {
	Address   string
	Provider  *tfprotov5.Schema
	Functions map[string]*tfprotov5.Function

	mu    sync.Mutex
	tc    types
	kinds map[Kind]*kind
}

// Kind is a kind of schema: resource, data source or ephemeral resource.
type Kind string

// The kinds of schema.
const (
	Resource          Kind = "resource"
	DataSource        Kind = "data source"
	EphemeralResource Kind = "ephemeral resource"
)

type kind struct {
	raw       map[string]json.RawMessage
	converted map[string]*tfprotov5.Schema
}

// Names lists the type names of kind k.
func (p *Provider) Names(k Kind) []string {
	return sortedKeys(p.kinds[k].raw)
}

// Schema returns the schema of type name of kind k, nil if there is none.
func (p *Provider) Schema(k Kind, name string) (*tfprotov5.Schema, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.schemaLocked(k, name)
}

func (p *Provider) schemaLocked(k Kind, name string) (*tfprotov5.Schema, error) {
	kd := p.kinds[k]
	if s, ok := kd.converted[name]; ok {
		return s, nil
	}
	raw, ok := kd.raw[name]
	if !ok {
		return nil, nil
	}
	var js jsonSchema
	if err := json.Unmarshal(raw, &js); err != nil {
		return nil, fmt.Errorf("%s %s: %w", k, name, err)
	}
	s, err := p.tc.schema(&js)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", k, name, err)
	}
	kd.converted[name] = s
	return s, nil
}

// All converts and returns every schema of kind k.
func (p *Provider) All(k Kind) (map[string]*tfprotov5.Schema, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]*tfprotov5.Schema, len(p.kinds[k].raw))
	for name := range p.kinds[k].raw {
		s, err := p.schemaLocked(k, name)
		if err != nil {
			return nil, err
		}
		out[name] = s
	}
	return out, nil
}

// The JSON shapes of `terraform providers schema -json` (format 1.0).
type jsonProvider struct {
	Provider           *jsonSchema                `json:"provider"`
	Resources          map[string]json.RawMessage `json:"resource_schemas"`
	DataSources        map[string]json.RawMessage `json:"data_source_schemas"`
	EphemeralResources map[string]json.RawMessage `json:"ephemeral_resource_schemas"`
	Functions          map[string]*jsonFunc       `json:"functions"`
}

type jsonSchema struct {
	Version int64      `json:"version"`
	Block   *jsonBlock `json:"block"`
}

type jsonBlock struct {
	Attributes map[string]*jsonAttribute `json:"attributes"`
	BlockTypes map[string]*jsonBlockType `json:"block_types"`
	Deprecated bool                      `json:"deprecated"`
}

type jsonAttribute struct {
	Type       json.RawMessage `json:"type"`
	NestedType json.RawMessage `json:"nested_type"`
	Required   bool            `json:"required"`
	Optional   bool            `json:"optional"`
	Computed   bool            `json:"computed"`
	Sensitive  bool            `json:"sensitive"`
	Deprecated bool            `json:"deprecated"`
	WriteOnly  bool            `json:"write_only"`
}

type jsonBlockType struct {
	NestingMode string     `json:"nesting_mode"`
	Block       *jsonBlock `json:"block"`
	MinItems    int64      `json:"min_items"`
	MaxItems    int64      `json:"max_items"`
}

type jsonFunc struct {
	Summary           string          `json:"summary"`
	Description       string          `json:"description"`
	ReturnType        json.RawMessage `json:"return_type"`
	Parameters        []*jsonParam    `json:"parameters"`
	VariadicParameter *jsonParam      `json:"variadic_parameter"`
}

type jsonParam struct {
	Name           string          `json:"name"`
	Type           json.RawMessage `json:"type"`
	IsNullable     bool            `json:"is_nullable"`
	AllowUnknown   bool            `json:"allow_unknown_values"`
	AllowNullValue bool            `json:"allow_null_value"`
}

// LoadFile reads path (gzip is detected by its magic bytes) and returns the
// schemas of the provider whose address is, or ends in, address (for
// instance "hashicorp/aws" or "registry.terraform.io/hashicorp/aws").
//
// With a cache directory (cacheDir != ""), the provider's part of the file
// is kept there uncompressed, keyed on the file's path, size and modification
// time: Terraform starts a provider process several times per command, and
// each start then reads its own part (18 MB for aws, 30 kB for helm) instead
// of decompressing and scanning the whole file.
func LoadFile(path, address, cacheDir string) (*Provider, error) {
	var cached string
	if cacheDir != "" {
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("provider schemas: %w", err)
		}
		abs, _ := filepath.Abs(path)
		key := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d\x00%s", abs, st.Size(), st.ModTime().UnixNano(), address))
		cached = filepath.Join(cacheDir, hex.EncodeToString(key[:12])+".json")
		if raw, err := os.ReadFile(cached); err == nil {
			var addr string
			if i := bytes.IndexByte(raw, '\n'); i > 0 {
				addr, raw = string(raw[:i]), raw[i+1:]
			}
			var jp jsonProvider
			if err := json.Unmarshal(raw, &jp); err == nil && addr != "" {
				return convert(addr, &jp)
			}
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("provider schemas: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	br := bufio.NewReaderSize(f, 1<<20)
	var r io.Reader = br
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("provider schemas %s: %w", path, err)
		}
		defer func() { _ = zr.Close() }() // read only: a bad checksum fails the read
		r = zr
	}
	addr, raw, err := section(r, address)
	if err != nil {
		return nil, fmt.Errorf("provider schemas %s: %w", path, err)
	}
	var jp jsonProvider
	if err := json.Unmarshal(raw, &jp); err != nil {
		return nil, fmt.Errorf("provider schemas %s: %s: %w", path, addr, err)
	}
	if cached != "" {
		// A failed write only costs the next start the full read.
		if err := os.MkdirAll(cacheDir, 0o755); err == nil {
			tmp := fmt.Sprintf("%s.%d.tmp", cached, os.Getpid())
			if err := os.WriteFile(tmp, append([]byte(addr+"\n"), raw...), 0o644); err == nil {
				_ = os.Rename(tmp, cached)
			}
		}
	}
	return convert(addr, &jp)
}

// Load reads the document from r and returns the named provider's schemas.
func Load(r io.Reader, address string) (*Provider, error) {
	addr, raw, err := section(r, address)
	if err != nil {
		return nil, err
	}
	var jp jsonProvider
	if err := json.Unmarshal(raw, &jp); err != nil {
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	return convert(addr, &jp)
}

// section returns the address and the raw JSON of the named provider's part
// of the document; the other providers' parts are skipped unparsed.
func section(r io.Reader, address string) (string, json.RawMessage, error) {
	dec := json.NewDecoder(r)
	if err := enterObject(dec); err != nil {
		return "", nil, err
	}
	for dec.More() {
		key, err := objectKey(dec)
		if err != nil {
			return "", nil, err
		}
		if key != "provider_schemas" {
			if err := skip(dec); err != nil {
				return "", nil, err
			}
			continue
		}
		if err := enterObject(dec); err != nil {
			return "", nil, err
		}
		var seen []string
		for dec.More() {
			addr, err := objectKey(dec)
			if err != nil {
				return "", nil, err
			}
			if addr != address && !strings.HasSuffix(addr, "/"+address) {
				seen = append(seen, addr)
				if err := skip(dec); err != nil {
					return "", nil, err
				}
				continue
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return "", nil, fmt.Errorf("%s: %w", addr, err)
			}
			return addr, raw, nil
		}
		return "", nil, fmt.Errorf("no schemas for provider %q (the file has %s)", address, strings.Join(seen, ", "))
	}
	return "", nil, fmt.Errorf("no provider_schemas in the document")
}

func enterObject(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("expected a JSON object, found %v", tok)
	}
	return nil
}

func objectKey(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	key, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("expected an object key, found %v", tok)
	}
	return key, nil
}

func skip(dec *json.Decoder) error {
	var raw json.RawMessage
	return dec.Decode(&raw)
}

// types memoises parsed cty JSON types: most attributes are "string" or
// ["list","string"], and parsing each again is most of the load time.
type types map[string]tftypes.Type

func (c types) parse(raw json.RawMessage) (tftypes.Type, error) {
	if t, ok := c[string(raw)]; ok {
		return t, nil
	}
	t, err := tftypes.ParseJSONType(raw) //nolint:staticcheck // SA1019: the schema file holds cty JSON types, which is what this parses
	if err != nil {
		return nil, err
	}
	c[string(raw)] = t
	return t, nil
}

func convert(addr string, jp *jsonProvider) (*Provider, error) {
	p := &Provider{
		Address:   addr,
		Functions: make(map[string]*tfprotov5.Function, len(jp.Functions)),
		tc:        types{},
		kinds: map[Kind]*kind{
			Resource:          {raw: jp.Resources, converted: map[string]*tfprotov5.Schema{}},
			DataSource:        {raw: jp.DataSources, converted: map[string]*tfprotov5.Schema{}},
			EphemeralResource: {raw: jp.EphemeralResources, converted: map[string]*tfprotov5.Schema{}},
		},
	}
	var err error
	p.Provider = &tfprotov5.Schema{Block: &tfprotov5.SchemaBlock{}}
	if jp.Provider != nil {
		if p.Provider, err = p.tc.schema(jp.Provider); err != nil {
			return nil, fmt.Errorf("provider configuration: %w", err)
		}
	}
	for name, f := range jp.Functions {
		if p.Functions[name], err = p.tc.function(f); err != nil {
			return nil, fmt.Errorf("function %s: %w", name, err)
		}
	}
	return p, nil
}

func (tc types) schema(s *jsonSchema) (*tfprotov5.Schema, error) {
	if s.Block == nil {
		return &tfprotov5.Schema{Version: s.Version, Block: &tfprotov5.SchemaBlock{}}, nil
	}
	b, err := tc.block(s.Block)
	if err != nil {
		return nil, err
	}
	return &tfprotov5.Schema{Version: s.Version, Block: b}, nil
}

func (tc types) block(jb *jsonBlock) (*tfprotov5.SchemaBlock, error) {
	b := &tfprotov5.SchemaBlock{Deprecated: jb.Deprecated}
	for _, name := range sortedKeys(jb.Attributes) {
		ja := jb.Attributes[name]
		if len(ja.NestedType) > 0 {
			return nil, fmt.Errorf("attribute %s: nested attribute types need protocol 6", name)
		}
		t, err := tc.parse(ja.Type)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", name, err)
		}
		b.Attributes = append(b.Attributes, &tfprotov5.SchemaAttribute{
			Name: name, Type: t,
			Required: ja.Required, Optional: ja.Optional, Computed: ja.Computed,
			Sensitive: ja.Sensitive, Deprecated: ja.Deprecated, WriteOnly: ja.WriteOnly,
		})
	}
	for _, name := range sortedKeys(jb.BlockTypes) {
		jt := jb.BlockTypes[name]
		nested, err := tc.block(jt.Block)
		if err != nil {
			return nil, fmt.Errorf("block %s: %w", name, err)
		}
		mode, ok := nesting[jt.NestingMode]
		if !ok {
			return nil, fmt.Errorf("block %s: unknown nesting mode %q", name, jt.NestingMode)
		}
		b.BlockTypes = append(b.BlockTypes, &tfprotov5.SchemaNestedBlock{
			TypeName: name, Block: nested, Nesting: mode, MinItems: jt.MinItems, MaxItems: jt.MaxItems,
		})
	}
	return b, nil
}

var nesting = map[string]tfprotov5.SchemaNestedBlockNestingMode{
	"single": tfprotov5.SchemaNestedBlockNestingModeSingle,
	"group":  tfprotov5.SchemaNestedBlockNestingModeGroup,
	"list":   tfprotov5.SchemaNestedBlockNestingModeList,
	"set":    tfprotov5.SchemaNestedBlockNestingModeSet,
	"map":    tfprotov5.SchemaNestedBlockNestingModeMap,
}

func (tc types) function(f *jsonFunc) (*tfprotov5.Function, error) {
	ret, err := tc.parse(f.ReturnType)
	if err != nil {
		return nil, fmt.Errorf("return type: %w", err)
	}
	out := &tfprotov5.Function{Summary: f.Summary, Description: f.Description, Return: &tfprotov5.FunctionReturn{Type: ret}}
	param := func(p *jsonParam) (*tfprotov5.FunctionParameter, error) {
		t, err := tc.parse(p.Type)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", p.Name, err)
		}
		return &tfprotov5.FunctionParameter{Name: p.Name, Type: t, AllowNullValue: p.IsNullable || p.AllowNullValue, AllowUnknownValues: p.AllowUnknown}, nil
	}
	for _, p := range f.Parameters {
		fp, err := param(p)
		if err != nil {
			return nil, err
		}
		out.Parameters = append(out.Parameters, fp)
	}
	if f.VariadicParameter != nil {
		if out.VariadicParameter, err = param(f.VariadicParameter); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
