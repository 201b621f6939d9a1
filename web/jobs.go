package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// Job states.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"   // finished; Failed lists files that could not be indexed
	JobFailed  = "failed" // nothing could be indexed; Error says why
)

// JobStatus is the answer of GET /api/v1/jobs/{job_id} and of an upload.
type JobStatus struct {
	JobID     string         `json:"job_id"`
	Status    string         `json:"status"`
	StatusURL string         `json:"status_url"`
	Files     []string       `json:"files"`             // names of the uploaded files as saved
	Progress  float64        `json:"progress"`          // 0 to 1
	Message   string         `json:"message,omitempty"` // the latest progress line
	Documents []DocumentInfo `json:"documents"`         // documents of this upload once done
	Failed    []Failure      `json:"failed"`            // files that could not be indexed
	Error     string         `json:"error,omitempty"`   // why the whole job failed
	Created   time.Time      `json:"created"`
	Finished  *time.Time     `json:"finished,omitempty"`
}

type job struct {
	mu    sync.Mutex
	st    JobStatus
	files []savedFile
	done  chan struct{}
}

func (j *job) status() JobStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := j.st
	s.Files = append([]string(nil), s.Files...)
	s.Documents = append([]DocumentInfo{}, s.Documents...)
	s.Failed = append([]Failure{}, s.Failed...)
	return s
}

func (j *job) update(f func(*JobStatus)) {
	j.mu.Lock()
	f(&j.st)
	j.mu.Unlock()
}

// maxJobs bounds the queue and the finished jobs kept for status requests.
const maxJobs = 64

// jobQueue indexes uploads one job at a time in a background goroutine, so searches go on meanwhile.
type jobQueue struct {
	s      *Server
	ctx    context.Context
	cancel context.CancelFunc
	queue  chan *job
	wg     sync.WaitGroup

	mu     sync.Mutex
	jobs   map[string]*job
	order  []string
	closed bool
}

func newJobQueue(s *Server) *jobQueue {
	ctx, cancel := context.WithCancel(context.Background())
	q := &jobQueue{s: s, ctx: ctx, cancel: cancel, queue: make(chan *job, maxJobs), jobs: map[string]*job{}}
	q.wg.Add(1)
	go q.work()
	return q
}

var errQueueFull = errors.New("too many uploads are waiting to be indexed; try again when the current ones are done")

// add queues a job for the saved files.
func (q *jobQueue) add(files []savedFile) (*job, error) {
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.name
	}
	j := &job{files: files, done: make(chan struct{})}
	j.st = JobStatus{JobID: hex.EncodeToString(id), Status: JobQueued, Files: names, Created: time.Now().UTC(),
		Documents: []DocumentInfo{}, Failed: []Failure{}}
	j.st.StatusURL = apiPrefix + "/jobs/" + j.st.JobID
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil, errors.New("the server is shutting down")
	}
	select {
	case q.queue <- j:
	default:
		return nil, errQueueFull
	}
	q.jobs[j.st.JobID] = j
	q.order = append(q.order, j.st.JobID)
	for len(q.order) > 2*maxJobs {
		delete(q.jobs, q.order[0])
		q.order = q.order[1:]
	}
	return j, nil
}

func (q *jobQueue) get(id string) *job {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.jobs[id]
}

func (q *jobQueue) work() {
	defer q.wg.Done()
	for {
		select {
		case <-q.ctx.Done():
			return
		case j := <-q.queue:
			q.run(j)
		}
	}
}

func (q *jobQueue) run(j *job) {
	defer close(j.done)
	j.update(func(s *JobStatus) { s.Status = JobRunning })
	progress := func(p Progress) {
		j.update(func(s *JobStatus) {
			if p.Files > 0 {
				done := float64(max(p.FileIndex-1, 0))
				if p.Pages > 0 {
					done += float64(p.Page) / float64(p.Pages)
				}
				s.Progress = min(done/float64(p.Files), 1)
			}
			s.Message = p.Message
		})
	}
	paths := make([]string, len(j.files))
	for i, f := range j.files {
		paths[i] = f.path
	}
	sum, err := q.s.opt.Indexer.Index(q.ctx, paths, progress)
	docs, derr := q.s.settleUploads(j.files)
	now := time.Now().UTC()
	j.update(func(s *JobStatus) {
		s.Finished, s.Progress = &now, 1
		if sum != nil {
			s.Failed = append(s.Failed, sum.Failed...)
		}
		s.Documents = docs
		switch {
		case err != nil:
			s.Status, s.Error = JobFailed, err.Error()
		case derr != nil:
			s.Status, s.Error = JobFailed, derr.Error()
		case len(docs) == 0:
			s.Status, s.Error = JobFailed, "none of the files could be indexed"
		default:
			s.Status = JobDone
		}
		s.Message = fmt.Sprintf("%d of %d files indexed", len(docs), len(j.files))
	})
	if err != nil {
		q.s.log.Error("index upload", "job", j.st.JobID, "err", err)
	}
}

// close stops the worker and cancels the running job.
func (q *jobQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cancel()
	q.wg.Wait()
}

// waitIdle returns once the queue is empty and no job runs.
func (q *jobQueue) waitIdle(ctx context.Context) error {
	for {
		busy := len(q.queue) > 0
		q.mu.Lock()
		for _, j := range q.jobs {
			select {
			case <-j.done:
			default:
				busy = true
			}
		}
		q.mu.Unlock()
		if !busy {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s *Server) handleJob(c *gin.Context) {
	j := s.jobs.get(c.Param("job_id"))
	if j == nil {
		abortError(c, http.StatusNotFound, "no upload job "+c.Param("job_id")+" (jobs are kept in memory until the server restarts)")
		return
	}
	c.JSON(http.StatusOK, j.status())
}
