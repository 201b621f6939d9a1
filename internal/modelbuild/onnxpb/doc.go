// Package onnxpb holds the Go types of the ONNX protobuf schema (onnx.proto, IR version 8, from Debian's
// python3-onnx 1.12), generated with protoc 3.21 and protoc-gen-go v1.36.12:
//
//	protoc --go_out=. --go_opt=paths=source_relative \
//	    --go_opt=Monnx.proto=github.com/colsmol/colsmol/internal/modelbuild/onnxpb onnx.proto
//
// No ONNX Go module offers importable, dependency-light generated types (see research/go-stack.md §9),
// so the project generates its own.
package onnxpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go_opt=Monnx.proto=github.com/colsmol/colsmol/internal/modelbuild/onnxpb onnx.proto
