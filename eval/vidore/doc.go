// Package vidore runs the ViDoRe visual document retrieval benchmark the way the reference tooling
// (vidore-benchmark with pytrec_eval/trec_eval and mteb's MRR and nAUC) does, so its numbers can be compared
// with published ones.
//
// It reads datasets in both published layouts (QA for ViDoRe v1, BEIR for v2/v3 and the *_beir twins) from
// local folders of parquet files, builds the query × page score matrix with a late-interaction retriever,
// turns it into a run with the reference's quirks (query deduplication, last-row-wins judgments, max merge of
// repeated pages), and computes nDCG, MAP, recall, precision, MRR and nAUC with trec_eval's ranking rules
// (float32 scores, ties broken by document id in descending order). Results are written in the layout of
// vidore-benchmark's results files, and runs as TREC run files so that anyone can recheck them with trec_eval.
package vidore
