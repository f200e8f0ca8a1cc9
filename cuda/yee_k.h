// Maxwell's equations by the Yee scheme (units c0 = eps0 = mu0 = 1), written
// once for the CPU and the GPU. Cell (i, j, k) holds
//   Ex (i+1/2, j, k)  Ey (i, j+1/2, k)  Ez (i, j, k+1/2)
//   Hx (i, j+1/2, k+1/2)  Hy (i+1/2, j, k+1/2)  Hz (i+1/2, j+1/2, k)
// in units of h. A 2D grid has nz = 1 and no z derivatives: Ez, Hx, Hy form
// TMz and Ex, Ey, Hz form TEz. Along an axis:
//  - periodic: differences wrap;
//  - PEC: the wall nodes are 0 and n; the tangential E on them is 0 (node n
//    is not stored, node 0 is zeroed after each E update);
//  - CPML: a graded absorbing layer inside the domain, ended by PEC. Each
//    difference d across it becomes kinv d + psi with psi <- b psi + c d
//    (Roden and Gedney 2000), psi stored per difference term.
// H(n+1/2) = H(n-1/2) - dt curl E(n)
// E(n+1) = ca E(n) + cb (curl H(n+1/2) - J(n+1/2)), ca, cb from eps_r, sigma.
#pragma once
#include "sf_config.h"

namespace sf {

enum YeeBc : int { YEE_PERIODIC = 0, YEE_PEC = 1, YEE_CPML = 2 };

struct YeeGrid {
  int n[3];
  int bc[3];
  int dim;
  float inv_h;
  SF_HD idx cells() const { return (idx)n[0] * n[1] * n[2]; }
  SF_HD idx stride(int a) const { return a == 0 ? 1 : a == 1 ? (idx)n[0] : (idx)n[0] * n[1]; }
  SF_HD void coords(idx c, int& x, int& y, int& z) const {
    x = (int)(c % n[0]);
    idx r = c / n[0];
    y = (int)(r % n[1]);
    z = (int)(r / n[1]);
  }
};

// Six field arrays (Ex Ey Ez Hx Hy Hz, or a set of psi terms), passed and
// captured by value.
struct YeeFields {
  float* f[6];
};

// CPML coefficients along each axis at integer (node) and half positions;
// null where the axis has no layer.
struct YeePml {
  const float* b_int[3];
  const float* c_int[3];
  const float* kinv_int[3];
  const float* b_half[3];
  const float* c_half[3];
  const float* kinv_half[3];
};

// Forward difference (F(i+1) - F(i)) / h along axis a at coordinate i, for a
// field at integer positions along a (the H updates).
SF_HD float yee_fwd(const YeeGrid& g, const float* F, idx c, int i, int a) {
  if (g.n[a] == 1) return 0.0f;
  float next;
  if (i + 1 < g.n[a]) next = F[c + g.stride(a)];
  else next = g.bc[a] == YEE_PERIODIC ? F[c - (idx)(g.n[a] - 1) * g.stride(a)] : 0.0f;
  return (next - F[c]) * g.inv_h;
}

// Backward difference (F(i) - F(i-1)) / h along axis a, for a field at half
// positions along a (the E updates); F(-1) wraps or is 0.
SF_HD float yee_bwd(const YeeGrid& g, const float* F, idx c, int i, int a) {
  if (g.n[a] == 1) return 0.0f;
  float prev;
  if (i > 0) prev = F[c - g.stride(a)];
  else prev = g.bc[a] == YEE_PERIODIC ? F[c + (idx)(g.n[a] - 1) * g.stride(a)] : 0.0f;
  return (F[c] - prev) * g.inv_h;
}

// A difference through the CPML when the axis has one: d -> kinv d + psi.
SF_HD float yee_pml(float d, float* psi, idx c, const float* b, const float* cc, const float* kinv, int i) {
  if (!b) return d;
  float p = b[i] * psi[c] + cc[i] * d;
  psi[c] = p;
  return kinv[i] * d + p;
}

// The three components' axes: component q's curl uses derivatives along
// (q+1)%3 of component (q+2)%3 minus along (q+2)%3 of component (q+1)%3.
// psi: 6 arrays per field kind (2 per component), or null outside CPML runs.
SF_HD void yee_update_h(const YeeGrid& g, const YeePml& p, int q, float* H, const float* const* E, float* const* psi, float dt,
                        idx c, const int* ijk) {
  int a1 = (q + 1) % 3, a2 = (q + 2) % 3;
  float d1 = yee_fwd(g, E[a2], c, ijk[a1], a1);  // d E_{a2} / d x_{a1}
  float d2 = yee_fwd(g, E[a1], c, ijk[a2], a2);  // d E_{a1} / d x_{a2}
  if (psi) {
    d1 = yee_pml(d1, psi[2 * q], c, p.b_half[a1], p.c_half[a1], p.kinv_half[a1], ijk[a1]);
    d2 = yee_pml(d2, psi[2 * q + 1], c, p.b_half[a2], p.c_half[a2], p.kinv_half[a2], ijk[a2]);
  }
  H[c] -= dt * (d1 - d2);
}

SF_HD void yee_update_e(const YeeGrid& g, const YeePml& p, int q, float* E, const float* const* H, float* const* psi, float ca, float cb,
                        float j, idx c, const int* ijk) {
  int a1 = (q + 1) % 3, a2 = (q + 2) % 3;
  float d1 = yee_bwd(g, H[a2], c, ijk[a1], a1);  // d H_{a2} / d x_{a1}
  float d2 = yee_bwd(g, H[a1], c, ijk[a2], a2);  // d H_{a1} / d x_{a2}
  if (psi) {
    d1 = yee_pml(d1, psi[2 * q], c, p.b_int[a1], p.c_int[a1], p.kinv_int[a1], ijk[a1]);
    d2 = yee_pml(d2, psi[2 * q + 1], c, p.b_int[a2], p.c_int[a2], p.kinv_int[a2], ijk[a2]);
  }
  float e = ca * E[c] + cb * ((d1 - d2) - j);
  // Tangential E on a PEC (or CPML-ending) wall at node 0 of a non-periodic axis.
  if ((g.bc[a1] != YEE_PERIODIC && g.n[a1] > 1 && ijk[a1] == 0) || (g.bc[a2] != YEE_PERIODIC && g.n[a2] > 1 && ijk[a2] == 0)) e = 0.0f;
  E[c] = e;
}

}  // namespace sf
