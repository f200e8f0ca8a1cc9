"""Peer timings for bench/run.ts, measured in the same run as semfield's.

  python3 bench/peers.py fft N REPS     periodic Poisson on N x N by numpy's FFT
  python3 bench/peers.py spsolve N REPS Dirichlet 5-point Poisson by scipy spsolve

Both solve the same discrete problem semfield solves (the cell-centred
5-point stencil; the FFT uses its exact eigenvalues). Prints JSON with the
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


def fft_solve(rho, h):
    n = rho.shape[0]
    k = 2 * np.pi * np.fft.fftfreq(n, d=h)
    kr = 2 * np.pi * np.fft.rfftfreq(n, d=h)
    lam = (4 / h**2) * (np.sin(kr[None, :] * h / 2) ** 2 + np.sin(k[:, None] * h / 2) ** 2)
    lam[0, 0] = 1.0
    ph = np.fft.rfft2(rho) / lam
    ph[0, 0] = 0.0
    return np.fft.irfft2(ph, s=rho.shape)


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


def main():
    kind, n, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rho, h = rhs(n)
    if kind == "fft":
        sec, phi = median_time(lambda: fft_solve(rho, h), reps)
        res = {"median_s": sec, "phi_sum_abs": float(np.abs(phi).sum())}
    else:
        import scipy.sparse.linalg as spl

        a = dirichlet_matrix(n, h)
        b = rho.astype(np.float64).ravel()
        sec, phi = median_time(lambda: spl.spsolve(a, b), reps)
        res = {"median_s": sec, "phi_sum_abs": float(np.abs(phi).sum())}
    res["numpy"] = np.__version__
    print(json.dumps(res))


if __name__ == "__main__":
    main()
