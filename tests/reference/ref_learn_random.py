#!/usr/bin/python3
"""Writes tests/fixtures/learning/random.json: draws from numpy's legacy
RandomState (MT19937), CPython's random.Random and numpy's default_rng
(PCG64), plus MTEB's chained undersampling and Hugging Face datasets'
stratified split, for test_mt19937 to compare with cmteb's tasks/random.

Run with Debian's python3-numpy: /usr/bin/python3 tests/reference/ref_learn_random.py

HF datasets is not installed here, so stratified_split() below restates
datasets/utils/stratify.py (stratified_shuffle_split_generate_indices and
approximate_mode, as published in huggingface/datasets) on numpy's own
Generator; every random draw in it is numpy's.
"""
import json
import os
import random
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "learning", "random.json")


def legacy_cases():
    cases = []
    for seed in (0, 1, 42, 1234, 2**32 - 1):
        rs = np.random.RandomState(seed)
        c = {"seed": seed}
        c["random_sample"] = [float(v) for v in rs.random_sample(6)]
        c["randint_10"] = [int(v) for v in rs.randint(0, 10, 8)]
        c["randint_1000"] = [int(v) for v in rs.randint(0, 1000, 8)]
        c["randint_big"] = [int(v) for v in rs.randint(0, 3_000_000_000, 4)]
        c["uniform"] = [float(v) for v in rs.uniform(size=4)]
        c["permutation_1"] = [int(v) for v in rs.permutation(1)]
        c["permutation_17"] = [int(v) for v in rs.permutation(17)]
        c["permutation_200"] = [int(v) for v in rs.permutation(200)]
        c["choice_500_37"] = [int(v) for v in rs.choice(500, 37, replace=False)]
        c["after"] = [float(v) for v in rs.random_sample(2)]
        cases.append(c)
    return cases


def array_seed_cases():
    cases = []
    for key in ([1, 2, 3], [42, 0], [0xDEADBEEF, 7, 99, 5]):  # one word would squeeze to an int seed
        rs = np.random.RandomState(np.array(key, dtype=np.int64))
        cases.append({"key": key, "random_sample": [float(v) for v in rs.random_sample(5)]})
    return cases


def undersample(labels, samples_per_label, n_experiments, seed=42):
    """MTEB's _undersample_data chained over experiments (m1.12 / m2)."""
    idxs = np.arange(len(labels))
    out = []
    for _ in range(n_experiments):
        np.random.RandomState(seed).shuffle(idxs)
        counts = {}
        sel = []
        for i in idxs:
            lab = labels[i]
            if counts.get(lab, 0) < samples_per_label:
                sel.append(int(i))
                counts[lab] = counts.get(lab, 0) + 1
        out.append(sel)
    return out


def undersample_cases():
    rs = np.random.RandomState(7)
    cases = []
    for n, k, spl in ((40, 3, 2), (300, 5, 8), (1000, 77, 8), (2500, 2, 32)):
        labels = [int(v) for v in rs.randint(0, k, n)]
        cases.append({"labels": labels, "samples_per_label": spl, "n_experiments": 10,
                      "selected": undersample(labels, spl, 10)})
    return cases


def pyrandom_cases():
    cases = []
    for seed in (0, 42, 2**40 + 5):
        r = random.Random(seed)
        c = {"seed": seed}
        c["random"] = [r.random() for _ in range(5)]
        c["getrandbits"] = [[k, r.getrandbits(k)] for k in (1, 5, 31, 32, 33, 50)]
        c["randbelow"] = [[n, r._randbelow(n)] for n in (1, 2, 3, 1000, 65537, 3_000_000_000)]
        c["sample"] = []
        for n, k in ((10, 3), (30, 30), (1000, 5), (1000, 400), (100000, 50), (16, 0)):
            c["sample"].append({"n": n, "k": k, "out": r.sample(range(n), k)})
        c["choices"] = {"n": 777, "k": 50, "out": r.choices(range(777), k=50)}
        c["after"] = r.random()
        cases.append(c)
    return cases


def pcg_cases():
    cases = []
    for seed in (0, 42, 12345, 2**33 + 1):
        g = np.random.default_rng(seed)
        c = {"seed": seed}
        c["raw"] = ["%016x" % v for v in np.random.PCG64(seed).random_raw(4)]
        c["integers"] = [[m, int(g.integers(0, m, endpoint=True))] for m in (1, 6, 1000, 2**31, 2**40)]
        c["permutation_23"] = [int(v) for v in g.permutation(23)]
        c["choice"] = []
        for n, k in ((1, 1), (2, 1), (5, 3), (10, 10), (100, 40), (12000, 100), (12000, 300)):
            c["choice"].append({"n": n, "k": k, "out": [int(v) for v in g.choice(n, k, replace=False)]})
        c["after"] = ["%016x" % int(g.integers(0, 2**64 - 1, dtype=np.uint64, endpoint=True))]
        cases.append(c)
    return cases


def approximate_mode(class_counts, n_draws, rng):
    continuous = n_draws * class_counts / class_counts.sum()
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        values = np.sort(np.unique(remainder))[::-1]
        for value in values:
            (inds,) = np.where(remainder == value)
            add_now = min(len(inds), need_to_add)
            inds = rng.choice(inds, size=add_now, replace=False)
            floored[inds] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    return floored.astype(np.int64)


def stratified_split(y, n_train, n_test, seed):
    rng = np.random.default_rng(seed)
    classes, y_indices = np.unique(y, return_inverse=True)
    class_counts = np.bincount(y_indices)
    class_indices = np.split(np.argsort(y_indices, kind="mergesort"), np.cumsum(class_counts)[:-1])
    n_i = approximate_mode(class_counts, n_train, rng)
    t_i = approximate_mode(class_counts - n_i, n_test, rng)
    train, test = [], []
    for i in range(len(classes)):
        perm = rng.permutation(class_counts[i])
        p = class_indices[i].take(perm, mode="clip")
        train.extend(p[: n_i[i]])
        test.extend(p[n_i[i]: n_i[i] + t_i[i]])
    return [int(v) for v in rng.permutation(train)], [int(v) for v in rng.permutation(test)]


def stratified_cases():
    rs = np.random.RandomState(3)
    cases = []
    for n, k, n_test in ((50, 2, 20), (1500, 2, 1024), (999, 7, 300), (120, 3, 30)):
        p = rs.dirichlet(np.ones(k))
        y = [int(v) for v in rs.choice(k, n, p=p)]
        for c in range(k):  # every class needs 2 members
            y[2 * c] = c
            y[2 * c + 1] = c
        train, test = stratified_split(np.array(y), n - n_test, n_test, 42)
        cases.append({"labels": y, "n_test": n_test, "seed": 42, "train": train, "test": test})
    return cases


def main():
    doc = {
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "legacy": legacy_cases(),
        "array_seed": array_seed_cases(),
        "undersample": undersample_cases(),
        "pyrandom": pyrandom_cases(),
        "pcg64": pcg_cases(),
        "stratified": stratified_cases(),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
