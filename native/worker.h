// The base of every asynchronous operation: a Promise, inputs kept alive while
// the worker runs, an abort flag shared with JS (an Int32Array the AbortSignal
// sets), progress messages, and native errors turned into coded JS errors.
// Execute never touches JS; it reads only what the constructor copied out.
#pragma once
#include "cancel.h"
#include <napi.h>

#include <new>
#include <system_error>
#include <vector>

#include "errors.h"
#include "napi_util.h"

namespace sf {

struct ProgressMsg {
  int field;
  int step;
  double value;
};

// What a call passes in, gathered and checked before any worker exists. (A
// worker owns a thread-safe function from its first line on; a constructor
// that threw after that would leave it to finalize into freed memory. So all
// checks that can fail run here, and worker constructors only move data.)
class Inputs {
 public:
  explicit Inputs(const Napi::Object& args) : args(args) {
    Napi::Value p = get(args, "onProgress");
    if (p.IsFunction()) progress = p.As<Napi::Function>();
    else if (!p.IsUndefined()) fail("E_TYPE", "onProgress must be a function");
    Napi::Value c = get(args, "cancel");
    if (!c.IsUndefined()) cancel = typed_data<int32_t>(keep(typed<int32_t>(c, "cancel", 1)));
  }

  // A typed array input of exact kind T and length len (-1: any), kept alive
  // while the worker runs; null when optional and absent.
  template <class T>
  const T* input(const char* key, long long len, bool optional = false) {
    Napi::Value v = get(args, key);
    if (optional && (v.IsUndefined() || v.IsNull())) return nullptr;
    return typed_data<T>(keep(typed<T>(v, key, len)));
  }
  Napi::TypedArray keep(const Napi::TypedArray& a) {
    kept.push_back(a);
    return a;
  }

  Napi::Object args;
  std::vector<Napi::TypedArray> kept;
  Napi::Function progress;
  CancelFlag cancel = nullptr;
};

class Worker : public Napi::AsyncProgressQueueWorker<ProgressMsg> {
 public:
  Worker(Inputs& in, const char* name)
      : Napi::AsyncProgressQueueWorker<ProgressMsg>(in.args.Env(), name),
        deferred_(Napi::Promise::Deferred::New(in.args.Env())),
        cancel_(in.cancel) {
    if (!in.progress.IsEmpty()) progress_cb_ = Napi::Persistent(in.progress);
    for (auto& a : in.kept) refs_.push_back(Napi::Persistent(a.As<Napi::Object>()));
  }

  Napi::Promise promise() { return deferred_.Promise(); }

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
    } catch (const std::system_error& e) {
      code_ = "E_DEVICE";
      SetError(std::string("the system refused a resource (") + e.what() + ")");
    } catch (const std::exception& e) {
      code_ = "E_DEVICE";
      SetError(std::string("internal error: ") + e.what());
    } catch (...) {
      code_ = "E_DEVICE";
      SetError("internal error of an unknown kind");
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

 protected:
  CancelFlag cancel_ = nullptr;

 private:
  Napi::FunctionReference progress_cb_;
  std::vector<Napi::ObjectReference> refs_;
  const ExecutionProgress* progress_ = nullptr;
  std::string code_ = "E_DEVICE";
};

// A worker whose result is one typed array: its parsed job, and the buffer
// Run fills and Result hands to JS.
template <class J, class T>
class ArrayWorker : public Worker {
 public:
  ArrayWorker(Inputs& in, J j, const char* name) : Worker(in, name), j_(std::move(j)) {}

 protected:
  Napi::Value Result(Napi::Env env) override { return out_.release(env); }
  J j_;
  OutBuf<T> out_;
};

// Runs a binding body, turning every native error into a coded JS exception:
// a C++ exception must never leave an entry point (N-API would terminate the
// process). A std::system_error (a thread the pool could not start, say) is
// E_DEVICE; a JS exception raised inside (Napi::Error) passes through.
template <class F>
Napi::Value guarded(const Napi::CallbackInfo& info, const F& body) {
  auto coded = [&](const char* code, const std::string& msg) {
    Napi::Error err = Napi::Error::New(info.Env(), msg);
    err.Value().Set("code", code);
    return err;
  };
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const Error& e) {
    throw coded(e.code.c_str(), e.what());
  } catch (const std::bad_alloc&) {
    throw coded("E_OOM", "out of memory");
  } catch (const std::system_error& e) {
    throw coded("E_DEVICE", std::string("the system refused a resource (") + e.what() + ")");
  } catch (const std::exception& e) {
    throw coded("E_DEVICE", std::string("internal error: ") + e.what());
  } catch (...) {
    throw coded("E_DEVICE", "internal error of an unknown kind");
  }
}

inline Napi::Object args_of(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) fail("E_TYPE", "expected one options object");
  return info[0].As<Napi::Object>();
}

// Checks a call's inputs (W::parse, which may throw), then creates, queues
// and returns the promise of a worker W(inputs, parsed job).
template <class W>
Napi::Value launch(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Inputs in(args_of(info));
    auto job = W::parse(in);
    W* w = new W(in, std::move(job));
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
  });
}

}  // namespace sf
