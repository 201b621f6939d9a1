package ort

import (
	"fmt"
	"sync"

	onnx "github.com/yalue/onnxruntime_go"
)

// runtimeState is the process-wide ONNX Runtime environment (there can be only one).
var runtimeState struct {
	sync.Mutex
	path    string // the library in use ("" before a successful Init)
	version string
}

// Init loads ONNX Runtime and creates the process-wide environment; it returns the library's version.
//
// The library is looked for in this order, and the first one found is used:
//  1. libPath (the --ort-lib flag), if not empty;
//  2. $ONNXRUNTIME_LIB;
//  3. ./lib/libonnxruntime.so.1.24.3, then ./lib/libonnxruntime.so.1 (relative to the working directory);
//  4. the same two names next to the running executable, then in lib/ beside it;
//  5. libonnxruntime.so.1 and libonnxruntime.so through the system's dynamic loader (LD_LIBRARY_PATH,
//     ldconfig).
//
// An explicit path (1, 2) that does not exist, or a library that exists but does not load or is not
// ONNX Runtime [WantVersion].x, stops the search with an error wrapping [ErrBadLibrary] or [ErrNoLibrary];
// finding nothing wraps [ErrNoLibrary]. Every such message names the lookup order and `make ort`.
//
// Init may be called any number of times: after the first success it returns the version in use and
// ignores libPath. A failed Init leaves nothing behind and may be retried.
func Init(libPath string) (version string, err error) {
	runtimeState.Lock()
	defer runtimeState.Unlock()
	if runtimeState.path != "" {
		return runtimeState.version, nil
	}
	lib, err := defaultSearchPaths(libPath).locate(probeLibrary)
	if err != nil {
		return "", err
	}
	onnx.SetSharedLibraryPath(lib.path)
	// Errors come back to the caller as values; ONNX Runtime's own log would only repeat them on stderr.
	if err := onnx.InitializeEnvironment(onnx.WithLogLevelFatal()); err != nil {
		return "", fmt.Errorf("%w: start ONNX Runtime from %s: %v; %s", ErrBadLibrary, lib.path, err, fixHint)
	}
	runtimeState.path, runtimeState.version = lib.path, lib.version
	return lib.version, nil
}

// LibraryPath returns the file of the ONNX Runtime library in use, or "" before a successful [Init].
func LibraryPath() string {
	runtimeState.Lock()
	defer runtimeState.Unlock()
	return runtimeState.path
}

// Shutdown destroys the process-wide environment. Calling it is optional at process end; every
// [Session] must be closed first. After Shutdown, [Init] may load the library again.
func Shutdown() error {
	runtimeState.Lock()
	defer runtimeState.Unlock()
	if runtimeState.path == "" {
		return nil
	}
	runtimeState.path, runtimeState.version = "", ""
	if err := onnx.DestroyEnvironment(); err != nil {
		return fmt.Errorf("shut down ONNX Runtime: %w", err)
	}
	return nil
}

// initialized reports whether Init has succeeded.
func initialized() bool {
	runtimeState.Lock()
	defer runtimeState.Unlock()
	return runtimeState.path != ""
}
