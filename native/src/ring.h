// One io_uring instance driven by raw syscalls, with completions delivered on the libuv loop.
//
// Why raw syscalls and not liburing: liburing is not installed on our build machines and the
// package must build offline from this directory alone; we need five operations (writev, write,
// fsync, read, eventfd registration), which cost ~150 lines against <linux/io_uring.h>.
//
// Completion path: the ring's eventfd (IORING_REGISTER_EVENTFD) is watched by a uv_poll_t on the
// Node event loop, so nothing blocks the loop and no extra thread exists. On readiness we drain the
// CQ into a JS-owned Int32Array as (id, res) pairs and call the JS callback once per drain.
#pragma once

#include <napi.h>
#include <uv.h>
#include <linux/io_uring.h>

#include <cstdint>
#include <cstddef>

namespace walrus {

class Ring : public Napi::ObjectWrap<Ring> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Ring(const Napi::CallbackInfo& info);
  ~Ring() override;

 private:
  // JS methods. Every submission carries a JS-chosen 31-bit id returned with its completion.
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value Writev(const Napi::CallbackInfo& info);
  Napi::Value Fsync(const Napi::CallbackInfo& info);
  Napi::Value Read(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value GetSqEntries(const Napi::CallbackInfo& info);
  Napi::Value GetCqEntries(const Napi::CallbackInfo& info);
  Napi::Value GetFeatures(const Napi::CallbackInfo& info);
  Napi::Value GetInflight(const Napi::CallbackInfo& info);

  int Setup(Napi::Env env, unsigned entries);
  io_uring_sqe* NextSqe();
  // Publishes the SQEs prepared since the last call and enters the kernel; returns 0 or -errno.
  int Submit(unsigned count);
  void OnSubmitted(Napi::Env env, unsigned count);
  Napi::Value SubmitWrite(Napi::Env env, uint8_t opcode, int fd, uint64_t addr, uint32_t len, int64_t position, int32_t id, int32_t sync_id);
  void Drain();
  void SetBusy(bool busy);
  void Release();
  static void OnPoll(uv_poll_t* handle, int status, int events);

  int ring_fd_ = -1;
  int event_fd_ = -1;
  unsigned features_ = 0;
  // Mapped SQ/CQ rings (one mapping with IORING_FEAT_SINGLE_MMAP) and the SQE array.
  void* rings_ptr_ = nullptr;
  size_t rings_bytes_ = 0;
  void* cq_ptr_ = nullptr;  // == rings_ptr_ when single mmap
  size_t cq_bytes_ = 0;
  io_uring_sqe* sqes_ = nullptr;
  size_t sqes_bytes_ = 0;
  unsigned* sq_head_ = nullptr;
  unsigned* sq_tail_ = nullptr;
  unsigned* sq_array_ = nullptr;
  unsigned sq_mask_ = 0;
  unsigned sq_entries_ = 0;
  unsigned sq_local_tail_ = 0;
  unsigned* cq_head_ = nullptr;
  unsigned* cq_tail_ = nullptr;
  io_uring_cqe* cqes_ = nullptr;
  unsigned cq_mask_ = 0;
  unsigned cq_entries_ = 0;

  // CQEs submitted and not yet reaped. While > 0 the poll handle keeps the loop alive and the
  // callback reference is strong; at 0 both are released so an idle ring never pins the process.
  uint32_t inflight_ = 0;
  uv_poll_t* poll_ = nullptr;
  bool closed_ = false;
  bool busy_ = false;
  napi_env env_ = nullptr;
  Napi::FunctionReference on_complete_;
  Napi::ObjectReference completions_ref_;
  int32_t* completions_ = nullptr;
  size_t completion_pairs_max_ = 0;
  Napi::AsyncContext* async_context_ = nullptr;
};

}  // namespace walrus
