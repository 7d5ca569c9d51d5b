# topk_screen_estimate.py: how many documents an 8-bit screen with a proven error bound would pass on to exact
# rescoring, on the retrieval bench's distribution (unit Gaussian vectors, d = 384, 100k documents, k = 1000;
# 40 queries): per pair, |q.d - sq sd q8.d8| <= (sd/2)|q|_1 + (sq sd/2)|d8|_1; candidates are the documents whose
# code score plus that bound reaches the query's exact 1000th score. Run by bench/topk_screen_probe.sh.
import numpy as np
rs = np.random.RandomState(14)
DIM, nd, nq, k = 384, 100000, 40, 1000
D = rs.randn(nd, DIM).astype(np.float32); Q = rs.randn(nq, DIM).astype(np.float32)
D /= np.linalg.norm(D, axis=1, keepdims=True); Q /= np.linalg.norm(Q, axis=1, keepdims=True)
S = (Q.astype(np.float64) @ D.T.astype(np.float64))
thr = -np.sort(-S, axis=1)[:, k - 1]
print("score std %.4f, 1000th mean %.4f" % (S.std(), thr.mean()))
for qb, db in ((7, 8), (8, 8)):
    sd = np.abs(D).max(1) / (2 ** (db - 1) - 1); sq = np.abs(Q).max(1) / (2 ** (qb - 1) - 1)
    D8 = np.rint(D / sd[:, None]); Q8 = np.rint(Q / sq[:, None])
    A = (Q8 @ D8.T) * sq[:, None] * sd[None, :]
    bound = (sd[None, :] / 2) * np.abs(Q).sum(1)[:, None] + (sq[:, None] / 2) * sd[None, :] * np.abs(D8).sum(1)[None, :] + 1e-5
    cand = (A + bound >= thr[:, None]).sum(1)
    err = np.abs(A - S).max()
    print("q %d-bit, d %d-bit: bound mean %.4f (max actual error %.4f): candidates per query mean %.0f (k=%d), %.2f%% of docs" % (qb, db, bound.mean(), err, cand.mean(), k, 100 * cand.mean() / nd))
