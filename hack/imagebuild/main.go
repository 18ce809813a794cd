// Command imagebuild builds eventplane's container image without Docker,
// with go-containerregistry: a from-scratch, distroless-equivalent base
// (no base image is downloaded) and the binaries hack/image-binaries.sh
// built, written as an OCI image layout and a tarball (docker/podman load),
// and pushed to a registry when --repo is set. `make image` runs it.
//
//	go run ./hack/imagebuild --binaries build/image/usr/local/bin --out build/image.oci \
//	    --tarball build/image.tar --version v0.1.0 [--repo ghcr.io/you/eventplane]
//
// The image:
//
//	layer 1 (base): /etc/passwd and /etc/group with root and nonroot
//	        (65532), /etc/nsswitch.conf, /etc/ssl/certs/ca-certificates.crt
//	        from the build machine, /usr/share/zoneinfo (tzdata) when present,
//	        /tmp (1777) and /home/nonroot (65532) — what gcr.io/distroless/static
//	        holds, without a shell or a package manager
//	layer 2: /usr/local/bin/{consumer,operator,eventplane}
//	config:  user 65532:65532, entrypoint /usr/local/bin/consumer,
//	        org.opencontainers.image.* labels
//
// Every file has the same timestamp (SOURCE_DATE_EPOCH, default 0), so
// the same inputs give the same image digest.
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Binaries are the image's programs, in /usr/local/bin.
var Binaries = []string{"consumer", "operator", "eventplane"}

// NonRoot is distroless's "nonroot" user and group.
const NonRoot = 65532

// Options say what goes into the image.
type Options struct {
	Binaries string // folder with the Binaries
	Version  string // org.opencontainers.image.version and the tag
	Revision string // org.opencontainers.image.revision (git commit)
	Arch     string // GOARCH of the binaries
	CACerts  string // CA bundle to copy (default the system's)
	ZoneInfo string // tzdata folder to copy ("" or missing: none)
	Created  time.Time
}

func main() {
	var o Options
	var out, tarPath, repo string
	flag.StringVar(&o.Binaries, "binaries", "build/image/usr/local/bin", "`DIR` holding consumer, operator and eventplane (hack/image-binaries.sh)")
	flag.StringVar(&out, "out", "build/image.oci", "OCI image layout `DIR` to write")
	flag.StringVar(&tarPath, "tarball", "build/image.tar", "image tarball `FILE` to write (docker load, podman load); empty: none")
	flag.StringVar(&repo, "repo", os.Getenv("IMAGE_REPO"), "push to this `REPOSITORY` (e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/eventplane) with the credentials of ~/.docker/config.json")
	flag.StringVar(&o.Version, "version", "devel", "image `VERSION` (label and tag)")
	flag.StringVar(&o.Revision, "revision", "", "source `COMMIT` (label)")
	flag.StringVar(&o.Arch, "arch", "amd64", "`GOARCH` of the binaries")
	flag.StringVar(&o.CACerts, "ca-certs", "/etc/ssl/certs/ca-certificates.crt", "CA bundle `FILE` to include")
	flag.StringVar(&o.ZoneInfo, "zoneinfo", "/usr/share/zoneinfo", "tzdata `DIR` to include (empty: none)")
	flag.Parse()
	if err := run(o, out, tarPath, repo); err != nil {
		fmt.Fprintln(os.Stderr, "imagebuild:", err)
		os.Exit(1)
	}
}

func run(o Options, out, tarPath, repo string) error {
	o.Created = time.Unix(0, 0).UTC()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH=%q: %w", s, err)
		}
		o.Created = time.Unix(n, 0).UTC()
	}
	img, err := Build(o)
	if err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	tag := strings.TrimPrefix(o.Version, "+")
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	p, err := layout.Write(out, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag})); err != nil {
		return err
	}
	fmt.Printf("wrote %s (OCI layout) %s\n", out, digest)
	ref, err := name.NewTag("eventplane:" + tag)
	if repo != "" {
		ref, err = name.NewTag(repo + ":" + tag)
	}
	if err != nil {
		return fmt.Errorf("tag %q: %w", tag, err)
	}
	if tarPath != "" {
		if err := tarball.WriteToFile(tarPath, ref, img); err != nil {
			return err
		}
		fmt.Printf("wrote %s (docker load / podman load: %s)\n", tarPath, ref)
	}
	if repo != "" {
		if err := remote.Write(ref, img, remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
			return fmt.Errorf("push %s: %w", ref, err)
		}
		fmt.Printf("pushed %s@%s\n", ref, digest)
	}
	return nil
}

// Build assembles the image.
func Build(o Options) (v1.Image, error) {
	base, err := baseLayer(o)
	if err != nil {
		return nil, err
	}
	bins, err := binaryLayer(o)
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, base, bins)
	if err != nil {
		return nil, err
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = "linux", o.Arch, v1.Time{Time: o.Created}
	cf.Author = "eventplane"
	cf.Config = v1.Config{
		User:       fmt.Sprintf("%d:%d", NonRoot, NonRoot),
		Entrypoint: []string{"/usr/local/bin/consumer"},
		WorkingDir: "/home/nonroot",
		Env: []string{"PATH=/usr/local/bin:/usr/bin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
			"HOME=/home/nonroot"},
		Labels: map[string]string{
			"org.opencontainers.image.title":       "eventplane",
			"org.opencontainers.image.description": "eventplane consumer, operator and CLI",
			"org.opencontainers.image.source":      "https://github.com/eventplane/eventplane",
			"org.opencontainers.image.licenses":    "MIT",
			"org.opencontainers.image.version":     o.Version,
			"org.opencontainers.image.revision":    o.Revision,
			"org.opencontainers.image.created":     o.Created.Format(time.RFC3339),
		},
	}
	cf.History = nil // the layers come from this program, not from Dockerfile steps
	return mutate.ConfigFile(img, cf)
}

// tarFile is one entry of a layer.
type tarFile struct {
	name     string
	mode     int64
	uid, gid int
	dir      bool
	body     []byte
}

func layer(created time.Time, files []tarFile) (v1.Layer, error) {
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, Uid: f.uid, Gid: f.gid, ModTime: created, Format: tar.FormatPAX,
			Typeflag: tar.TypeReg, Size: int64(len(f.body))}
		if f.dir {
			h.Typeflag, h.Size, h.Name = tar.TypeDir, 0, strings.TrimSuffix(f.name, "/")+"/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		tarball.WithMediaType(types.OCILayer))
}

func baseLayer(o Options) (v1.Layer, error) {
	ca, err := os.ReadFile(o.CACerts)
	if err != nil {
		return nil, fmt.Errorf("CA certificates: %w (install ca-certificates, or --ca-certs FILE)", err)
	}
	if !bytes.Contains(ca, []byte("BEGIN CERTIFICATE")) {
		return nil, fmt.Errorf("CA certificates: %s holds no PEM certificate", o.CACerts)
	}
	nr := strconv.Itoa(NonRoot)
	files := []tarFile{
		{name: "etc", mode: 0o755, dir: true},
		{name: "etc/passwd", mode: 0o644, body: []byte("root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:" + nr + ":" + nr + ":nonroot:/home/nonroot:/sbin/nologin\n")},
		{name: "etc/group", mode: 0o644, body: []byte("root:x:0:\nnobody:x:65534:\nnonroot:x:" + nr + ":\n")},
		{name: "etc/nsswitch.conf", mode: 0o644, body: []byte("hosts: files dns\n")},
		{name: "etc/ssl", mode: 0o755, dir: true},
		{name: "etc/ssl/certs", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, body: ca},
		{name: "home", mode: 0o755, dir: true},
		{name: "home/nonroot", mode: 0o700, uid: NonRoot, gid: NonRoot, dir: true},
		{name: "root", mode: 0o700, dir: true},
		{name: "tmp", mode: 0o1777, dir: true},
		{name: "usr", mode: 0o755, dir: true},
		{name: "usr/share", mode: 0o755, dir: true},
	}
	if o.ZoneInfo != "" {
		zi, err := zoneinfo(o.ZoneInfo)
		if err != nil {
			return nil, err
		}
		files = append(files, zi...)
	}
	return layer(o.Created, files)
}

// zoneinfo copies a tzdata folder to usr/share/zoneinfo (regular files and
// folders; links are copied as the files they point to).
func zoneinfo(dir string) ([]tarFile, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	var files []tarFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		target := filepath.ToSlash(filepath.Join("usr/share/zoneinfo", rel))
		if d.IsDir() {
			files = append(files, tarFile{name: target, mode: 0o755, dir: true})
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil // a dangling link: skip it
		}
		files = append(files, tarFile{name: target, mode: 0o644, body: b})
		return nil
	})
	return files, err
}

func binaryLayer(o Options) (v1.Layer, error) {
	files := []tarFile{
		{name: "usr", mode: 0o755, dir: true},
		{name: "usr/local", mode: 0o755, dir: true},
		{name: "usr/local/bin", mode: 0o755, dir: true},
	}
	for _, b := range Binaries {
		body, err := os.ReadFile(filepath.Join(o.Binaries, b))
		if err != nil {
			return nil, fmt.Errorf("binary %s: %w (build them with hack/image-binaries.sh %s)", b, err, o.Binaries)
		}
		files = append(files, tarFile{name: "usr/local/bin/" + b, mode: 0o755, body: body})
	}
	return layer(o.Created, files)
}
