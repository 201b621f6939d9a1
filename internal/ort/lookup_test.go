package ort

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeLibrary compiles a shared library that exports OrtGetApiBase reporting version, and serving the C
// API only if serveAPI is set, to stand in for a wrong ONNX Runtime.
func fakeLibrary(t *testing.T, dir, name, version string, serveAPI bool) string {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not found; needed to build a fake library")
	}
	api := "(const void *)&base"
	if !serveAPI {
		api = "(const void *)0"
	}
	src := `#include <stdint.h>
typedef struct { const void *(*GetApi)(uint32_t); const char *(*GetVersionString)(void); } Base;
static Base base;
static const void *get_api(uint32_t v) { (void)v; return ` + api + `; }
static const char *version(void) { return "` + version + `"; }
static Base base = { get_api, version };
const Base *OrtGetApiBase(void) { return &base; }
`
	c := filepath.Join(t.TempDir(), "fake.c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	if b, err := exec.Command(cc, "-shared", "-fPIC", "-o", out, c).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	return out
}

// link puts the real library at dir/name.
func link(t *testing.T, real, dir, name string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.Symlink(real, p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLocate_Order(t *testing.T) {
	real := realLibrary(t)
	if real == "" {
		t.Skip("ONNX Runtime library not found; run `make ort`")
	}
	const v = "libonnxruntime.so.1.24.3"
	tests := map[string]struct {
		setup    func(t *testing.T, sp *searchPaths)
		wantFrom string
		wantPath func(sp searchPaths) string
	}{
		"explicit path": {
			setup: func(t *testing.T, sp *searchPaths) {
				sp.explicit = link(t, real, t.TempDir(), "custom.so")
				sp.env = link(t, real, t.TempDir(), "env.so")
				link(t, real, filepath.Join(sp.cwd, "lib"), v)
			},
			wantFrom: "--ort-lib",
		},
		"environment before ./lib": {
			setup: func(t *testing.T, sp *searchPaths) {
				sp.env = link(t, real, t.TempDir(), "env.so")
				link(t, real, filepath.Join(sp.cwd, "lib"), v)
			},
			wantFrom: "$ONNXRUNTIME_LIB",
		},
		"./lib before the executable's folder": {
			setup: func(t *testing.T, sp *searchPaths) {
				link(t, real, filepath.Join(sp.cwd, "lib"), v)
				link(t, real, sp.exeDir, v)
			},
			wantFrom: "./lib",
			wantPath: func(sp searchPaths) string { return filepath.Join(sp.cwd, "lib", v) },
		},
		"./lib with only the .so.1 name": {
			setup: func(t *testing.T, sp *searchPaths) {
				link(t, real, filepath.Join(sp.cwd, "lib"), "libonnxruntime.so.1")
			},
			wantFrom: "./lib",
			wantPath: func(sp searchPaths) string { return filepath.Join(sp.cwd, "lib", "libonnxruntime.so.1") },
		},
		"next to the executable": {
			setup:    func(t *testing.T, sp *searchPaths) { link(t, real, sp.exeDir, "libonnxruntime.so.1") },
			wantFrom: "next to the executable",
		},
		"lib/ next to the executable": {
			setup:    func(t *testing.T, sp *searchPaths) { link(t, real, filepath.Join(sp.exeDir, "lib"), v) },
			wantFrom: "lib/ next to the executable",
		},
		"system loader": {
			setup: func(t *testing.T, sp *searchPaths) {
				sp.system = []string{"libcolsmol-no-such-library.so.1", real}
			},
			wantFrom: "system library path",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			sp := searchPaths{cwd: t.TempDir(), exeDir: t.TempDir(), system: []string{"libcolsmol-no-such-library.so.1"}}
			tc.setup(t, &sp)
			got, err := sp.locate(probeLibrary)
			if err != nil {
				t.Fatalf("locate: %v", err)
			}
			if got.from != tc.wantFrom {
				t.Errorf("found by %q, want %q", got.from, tc.wantFrom)
			}
			if !versionOK(got.version) {
				t.Errorf("version %q", got.version)
			}
			if tc.wantPath != nil {
				// The loader may report the first name under which it mapped the file, so compare files.
				a, _ := os.Stat(got.path)
				b, _ := os.Stat(tc.wantPath(sp))
				if a == nil || b == nil || !os.SameFile(a, b) {
					t.Errorf("path %s, want %s", got.path, tc.wantPath(sp))
				}
			}
		})
	}
}

func TestLocate_Errors(t *testing.T) {
	const v = "libonnxruntime.so.1.24.3"
	tests := map[string]struct {
		setup   func(t *testing.T, sp *searchPaths)
		wantErr error
		want    []string // substrings of the message
	}{
		"nothing anywhere": {
			setup:   func(t *testing.T, sp *searchPaths) {},
			wantErr: ErrNoLibrary,
			want:    []string{"not found", "--ort-lib", "$ONNXRUNTIME_LIB", "./lib", "next to the colsmol executable", "system library path", "make ort"},
		},
		"explicit path missing": {
			setup:   func(t *testing.T, sp *searchPaths) { sp.explicit = "/nonexistent/libonnxruntime.so" },
			wantErr: ErrNoLibrary,
			want:    []string{"--ort-lib /nonexistent/libonnxruntime.so does not exist", "make ort"},
		},
		"environment path missing": {
			setup:   func(t *testing.T, sp *searchPaths) { sp.env = "/nonexistent/env.so" },
			wantErr: ErrNoLibrary,
			want:    []string{"$ONNXRUNTIME_LIB /nonexistent/env.so does not exist", "make ort"},
		},
		"not a library": {
			setup: func(t *testing.T, sp *searchPaths) {
				dir := filepath.Join(sp.cwd, "lib")
				os.MkdirAll(dir, 0o755)
				os.WriteFile(filepath.Join(dir, v), []byte("this is not a shared library"), 0o644)
			},
			wantErr: ErrBadLibrary,
			want:    []string{"cannot be loaded", "./lib", "make ort"},
		},
		"wrong version": {
			setup: func(t *testing.T, sp *searchPaths) {
				dir := filepath.Join(sp.cwd, "lib")
				os.MkdirAll(dir, 0o755)
				fakeLibrary(t, dir, v, "1.19.2", true)
			},
			wantErr: ErrBadLibrary,
			want:    []string{"is ONNX Runtime 1.19.2, colsmol needs 1.24.x", "looks for it in this order", "make ort"},
		},
		"too old for the C API": {
			setup: func(t *testing.T, sp *searchPaths) {
				sp.explicit = fakeLibrary(t, t.TempDir(), "old.so", "1.16.0", false)
			},
			wantErr: ErrBadLibrary,
			want:    []string{"1.16.0 does not serve C API version 24", "make ort"},
		},
		"a shared library that is not ONNX Runtime": {
			setup: func(t *testing.T, sp *searchPaths) {
				libc := "/lib/x86_64-linux-gnu/libc.so.6"
				if _, err := os.Stat(libc); err != nil {
					t.Skip("no libc at", libc)
				}
				sp.explicit = libc
			},
			wantErr: ErrBadLibrary,
			want:    []string{"not an ONNX Runtime library", "make ort"},
		},
		"wrong version in ./lib is not skipped for a good one later": {
			setup: func(t *testing.T, sp *searchPaths) {
				dir := filepath.Join(sp.cwd, "lib")
				os.MkdirAll(dir, 0o755)
				fakeLibrary(t, dir, v, "1.25.0", true)
				if real := realLibrary(t); real != "" {
					link(t, real, sp.exeDir, v)
				}
			},
			wantErr: ErrBadLibrary,
			want:    []string{"is ONNX Runtime 1.25.0"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			sp := searchPaths{cwd: t.TempDir(), exeDir: t.TempDir(), system: []string{"libcolsmol-no-such-library.so.1"}}
			tc.setup(t, &sp)
			_, err := sp.locate(probeLibrary)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message lacks %q:\n%s", w, err)
				}
			}
		})
	}
}

func TestVersionOK(t *testing.T) {
	for v, want := range map[string]bool{"1.24.3": true, "1.24.0": true, "1.24": true, "1.240.1": false, "1.23.2": false, "1.25.0": false, "": false} {
		if got := versionOK(v); got != want {
			t.Errorf("versionOK(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestInit_MissingLibraryMessage runs Init in a fresh process (Init is once per process) with an
// explicit path that does not exist, and checks the one message the user sees.
func TestInit_MissingLibraryMessage(t *testing.T) {
	if os.Getenv("COLSMOL_ORT_INIT_HELPER") == "1" {
		_, err := Init(os.Getenv("COLSMOL_ORT_INIT_PATH"))
		if err == nil {
			os.Stdout.WriteString("OK\n")
			os.Exit(0)
		}
		os.Stdout.WriteString(err.Error() + "\n")
		os.Exit(7)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestInit_MissingLibraryMessage$")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "COLSMOL_ORT_INIT_HELPER=1", "COLSMOL_ORT_INIT_PATH=/nonexistent/libonnxruntime.so.1.24.3", "ONNXRUNTIME_LIB=")
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 {
		t.Fatalf("helper: %v, output %q", err, out)
	}
	msg := strings.TrimSpace(string(out))
	if strings.Count(msg, "\n") != 0 {
		t.Errorf("want one line, got:\n%s", msg)
	}
	for _, w := range []string{"ONNX Runtime library not found", "/nonexistent/libonnxruntime.so.1.24.3", "in this order", "make ort"} {
		if !strings.Contains(msg, w) {
			t.Errorf("message lacks %q: %s", w, msg)
		}
	}
}
