package main

import (
	"cmp"
	"runtime/debug"
)

// version is ecsguard's version as the Go toolchain stamped it into the
// binary (https://pkg.go.dev/runtime/debug#ReadBuildInfo): the module
// version, "(devel)" for a build of a work tree, and with the VCS revision
// when the build recorded one (go build in a git checkout does, by
// -buildvcs=auto).
func version() string {
	info, ok := debug.ReadBuildInfo()
	return versionOf(info, ok)
}

func versionOf(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return "unknown"
	}
	v := cmp.Or(info.Main.Version, "(devel)")
	var revision, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if revision == "" {
		return v
	}
	v += " (revision " + revision
	if modified == "true" {
		v += ", modified"
	}
	return v + ")"
}
