/** Which backends this addon has, which devices exist, and what 'auto' picks. */
import { loadedBinary, native } from './native';

export interface DeviceInfo {
  /** Backends compiled into the addon: always 'cpu', and 'cuda' when nvcc was found at install. */
  built: ('cpu' | 'cuda')[];
  /** Usable CUDA devices (probed once per process; never with SEMFIELD_BACKEND=cpu). */
  cudaDevices: { index: number; name: string; memoryGiB: number }[];
  /** Why no CUDA device is usable, when none is. */
  cudaNote: string;
  /** CUDA runtime version compiled in (e.g. 13000), 0 without CUDA. */
  cudaRuntime: number;
  /** Threads of the CPU backend (all cores, or SEMFIELD_THREADS). */
  threads: number;
  /** What backend 'auto' runs on. */
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
