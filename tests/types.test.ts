/**
 * The type definitions, tested as types (expect-type; ts-jest type-checks
 * this file, so a wrong assertion fails the suite at compile time): what each
 * operation takes and returns, as a user's editor sees it. The runtime checks
 * beside them keep the file honest about the values too.
 */
import { expectTypeOf } from 'expect-type';
import {
  type DeviceInfo, type ErrorCode, type Kernel, type PotentialResult, SemfieldError, device, fractal, normalizeGrid, points, potential,
} from '../lib';

type AttentionWithLse = points.AttentionWithLse;

test('the mesh solver: a Float32Array and a grid in, phi and statistics out', async () => {
  expectTypeOf(potential).parameter(0).toEqualTypeOf<Float32Array>();
  expectTypeOf(potential).returns.resolves.toEqualTypeOf<PotentialResult>();
  expectTypeOf<PotentialResult['phi']>().toEqualTypeOf<Float32Array>();
  expectTypeOf(normalizeGrid).returns.toHaveProperty('cells').toBeNumber();
  // @ts-expect-error a grid needs its sizes
  expectTypeOf(normalizeGrid).toBeCallableWith({});
  const r = await potential(new Float32Array(64), { n: [8, 8] });
  expect(Object.prototype.toString.call(r.phi)).toBe('[object Float32Array]');
});

test('points: typed arrays in, typed arrays or numbers out; kernels are a closed union', async () => {
  const q = new Float32Array(4);
  const out = await points.attention(q, q, q, { d: 2 });
  expectTypeOf(out).toEqualTypeOf<Float32Array>();
  const withLse = await points.attention(q, q, q, { d: 2, returnLse: true });
  expectTypeOf(withLse).toEqualTypeOf<AttentionWithLse>();
  expectTypeOf(withLse.lse).toEqualTypeOf<Float32Array>();
  expect(withLse.lse.length).toBe(2);
  const either = await points.attention(q, q, q, { d: 2, returnLse: Math.random() < 2 });
  expectTypeOf(either).toEqualTypeOf<Float32Array | AttentionWithLse>();
  expectTypeOf(points.attentionGrad).toBeCallableWith(q, q, q, q, { d: 2, saved: withLse });
  expectTypeOf(points.potential).returns.resolves.toEqualTypeOf<Float64Array>();
  expectTypeOf(points.energyDistance).returns.resolves.toBeNumber();
  expectTypeOf(points.attentionGrad).returns.resolves.toHaveProperty('dQ').toEqualTypeOf<Float32Array>();
  expectTypeOf<{ kind: 'gaussian'; sigma: number }>().toMatchTypeOf<Kernel>();
  expectTypeOf<{ kind: 'nope' }>().not.toMatchTypeOf<Kernel>();
  // @ts-expect-error d is required
  expectTypeOf(points.energyDistance).toBeCallableWith(new Float32Array(3), new Float32Array(3), {});
});

test('errors carry a code from a closed set; device.info() says what runs', () => {
  expectTypeOf<SemfieldError['code']>().toEqualTypeOf<ErrorCode>();
  expectTypeOf<'E_TYPE'>().toMatchTypeOf<ErrorCode>();
  expectTypeOf<'E_WHATEVER'>().not.toMatchTypeOf<ErrorCode>();
  expectTypeOf(device.info).returns.toEqualTypeOf<DeviceInfo>();
  expectTypeOf<DeviceInfo['isa']>().toBeString();
  expectTypeOf<DeviceInfo['auto']>().toEqualTypeOf<'cpu' | 'cuda'>();
  expect(new SemfieldError('E_RANGE', 'x').code).toBe('E_RANGE');
});

test('fractal helpers: fitLine and packIfs take the caller\'s values alone', () => {
  expectTypeOf(fractal.fitLine).returns.toEqualTypeOf<{ slope: number; intercept: number; r2: number; stderr: number }>();
  expectTypeOf(fractal.packIfs).parameters.toEqualTypeOf<[fractal.Ifs]>();
  expect(fractal.fitLine([0, 1], [1, 3], [1, 1]).slope).toBe(2);
});
