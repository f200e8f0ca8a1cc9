/**
 * Bad input to the points operations: mismatched d between sets, ragged
 * offsets that do not add up, empty sets, zero bandwidth, no labelled points,
 * non-finite values, unknown kernels and options: SemfieldErrors with codes.
 */
import { SemfieldError, points } from '../lib';
import { errorOf } from './helpers';

const P = new Float32Array(12).map((_, i) => i * 0.1); // 4 points in d = 3
const Q = new Float32Array(9).map((_, i) => i * 0.2);  // 3 points in d = 3
const nan = () => {
  const a = P.slice();
  a[4] = NaN;
  return a;
};
const g = { kind: 'gaussian' as const, sigma: 1 };

const cases: [string, () => Promise<unknown>, string][] = [
  ['potential without options', () => points.potential(P, Q, undefined as never), 'E_TYPE'],
  ['potential sources not a multiple of d', () => points.potential(P, Q, { d: 5, kernel: g }), 'E_SHAPE'],
  ['potential targets of another d', () => points.potential(P, new Float32Array(8), { d: 3, kernel: g }), 'E_SHAPE'],
  ['potential empty sources', () => points.potential(new Float32Array(0), Q, { d: 3, kernel: g }), 'E_SHAPE'],
  ['potential NaN source', () => points.potential(nan(), Q, { d: 3, kernel: g }), 'E_NONFINITE'],
  ['potential Infinity weight', () => points.potential(P, Q, { d: 3, kernel: g, weights: Float32Array.from([1, Infinity, 1, 1]) }), 'E_NONFINITE'],
  ['potential weights wrong length', () => points.potential(P, Q, { d: 3, kernel: g, weights: new Float32Array(3) }), 'E_SHAPE'],
  ['potential unknown kernel', () => points.potential(P, Q, { d: 3, kernel: { kind: 'laplace' } as never }), 'E_RANGE'],
  ['potential zero bandwidth', () => points.potential(P, Q, { d: 3, kernel: { kind: 'gaussian', sigma: 0 } }), 'E_RANGE'],
  ['potential negative eps', () => points.potential(P, Q, { d: 3, kernel: { kind: 'coulomb', eps: -1 } }), 'E_RANGE'],
  ['potential kernel option of another kind', () => points.potential(P, Q, { d: 3, kernel: { kind: 'energy', sigma: 1 } as never }), 'E_RANGE'],
  ['potential kernel kind not a string', () => points.potential(P, Q, { d: 3, kernel: { kind: 2 } as never }), 'E_TYPE'],
  ['potential matern32 without length', () => points.potential(P, Q, { d: 3, kernel: { kind: 'matern32' } as never }), 'E_TYPE'],
  ['potential laplacian zero length', () => points.potential(P, Q, { d: 3, kernel: { kind: 'laplacian', length: 0 } }), 'E_RANGE'],
  ['induce with the energy kernel', () => points.induce(P, { d: 3, labeled: Int32Array.from([0]), values: Float32Array.from([1]), kernel: { kind: 'energy' } }), 'E_RANGE'],
  ['matrix energy with a kernel', () => points.distanceMatrix(P, Int32Array.from([0, 4]), { d: 3, kernel: g }), 'E_RANGE'],
  ['potential helmholtz with Im k < 0', () => points.potential(P, Q, { d: 3, kernel: { kind: 'helmholtz', k: [1, -1] } }), 'E_RANGE'],
  ['potential d zero', () => points.potential(P, Q, { d: 0, kernel: g }), 'E_RANGE'],
  ['potential d fractional', () => points.potential(P, Q, { d: 1.5, kernel: g }), 'E_TYPE'],
  ['potential unknown option', () => points.potential(P, Q, { d: 3, kernel: g, dim: 3 } as never), 'E_TYPE'],
  ['energy helmholtz', () => points.energy(P, Q, { d: 3, kernel: { kind: 'helmholtz', k: [1, 0] } as never }), 'E_RANGE'],
  ['energyDistance mismatched d', () => points.energyDistance(P, new Float32Array(8), { d: 3 }), 'E_SHAPE'],
  ['energyDistance negative weight', () => points.energyDistance(P, Q, { d: 3, wx: Float32Array.from([1, -1, 1, 1]) }), 'E_RANGE'],
  ['energyDistance zero total weight', () => points.energyDistance(P, Q, { d: 3, wx: new Float32Array(4) }), 'E_RANGE'],
  ['mmd with the energy kernel', () => points.mmd(P, Q, { d: 3, kernel: { kind: 'energy' } }), 'E_RANGE'],
  ['matrix offsets not adding up', () => points.distanceMatrix(P, Int32Array.from([0, 2, 3]), { d: 3 }), 'E_SHAPE'],
  ['matrix offsets not starting at 0', () => points.distanceMatrix(P, Int32Array.from([1, 4]), { d: 3 }), 'E_SHAPE'],
  ['matrix empty set', () => points.distanceMatrix(P, Int32Array.from([0, 2, 2, 4]), { d: 3 }), 'E_SHAPE'],
  ['matrix offsets wrong type', () => points.distanceMatrix(P, [0, 4] as never, { d: 3 }), 'E_TYPE'],
  ['matrix mmd without kernel', () => points.distanceMatrix(P, Int32Array.from([0, 4]), { d: 3, metric: 'mmd' }), 'E_TYPE'],
  ['matrix unknown metric', () => points.distanceMatrix(P, Int32Array.from([0, 4]), { d: 3, metric: 'cosine' as never }), 'E_RANGE'],
  ['matrix query of another d', () => points.distanceMatrix(P, Int32Array.from([0, 4]), { d: 3, query: { x: new Float32Array(4), offsets: Int32Array.from([0, 1]) } }), 'E_SHAPE'],
  ['attention Q not matching heads', () => points.attention(P, P, P, { d: 3, heads: 3 }), 'E_SHAPE'],
  ['attention V not matching K', () => points.attention(P, P, new Float32Array(5), { d: 3 }), 'E_SHAPE'],
  ['attention gaussian without sigma', () => points.attention(P, P, P, { d: 3, kernel: { kind: 'gaussian' } as never }), 'E_TYPE'],
  ['attention gaussian with beta', () => points.attention(P, P, P, { d: 3, kernel: { kind: 'gaussian', sigma: 1 }, beta: 2 }), 'E_RANGE'],
  ['attention sigma outside the kernel', () => points.attention(P, P, P, { d: 3, sigma: 1 } as never), 'E_TYPE'],
  ['attention dot with sigma', () => points.attention(P, P, P, { d: 3, kernel: { kind: 'dot', sigma: 1 } as never }), 'E_RANGE'],
  ['attention helmholtz', () => points.attention(P, P, P, { d: 3, kernel: { kind: 'helmholtz', k: [1, 0] } as never }), 'E_RANGE'],
  ['attention unknown causal alignment', () => points.attention(P, P, P, { d: 3, causal: 'left' as never }), 'E_RANGE'],
  ['attention causal with fewer keys', () => points.attention(P, Q, Q, { d: 3, causal: true }), 'E_SHAPE'],
  ['attention key mask wrong length', () => points.attention(P, P, P, { d: 3, keyMask: new Uint8Array(3) }), 'E_SHAPE'],
  ['attention NaN value', () => points.attention(P, P, nan(), { d: 3 }), 'E_NONFINITE'],
  ['attention unknown kind', () => points.attention(P, P, P, { d: 3, kernel: { kind: 'cosine' } as never }), 'E_RANGE'],
  ['condense zero sigma', () => points.condense(P, { d: 3, kernel: { kind: 'gaussian', sigma: 0 } }), 'E_RANGE'],
  ['condense without kernel', () => points.condense(P, { d: 3 } as never), 'E_TYPE'],
  ['condense bandwidth outside the kernel', () => points.condense(P, { d: 3, bandwidth: 1 } as never), 'E_TYPE'],
  ['condense flat with sigma', () => points.condense(P, { d: 3, kernel: { kind: 'flat', sigma: 1 } as never }), 'E_RANGE'],
  ['condense unknown kernel', () => points.condense(P, { d: 3, kernel: { kind: 'epanechnikov', sigma: 1 } as never }), 'E_RANGE'],
  ['condense negative weight', () => points.condense(P, { d: 3, kernel: g, weights: Float32Array.from([1, 1, -1, 1]) }), 'E_RANGE'],
  ['condense all weights zero', () => points.condense(P, { d: 3, kernel: g, weights: new Float32Array(4) }), 'E_RANGE'],
  ['induce without kernel', () => points.induce(P, { d: 3, labeled: Int32Array.from([0]), values: Float32Array.from([1]) } as never), 'E_TYPE'],
  ['induce values not [labeled, channels]', () => points.induce(P, { d: 3, labeled: Int32Array.from([0, 1]), values: Float32Array.from([1, 2, 3]), kernel: g }), 'E_SHAPE'],
  ['induce knn of zero', () => points.induce(P, { d: 3, labeled: Int32Array.from([0]), values: Float32Array.from([1]), kernel: g, knn: 0 }), 'E_RANGE'],
  ['resonance empty sweep', () => points.resonance(P, Q, [], { d: 3 }), 'E_SHAPE'],
  ['resonance NaN frequency', () => points.resonance(P, Q, [1, NaN], { d: 3 }), 'E_NONFINITE'],
  ['resonance negative damping', () => points.resonance(P, Q, [1], { d: 3, damping: -1 }), 'E_RANGE'],
  ['resonance damping named g', () => points.resonance(P, Q, [1], { d: 3, g: 1 } as never), 'E_TYPE'],
  ['resonance zero speed', () => points.resonance(P, Q, [1], { d: 3, c: 0 }), 'E_RANGE'],
];

describe('points: bad input is refused with the right code', () => {
  test.each(cases)('%s', async (_n, call, code) => {
    const err = await errorOf(call);
    expect(err).toBeInstanceOf(SemfieldError);
    expect((err as SemfieldError).code).toBe(code);
  });
});

describe('points: the native layer checks again on its own', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const a = require('../lib/native').native();
  const k = { kind: 'gaussian', sigma: 1 };
  const nativeCases: [string, () => unknown, string][] = [
    ['kernelSum sources not a multiple of d', () => a.kernelSum({ d: 5, kernel: k, sources: P, targets: Q }), 'E_SHAPE'],
    ['kernelSum unknown kernel kind', () => a.kernelSum({ d: 3, kernel: { kind: 'nine' }, sources: P, targets: Q }), 'E_RANGE'],
    ['attention helmholtz kernel', () => a.attention({ d: 3, kernel: { kind: 'helmholtz', eps: 1 }, q: P, k: P, v: P }), 'E_RANGE'],
    ['kernelSum sigma past the fp32 range', () => a.kernelSum({ d: 3, kernel: { kind: 'gaussian', sigma: 1e-30 }, sources: P, targets: Q }), 'E_RANGE'],
    ['setMatrix offsets past the points', () => a.setMatrix({ d: 3, kernel: k, x: P, offsets: Int32Array.from([0, 9]) }), 'E_SHAPE'],
    ['attention v of the wrong size', () => a.attention({ d: 3, kernel: k, q: P, k: P, v: new Float32Array(7) }), 'E_SHAPE'],
    ['induce labelled index out of range', () => a.induce({ d: 3, kernel: k, x: P, labeled: Int32Array.from([99]), values: Float32Array.from([1]) }), 'E_RANGE'],
    ['meanShift bandwidth 0', () => a.meanShift({ d: 3, x: P, bandwidth: 0 }), 'E_RANGE'],
  ];
  test.each(nativeCases)('%s', async (_n, call, code) => {
    const err = (await errorOf(call)) as { code?: string } | undefined;
    expect(err?.code).toBe(code);
  });
});
