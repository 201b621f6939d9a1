package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// UploadExtensions are the file types an upload may hold.
var UploadExtensions = []string{".pdf", ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp"}

// uploadReadTimeout is how long one upload request may take to arrive.
const uploadReadTimeout = 30 * time.Minute

// maxNameBytes caps the length of a saved file name.
const maxNameBytes = 120

// savedFile is an uploaded file written into the upload folder.
type savedFile struct{ name, path, sha256 string }

// handleUpload saves the multipart field "file" (one or more) into the upload folder and queues them for
// indexing. It answers 202 with the job status, or with ?wait=true, 200 with the job once it has finished.
func (s *Server) handleUpload(c *gin.Context) {
	if s.opt.Indexer == nil {
		abortError(c, http.StatusServiceUnavailable, "uploads are off on this server (it has no indexer); index files with 'colsmol index PATH'")
		return
	}
	rc := http.NewResponseController(c.Writer)
	_ = rc.SetReadDeadline(time.Now().Add(uploadReadTimeout))
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.opt.MaxUploadBytes)
	files, status, err := s.saveUploads(c.Request)
	if err != nil {
		for _, f := range files {
			os.Remove(f.path)
		}
		abortError(c, status, err.Error())
		return
	}
	j, err := s.jobs.add(files)
	if err != nil {
		abortError(c, http.StatusServiceUnavailable, err.Error())
		return
	}
	if w := c.Query("wait"); w != "true" && w != "1" {
		c.Header("Location", j.st.StatusURL)
		c.JSON(http.StatusAccepted, j.status())
		return
	}
	for {
		_ = rc.SetWriteDeadline(time.Now().Add(s.opt.WriteTimeout))
		select {
		case <-j.done:
			c.JSON(http.StatusOK, j.status())
			return
		case <-c.Request.Context().Done():
			return
		case <-time.After(s.opt.WriteTimeout / 2):
		}
	}
}

// saveUploads streams every part named "file" to the upload folder. On error it returns the files saved so
// far (for cleanup) and the status to answer.
func (s *Server) saveUploads(r *http.Request) ([]savedFile, int, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, http.StatusBadRequest, errors.New("send the files as multipart/form-data in the field \"file\"")
	}
	var files []savedFile
	for {
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return files, uploadStatus(err), fmt.Errorf("read the upload: %w", uploadErr(err, s.opt.MaxUploadBytes))
		}
		if part.FormName() != "file" {
			_, _ = io.Copy(io.Discard, part)
			continue
		}
		name, err := uploadName(part.Header.Get("Content-Disposition"))
		if err != nil {
			return files, http.StatusBadRequest, err
		}
		if !slices.Contains(UploadExtensions, strings.ToLower(filepath.Ext(name))) {
			return files, http.StatusUnsupportedMediaType, fmt.Errorf("%s: colsmol indexes %s files", name, strings.Join(UploadExtensions, " "))
		}
		f, err := s.saveOne(name, part)
		if err != nil {
			return files, uploadStatus(err), fmt.Errorf("save %s: %w", name, uploadErr(err, s.opt.MaxUploadBytes))
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, http.StatusBadRequest, errors.New("no file in the upload: send one or more files in the multipart field \"file\"")
	}
	return files, 0, nil
}

func uploadStatus(err error) int {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

func uploadErr(err error, limit int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fmt.Errorf("the upload is over the limit of %d MB (serve --max-upload-mb)", limit>>20)
	}
	return err
}

// uploadName reads the file name a client sent and refuses names that try to leave the upload folder; the
// standard library's FileName would silently strip the folders, hiding the attempt.
func uploadName(disposition string) (string, error) {
	_, params, err := mime.ParseMediaType(disposition)
	raw := params["filename"]
	if err != nil || raw == "" {
		return "", errors.New("each file part needs a file name")
	}
	if strings.ContainsAny(raw, `/\`) || strings.ContainsRune(raw, 0) || raw == "." || raw == ".." {
		return "", fmt.Errorf("file name %q is not allowed: send a plain file name without folders", raw)
	}
	name := sanitizeName(raw)
	if name == "" {
		return "", fmt.Errorf("file name %q has no usable characters", raw)
	}
	return name, nil
}

// sanitizeName keeps letters, digits and a few punctuation marks, drops leading dots and caps the length.
func sanitizeName(raw string) string {
	var b strings.Builder
	for _, r := range raw {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), strings.ContainsRune(" ._-()[]+,", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := strings.TrimLeft(strings.TrimSpace(b.String()), ".")
	if len(name) > maxNameBytes {
		ext := filepath.Ext(name)
		if len(ext) > 10 {
			ext = ""
		}
		stem := name[:maxNameBytes-len(ext)]
		for !utf8.ValidString(stem) {
			stem = stem[:len(stem)-1]
		}
		name = stem + ext
	}
	if strings.Trim(name, "._- ") == "" {
		return ""
	}
	return name
}

// saveOne writes one part to a temporary file, then gives it its final name: the existing file when the same
// bytes were uploaded under that name before, otherwise a free name (report.pdf, report-2.pdf, ...).
func (s *Server) saveOne(name string, r io.Reader) (savedFile, error) {
	tmp, err := os.CreateTemp(s.opt.UploadDir, ".upload-*")
	if err != nil {
		return savedFile{}, err
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return savedFile{}, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	for i := 1; i < 10000; i++ {
		cand := name
		if i > 1 {
			cand = fmt.Sprintf("%s-%d%s", stem, i, ext)
		}
		path := filepath.Join(s.opt.UploadDir, cand)
		if same, exists := sameFile(path, sum); exists {
			if same {
				os.Remove(tmp.Name())
				return savedFile{name: cand, path: path, sha256: sum}, nil
			}
			continue
		}
		if err := os.Link(tmp.Name(), path); err != nil {
			if os.IsExist(err) {
				continue
			}
			return savedFile{}, err
		}
		os.Remove(tmp.Name())
		return savedFile{name: cand, path: path, sha256: sum}, nil
	}
	os.Remove(tmp.Name())
	return savedFile{}, errors.New("too many files of this name in the upload folder")
}

// sameFile reports whether path exists and whether its sha256 is sum.
func sameFile(path, sum string) (same, exists bool) {
	f, err := os.Open(path)
	if err != nil {
		return false, !os.IsNotExist(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, true
	}
	return hex.EncodeToString(h.Sum(nil)) == sum, true
}

// settleUploads returns the indexed documents of an upload's files: the one at each file's path, or, when the
// indexer found the same bytes already indexed under another name, that document. A saved file that no
// document points at (a duplicate, or one that failed) is removed from the upload folder.
func (s *Server) settleUploads(files []savedFile) ([]DocumentInfo, error) {
	docs, err := s.documents()
	if err != nil {
		return nil, err
	}
	out := []DocumentInfo{}
	for _, f := range files {
		var match *DocumentInfo
		for i, d := range docs {
			if filepath.Clean(d.Path) == f.path {
				match = &docs[i]
				break
			}
			if match == nil && d.SHA256 == f.sha256 {
				match = &docs[i]
			}
		}
		if match == nil || filepath.Clean(match.Path) != f.path {
			os.Remove(f.path)
		}
		if match != nil && !slices.ContainsFunc(out, func(d DocumentInfo) bool { return d.DocID == match.DocID }) {
			out = append(out, *match)
		}
	}
	return out, nil
}

// inUploadDir reports whether path is a file directly inside the upload folder.
func (s *Server) inUploadDir(path string) bool {
	if s.opt.UploadDir == "" {
		return false
	}
	abs, err := filepath.Abs(path)
	return err == nil && filepath.Dir(abs) == s.opt.UploadDir
}
