/**
 * Small predicates and one error builder used by every operation, so that
 * all arguments are checked before native code runs and every message has
 * the same form: "<op>: <name> must be <expected> (got <actual>)".
 */
import { ErrorCode, SemfieldError } from './errors';

/**
 * A caller's value as a message shows it. Never calls into the value (no
 * toString, no getters), so it cannot throw, whatever the value is; numbers
 * print with every digit that tells them apart (1.0000001, not 1.000000).
 */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (ArrayBuffer.isView(v)) return `${typedKind(v) ?? 'DataView'}(${(v as unknown as { length?: number }).length ?? v.byteLength})`;
  if (Array.isArray(v)) return `array(${v.length})`;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'symbol') return 'a symbol';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  return typeof v;
}

export function invalid(code: ErrorCode, op: string, name: string, expected: string, actual?: unknown): SemfieldError {
  const got = arguments.length >= 5 ? ` (got ${describe(actual)})` : '';
  return new SemfieldError(code, `${op}: ${name} must be ${expected}${got}`);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/** Options must be an object (or undefined) holding only the known keys. */
export function options<T extends object>(op: string, v: unknown, known: readonly string[]): Partial<T> {
  if (v === undefined) return {};
  if (!isPlainObject(v)) throw invalid('E_TYPE', op, 'options', 'an object', v);
  for (const k of Object.keys(v)) {
    if (!known.includes(k)) throw new SemfieldError('E_TYPE', `${op}: unknown option '${k}' (known: ${known.join(', ')})`);
  }
  return v as Partial<T>;
}

/**
 * The kind of a typed array, by its tag rather than instanceof: arrays made by
 * the addon or in another realm (vm contexts, test runners) are still
 * Float32Arrays.
 */
export function typedKind(v: unknown): string | undefined {
  return ArrayBuffer.isView(v) ? (v as unknown as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] : undefined;
}

export function float32(op: string, name: string, v: unknown, length?: number): Float32Array {
  if (typedKind(v) !== 'Float32Array') throw invalid('E_TYPE', op, name, 'a Float32Array', v);
  const a = v as Float32Array;
  if ((a.buffer as ArrayBuffer & { detached?: boolean }).detached) throw invalid('E_TYPE', op, name, 'a Float32Array that is not detached');
  if (length !== undefined && a.length !== length) throw invalid('E_SHAPE', op, name, `of length ${length}`, v);
  return a;
}

export function typedOf<T extends ArrayBufferView>(
  op: string, name: string, v: unknown, ctor: { new (n: number): T; name: string }, length?: number,
): T {
  if (typedKind(v) !== ctor.name) throw invalid('E_TYPE', op, name, `a ${ctor.name}`, v);
  const len = (v as unknown as { length: number }).length;
  if (length !== undefined && len !== length) throw invalid('E_SHAPE', op, name, `of length ${length}`, v);
  return v as T;
}

export function finiteNumber(op: string, name: string, v: unknown, min = -Infinity, max = Infinity, open = false): number {
  if (typeof v !== 'number') throw invalid('E_TYPE', op, name, 'a number', v);
  if (!Number.isFinite(v)) throw invalid('E_NONFINITE', op, name, 'finite', v);
  if (open ? !(v > min && v < max) : !(v >= min && v <= max))
    throw invalid('E_RANGE', op, name, open ? `in (${min}, ${max})` : `in [${min}, ${max}]`, v);
  return v;
}

export function integer(op: string, name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number') throw invalid('E_TYPE', op, name, 'an integer', v);
  if (!Number.isFinite(v)) throw invalid('E_NONFINITE', op, name, 'finite', v);
  if (!Number.isInteger(v)) throw invalid('E_TYPE', op, name, 'an integer', v);
  if (v < min || v > max) throw invalid('E_RANGE', op, name, `in [${min}, ${max}]`, v);
  return v;
}

/** An array or typed array of numbers, of at most `max` entries. */
export function numberList(op: string, name: string, v: unknown, max: number, length?: number): ArrayLike<number> {
  if (!Array.isArray(v) && !(ArrayBuffer.isView(v) && !(v instanceof DataView))) throw invalid('E_TYPE', op, name, 'an array or typed array of numbers', v);
  const a = v as ArrayLike<unknown>;
  if (a.length > max) throw invalid('E_TOO_LARGE', op, name, `at most ${max} values`, a.length);
  if (length !== undefined && a.length !== length) throw invalid('E_SHAPE', op, name, `of length ${length}`, v);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (typeof x !== 'number') throw invalid('E_TYPE', op, `${name}[${i}]`, 'a number', x);
  }
  return a as ArrayLike<number>;
}

/** A string of at most `max` characters. */
export function text(op: string, name: string, v: unknown, max = 1000): string {
  if (typeof v !== 'string') throw invalid('E_TYPE', op, name, 'a string', v);
  if (v.length > max) throw invalid('E_TOO_LARGE', op, name, `at most ${max} characters`, v.length);
  return v;
}

export function oneOf<T extends string>(op: string, name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string') throw invalid('E_TYPE', op, name, `one of ${allowed.join(', ')}`, v);
  if (!allowed.includes(v as T)) throw invalid('E_RANGE', op, name, `one of ${allowed.join(', ')}`, v);
  return v as T;
}

export function boolean(op: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw invalid('E_TYPE', op, name, 'a boolean', v);
  return v;
}
