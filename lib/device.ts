/** Which backends this addon has, which devices exist, and what 'auto' picks. */
import { loadedBinary, native } from './native';

/** A CUDA device this build can run on (compute capability 7.5 or later). */
export interface CudaDevice {
  /** The CUDA ordinal: what `device` takes. */
  index: number;
  name: string;
  memoryGiB: number;
  /** e.g. 9 for Hopper, 8.6 for GA10x. */
  computeCapability: number;
  multiprocessors: number;
  /** fp32 FMA peak from the device's properties (GFLOP/s). */
  peakGflops: number;
  /** Memory bus bandwidth from the properties (GB/s): a bound; a measured triad is the real limit. */
  busGBs: number;
  /** False once a sticky error (an illegal address, a failed launch) lost it for this process. */
  usable: boolean;
  /** The error that lost it ('' while usable). */
  lost: string;
}

export interface DeviceInfo {
  /** Backends compiled into the addon: always 'cpu', and 'cuda' when nvcc was found at install. */
  built: ('cpu' | 'cuda')[];
  /**
   * CUDA devices this build runs on (probed once per process; never with
   * SEMFIELD_BACKEND=cpu). Devices below compute capability 7.5 are left
   * out, and cudaNote says so.
   */
  cudaDevices: CudaDevice[];
  /** Why no CUDA device, or not every device, is used ('' when all are). */
  cudaNote: string;
  /** SEMFIELD_BACKEND as this process has it ('' when unset). */
  backendEnv: string;
  /** The backend of a call that names none: SEMFIELD_BACKEND's, else what 'auto' picks. */
  default: string;
  /** CUDA runtime version compiled in (e.g. 13000), 0 without CUDA. */
  cudaRuntime: number;
  /** Threads of the CPU backend (all cores, or SEMFIELD_THREADS). */
  threads: number;
  /** What backend 'auto' runs on (the CPU once the device was lost). */
  auto: 'cpu' | 'cuda';
  /**
   * The instruction set the loaded CPU code was compiled for: 'x86-64' (any
   * x86-64), 'avx2' (x86-64-v3), 'avx512' (x86-64-v4), 'native' (built with
   * SEMFIELD_NATIVE_ARCH for the build machine) or the processor's name.
   */
  isa: string;
  /** What this CPU offers (cpuid): avx2, fma, bmi2, avx512f, avx512bw, avx512cd, avx512dq, avx512vl. */
  cpuFeatures: Record<string, boolean>;
  /** The addon file loaded. */
  binary: string;
  /** Why a faster variant for this CPU was not loaded ('' when nothing stood in the way). */
  isaNote: string;
}

export function info(): DeviceInfo {
  const i = native().info();
  const b = loadedBinary();
  return { ...i, built: i.built as ('cpu' | 'cuda')[], binary: b.file, isaNote: b.note };
}

/** Host scratch memory kept between calls. */
export interface ScratchState {
  /** Bytes of scratch held now, for calls to come. */
  heldBytes: number;
  /** The most it keeps: SEMFIELD_HOST_CACHE_MB, else an eighth of the memory this process may use. */
  capBytes: number;
  /** How many buffers that is. */
  blocks: number;
}

/**
 * The CPU backend's scratch kept between calls. A call's large buffers
 * (multigrid levels, work arrays, results' storage) are kept when it ends, so
 * the next call of the same shape reuses them instead of taking fresh pages
 * from the system (a page fault and the kernel's zeroing on first touch: at
 * 4096^2 a tenth of a potential solve); past the cap the least recently used
 * go first.
 */
export function scratch(): ScratchState {
  return native().scratch();
}

/**
 * Gives the kept host scratch back to the system (a service after a large
 * job, say) and returns how many bytes that was. Calls in flight keep what
 * they hold; the next calls allocate afresh. Device memory is the CUDA pool's
 * (SEMFIELD_DEVICE_CACHE_MB) and is not touched.
 */
export function releaseScratch(): number {
  return native().releaseScratch();
}
