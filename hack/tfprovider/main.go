// Command tfprovider is a schema-only Terraform provider for offline plans:
// installed as terraform-provider-aws and terraform-provider-helm through a
// dev_overrides CLI configuration (hack/tfplan.sh), it serves the real
// providers' schemas from EVENTPLANE_TF_SCHEMAS (the `terraform providers
// schema -json` output, gzipped or not). The name it runs under picks the
// provider: terraform-provider-<type>[_...] serves hashicorp/<type>. Each
// provider's part of the file is cached in ~/.cache/eventplane/tfschemas.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tfprotov5"
	"github.com/hashicorp/terraform-plugin-go/tfprotov5/tf5server"

	"github.com/eventplane/eventplane/hack/tfprovider/provider"
	"github.com/eventplane/eventplane/hack/tfprovider/schemas"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tfprovider:", err)
		os.Exit(1)
	}
}

func run() error {
	base := strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe")
	typ, ok := strings.CutPrefix(base, "terraform-provider-")
	if !ok {
		return fmt.Errorf("run as terraform-provider-<type> (a link named so), not %q", base)
	}
	typ, _, _ = strings.Cut(typ, "_")
	path := os.Getenv("EVENTPLANE_TF_SCHEMAS")
	if path == "" {
		return fmt.Errorf("EVENTPLANE_TF_SCHEMAS names no provider schema file")
	}
	cache := ""
	if dir, err := os.UserCacheDir(); err == nil {
		cache = filepath.Join(dir, "eventplane", "tfschemas")
	}
	p, err := schemas.LoadFile(path, "hashicorp/"+typ, cache)
	if err != nil {
		return err
	}
	srv := provider.New(p)
	return tf5server.Serve(p.Address, func() tfprotov5.ProviderServer { return srv })
}
