// The base of every asynchronous operation: a Promise, inputs kept alive while
// the worker runs, an abort flag shared with JS (an Int32Array the AbortSignal
// sets), progress messages, and native errors turned into coded JS errors.
// Execute never touches JS; it reads only what the constructor copied out.
#pragma once
#include "cancel.h"
#include <napi.h>

#include <memory>
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
// worker given onProgress owns a thread-safe function from its first line
// on; a constructor that threw after that would leave it to finalize into
// freed memory. So all checks that can fail run here, and worker
// constructors only move data.)
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

// A call's progress, when the caller asked for it, goes through a
// thread-safe function of the worker's own, made only then: a call without
// onProgress is a plain AsyncWorker. (A thread-safe function costs a handle
// made and closed on the main thread per call: measured on a 2-core machine,
// about 4 microseconds of an 8^2 potential call's 55, alternated in one
// process.) Messages are
// delivered in order, each once, and all of them before the promise settles:
// completion releases the function, and the worker settles in its finalizer,
// which runs after the queue is drained (node-addon-api's
// AsyncProgressQueueWorker does the same, with the function made always).
class Worker : public Napi::AsyncWorker {
 public:
  Worker(Inputs& in, const char* name)
      : Napi::AsyncWorker(in.args.Env(), name),
        deferred_(Napi::Promise::Deferred::New(in.args.Env())),
        cancel_(in.cancel) {
    for (auto& a : in.kept) refs_.push_back(Napi::Persistent(a.As<Napi::Object>()));
    if (!in.progress.IsEmpty()) {
      progress_ = Napi::ThreadSafeFunction::New(in.args.Env(), in.progress, name, 0, 1, this,
                                                [](Napi::Env env, Worker* w) { w->settle_after_progress(env); });
      has_progress_ = true;
    }
  }

  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  virtual void Run() = 0;
  virtual Napi::Value Result(Napi::Env env) = 0;

  // From the worker thread: queues one message for onProgress(field, step,
  // value). (A full queue cannot happen: it is unbounded; a call refused
  // because the environment is closing drops the message.)
  void report(int field, int step, double value) {
    if (!has_progress_) return;
    auto* m = new ProgressMsg{field, step, value};
    auto deliver = [](Napi::Env env, Napi::Function cb, ProgressMsg* msg) {
      std::unique_ptr<ProgressMsg> own(msg);
      if (env == nullptr || cb.IsEmpty()) return;
      try {
        cb.Call({Napi::Number::New(env, msg->field), Napi::Number::New(env, msg->step), Napi::Number::New(env, msg->value)});
      } catch (const Napi::Error&) {
        // A throwing progress callback must not break the operation.
      }
    };
    if (progress_.NonBlockingCall(m, deliver) != napi_ok) delete m;
  }
  bool wants_progress() const { return has_progress_; }

 private:
  void Execute() override {
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
  }
  void OnWorkComplete(Napi::Env env, napi_status status) override {
    if (!has_progress_) {
      Napi::AsyncWorker::OnWorkComplete(env, status);  // settles, then deletes this
      return;
    }
    completed_ = true;
    status_ = status;
    progress_.Release();  // the finalizer settles once the queued messages are delivered
  }
  void settle_after_progress(Napi::Env env) {
    // (Also called when the environment closes with the work unfinished:
    // then there is nobody to settle for.)
    if (completed_) Napi::AsyncWorker::OnWorkComplete(env, status_);
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

  Napi::Promise::Deferred deferred_;

 protected:
  CancelFlag cancel_ = nullptr;

 private:
  std::vector<Napi::ObjectReference> refs_;
  Napi::ThreadSafeFunction progress_;
  bool has_progress_ = false;
  bool completed_ = false;
  napi_status status_ = napi_ok;
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
