"""Peer timings for bench/run.ts, measured in the same run as semfield's.

  python3 bench/peers.py spsolve N REPS Dirichlet 5-point Poisson by scipy spsolve
  python3 bench/peers.py fft32 N REPS OUT  periodic Poisson by scipy.fft's rfft2 in
      float32 on all cores; the solution is written to OUT (float32)
  python3 bench/peers.py dst32 N REPS OUT  Dirichlet Poisson by scipy.fft's type-II
      DST (which diagonalises the cell-centred Dirichlet operator), float32, all cores
  python3 bench/peers.py matmul N D REPS          float32 (N x D) @ (D x N) GFLOP/s
  python3 bench/peers.py pairsum FILE D KIND P REPS  numpy's float32 pipeline for
      phi_i = sum_j G(|x_i - x_j|) over the points of FILE: SGEMM for the inner
      products, |x|^2 + |y|^2 - 2 x.y, then exp (gaussian, P = 1 / (2 s^2)) or
      sqrt (energy) and row sums, all in place on one N x N float32 matrix
  python3 bench/peers.py labelprop FILE D GAMMA [REPS]  LabelPropagation(rbf) on FILE
  python3 bench/peers.py meanshift FILE D BW      MeanShift(bin_seeding=False) on FILE
FILE holds float32 points (and, for labelprop, a sibling FILE.labels of int32
labels, -1 for unlabelled).

Both solve the same discrete problem semfield solves (the cell-centred
5-point stencil; the FFT and the DST use its exact eigenvalues). Prints JSON with the
median seconds over REPS runs and the max difference from the reference
solution the caller can compare against.
"""
import json
import sys
import time

import numpy as np


def rhs(n):
    h = 1.0 / n
    x = (np.arange(n) + 0.5) * h
    X, Y = np.meshgrid(x, x)  # rows are y, columns x (x fastest)
    return (np.sin(2 * np.pi * X) * np.sin(4 * np.pi * Y) + 0.3 * np.cos(6 * np.pi * X)).astype(np.float32), h


def fft32_solve(rho, h, workers):
    import scipy.fft as sf

    n = rho.shape[0]
    k = np.arange(n)
    s2 = (np.sin(np.pi * k / n) ** 2).astype(np.float32)
    lam = (np.float32(4 / h**2) * (s2[: n // 2 + 1][None, :] + s2[:, None])).astype(np.float32)
    lam[0, 0] = 1.0
    ph = sf.rfft2(rho, workers=workers)
    ph /= lam
    ph[0, 0] = 0.0
    return sf.irfft2(ph, s=rho.shape, workers=workers)


def dst32_solve(rho, h, workers):
    import scipy.fft as sf

    n = rho.shape[0]
    s2 = (np.sin(np.pi * (np.arange(n) + 1) / (2 * n)) ** 2).astype(np.float32)
    lam = np.float32(4 / h**2) * (s2[None, :] + s2[:, None])
    c = sf.dstn(rho, type=2, workers=workers)
    c /= lam
    return sf.idstn(c, type=2, workers=workers)


def dirichlet_matrix(n, h):
    import scipy.sparse as sp

    main = np.full(n, 2.0)
    main[0] = main[-1] = 3.0  # ghost = -u at the faces
    t = sp.diags([-np.ones(n - 1), main, -np.ones(n - 1)], [-1, 0, 1])
    eye = sp.identity(n)
    return ((sp.kron(eye, t) + sp.kron(t, eye)) / h**2).tocsc()


def median_time(fn, reps):
    ts = []
    out = None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts)), out


def points_peer(kind):
    x = np.fromfile(sys.argv[2], dtype=np.float32).astype(np.float64).reshape(-1, int(sys.argv[3]))
    param = float(sys.argv[4])
    if kind == "labelprop":
        from sklearn.semi_supervised import LabelPropagation

        y = np.fromfile(sys.argv[2] + ".labels", dtype=np.int32)
        reps = int(sys.argv[5]) if len(sys.argv) > 5 else 1
        m = LabelPropagation(kernel="rbf", gamma=param, max_iter=100000, tol=1e-10)
        sec, _ = median_time(lambda: m.fit(x, y), reps)
        return {"median_s": sec, "labels": m.transduction_.tolist(), "iterations": int(m.n_iter_)}
    from sklearn.cluster import MeanShift

    t = time.perf_counter()
    m = MeanShift(bandwidth=param, bin_seeding=False).fit(x)
    return {"median_s": time.perf_counter() - t, "labels": m.labels_.tolist(), "k": len(m.cluster_centers_)}


def pair_sum(x, kind, p):
    g = x @ x.T  # SGEMM
    n2 = np.einsum("ij,ij->i", x, x)
    g *= -2.0
    g += n2[:, None]
    g += n2[None, :]
    np.maximum(g, 0.0, out=g)
    if kind == "gaussian":
        g *= -p
        np.exp(g, out=g)
        return g.sum(axis=1, dtype=np.float64)
    np.sqrt(g, out=g)
    return -g.sum(axis=1, dtype=np.float64)


def main():
    if sys.argv[1] == "pairsum":
        d, kind, p, reps = int(sys.argv[3]), sys.argv[4], float(sys.argv[5]), int(sys.argv[6])
        x = np.fromfile(sys.argv[2], dtype=np.float32).reshape(-1, d)
        sec, phi = median_time(lambda: pair_sum(x, kind, np.float32(p)), reps)
        print(json.dumps({"median_s": sec, "phi": phi.tolist(), "numpy": np.__version__}))
        return
    if sys.argv[1] in ("labelprop", "meanshift"):
        print(json.dumps(points_peer(sys.argv[1])))
        return
    if sys.argv[1] == "matmul":
        n, d, reps = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
        a = np.random.default_rng(0).standard_normal((n, d), dtype=np.float32)
        b = np.random.default_rng(1).standard_normal((d, n), dtype=np.float32)
        sec, _ = median_time(lambda: a @ b, reps)
        print(json.dumps({"median_s": sec, "gflops": 2.0 * n * n * d / sec / 1e9}))
        return
    kind, n, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rho, h = rhs(n)
    if kind in ("fft32", "dst32"):
        import os
        import scipy

        workers = os.cpu_count()
        solve = fft32_solve if kind == "fft32" else dst32_solve
        sec, phi = median_time(lambda: solve(rho, h, workers), reps)
        phi.astype(np.float32).tofile(sys.argv[4])
        print(json.dumps({"median_s": sec, "workers": workers, "dtype": str(phi.dtype), "scipy": scipy.__version__}))
        return
    if kind != "spsolve":
        sys.exit("unknown peer: " + kind)
    import scipy.sparse.linalg as spl

    a = dirichlet_matrix(n, h)
    b = rho.astype(np.float64).ravel()
    sec, phi = median_time(lambda: spl.spsolve(a, b), reps)
    print(json.dumps({"median_s": sec, "phi_sum_abs": float(np.abs(phi).sum()), "numpy": np.__version__}))


if __name__ == "__main__":
    main()
