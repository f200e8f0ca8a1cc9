// The functions the addon exports (lib/native.ts types them).
#pragma once
#include <napi.h>

namespace sf {
Napi::Value Info(const Napi::CallbackInfo& info);
Napi::Value Cpu(const Napi::CallbackInfo& info);
Napi::Value Potential(const Napi::CallbackInfo& info);
Napi::Value Deposit(const Napi::CallbackInfo& info);
Napi::Value Interpolate(const Napi::CallbackInfo& info);
Napi::Value Diff(const Napi::CallbackInfo& info);
Napi::Value Condense(const Napi::CallbackInfo& info);
Napi::Value Wave(const Napi::CallbackInfo& info);
Napi::Value Modes(const Napi::CallbackInfo& info);
Napi::Value Maxwell(const Napi::CallbackInfo& info);
Napi::Value MeshResonance(const Napi::CallbackInfo& info);
Napi::Value Pca(const Napi::CallbackInfo& info);
Napi::Value PcaTransform(const Napi::CallbackInfo& info);
Napi::Value Triad(const Napi::CallbackInfo& info);
Napi::Value GemmPeak(const Napi::CallbackInfo& info);
Napi::Value MallocInUse(const Napi::CallbackInfo& info);
Napi::Value Scratch(const Napi::CallbackInfo& info);
Napi::Value ReleaseScratch(const Napi::CallbackInfo& info);
Napi::Value SetFault(const Napi::CallbackInfo& info);
Napi::Value SmoothKernel(const Napi::CallbackInfo& info);
Napi::Value ResidualKernel(const Napi::CallbackInfo& info);
Napi::Value KernelSum(const Napi::CallbackInfo& info);
Napi::Value AttentionGrad(const Napi::CallbackInfo& info);
Napi::Value KernelGrad(const Napi::CallbackInfo& info);
Napi::Value SetMatrix(const Napi::CallbackInfo& info);
Napi::Value Attention(const Napi::CallbackInfo& info);
Napi::Value Resonance(const Napi::CallbackInfo& info);
Napi::Value MeanShift(const Napi::CallbackInfo& info);
Napi::Value Induce(const Napi::CallbackInfo& info);
Napi::Value Unfold(const Napi::CallbackInfo& info);
Napi::Value ChaosGame(const Napi::CallbackInfo& info);
Napi::Value TokenUnfold(const Napi::CallbackInfo& info);
Napi::Value PairCounts(const Napi::CallbackInfo& info);
Napi::Value BoxCount(const Napi::CallbackInfo& info);
Napi::Value Encode(const Napi::CallbackInfo& info);
Napi::Value Decode(const Napi::CallbackInfo& info);
Napi::Value CodeInfo(const Napi::CallbackInfo& info);
}  // namespace sf
