// Package ort runs ONNX graphs through ONNX Runtime (the C library, loaded at run time through
// github.com/yalue/onnxruntime_go).
//
// # Basics
//
// Call [Init] once per process before anything else; it finds the shared library (see [Init] for the
// lookup order), checks that it is ONNX Runtime 1.24.x and creates the process-wide environment. Further
// calls return the version already loaded. Then open graphs with [NewSession] and run them with
// [Session.Run], passing and receiving plain Go slices wrapped in [Tensor]. A [Session] is safe for
// concurrent Run calls (ONNX Runtime sessions are); [Session.Close] waits for runs in flight and frees it.
//
// # Caveats
//
// ONNX Runtime's environment is global to the process, so every model of a process shares one [Init].
// Each session has its own intra-op thread pool: two sessions running at the same time on a machine with
// few cores oversubscribe it, so callers that run graphs concurrently should lower [Options.Threads].
// Tensors of rank 0 (scalars) are not supported.
package ort
