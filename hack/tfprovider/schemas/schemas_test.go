package schemas

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov5"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// schemaFile is the real providers' schemas (`terraform providers schema
// -json` of hashicorp/aws 6.47.1 and hashicorp/helm 2.17.0), kept in this
// folder (EVENTPLANE_TF_SCHEMAS overrides).
func schemaFile(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("EVENTPLANE_TF_SCHEMAS"); p != "" {
		return p
	}
	p, err := filepath.Abs("../schemas/provider-schemas.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("provider schemas not found (set EVENTPLANE_TF_SCHEMAS): %v", err)
	}
	return p
}

func attr(b *tfprotov5.SchemaBlock, name string) *tfprotov5.SchemaAttribute {
	for _, a := range b.Attributes {
		if a.Name == name {
			return a
		}
	}
	return nil
}

func TestLoadServesTheRealAWSSchemas(t *testing.T) {
	start := time.Now()
	p, err := LoadFile(schemaFile(t), "hashicorp/aws", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("aws schemas loaded in %v", time.Since(start))
	if p.Address != "registry.terraform.io/hashicorp/aws" {
		t.Errorf("address %q", p.Address)
	}
	if r, d := len(p.Names(Resource)), len(p.Names(DataSource)); r != 1666 || d != 663 {
		t.Errorf("%d resources, %d data sources; the file has 1666 and 663", r, d)
	}
	all, err := p.All(Resource)
	if err != nil || len(all) != 1666 {
		t.Fatalf("All(Resource): %d, %v", len(all), err)
	}
	t.Logf("aws schemas loaded and all converted in %v", time.Since(start))
	// aws v6 deprecates aws_region's name in favour of region.
	rs, err := p.Schema(DataSource, "aws_region")
	if err != nil {
		t.Fatal(err)
	}
	region := rs.Block
	if a := attr(region, "name"); a == nil || !a.Deprecated || !a.Computed {
		t.Errorf("aws_region.name: %+v, want deprecated and computed", a)
	}
	q := all["aws_sqs_queue"].Block
	if a := attr(q, "arn"); a == nil || !a.Computed || a.Optional || !a.Type.Is(tftypes.String) {
		t.Errorf("aws_sqs_queue.arn: %+v, want computed string", a)
	}
	if p.Functions["arn_parse"] == nil {
		t.Error("function arn_parse missing")
	}
}

// A provider the document does not hold is an error naming those it holds.
func TestLoadNamesTheProvidersItHas(t *testing.T) {
	doc := `{"format_version":"1.0","provider_schemas":{"registry.terraform.io/hashicorp/aws":{"provider":{"version":0,"block":{}}}}}`
	_, err := Load(strings.NewReader(doc), "hashicorp/null")
	if err == nil || !strings.Contains(err.Error(), `"hashicorp/null"`) || !strings.Contains(err.Error(), "registry.terraform.io/hashicorp/aws") {
		t.Errorf("err = %v, want one naming hashicorp/null and the file's providers", err)
	}
	p, err := Load(strings.NewReader(doc), "hashicorp/aws")
	if err != nil || p.Address != "registry.terraform.io/hashicorp/aws" {
		t.Errorf("aws: %v, %v", p, err)
	}
}

// The helm provider's part of the file, read from the file and then from
// the cache, holds exactly helm_release.
func TestCachedSectionLoadsTheSameSchemas(t *testing.T) {
	dir := t.TempDir()
	first, err := LoadFile(schemaFile(t), "hashicorp/helm", dir)
	if err != nil {
		t.Fatal(err)
	}
	if names := first.Names(Resource); len(names) != 1 || names[0] != "helm_release" {
		t.Errorf("helm resources: %v", names)
	}
	if s, err := first.Schema(Resource, "aws_sqs_queue"); err != nil || s != nil {
		t.Errorf("helm has no aws_sqs_queue: %v, %v", s, err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 1 {
		t.Fatalf("cache holds %v, want one file", files)
	}
	start := time.Now()
	second, err := LoadFile(schemaFile(t), "hashicorp/helm", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("helm from the cache in %v", time.Since(start))
	a, _ := first.Schema(Resource, "helm_release")
	b, _ := second.Schema(Resource, "helm_release")
	if second.Address != first.Address || a == nil || b == nil || len(a.Block.Attributes) != len(b.Block.Attributes) || len(a.Block.BlockTypes) != len(b.Block.BlockTypes) {
		t.Errorf("cached helm_release differs: %+v vs %+v", a, b)
	}
}
