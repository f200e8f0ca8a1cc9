/** Which backends this addon has, which devices exist, and what 'auto' picks. */
import { native } from './native';

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
}

export function info(): DeviceInfo {
  const i = native().info();
  return { ...i, built: i.built as ('cpu' | 'cuda')[] };
}
