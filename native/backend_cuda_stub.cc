// Built when nvcc is absent: the CUDA backend reports itself as not built and
// refuses work with E_DEVICE (lib/ never routes work here on such a build).
#include "backend.h"
#include "errors.h"

namespace sf {
namespace cuda {

namespace {
[[noreturn]] void unavailable() { fail("E_DEVICE", "backend 'cuda' is not built into this addon (nvcc was not found at install time)"); }
}  // namespace

bool built() { return false; }
DeviceList probe() {
  DeviceList d;
  d.note = "built without CUDA";
  return d;
}
void potential(int, PotentialJob&) { unavailable(); }
void deposit(int, DepositJob&) { unavailable(); }
void interpolate(int, InterpolateJob&) { unavailable(); }
void diff(int, DiffJob&) { unavailable(); }
void condense(int, CondenseJob&) { unavailable(); }
void wave(int, WaveJob&) { unavailable(); }
void modes(int, ModesJob&) { unavailable(); }
void maxwell(int, MaxwellJob&) { unavailable(); }
void resonance_mesh(int, MeshResonanceJob&) { unavailable(); }
void triad(int, float*, const float*, const float*, float, idx, int) { unavailable(); }
#define SF_STUB(name, Job) \
  void name(int, Job&) { unavailable(); }
SF_POINTS_OPS(SF_STUB)
#undef SF_STUB
void ifs_unfold(int, IfsJob&) { unavailable(); }
void chaos_game(int, IfsJob&) { unavailable(); }
void token_unfold(int, TokenJob&) { unavailable(); }
void pair_counts(int, PairCountJob&) { unavailable(); }
void codec_encode(int, fractal::EncodeJob&) { unavailable(); }
void codec_decode(int, fractal::DecodeJob&) { unavailable(); }

}  // namespace cuda
}  // namespace sf
