// colsmol web UI. The page works without this script (server-rendered search and page views); the script
// adds the page viewer with its similarity map, uploads with progress, deleting, and streamed answers.
// Every piece of text from the server is put in the page with textContent, never as HTML.
"use strict";

const api = "/api/v1";
const $ = (id) => document.getElementById(id);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

async function errorOf(res) {
  try { const j = await res.json(); if (j && j.error) return j.error; } catch (_) {}
  return res.status + " " + res.statusText;
}

// ---- similarity map -------------------------------------------------------------------------------

// Nine stops of matplotlib's magma, as colpali-engine's maps use; opacity grows with the value.
const magma = [[0,0,4],[28,16,68],[79,18,123],[129,37,129],[181,54,122],[229,80,100],[251,135,97],[254,194,135],[252,253,191]];
function heat(t) {
  t = Math.min(Math.max(t, 0), 1);
  const x = t * 8, i = Math.min(Math.floor(x), 7), f = x - i;
  const c = magma[i].map((v, k) => Math.round(v * (1 - f) + magma[i + 1][k] * f));
  c.push(Math.round(40 + 170 * t));
  return c;
}

// drawSimMap paints one canvas pixel per patch; the browser smooths it as CSS stretches it over the page.
function drawSimMap(canvas, m) {
  canvas.width = m.cols;
  canvas.height = m.rows;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(m.cols, m.rows);
  const span = m.max - m.min;
  m.values.forEach((v, i) => {
    const c = heat(span > 0 ? (v - m.min) / span : 0);
    img.data.set(c, i * 4);
  });
  ctx.putImageData(img, 0, 0);
  canvas.dataset.ready = "1";
}

function setupViewer() {
  const dlg = $("viewer");
  if (!dlg) return;
  const img = $("viewer-img"), canvas = $("heat"), note = $("heat-note");
  const query = ($("results") && $("results").dataset.query) || "";
  let seq = 0;
  $("viewer-close").addEventListener("click", () => dlg.close());
  dlg.addEventListener("click", (e) => { if (e.target === dlg) dlg.close(); });
  $("heat-on").addEventListener("change", (e) => canvas.classList.toggle("off", !e.target.checked));
  $("heat-alpha").addEventListener("input", (e) => { canvas.style.opacity = e.target.value / 100; });
  document.querySelectorAll("a.result").forEach((a) => {
    a.addEventListener("click", async (e) => {
      if (e.ctrlKey || e.metaKey || e.shiftKey || typeof dlg.showModal !== "function") return;
      e.preventDefault();
      const my = ++seq;
      const d = a.dataset;
      $("viewer-title").textContent = d.name + " · page " + d.page + " · score " + d.score;
      $("viewer-open").href = a.href;
      canvas.dataset.ready = "";
      canvas.width = canvas.height = 1;
      canvas.getContext("2d").clearRect(0, 0, 1, 1);
      note.textContent = "computing the similarity map…";
      img.src = d.image;
      dlg.showModal();
      try {
        const url = api + "/pages/" + encodeURIComponent(d.doc) + "/" + d.page + "/simmap?q=" + encodeURIComponent(query);
        const res = await fetch(url, { credentials: "same-origin" });
        if (!res.ok) throw new Error(await errorOf(res));
        const m = await res.json();
        if (my !== seq) return;
        drawSimMap(canvas, m);
        note.textContent = "Similarity of each patch to the query (best over the query tokens): " +
          m.tile_rows + "×" + m.tile_cols + " tiles, " + m.rows + "×" + m.cols + " patches, " +
          m.min.toFixed(2) + " to " + m.max.toFixed(2) + ".";
      } catch (err) {
        if (my === seq) note.textContent = "No similarity map: " + err.message;
      }
    });
  });
}

// ---- documents ------------------------------------------------------------------------------------

// localStamp formats a time as the server-rendered list does: 2006-01-02 15:04, local time.
function localStamp(t) {
  const p = (n) => String(n).padStart(2, "0");
  return t.getFullYear() + "-" + p(t.getMonth() + 1) + "-" + p(t.getDate()) + " " + p(t.getHours()) + ":" + p(t.getMinutes());
}

async function refreshDocs() {
  const list = $("docs");
  if (!list) return;
  const res = await fetch(api + "/documents", { credentials: "same-origin" });
  if (!res.ok) return;
  const { documents } = await res.json();
  list.replaceChildren();
  $("doc-count").textContent = documents.length;
  if (documents.length === 0) list.append(el("li", "none sub", "Nothing indexed yet."));
  for (const d of documents) {
    const li = el("li");
    li.dataset.id = d.doc_id;
    const name = el("span", "name", d.name);
    name.title = d.path;
    const sub = el("span", "sub", d.pages + " p. · " + localStamp(new Date(d.indexed_at)));
    const del = el("button", "del", "✕");
    del.type = "button";
    del.dataset.id = d.doc_id;
    del.dataset.name = d.name;
    del.setAttribute("aria-label", "Delete " + d.name);
    li.append(name, sub, del);
    list.append(li);
  }
}

function setupDocs() {
  const list = $("docs");
  if (!list) return;
  list.addEventListener("click", async (e) => {
    const b = e.target.closest("button.del");
    if (!b) return;
    if (!window.confirm("Remove " + b.dataset.name + " from the index?")) return;
    const res = await fetch(api + "/documents/" + encodeURIComponent(b.dataset.id), { method: "DELETE", credentials: "same-origin" });
    if (!res.ok) { window.alert("Could not delete: " + (await errorOf(res))); return; }
    await refreshDocs();
  });
}

// ---- uploads ----------------------------------------------------------------------------------------

function upload(files) {
  const box = $("uploads");
  const row = el("div", "job");
  const label = el("div", "", files.length === 1 ? files[0].name : files.length + " files");
  const bar = el("progress");
  bar.max = 1; bar.value = 0;
  const msg = el("div", "sub", "uploading…");
  row.append(label, bar, msg);
  box.prepend(row);
  const form = new FormData();
  for (const f of files) form.append("file", f, f.name);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", api + "/documents");
  xhr.responseType = "json";
  xhr.upload.onprogress = (e) => { if (e.lengthComputable) { bar.value = 0.3 * e.loaded / e.total; msg.textContent = "uploading… " + Math.round(100 * e.loaded / e.total) + "%"; } };
  xhr.onerror = () => { row.classList.add("failed"); msg.textContent = "upload failed: the server could not be reached"; };
  xhr.onload = () => {
    const j = xhr.response || {};
    if (xhr.status !== 202 && xhr.status !== 200) { row.classList.add("failed"); msg.textContent = "upload refused: " + (j.error || xhr.status); return; }
    follow(j.status_url, bar, msg, row);
  };
  xhr.send(form);
}

// follow polls an indexing job until it ends.
async function follow(url, bar, msg, row) {
  for (;;) {
    const res = await fetch(url, { credentials: "same-origin" });
    if (!res.ok) { row.classList.add("failed"); msg.textContent = await errorOf(res); return; }
    const j = await res.json();
    bar.value = 0.3 + 0.7 * j.progress;
    msg.textContent = j.status === "queued" ? "waiting to be indexed…" : (j.message || j.status);
    if (j.status === "done" || j.status === "failed") {
      bar.value = 1;
      const bad = (j.failed || []).map((f) => f.path.split("/").pop() + ": " + f.error);
      msg.textContent = j.status === "done" ? "indexed: " + j.documents.map((d) => d.name).join(", ") : "failed: " + (j.error || "");
      if (bad.length) msg.textContent += " — not indexed: " + bad.join("; ");
      if (j.status === "failed") row.classList.add("failed"); else row.classList.add("done");
      await refreshDocs();
      return;
    }
    await new Promise((r) => setTimeout(r, 400));
  }
}

function setupUpload() {
  const drop = $("drop"), input = $("file");
  if (!drop) return;
  input.addEventListener("change", () => { if (input.files.length) upload([...input.files]); input.value = ""; });
  ["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add("over"); }));
  ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, () => drop.classList.remove("over")));
  drop.addEventListener("drop", (e) => { e.preventDefault(); if (e.dataTransfer.files.length) upload([...e.dataTransfer.files]); });
}

// ---- answers (server-sent events over fetch, since EventSource cannot POST) --------------------------

async function ask(question, k) {
  const out = $("answer"), src = $("sources");
  out.textContent = "";
  src.replaceChildren();
  out.classList.add("busy");
  try {
    const res = await fetch(api + "/ask", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream" },
      body: JSON.stringify({ question, k }),
    });
    if (!res.ok) throw new Error(await errorOf(res));
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        let event = "message", data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) event = line.slice(7);
          else if (line.startsWith("data: ")) data += line.slice(6);
        }
        if (!data) continue;
        const j = JSON.parse(data);
        if (event === "token") out.textContent += j.text;
        else if (event === "error") throw new Error(j.error);
        else if (event === "done") {
          out.textContent = j.answer.trim() === "" ? "(the model gave an empty answer)" : j.answer;
          for (const s of j.sources || []) {
            const li = el("li");
            const a = el("a", "", s.path.split("/").pop() + ", page " + s.page);
            a.href = "/view/" + encodeURIComponent(s.doc_id) + "/" + s.page + "?q=" + encodeURIComponent(question);
            li.append(a, el("span", "sub", " · score " + s.score.toFixed(2)));
            src.append(li);
          }
        }
      }
    }
  } catch (err) {
    out.textContent = "No answer: " + err.message;
  } finally {
    out.classList.remove("busy");
  }
}

function setupAsk() {
  const form = $("ask-form");
  if (!form) return;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = $("question").value.trim();
    if (q) ask(q, parseInt($("ask-k").value, 10));
  });
}

setupViewer();
setupDocs();
setupUpload();
setupAsk();
