// Small dense symmetric linear algebra in fp64 on the host (matrices of a
// few dozen rows): LOBPCG's Rayleigh-Ritz steps, PCA's projected matrix, an
// IFS map's spectral norm.
#pragma once
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace sf {
namespace dense {

// Cholesky A = L L^T of an n x n symmetric matrix (row-major), in place in L;
// false when A is not numerically positive definite (a pivot below tiny * max diag).
inline bool cholesky(const std::vector<double>& A, int n, std::vector<double>& L, double tiny = 1e-12) {
  L.assign((size_t)n * n, 0.0);
  double scale = 0;
  for (int i = 0; i < n; ++i) scale = std::max(scale, A[(size_t)i * n + i]);
  for (int j = 0; j < n; ++j) {
    double d = A[(size_t)j * n + j];
    for (int k = 0; k < j; ++k) d -= L[(size_t)j * n + k] * L[(size_t)j * n + k];
    if (!(d > tiny * scale)) return false;
    double ljj = std::sqrt(d);
    L[(size_t)j * n + j] = ljj;
    for (int i = j + 1; i < n; ++i) {
      double s = A[(size_t)i * n + j];
      for (int k = 0; k < j; ++k) s -= L[(size_t)i * n + k] * L[(size_t)j * n + k];
      L[(size_t)i * n + j] = s / ljj;
    }
  }
  return true;
}

// Eigenvalues (ascending) and eigenvectors (columns of V, row-major n x n) of
// a symmetric matrix by cyclic Jacobi rotations.
inline void eigh(std::vector<double> A, int n, std::vector<double>& w, std::vector<double>& V) {
  V.assign((size_t)n * n, 0.0);
  for (int i = 0; i < n; ++i) V[(size_t)i * n + i] = 1;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0, diag = 0;
    for (int p = 0; p < n; ++p) {
      diag += A[(size_t)p * n + p] * A[(size_t)p * n + p];
      for (int q = p + 1; q < n; ++q) off += A[(size_t)p * n + q] * A[(size_t)p * n + q];
    }
    if (off <= 1e-30 * diag) break;
    for (int p = 0; p < n; ++p)
      for (int q = p + 1; q < n; ++q) {
        double apq = A[(size_t)p * n + q];
        if (std::fabs(apq) < 1e-300) continue;
        double theta = (A[(size_t)q * n + q] - A[(size_t)p * n + p]) / (2 * apq);
        double t = (theta >= 0 ? 1 : -1) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
        double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < n; ++k) {
          double akp = A[(size_t)k * n + p], akq = A[(size_t)k * n + q];
          A[(size_t)k * n + p] = c * akp - s * akq;
          A[(size_t)k * n + q] = s * akp + c * akq;
        }
        for (int k = 0; k < n; ++k) {
          double apk = A[(size_t)p * n + k], aqk = A[(size_t)q * n + k];
          A[(size_t)p * n + k] = c * apk - s * aqk;
          A[(size_t)q * n + k] = s * apk + c * aqk;
        }
        for (int k = 0; k < n; ++k) {
          double vkp = V[(size_t)k * n + p], vkq = V[(size_t)k * n + q];
          V[(size_t)k * n + p] = c * vkp - s * vkq;
          V[(size_t)k * n + q] = s * vkp + c * vkq;
        }
      }
  }
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return A[(size_t)a * n + a] < A[(size_t)b * n + b]; });
  w.resize(n);
  std::vector<double> Vs((size_t)n * n);
  for (int j = 0; j < n; ++j) {
    w[j] = A[(size_t)order[j] * n + order[j]];
    for (int i = 0; i < n; ++i) Vs[(size_t)i * n + j] = V[(size_t)i * n + order[j]];
  }
  V.swap(Vs);
}

// x = L^{-T} y for lower-triangular L (solves L^T x = y), column by column of Y (n x m).
inline std::vector<double> solve_lt(const std::vector<double>& L, int n, const std::vector<double>& Y, int m) {
  std::vector<double> X(Y);
  for (int c = 0; c < m; ++c)
    for (int i = n - 1; i >= 0; --i) {
      double s = X[(size_t)i * m + c];
      for (int k = i + 1; k < n; ++k) s -= L[(size_t)k * n + i] * X[(size_t)k * m + c];
      X[(size_t)i * m + c] = s / L[(size_t)i * n + i];
    }
  return X;
}

// L^{-1} A L^{-T} for symmetric A (n x n).
inline std::vector<double> congruence(const std::vector<double>& L, const std::vector<double>& A, int n) {
  // B = L^{-1} A (forward substitution per column), then C = L^{-1} B^T.
  auto fwd = [&](const std::vector<double>& M) {
    std::vector<double> B(M);
    for (int c = 0; c < n; ++c)
      for (int i = 0; i < n; ++i) {
        double s = B[(size_t)i * n + c];
        for (int k = 0; k < i; ++k) s -= L[(size_t)i * n + k] * B[(size_t)k * n + c];
        B[(size_t)i * n + c] = s / L[(size_t)i * n + i];
      }
    return B;
  };
  std::vector<double> B = fwd(A), Bt((size_t)n * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) Bt[(size_t)i * n + j] = B[(size_t)j * n + i];
  std::vector<double> C = fwd(Bt);
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) C[(size_t)i * n + j] = C[(size_t)j * n + i] = 0.5 * (C[(size_t)i * n + j] + C[(size_t)j * n + i]);
  return C;
}

}  // namespace dense
}  // namespace sf
