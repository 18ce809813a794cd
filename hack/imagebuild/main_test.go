package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"net/http/httptest"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// fakeBinaries writes stand-ins for the three binaries (the builder only
// copies bytes; `make image` feeds it the real ones).
func fakeBinaries(t *testing.T) string {
	dir := t.TempDir()
	for _, b := range Binaries {
		if err := os.WriteFile(filepath.Join(dir, b), []byte("\x7fELF "+b), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// The image as written to disk, read back with go-containerregistry: the
// config runs the consumer as nonroot with the OCI labels, and the layers
// hold the binaries, a passwd with uid 65532, the system's CA bundle and
// nothing like a shell. Two builds of the same inputs give one digest.
func TestImageConfigAndLayers(t *testing.T) {
	bins := fakeBinaries(t)
	out := filepath.Join(t.TempDir(), "image.oci")
	tarPath := filepath.Join(t.TempDir(), "image.tar")
	o := Options{Binaries: bins, Version: "v1.2.3", Revision: "abc123", Arch: "arm64",
		CACerts: "/etc/ssl/certs/ca-certificates.crt", ZoneInfo: "/usr/share/zoneinfo"}
	if err := run(o, out, tarPath, ""); err != nil {
		t.Fatal(err)
	}
	idx, err := layout.ImageIndexFromPath(out)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil || len(m.Manifests) != 1 || m.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "v1.2.3" {
		t.Fatalf("OCI layout index: %+v, %v", m, err)
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532 (nonroot)", c.User)
	}
	if len(c.Entrypoint) != 1 || c.Entrypoint[0] != "/usr/local/bin/consumer" {
		t.Errorf("entrypoint %v", c.Entrypoint)
	}
	if cf.OS != "linux" || cf.Architecture != "arm64" {
		t.Errorf("platform %s/%s", cf.OS, cf.Architecture)
	}
	for k, want := range map[string]string{"org.opencontainers.image.version": "v1.2.3", "org.opencontainers.image.revision": "abc123",
		"org.opencontainers.image.source": "https://github.com/eventplane/eventplane", "org.opencontainers.image.licenses": "MIT",
		"org.opencontainers.image.title": "eventplane"} {
		if c.Labels[k] != want {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], want)
		}
	}

	files := map[string]*tar.Header{}
	bodies := map[string][]byte{}
	layers, err := img.Layers()
	if err != nil || len(layers) != 2 {
		t.Fatalf("%d layers, %v", len(layers), err)
	}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(tr)
			files[strings.TrimSuffix(h.Name, "/")], bodies[strings.TrimSuffix(h.Name, "/")] = h, b
		}
		rc.Close()
	}
	for _, b := range Binaries {
		h := files["usr/local/bin/"+b]
		if h == nil || h.Mode != 0o755 || h.Uid != 0 || string(bodies["usr/local/bin/"+b]) != "\x7fELF "+b {
			t.Errorf("/usr/local/bin/%s: %+v", b, h)
		}
	}
	if !strings.Contains(string(bodies["etc/passwd"]), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd lacks nonroot 65532:\n%s", bodies["etc/passwd"])
	}
	sys, _ := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if !bytes.Equal(bodies["etc/ssl/certs/ca-certificates.crt"], sys) || len(sys) == 0 {
		t.Error("the CA bundle is not the system's")
	}
	if h := files["tmp"]; h == nil || h.Mode&0o1777 != 0o1777 {
		t.Errorf("/tmp: %+v, want mode 1777", h)
	}
	if h := files["home/nonroot"]; h == nil || h.Uid != 65532 {
		t.Errorf("/home/nonroot: %+v, want owned by 65532", h)
	}
	if _, err := os.Stat("/usr/share/zoneinfo/Europe/Paris"); err == nil && files["usr/share/zoneinfo/Europe/Paris"] == nil {
		t.Error("tzdata missing: /usr/share/zoneinfo/Europe/Paris")
	}
	for _, shell := range []string{"bin/sh", "bin/bash", "bin/busybox", "usr/bin/apt"} {
		if files[shell] != nil {
			t.Errorf("the image holds %s", shell)
		}
	}

	// The tarball loads as the same image.
	fromTar, err := tarball.ImageFromPath(tarPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	// (its manifest is Docker's, so compare the config and the layers)
	c1, _ := img.ConfigName()
	c2, _ := fromTar.ConfigName()
	if c1 != c2 {
		t.Errorf("tarball image config %s, layout image config %s", c2, c1)
	}
	d1, _ := img.Digest()
	// Reproducible: the same inputs again give the same digest.
	again, err := Build(Options{Binaries: bins, Version: "v1.2.3", Revision: "abc123", Arch: "arm64",
		CACerts: "/etc/ssl/certs/ca-certificates.crt", ZoneInfo: "/usr/share/zoneinfo", Created: time.Unix(0, 0).UTC()})
	if err != nil {
		t.Fatal(err)
	}
	if d3, _ := again.Digest(); d3 != d1 {
		t.Errorf("second build %s, first %s", d3, d1)
	}
}

func TestMissingBinaryNamesTheScript(t *testing.T) {
	dir := t.TempDir()
	_, err := Build(Options{Binaries: dir, CACerts: "/etc/ssl/certs/ca-certificates.crt"})
	if err == nil || !strings.Contains(err.Error(), "hack/image-binaries.sh") {
		t.Errorf("err = %v", err)
	}
}

// With a repository the image is pushed; here to go-containerregistry's
// own registry on loopback, then pulled back.
func TestPushToRegistry(t *testing.T) {
	reg := httptest.NewServer(registry.New())
	defer reg.Close()
	repo := strings.TrimPrefix(reg.URL, "http://") + "/team/eventplane"
	o := Options{Binaries: fakeBinaries(t), Version: "v0.9.0", Arch: "amd64", CACerts: "/etc/ssl/certs/ca-certificates.crt"}
	if err := run(o, filepath.Join(t.TempDir(), "oci"), "", repo); err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag(repo + ":v0.9.0")
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(ref)
	if err != nil {
		t.Fatalf("pull %s: %v", ref, err)
	}
	cf, err := img.ConfigFile()
	if err != nil || cf.Config.User != "65532:65532" || cf.Config.Labels["org.opencontainers.image.version"] != "v0.9.0" {
		t.Errorf("pulled config %+v, %v", cf, err)
	}
}
