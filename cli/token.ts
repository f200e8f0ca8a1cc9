/**
 * Sub-meanings of a word for a fractal token: its 40 nearest neighbours in a
 * set of unit vectors, split into m groups (farthest-point seeds, then Lloyd
 * steps on the sphere); each group's mean is a prototype.
 */
export function unitRows(v: Float32Array, d: number): Float32Array {
  for (let i = 0; i < v.length / d; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += v[i * d + k] ** 2;
    const inv = 1 / Math.sqrt(s || 1);
    for (let k = 0; k < d; k++) v[i * d + k] *= inv;
  }
  return v;
}

export function dot(a: Float32Array, i: number, b: Float32Array, j: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += a[i * d + k] * b[j * d + k];
  return s;
}

/** Indices of the rows of `all` nearest (cosine, unit rows) to row r of q, skipping some. */
export function nearestRows(all: Float32Array, q: Float32Array, r: number, d: number, count: number, skip: Set<number>): number[] {
  const n = all.length / d, best: [number, number][] = [];
  for (let j = 0; j < n; j++) if (!skip.has(j)) best.push([dot(q, r, all, j, d), j]);
  best.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  return best.slice(0, count).map((b) => b[1]);
}

export function subMeanings(all: Float32Array, d: number, row: number, m: number): { prototypes: Float32Array; groups: number[][] } {
  const nb = nearestRows(all, all, row, d, 40, new Set([row]));
  const x = unitRows(Float32Array.from(nb.flatMap((j) => Array.from(all.subarray(j * d, (j + 1) * d)))), d);
  const centres: number[] = [0];
  while (centres.length < m) {
    let far = 0, worst = Infinity;
    for (let i = 0; i < nb.length; i++) {
      const close = Math.max(...centres.map((c) => dot(x, i, x, c, d)));
      if (close < worst) (worst = close), (far = i);
    }
    centres.push(far);
  }
  let P = unitRows(Float32Array.from(centres.flatMap((c) => Array.from(x.subarray(c * d, (c + 1) * d)))), d);
  let label = new Int32Array(nb.length);
  for (let it = 0; it < 10; it++) {
    label = Int32Array.from(nb.map((_, i) => {
      let b = 0;
      for (let c = 1; c < m; c++) if (dot(x, i, P, c, d) > dot(x, i, P, b, d)) b = c;
      return b;
    }));
    const next = new Float32Array(m * d);
    label.forEach((c, i) => {
      for (let k = 0; k < d; k++) next[c * d + k] += x[i * d + k];
    });
    P = unitRows(next, d);
  }
  return { prototypes: P, groups: Array.from({ length: m }, (_, c) => nb.filter((_, i) => label[i] === c)) };
}
