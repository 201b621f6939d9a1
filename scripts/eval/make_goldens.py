#!/usr/bin/env python3
"""Makes the metric goldens of eval/vidore from independent references.

For each synthetic case it computes what vidore-benchmark (>= 5) reports:
  * ndcg/map/recall/precision at 1,3,5,10,20,50,100: per-query values from the real trec_eval binary
    (commit de6a29f, as pytrec_eval 0.5.9 bundles it; built outside this repository with full-precision
    printing), averaged in run order and rounded with Python's round(x, 5) as vidore-benchmark does;
  * mrr_at_k: mteb's mrr (Python stable sort on float64 scores), plain mean over the run's queries;
  * naucs_at_k_{max,std,diff1}: mteb's nAUC of the per-query P@k with NumPy (stable argsort, np.mean,
    np.std, np.trapz as sklearn's auc), only the P@k entries surviving vidore-benchmark's key collision.
The QA and BEIR table cases also build the run from a table and a score matrix the way vidore-benchmark's
ViDoReEvaluatorQA / ViDoReEvaluatorBEIR do (query dedup, last-row-wins qrels, max merge with default 0,
ignore_identical_ids for QA).

Usage: TREC_EVAL=/path/to/trec_eval python3 scripts/eval/make_goldens.py eval/vidore/testdata/goldens
Python 3 with NumPy (Debian python3-numpy). The output is deterministic (seeded).
"""
import json
import os
import random
import subprocess
import sys
import tempfile

import numpy as np

KS = [1, 3, 5, 10, 20, 50, 100]


# ---------------------------------------------------------------------------------------------------------
# Runs from tables, as vidore-benchmark builds them


def qa_run(queries_col, filenames, scores):
    """ViDoReEvaluatorQA.evaluate_dataset steps 3-6 (scores: deduplicated queries x rows)."""
    queries = []
    for q in queries_col:
        if q is not None and q not in queries:
            queries.append(q)
    q2f = {}
    for q, f in zip(queries_col, filenames):
        q2f[q] = f
    qrels = {q: {q2f[q]: 1} for q in queries}
    results = {}
    for qi, q in enumerate(queries):
        for r, fn in enumerate(filenames):
            if q not in results:
                results[q] = {filenames[0]: scores[qi][0]}
            else:
                results[q][fn] = max(results[q].get(fn, 0), scores[qi][r])
    # ignore_identical_ids=True
    for q in results:
        if q in results[q]:
            del results[q][q]
    return queries, qrels, results


def beir_run(corpus_ids, query_ids, qrel_rows, scores):
    """ViDoReEvaluatorBEIR.evaluate_dataset (scores: queries x corpus rows); qrels cast to int."""
    passage_ids = [str(x) for x in corpus_ids]
    qids = [str(x) for x in query_ids]
    qrels = {}
    for qid, cid, s in qrel_rows:
        qrels.setdefault(str(qid), {})[str(cid)] = int(s)
    results = {}
    for qi, q in enumerate(qids):
        for r, pid in enumerate(passage_ids):
            if q not in results:
                results[q] = {passage_ids[0]: scores[qi][0]}
            else:
                results[q][pid] = max(results[q].get(pid, 0), scores[qi][r])
    return qids, qrels, results


# ---------------------------------------------------------------------------------------------------------
# Metrics


def trec_eval(qrels, results):
    """Per-query trec_eval measures, {qid: {measure: value}}, for queries in both run and qrels."""
    exe = os.environ.get("TREC_EVAL")
    if not exe:
        sys.exit("set TREC_EVAL to a trec_eval 9.x binary (see scripts/eval/README.md)")
    # Query ids of QA datasets are query texts: give trec_eval white-space-free stand-ins.
    tid = {q: f"t{i}" for i, q in enumerate(dict.fromkeys(list(qrels) + list(results)))}
    back = {v: k for k, v in tid.items()}
    with tempfile.TemporaryDirectory() as d:
        qp, rp = os.path.join(d, "qrels"), os.path.join(d, "run")
        with open(qp, "w") as f:
            for q, docs in qrels.items():
                for doc, rel in docs.items():
                    f.write(f"{tid[q]} 0 {doc} {rel}\n")
        with open(rp, "w") as f:
            for q, docs in results.items():
                for rank, (doc, s) in enumerate(docs.items()):
                    f.write(f"{tid[q]} Q0 {doc} {rank + 1} {float(s)!r} ref\n")
        ks = ",".join(str(k) for k in KS)
        out = subprocess.run(
            [exe, "-q", "-m", "ndcg_cut." + ks, "-m", "map_cut." + ks, "-m", "recall." + ks, "-m", "P." + ks, qp, rp],
            check=True, capture_output=True, text=True).stdout
    per = {}
    for line in out.splitlines():
        name, q, v = line.split()
        if q != "all":
            per.setdefault(back[q], {})[name] = float(v)
    return per


def mrr(qrels, results):
    """mteb utils.mrr(output_type="all") then sum/len as vidore-benchmark's compute_mrr."""
    out = {}
    top = {q: sorted(d.items(), key=lambda it: it[1], reverse=True)[: max(KS)] for q, d in results.items()}
    for k in KS:
        vals = []
        for q in top:
            rel = {doc for doc, s in qrels.get(q, {}).items() if s > 0}
            rr = 0
            for rank, hit in enumerate(top[q][:k]):
                if hit[0] in rel:
                    rr = 1.0 / (rank + 1)
                    break
            vals.append(rr)
        out[k] = sum(vals) / len(vals)
    return out


def nauc(conf, metric):
    rates = np.linspace(0, 1, 11)[:-1]

    def curve(c, m):
        order = np.argsort(c, kind="stable")
        res = np.zeros(len(rates))
        for i, rate in enumerate(rates):
            n_abst = min(round(rate * len(order)), len(c) - 1)
            res[i] = m[order[n_abst:]].mean()
        return res

    abst = curve(conf, metric)
    oracle = curve(metric, metric)
    abst_auc = np.trapz(abst, rates)
    or_auc = np.trapz(oracle, rates)
    flat = oracle[0] * (rates[-1] - rates[0])
    if or_auc == flat:
        return None
    return float((abst_auc - flat) / (or_auc - flat))


def metrics(qrels, results):
    per = trec_eval(qrels, results)
    scored = [q for q in results if q in per]  # pytrec_eval output order = run order
    out = []
    for name, key in [("ndcg", "ndcg_cut"), ("map", "map_cut"), ("recall", "recall"), ("precision", "P")]:
        for k in KS:
            vals = [per[q][f"{key}_{k}"] for q in scored]
            out.append([f"{name}_at_{k}", round(sum(vals) / len(vals), 5)])
    m = mrr(qrels, results)
    out += [[f"mrr_at_{k}", m[k]] for k in KS]
    conf = {"max": [], "std": [], "diff1": []}
    for q in results:
        s = list(results[q].values())
        ss = sorted(s)[::-1]
        conf["max"].append(ss[0])
        conf["std"].append(np.std(s))
        conf["diff1"].append(ss[0] - ss[1] if len(s) > 1 else 0.0)
    for k in KS:
        p = np.array([per[q][f"P_{k}"] for q in scored])
        for fct in ("max", "std", "diff1"):
            out.append([f"naucs_at_{k}_{fct}", nauc(np.array(conf[fct]), p)])
    return out


# ---------------------------------------------------------------------------------------------------------
# Cases


def quantised(rng, n, levels=16, lo=-0.25):
    """Scores on a coarse grid (many exact ties), some nudged by 1e-9 (distinct in float64, tied in float32)."""
    out = []
    for _ in range(n):
        x = lo + rng.randrange(levels) / levels
        if rng.random() < 0.1:
            x += 1e-9
        out.append(x)
    return out


def qa_case(rng):
    n_rows, n_files = 60, 40
    files = [f"page_{i}.png" for i in range(n_files)]
    texts = [f"what is shown in figure {i}?" for i in range(25)] + ["page_3.png"]  # a query equal to a filename
    queries_col, filenames = [], []
    for r in range(n_rows):
        filenames.append(files[r] if r < n_files else rng.choice(files))  # repeated filenames after row 40
        queries_col.append(None if rng.random() < 0.15 else rng.choice(texts))
    queries = []
    for q in queries_col:
        if q is not None and q not in queries:
            queries.append(q)
    last = {q: f for q, f in zip(queries_col, filenames)}
    scores = []
    for q in queries:  # a retriever that is right more often than not
        row = quantised(rng, n_rows)
        scores.append([s + 0.5 if f == last[q] and rng.random() < 0.7 else s for s, f in zip(row, filenames)])
    qs, qrels, results = qa_run(queries_col, filenames, scores)
    return {"layout": "qa", "rows": [{"query": q, "image_filename": f} for q, f in zip(queries_col, filenames)],
            "scores": scores, "queries": qs, "metrics": metrics(qrels, results)}


def beir_case(rng):
    corpus = list(range(0, 30))
    rng.shuffle(corpus)
    query_ids = list(range(100, 120))
    rows = []
    for q in query_ids:
        for c in rng.sample(corpus, rng.randint(1, 4)):
            rows.append([q, c, float(rng.choice([0, 1, 1, 2, 3]))])
        if rows[-1][2] == 0:
            rows[-1][2] = 2.0
    rows.append([query_ids[0], rows[0][1], 3.0])  # a repeated pair: the last row wins
    graded = {}
    for q, c, g in rows:
        graded[(q, c)] = g
    scores = []
    for q in query_ids:
        row = quantised(rng, len(corpus), levels=8, lo=0.0)
        scores.append([s + 0.25 * graded.get((q, c), 0) if rng.random() < 0.7 else s for s, c in zip(row, corpus)])
    qids, qrels, results = beir_run(corpus, query_ids, rows, scores)
    return {"layout": "beir", "corpus_ids": corpus, "query_ids": query_ids, "qrels": rows, "scores": scores,
            "metrics": metrics(qrels, results)}


def run_case(rng, n_queries=130, n_docs=130):
    """Run-level case: more than 128 queries and documents to exercise NumPy's pairwise summation."""
    docs = [str(i) for i in range(n_docs)]
    qrels, results = {}, {}
    for qi in range(n_queries):
        q = f"q{qi}"
        qrels[q] = {d: rng.choice([0, 1, 2]) for d in rng.sample(docs, rng.randint(1, 6))}
        if all(v == 0 for v in qrels[q].values()) and rng.random() < 0.5:
            qrels[q][rng.choice(docs)] = 1
        row = quantised(rng, n_docs, levels=32)
        results[q] = {d: s + 0.2 * qrels[q].get(d, 0) if rng.random() < 0.6 else s for d, s in zip(docs, row)}
    return {"layout": "run", "docs": docs, "qrels": qrels,
            "scores": [list(results[q].values()) for q in results], "queries": list(results),
            "metrics": metrics(qrels, results)}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "eval/vidore/testdata/goldens"
    os.makedirs(out, exist_ok=True)
    rng = random.Random(20261127)
    cases = {"qa_table": qa_case(rng), "beir_table": beir_case(rng), "run_large": run_case(rng)}
    for name, case in cases.items():
        case["generator"] = "scripts/eval/make_goldens.py"
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump(case, f, separators=(",", ":"))
            f.write("\n")


if __name__ == "__main__":
    main()
