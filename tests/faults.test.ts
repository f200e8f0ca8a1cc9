/**
 * Device faults by simulation: an allocation that runs out of memory or a
 * kernel launch that fails (armed through the addon's fault hook, on either
 * backend) rejects with E_OOM or E_DEVICE, and the next call works.
 */
import { SemfieldError, deposit, points, potential } from '../lib';
import { native } from '../lib/native';

const f32 = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i));
// Each operation with the faults it meets: device allocations and launches
// (the tiled points passes allocate host vectors, so they meet launches only).
const calls: [string, ('oom' | 'launch')[], () => Promise<unknown>][] = [
  ['potential', ['oom', 'launch'], () => potential(f32(64 * 64), { n: [64, 64] })],
  ['deposit', ['oom', 'launch'], () => deposit(Float32Array.from([0.5, 0.5]), { n: [8, 8] })],
  ['points.potential', ['launch'], () => points.potential(f32(300), f32(300), { d: 3, kernel: { kind: 'gaussian', sigma: 1 } })],
  ['points.induce', ['launch'], () => points.induce(f32(300), { d: 3, labeled: Int32Array.from([0]), values: Float32Array.from([1]), kernel: { kind: 'gaussian', sigma: 1 } })],
];

afterEach(() => native()._setFault({ kind: 'none' }));

describe('simulated device faults', () => {
  for (const [name, kinds, call] of calls)
    for (const kind of kinds) {
      const code = kind === 'oom' ? 'E_OOM' : 'E_DEVICE';
      test(`${name}: a ${kind} fault gives ${code}; the next call still works`, async () => {
        native()._setFault({ kind, after: 0 });
        const err = await call().then(() => undefined, (e) => e);
        expect(err).toBeInstanceOf(SemfieldError);
        expect((err as SemfieldError).code).toBe(code);
        expect((err as SemfieldError).message).toMatch(/simulated/);
        await expect(call()).resolves.toBeDefined();
      });
    }

  test('a fault armed for a later event lets the earlier ones through', async () => {
    native()._setFault({ kind: 'launch', after: 3 });
    const err = await potential(f32(64 * 64), { n: [64, 64] }).then(() => undefined, (e) => e);
    expect((err as SemfieldError).code).toBe('E_DEVICE');
  });
});

describe('memory per call', () => {
  test('a call whose working memory would pass SEMFIELD_MAX_CALL_MB fails with E_TOO_LARGE before allocating', () => {
    // In a child process: the limit is read from the real environment.
    const root = require('node:path').resolve(__dirname, '..');
    const script = `
      const { potential, points } = require(${JSON.stringify(root)} + '/dist/lib');
      const f32 = (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(i));
      (async () => {
        const codes = [];
        for (const call of [
          () => potential(new Float32Array(512 * 512), { n: [512, 512] }),
          () => points.potential(f32(3 * 60000), f32(3 * 60000), { d: 3, kernel: { kind: 'energy' } }),
          () => potential(new Float32Array(16 * 16), { n: [16, 16] }),
        ]) codes.push(await call().then(() => 'ok', (e) => e.code));
        console.log(JSON.stringify(codes));
      })();`;
    const r = require('node:child_process').spawnSync(process.execPath, ['-e', script], {
      env: { ...process.env, SEMFIELD_MAX_CALL_MB: '1' },
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(['E_TOO_LARGE', 'E_TOO_LARGE', 'ok']);
  });
});
