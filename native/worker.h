// The base of every asynchronous operation: a Promise, inputs kept alive while
// the worker runs, an abort flag shared with JS (an Int32Array the AbortSignal
// sets), progress messages, and native errors turned into coded JS errors.
// Execute never touches JS; it reads only what the constructor copied out.
#pragma once
#include <napi.h>

#include <new>
#include <vector>

#include "errors.h"
#include "napi_util.h"

namespace sf {

struct ProgressMsg {
  int field;
  int step;
  double value;
};

class Worker : public Napi::AsyncProgressQueueWorker<ProgressMsg> {
 public:
  Worker(const Napi::Object& args, const char* name)
      : Napi::AsyncProgressQueueWorker<ProgressMsg>(args.Env(), name),
        deferred_(Napi::Promise::Deferred::New(args.Env())) {
    Napi::Value p = get(args, "onProgress");
    if (p.IsFunction()) progress_cb_ = Napi::Persistent(p.As<Napi::Function>());
    else if (!p.IsUndefined()) fail("E_TYPE", "onProgress must be a function");
    Napi::Value c = get(args, "cancel");
    if (!c.IsUndefined()) cancel_ = typed_data<int32_t>(keep(typed<int32_t>(c, "cancel", 1)));
  }

  Napi::Promise promise() { return deferred_.Promise(); }

  // Keeps a JS input alive until the worker is gone.
  Napi::TypedArray keep(const Napi::TypedArray& a) {
    refs_.push_back(Napi::Persistent(a.As<Napi::Object>()));
    return a;
  }
  template <class T>
  const T* input(const Napi::Object& args, const char* key, long long len, bool optional = false) {
    Napi::Value v = get(args, key);
    if (optional && (v.IsUndefined() || v.IsNull())) return nullptr;
    return typed_data<T>(keep(typed<T>(v, key, len)));
  }

 protected:
  virtual void Run() = 0;
  virtual Napi::Value Result(Napi::Env env) = 0;

  void report(int field, int step, double value) {
    if (progress_ && !progress_cb_.IsEmpty()) {
      ProgressMsg m{field, step, value};
      progress_->Send(&m, 1);
    }
  }
  bool wants_progress() const { return !progress_cb_.IsEmpty(); }
  const volatile int32_t* cancel_ = nullptr;

 private:
  void Execute(const ExecutionProgress& p) override {
    progress_ = &p;
    try {
      if (cancel_ && *cancel_) fail("E_ABORTED", std::string("aborted before it started"));
      Run();
    } catch (const Error& e) {
      code_ = e.code;
      SetError(e.what());
    } catch (const std::bad_alloc&) {
      code_ = "E_OOM";
      SetError("out of memory");
    } catch (const std::exception& e) {
      code_ = "E_DEVICE";
      SetError(std::string("internal error: ") + e.what());
    }
    progress_ = nullptr;
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    try {
      deferred_.Resolve(Result(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (const Error& e) {
      Napi::Error err = Napi::Error::New(env, e.what());
      err.Value().Set("code", e.code);
      deferred_.Reject(err.Value());
    }
  }
  void OnError(const Napi::Error& e) override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    Napi::Error err = Napi::Error::New(env, e.Message());
    err.Value().Set("code", code_);
    deferred_.Reject(err.Value());
  }
  void OnProgress(const ProgressMsg* d, size_t n) override {
    if (progress_cb_.IsEmpty() || n == 0) return;
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    try {
      const ProgressMsg& m = d[n - 1];
      progress_cb_.Call({Napi::Number::New(env, m.field), Napi::Number::New(env, m.step), Napi::Number::New(env, m.value)});
    } catch (const Napi::Error&) {
      // A throwing progress callback must not break the operation.
    }
  }

  Napi::Promise::Deferred deferred_;
  Napi::FunctionReference progress_cb_;
  std::vector<Napi::ObjectReference> refs_;
  const ExecutionProgress* progress_ = nullptr;
  std::string code_ = "E_DEVICE";
};

// Runs a binding body, turning native errors into coded JS exceptions.
template <class F>
Napi::Value guarded(const Napi::CallbackInfo& info, const F& body) {
  try {
    return body();
  } catch (const Error& e) {
    Napi::Error err = Napi::Error::New(info.Env(), e.what());
    err.Value().Set("code", e.code);
    throw err;
  } catch (const std::bad_alloc&) {
    Napi::Error err = Napi::Error::New(info.Env(), "out of memory");
    err.Value().Set("code", "E_OOM");
    throw err;
  }
}

inline Napi::Object args_of(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) fail("E_TYPE", "expected one options object");
  return info[0].As<Napi::Object>();
}

// Queues the worker and hands its promise to JS.
inline Napi::Value start(Worker* w) {
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

}  // namespace sf
