package ort

/*
#cgo LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// The first two members of OrtApiBase, whose layout ONNX Runtime keeps stable across releases.
typedef struct {
	const void *(*GetApi)(uint32_t version);
	const char *(*GetVersionString)(void);
} colsmolOrtApiBase;

typedef const colsmolOrtApiBase *(*colsmolGetApiBaseFn)(void);

// colsmol_probe opens the library, reads its version and whether it serves the C API version the Go
// binding was compiled against. On success the library stays open (the binding opens it again, which only
// bumps the reference count) and 0 is returned; otherwise it is closed again.
// Returns: 0 ok, 1 dlopen failed, 2 no OrtGetApiBase, 3 no API base, 4 API version not served.
static int colsmol_probe(const char *path, uint32_t api, char *version, size_t vlen,
                         char *where, size_t wlen, char *err, size_t elen) {
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		strncpy(err, e ? e : "dlopen failed", elen - 1);
		return 1;
	}
	colsmolGetApiBaseFn fn = (colsmolGetApiBaseFn)dlsym(h, "OrtGetApiBase");
	if (!fn) {
		dlclose(h);
		return 2;
	}
	Dl_info info;
	if (dladdr((void *)fn, &info) && info.dli_fname) {
		strncpy(where, info.dli_fname, wlen - 1);
	}
	const colsmolOrtApiBase *base = fn();
	if (!base) {
		dlclose(h);
		return 3;
	}
	const char *v = base->GetVersionString ? base->GetVersionString() : NULL;
	strncpy(version, v ? v : "unknown", vlen - 1);
	if (!base->GetApi || !base->GetApi(api)) {
		dlclose(h);
		return 4;
	}
	return 0;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// cAPIVersion is ORT_API_VERSION of the C header that github.com/yalue/onnxruntime_go v1.27.0 compiles
// against; the library must serve it.
const cAPIVersion = 24

// errNotLoadable means the dynamic loader could not open the file or name at all.
var errNotLoadable = errors.New("cannot be loaded")

// probeLibrary opens path with the dynamic loader and reads the ONNX Runtime version, without touching
// the process-wide ONNX Runtime state. It returns the file the loader resolved and the version string.
func probeLibrary(path string) (resolved, version string, err error) {
	cPath := C.CString(path)
	defer C.free(unsafe.Pointer(cPath))
	var ver, where, msg [512]C.char
	rc := C.colsmol_probe(cPath, C.uint32_t(cAPIVersion), &ver[0], C.size_t(len(ver)), &where[0], C.size_t(len(where)), &msg[0], C.size_t(len(msg)))
	resolved = C.GoString(&where[0])
	if resolved == "" {
		resolved = path
	}
	version = C.GoString(&ver[0])
	switch rc {
	case 0:
		return resolved, version, nil
	case 1:
		return "", "", fmt.Errorf("%w: %s", errNotLoadable, C.GoString(&msg[0]))
	case 2, 3:
		return "", "", errors.New("not an ONNX Runtime library (it has no usable OrtGetApiBase)")
	default:
		return resolved, version, fmt.Errorf("ONNX Runtime %s does not serve C API version %d; colsmol needs %s.x", version, cAPIVersion, WantVersion)
	}
}
