package ort

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// WantVersion is the ONNX Runtime release line colsmol is built and tested against ("1.24" matches 1.24.x).
const WantVersion = "1.24"

// libFileNames are the file names looked for in ./lib and next to the executable, best first.
var libFileNames = []string{"libonnxruntime.so.1.24.3", "libonnxruntime.so.1"}

// systemLibNames are handed to the dynamic loader as they are, so that it searches LD_LIBRARY_PATH, the
// ldconfig cache and the default system folders.
var systemLibNames = []string{"libonnxruntime.so.1", "libonnxruntime.so"}

// ErrNoLibrary means that no ONNX Runtime shared library was found anywhere in the lookup order.
var ErrNoLibrary = errors.New("ONNX Runtime library not found")

// ErrBadLibrary means that a library was found but cannot be used: it does not load, is not ONNX Runtime,
// or is another version than [WantVersion].
var ErrBadLibrary = errors.New("unusable ONNX Runtime library")

// lookupOrder is the human description of where [Init] looks, used in every error message.
const lookupOrder = "colsmol looks for it in this order: --ort-lib PATH, $ONNXRUNTIME_LIB, " +
	"./lib/libonnxruntime.so.1.24.3 (or .so.1), next to the colsmol executable (and in lib/ beside it), " +
	"then the system library path (libonnxruntime.so.1)"

// fixHint tells the user what to do about a missing or wrong library.
const fixHint = "run `make ort` in the colsmol source folder (it puts ONNX Runtime 1.24.3 into ./lib), " +
	"or pass --ort-lib /path/to/libonnxruntime.so.1.24.3"

// candidate is one place to try, in lookup order.
type candidate struct {
	path     string // a file path, or a bare library name for the system loader
	from     string // where it came from, for messages: "--ort-lib", "$ONNXRUNTIME_LIB", "./lib", ...
	explicit bool   // given by the user: missing is an error, not a reason to look further
	system   bool   // a bare name resolved by the dynamic loader; its existence cannot be checked first
}

// searchPaths holds everything the lookup depends on, so that tests can set each part.
type searchPaths struct {
	explicit string   // the libPath argument of Init (from --ort-lib)
	env      string   // $ONNXRUNTIME_LIB
	cwd      string   // the working directory
	exeDir   string   // the folder of the running executable ("" if unknown)
	system   []string // bare names for the dynamic loader
}

// defaultSearchPaths reads the process state: environment, working directory and executable location.
func defaultSearchPaths(libPath string) searchPaths {
	sp := searchPaths{explicit: libPath, env: os.Getenv("ONNXRUNTIME_LIB"), system: systemLibNames}
	sp.cwd, _ = os.Getwd()
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		sp.exeDir = filepath.Dir(exe)
	}
	return sp
}

// candidates lists the places to try, in the documented order.
func (sp searchPaths) candidates() []candidate {
	var cs []candidate
	if sp.explicit != "" {
		cs = append(cs, candidate{path: sp.explicit, from: "--ort-lib", explicit: true})
	}
	if sp.env != "" && sp.env != sp.explicit {
		cs = append(cs, candidate{path: sp.env, from: "$ONNXRUNTIME_LIB", explicit: true})
	}
	dirs := []struct{ dir, from string }{}
	if sp.cwd != "" {
		dirs = append(dirs, struct{ dir, from string }{filepath.Join(sp.cwd, "lib"), "./lib"})
	}
	if sp.exeDir != "" {
		dirs = append(dirs,
			struct{ dir, from string }{sp.exeDir, "next to the executable"},
			struct{ dir, from string }{filepath.Join(sp.exeDir, "lib"), "lib/ next to the executable"})
	}
	for _, d := range dirs {
		for _, name := range libFileNames {
			cs = append(cs, candidate{path: filepath.Join(d.dir, name), from: d.from})
		}
	}
	for _, name := range sp.system {
		cs = append(cs, candidate{path: name, from: "system library path", system: true})
	}
	// The working directory may be the executable's folder: try each place once.
	seen := map[string]bool{}
	return slices.DeleteFunc(cs, func(c candidate) bool {
		dup := seen[c.path]
		seen[c.path] = true
		return dup
	})
}

// found is the library Init settled on.
type found struct {
	path    string // the file loaded (resolved by the loader for system names)
	version string // its version string, e.g. "1.24.3"
	from    string // which step of the lookup order found it
}

// locate walks the candidates and returns the first usable library. An explicit path that is missing,
// or any library that exists but is unusable, stops the search with an error: silently falling back to
// another library would hide the user's mistake.
func (sp searchPaths) locate(probe func(path string) (string, string, error)) (found, error) {
	var tried []string
	for _, c := range sp.candidates() {
		if !c.system {
			if _, err := os.Stat(c.path); err != nil {
				if c.explicit {
					return found{}, fmt.Errorf("%w: %s %s does not exist (%v); %s; %s",
						ErrNoLibrary, c.from, c.path, errors.Unwrap(err), lookupOrder, fixHint)
				}
				tried = append(tried, c.path)
				continue
			}
		}
		resolved, version, err := probe(c.path)
		if err != nil {
			if c.system && errors.Is(err, errNotLoadable) {
				tried = append(tried, c.path+" (system)")
				continue
			}
			return found{}, fmt.Errorf("%w: %s (from %s): %v; %s; %s", ErrBadLibrary, c.path, c.from, err, lookupOrder, fixHint)
		}
		if !versionOK(version) {
			return found{}, fmt.Errorf("%w: %s (from %s) is ONNX Runtime %s, colsmol needs %s.x; %s; %s",
				ErrBadLibrary, resolved, c.from, version, WantVersion, lookupOrder, fixHint)
		}
		if !c.system {
			resolved = c.path // the loader may name a file already mapped under another name
		}
		return found{path: resolved, version: version, from: c.from}, nil
	}
	return found{}, fmt.Errorf("%w (tried %s); %s; %s", ErrNoLibrary, strings.Join(tried, ", "), lookupOrder, fixHint)
}

// versionOK reports whether v is a release of the WantVersion line ("1.24" or "1.24.x").
func versionOK(v string) bool {
	return v == WantVersion || strings.HasPrefix(v, WantVersion+".")
}
