/** Error codes, one per kind of failure (SPEC: Errors and limits). */
export type ErrorCode =
  | 'E_TYPE'
  | 'E_SHAPE'
  | 'E_NONFINITE'
  | 'E_RANGE'
  | 'E_CFL'
  | 'E_NOT_CONVERGED'
  | 'E_NOT_CONTRACTIVE'
  | 'E_TOO_LARGE'
  | 'E_DEVICE'
  | 'E_OOM'
  | 'E_ABORTED';

const CODES = new Set<string>([
  'E_TYPE', 'E_SHAPE', 'E_NONFINITE', 'E_RANGE', 'E_CFL', 'E_NOT_CONVERGED',
  'E_NOT_CONTRACTIVE', 'E_TOO_LARGE', 'E_DEVICE', 'E_OOM', 'E_ABORTED',
]);

/** Every failure semfield reports: a code and a message naming the argument. */
export class SemfieldError extends Error {
  readonly code: ErrorCode;
  /** Extra facts, e.g. the solver statistics of a solve that did not converge. */
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'SemfieldError';
    this.code = code;
    this.details = details;
  }
}

/**
 * Turns an error thrown or rejected by the addon into a SemfieldError, with
 * the caller's stack (captured before the native call) so it points at user
 * code rather than at the addon.
 */
export function fromNative(err: unknown, op: string, callerStack?: string): SemfieldError {
  if (err instanceof SemfieldError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' && CODES.has(e.code) ? (e.code as ErrorCode) : 'E_DEVICE';
  const message = `${op}: ${typeof e?.message === 'string' ? e.message : String(err)}`;
  const out = new SemfieldError(code, message.replace(`${op}: ${op}: `, `${op}: `));
  if (callerStack) out.stack = `SemfieldError: ${out.message}\n${callerStack.split('\n').slice(1).join('\n')}`;
  return out;
}
