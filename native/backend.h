// Where an operation runs. The CPU backend is always built; the CUDA one is
// cuda/backend_cuda.cu when nvcc was found, else backend_cuda_stub.cc.
#pragma once
#include <string>
#include <vector>

#include "jobs.h"
#include "points/jobs.h"
#include "fractal/jobs.h"

namespace sf {

namespace fractal {
struct EncodeJob;
struct DecodeJob;
}  // namespace fractal

enum class Backend { Cpu = 0, Cuda = 1 };

struct Target {
  Backend backend = Backend::Cpu;
  int device = 0;
};

namespace cpu {
void potential(PotentialJob& job);
void deposit(DepositJob& job);
void interpolate(InterpolateJob& job);
void diff(DiffJob& job);
void condense(CondenseJob& job);
void wave(WaveJob& job);
void modes(ModesJob& job);
void maxwell(MaxwellJob& job);
void resonance_mesh(MeshResonanceJob& job);
#define SF_DECLARE_CPU(name, Job) void name(Job& job);
SF_POINTS_OPS(SF_DECLARE_CPU)
#undef SF_DECLARE_CPU
void ifs_unfold(IfsJob& job);
void chaos_game(IfsJob& job);
void token_unfold(TokenJob& job);
void pair_counts(PairCountJob& job);
void codec_encode(fractal::EncodeJob& job);
void codec_decode(fractal::DecodeJob& job);
}  // namespace cpu

namespace cuda {
struct DeviceList {
  bool built = false;
  int runtime_version = 0;
  std::vector<std::string> names;
  std::vector<double> memory_gib;
  std::vector<int> compute_capability;  // major * 10 + minor
  std::vector<int> multiprocessors;
  std::vector<double> peak_gflops;      // fp32 FMA peak from the properties
  std::vector<double> bus_gbs;          // memory bus bandwidth from the properties
  std::string note;  // why no device is usable, when none is
};
bool built();        // compiled with nvcc; asks the driver nothing
DeviceList probe();  // asks the driver; once per process (see device.cc)
void potential(int device, PotentialJob& job);
void deposit(int device, DepositJob& job);
void interpolate(int device, InterpolateJob& job);
void diff(int device, DiffJob& job);
void condense(int device, CondenseJob& job);
void wave(int device, WaveJob& job);
void modes(int device, ModesJob& job);
void maxwell(int device, MaxwellJob& job);
void resonance_mesh(int device, MeshResonanceJob& job);
void triad(int device, float* a, const float* b, const float* c, float s, idx n, int reps);
#define SF_DECLARE_CUDA(name, Job) void name(int device, Job& job);
SF_POINTS_OPS(SF_DECLARE_CUDA)
#undef SF_DECLARE_CUDA
void ifs_unfold(int device, IfsJob& job);
void chaos_game(int device, IfsJob& job);
void token_unfold(int device, TokenJob& job);
void pair_counts(int device, PairCountJob& job);
void codec_encode(int device, fractal::EncodeJob& job);
void codec_decode(int device, fractal::DecodeJob& job);
}  // namespace cuda

}  // namespace sf
