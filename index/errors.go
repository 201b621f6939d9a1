package index

import "errors"

// ErrNotFound is wrapped by errors about a document or page the index does not hold.
var ErrNotFound = errors.New("not found")

// ErrLocked is wrapped by [Open] when another process holds the index file.
var ErrLocked = errors.New("index is in use by another process")

// ErrSchema is wrapped by [Open] when the file was written by an incompatible version of colsmol.
var ErrSchema = errors.New("index file has an unsupported schema version")

// ErrBadInput is wrapped by errors about a document or query the caller must fix.
var ErrBadInput = errors.New("bad input")
