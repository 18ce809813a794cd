// Package buildinfo holds the version every binary reports (`eventplane
// --version`, and the first log line of the consumer, the operator and the
// Lambdas).
//
// Release builds set it with the linker:
//
//	go build -ldflags "-X github.com/eventplane/eventplane/consumers/buildinfo.version=v0.1.0" ./consumers/cmd/...
//
// (make build, make image and hack/image-binaries.sh do, from VERSION or
// `git describe`). Without it, the version comes from the module build
// information Go embeds (`go install ...@v0.1.0` gives v0.1.0; a build in a
// git checkout gives the commit), and "devel" when there is none.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// version is set by -ldflags "-X .../buildinfo.version=...".
var version string

// Version returns the binary's version.
func Version() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "-dirty"
			}
		}
	}
	if rev != "" {
		return "devel-" + rev[:min(len(rev), 12)] + modified
	}
	return "devel"
}

// String is the one-line form `eventplane --version` prints:
// "eventplane v0.1.0 (go1.26.8 linux/amd64)".
func String(binary string) string {
	return binary + " " + Version() + " (" + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + ")"
}
