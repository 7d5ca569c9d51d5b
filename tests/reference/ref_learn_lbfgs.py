#!/usr/bin/python3
"""Writes tests/fixtures/learning/lbfgs.json: scipy.optimize.minimize(method=
"L-BFGS-B", jac=True) without bounds on test functions, recording the
solution, f, nit, nfev and the stop message, for test_lbfgs to compare with
cmteb's tasks/classification/lbfgs.c.

Run with Debian's python3-scipy: /usr/bin/python3 tests/reference/ref_learn_lbfgs.py
"""
import json
import os

import numpy as np
import scipy
from scipy.optimize import minimize, rosen, rosen_der

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "learning", "lbfgs.json")


def rosen_fg(x):
    return rosen(x), rosen_der(x)


def quad_fg(x, a):
    # f = 0.5 * sum(a_i (x_i - 1)^2) + 0.1 * sum(x_i^4)
    return 0.5 * np.sum(a * (x - 1.0) ** 2) + 0.1 * np.sum(x ** 4), a * (x - 1.0) + 0.4 * x ** 3


def run(name, fg, x0, options, args=()):
    res = minimize(fg, np.array(x0, dtype=float), jac=True, method="L-BFGS-B", args=args, options=options)
    return {"name": name, "x0": list(map(float, x0)), "options": options,
            "x": [float(v) for v in res.x], "fun": float(res.fun), "nit": int(res.nit),
            "nfev": int(res.nfev), "message": str(res.message), "status": int(res.status)}


def main():
    cases = []
    for x0 in ([-1.2, 1.0], [2.0, 2.0], [0.0, 0.0, 0.0, 0.0, 0.0], [-1.0, 0.5, -0.3, 2.0, 1.5, 0.1, 0.7, -2.0]):
        cases.append(run("rosen", rosen_fg, x0, {}))
    cases.append(run("rosen", rosen_fg, [-1.2, 1.0], {"maxiter": 7}))
    cases.append(run("rosen", rosen_fg, [-1.0, 0.5, -0.3, 2.0, 1.5, 0.1, 0.7, -2.0], {"maxiter": 15}))
    cases.append(run("rosen", rosen_fg, [3.0, -3.0, 3.0], {"gtol": 1e-3, "maxcor": 3}))
    a = [1.0, 10.0, 100.0, 1000.0, 3.0, 0.5]
    cases.append(run("quad", quad_fg, [5.0, -4.0, 3.0, 0.0, 1.0, -7.0], {}, (np.array(a),)))
    cases[-1]["a"] = a
    with open(OUT, "w") as f:
        json.dump({"scipy": scipy.__version__, "cases": cases}, f, indent=1)
        f.write("\n")
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
