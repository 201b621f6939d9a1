package index

import "time"

// Document is one indexed file.
type Document struct {
	ID        string    `json:"doc_id"`
	Path      string    `json:"path"`
	SHA256    string    `json:"sha256"`
	Size      int64     `json:"size"`
	ModTime   time.Time `json:"mtime"`
	IndexedAt time.Time `json:"indexed_at"`
	Pages     int       `json:"pages"`
}

// Tiles is how a page image was split for the model: Rows×Cols tiles plus a global view, or 0×0 when
// it was not split.
type Tiles struct {
	Rows int `json:"rows"`
	Cols int `json:"cols"`
}

// Page is one page as the indexer hands it to [Store.Put].
type Page struct {
	Width, Height  int         // rendered size in pixels
	Tiles          Tiles       // tile layout used by the model
	Thumb          []byte      // JPEG thumbnail
	Preview        []byte      // JPEG preview for the web UI (longest side ≤ 1536)
	Vectors        [][]float32 // the page's multi-vector embedding, [L][dim]
	ImagePositions []int       // indexes into Vectors of the image tokens (for similarity maps)
}

// pageRecord is what bucket "pages" holds for a page.
type pageRecord struct {
	Width          int   `json:"w"`
	Height         int   `json:"h"`
	Tiles          Tiles `json:"tiles"`
	Vectors        int   `json:"n"`
	ImagePositions []int `json:"img,omitempty"`
}
