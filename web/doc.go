// Package web serves colsmol's REST API and its search web UI (gin), for `colsmol serve`.
//
// # Basics
//
// [New] takes the components it calls through small interfaces: a [Store] (the index), an [Embedder] (query
// vectors), an [Indexer] (uploads) and an optional [Answerer] (grounded answers). Package web/backend adapts
// the concrete index, embed and indexer types to them. A [Server] is an http.Handler; [Server.Serve] runs it
// on a listener with timeouts and a graceful shutdown.
//
// Routes (see openapi.json, served at /api/v1/openapi.json):
//
//	GET    /healthz                               {"status":"ok"}
//	GET    /api/v1/search?q=…&k=5                 ranked pages, each with image_url and thumb_url
//	POST   /api/v1/search {"query","k"}           the same
//	POST   /api/v1/ask {"question","k"}           the answer; server-sent events with Accept: text/event-stream
//	GET    /api/v1/documents                      the indexed documents
//	POST   /api/v1/documents                      multipart field "file" (one or more): 202 with a job
//	GET    /api/v1/jobs/{job_id}                  status of an upload's indexing job
//	DELETE /api/v1/documents/{doc_id}             204
//	GET    /api/v1/pages/{doc_id}/{page}/image    JPEG preview; ?size=thumb for the thumbnail
//	GET    /api/v1/pages/{doc_id}/{page}/simmap   similarity map for ?q= (JSON, or ?format=png)
//	GET    /                                      the UI; /?q=… renders results on the server
//	GET    /view/{doc_id}/{page}?q=…              one page with its similarity map, without JavaScript
//	GET    /static/…                              embedded CSS, script and icon
//
// Errors are {"error": "message"} with a 4xx or 5xx status.
//
// # Uploads
//
// An upload is streamed into the upload folder (next to the index, <db>.uploads/) under a cleaned name; a name
// that holds a folder is refused, and a name already taken by other bytes gets a suffix (report-2.pdf). One
// background job indexes the files of one upload; jobs run one at a time, and searches go on meanwhile. The
// upload answers 202 with the job ({"job_id", "status", "status_url", ...}); GET status_url until its status
// is "done" or "failed". With ?wait=true the upload answers once the job has finished. Jobs live in memory.
// Deleting a document that came in through an upload also deletes its file.
//
// # Security
//
// `colsmol serve` binds 127.0.0.1 unless told otherwise; [CheckBind] refuses another address without a token
// or an explicit --insecure. With Options.Token set, every route but /healthz and /static/ needs the token,
// sent as "Authorization: Bearer TOKEN" (scripts), as the colsmol_token cookie, or as ?token=TOKEN; a browser
// that opens /?token=TOKEN once gets the cookie (HttpOnly, SameSite=Strict) and is redirected without the
// token in the address. State-changing requests whose Origin header names another site are refused with 403,
// so a web page elsewhere cannot post to a server on localhost. Pages are rendered with html/template and the
// script sets text with textContent, so document names and answers are always escaped; a Content-Security-
// Policy keeps the UI to its own embedded assets.
//
// # Caveats
//
// The http.Server has read, write and idle timeouts; a streamed answer and an upload move their own deadlines
// forward as they progress. One answer is generated at a time. The similarity map assumes SmolVLM's layout:
// image tokens in tiles of 8×8, row-major, tiles row-major and the global tile last; when the Store does not
// implement [PageLayouter], the tile grid is inferred from the number of tiles and the page's aspect ratio.
package web
