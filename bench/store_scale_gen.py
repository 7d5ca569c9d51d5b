"""store_scale_gen.py OUT N DIM NQ: a synthetic retrieval task over N documents with precomputed DIM-d float32
vectors (bench/store_scale.sh, tests/e2e/store_scale.sh). Documents are standard-normal vectors; query q is
document 997*q mod N plus noise, and qrels mark that document and its two successors relevant. Written in pieces
(memory: one piece), numpy only (run with /usr/bin/python3)."""
import json, os, sys
import numpy as np

out, n, dim, nq = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
os.makedirs(f"{out}/data/qrels", exist_ok=True)
os.makedirs(f"{out}/pre", exist_ok=True)
rng = np.random.default_rng(7)
piece = 100000
hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (n + nq, dim)
hdr += " " * (64 - (10 + len(hdr) + 1) % 64) + "\n"
targets = [(997 * q) % n for q in range(nq)]
with open(f"{out}/pre/embeddings.npy", "wb") as fv, open(f"{out}/pre/texts.jsonl", "w") as ft, \
        open(f"{out}/data/corpus.jsonl", "w") as fc:
    fv.write(b"\x93NUMPY\x01\x00" + len(hdr).to_bytes(2, "little") + hdr.encode())
    tvec = {}
    for s in range(0, n, piece):
        m = min(piece, n - s)
        v = rng.standard_normal((m, dim), dtype=np.float32)
        fv.write(v.tobytes())
        for q, t in enumerate(targets):
            if s <= t < s + m:
                tvec[q] = v[t - s].copy()
        ft.write("".join('{"text": "doc %d", "role": "document"}\n' % i for i in range(s, s + m)))
        fc.write("".join('{"_id": "d%d", "text": "doc %d"}\n' % (i, i) for i in range(s, s + m)))
    qv = np.stack([tvec[q] + 0.8 * rng.standard_normal(dim, dtype=np.float32) for q in range(nq)])
    fv.write(qv.astype(np.float32).tobytes())
    ft.write("".join('{"text": "query %d", "role": "query"}\n' % q for q in range(nq)))
with open(f"{out}/data/queries.jsonl", "w") as f:
    f.write("".join('{"_id": "q%d", "text": "query %d"}\n' % (q, q) for q in range(nq)))
with open(f"{out}/data/qrels/test.tsv", "w") as f:
    f.write("query-id\tcorpus-id\tscore\n")
    for q, t in enumerate(targets):
        for j in range(3):
            f.write("q%d\td%d\t1\n" % (q, (t + j) % n))
with open(f"{out}/task.json", "w") as f:
    json.dump({"name": "SynthRetrieval", "type": "Retrieval", "data": "data", "split": "test",
               "main_score": "ndcg_at_10"}, f)
