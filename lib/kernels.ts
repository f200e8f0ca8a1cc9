/**
 * The kernels G(r), r = |x - y|, every points operation names the same way:
 * `kernel: { kind, ...parameters }`. One table holds each kernel's
 * parameters (with their defaults and ranges) and its properties, and the
 * operations accept a kernel by property: positive weights (induce), positive
 * definite (mmd), real (everything but potential). The formulas themselves
 * are in cuda/pairs_k.h, the addon dispatches on the kind's name.
 *
 *  - coulomb   1 / sqrt(r^2 + eps^2)                (eps default 1e-3)
 *  - yukawa    exp(-kappa r) / sqrt(r^2 + eps^2)
 *  - gaussian  exp(-r^2 / (2 sigma^2))
 *  - energy    -r
 *  - matern32  (1 + a) exp(-a),            a = sqrt(3) r / length
 *  - matern52  (1 + a + a^2 / 3) exp(-a),  a = sqrt(5) r / length
 *  - laplacian exp(-r / length)
 *  - helmholtz exp(i k r) / sqrt(r^2 + eps^2), complex k = [re, im], im >= 0
 */
import { SemfieldError } from './errors';
import { finiteNumber, invalid, isPlainObject } from './validate';

export type RealKernel =
  | { kind: 'coulomb'; eps?: number }
  | { kind: 'yukawa'; kappa: number; eps?: number }
  | { kind: 'gaussian'; sigma: number }
  | { kind: 'energy' }
  | { kind: 'matern32'; length: number }
  | { kind: 'matern52'; length: number }
  | { kind: 'laplacian'; length: number };

export type Kernel = RealKernel | { kind: 'helmholtz'; k: readonly [number, number]; eps?: number };

interface Param {
  /** Lower bound; open: the bound itself is excluded. */
  min: number;
  open?: boolean;
  default?: number;
}

interface KernelInfo {
  params: Record<string, Param>;
  /** G(r) > 0 for every r: a graph weight (induce). */
  positive: boolean;
  /** Positive definite: MMD is a metric with it. */
  definite: boolean;
  complex?: boolean;
}

const EPS: Param = { min: 0, open: true, default: 1e-3 };
const POSITIVE: Param = { min: 0, open: true };

export const KERNEL_TABLE: Record<Kernel['kind'], KernelInfo> = {
  coulomb: { params: { eps: EPS }, positive: true, definite: true },
  yukawa: { params: { kappa: { min: 0 }, eps: EPS }, positive: true, definite: true },
  gaussian: { params: { sigma: POSITIVE }, positive: true, definite: true },
  energy: { params: {}, positive: false, definite: false },
  matern32: { params: { length: POSITIVE }, positive: true, definite: true },
  matern52: { params: { length: POSITIVE }, positive: true, definite: true },
  laplacian: { params: { length: POSITIVE }, positive: true, definite: true },
  helmholtz: { params: { eps: EPS }, positive: false, definite: false, complex: true },
};

export const KERNELS = Object.keys(KERNEL_TABLE) as Kernel['kind'][];

/** Which kernels an operation takes. */
export type KernelUse = 'any' | 'real' | 'positive' | 'definite';

function allowed(use: KernelUse): string[] {
  return KERNELS.filter((k) => {
    const t = KERNEL_TABLE[k];
    return use === 'any' || (use === 'real' && !t.complex) || (use === 'positive' && t.positive) || (use === 'definite' && t.definite);
  });
}

/**
 * The addon's form of a kernel, checked: the kind is one the operation takes
 * (`extra` kinds, such as attention's 'dot', besides the table's), each
 * parameter is known and in range, and defaults are filled in.
 */
export function nativeKernel(op: string, v: unknown, use: KernelUse = 'any', extra: readonly string[] = [], name = 'kernel'): Record<string, string | number> {
  if (!isPlainObject(v)) throw invalid('E_TYPE', op, name, "an object such as { kind: 'gaussian', sigma: 1 }", v);
  const kinds = [...extra, ...allowed(use)];
  if (typeof v.kind !== 'string' || !kinds.includes(v.kind)) {
    const code = typeof v.kind === 'string' ? 'E_RANGE' : 'E_TYPE';
    throw invalid(code, op, `${name}.kind`, `one of ${kinds.map((k) => `'${k}'`).join(', ')}`, v.kind);
  }
  const kind = v.kind;
  const info: KernelInfo | undefined = (KERNEL_TABLE as Record<string, KernelInfo>)[kind];
  const params = info ? Object.keys(info.params) : [];
  const keys = info?.complex ? ['kind', 'k', ...params] : ['kind', ...params];
  for (const key of Object.keys(v))
    if (!keys.includes(key)) throw new SemfieldError('E_RANGE', `${op}: ${name} '${kind}' takes no option '${key}' (it takes: ${keys.join(', ')})`);
  const out: Record<string, string | number> = { kind };
  for (const p of params) {
    const spec = info!.params[p];
    out[p] = v[p] === undefined && spec.default !== undefined ? spec.default : finiteNumber(op, `${name}.${p}`, v[p], spec.min, Infinity, spec.open);
  }
  if (info?.complex) {
    const k = v.k;
    if (!Array.isArray(k) || k.length !== 2) throw invalid('E_TYPE', op, `${name}.k`, 'a complex number [re, im]', k);
    out.kre = finiteNumber(op, `${name}.k[0]`, k[0]);
    out.kim = finiteNumber(op, `${name}.k[1]`, k[1], 0);
  }
  return out;
}
