#include <napi.h>

#include "bindings.h"

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, sf::Info, "info"));
  exports.Set("cpu", Napi::Function::New(env, sf::Cpu, "cpu"));
  exports.Set("potential", Napi::Function::New(env, sf::Potential, "potential"));
  exports.Set("deposit", Napi::Function::New(env, sf::Deposit, "deposit"));
  exports.Set("interpolate", Napi::Function::New(env, sf::Interpolate, "interpolate"));
  exports.Set("diff", Napi::Function::New(env, sf::Diff, "diff"));
  exports.Set("condense", Napi::Function::New(env, sf::Condense, "condense"));
  exports.Set("meshResonance", Napi::Function::New(env, sf::MeshResonance, "meshResonance"));
  exports.Set("maxwell", Napi::Function::New(env, sf::Maxwell, "maxwell"));
  exports.Set("modes", Napi::Function::New(env, sf::Modes, "modes"));
  exports.Set("wave", Napi::Function::New(env, sf::Wave, "wave"));
  exports.Set("pca", Napi::Function::New(env, sf::Pca, "pca"));
  exports.Set("pcaTransform", Napi::Function::New(env, sf::PcaTransform, "pcaTransform"));
  exports.Set("triad", Napi::Function::New(env, sf::Triad, "triad"));
  exports.Set("gemmPeak", Napi::Function::New(env, sf::GemmPeak, "gemmPeak"));
  exports.Set("mallocInUse", Napi::Function::New(env, sf::MallocInUse, "mallocInUse"));
  exports.Set("scratch", Napi::Function::New(env, sf::Scratch, "scratch"));
  exports.Set("releaseScratch", Napi::Function::New(env, sf::ReleaseScratch, "releaseScratch"));
  exports.Set("_setFault", Napi::Function::New(env, sf::SetFault, "_setFault"));
  exports.Set("smoothKernel", Napi::Function::New(env, sf::SmoothKernel, "smoothKernel"));
  exports.Set("residualKernel", Napi::Function::New(env, sf::ResidualKernel, "residualKernel"));
  exports.Set("kernelSum", Napi::Function::New(env, sf::KernelSum, "kernelSum"));
  exports.Set("kernelGrad", Napi::Function::New(env, sf::KernelGrad, "kernelGrad"));
  exports.Set("attentionGrad", Napi::Function::New(env, sf::AttentionGrad, "attentionGrad"));
  exports.Set("setMatrix", Napi::Function::New(env, sf::SetMatrix, "setMatrix"));
  exports.Set("attention", Napi::Function::New(env, sf::Attention, "attention"));
  exports.Set("resonance", Napi::Function::New(env, sf::Resonance, "resonance"));
  exports.Set("meanShift", Napi::Function::New(env, sf::MeanShift, "meanShift"));
  exports.Set("induce", Napi::Function::New(env, sf::Induce, "induce"));
  exports.Set("unfold", Napi::Function::New(env, sf::Unfold, "unfold"));
  exports.Set("chaosGame", Napi::Function::New(env, sf::ChaosGame, "chaosGame"));
  exports.Set("tokenUnfold", Napi::Function::New(env, sf::TokenUnfold, "tokenUnfold"));
  exports.Set("pairCounts", Napi::Function::New(env, sf::PairCounts, "pairCounts"));
  exports.Set("boxCount", Napi::Function::New(env, sf::BoxCount, "boxCount"));
  exports.Set("encode", Napi::Function::New(env, sf::Encode, "encode"));
  exports.Set("decode", Napi::Function::New(env, sf::Decode, "decode"));
  exports.Set("codeInfo", Napi::Function::New(env, sf::CodeInfo, "codeInfo"));
  return exports;
}
}  // namespace

NODE_API_MODULE(semfield, Init)
