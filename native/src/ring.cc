#include "ring.h"
#include "errno-error.h"

#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

namespace walrus {
namespace {

// Largest ring we accept; 256 SQEs already cover a full group-commit cycle of every segment.
constexpr unsigned kEntriesMax = 4096;
// writev iovec count per submission (the kernel's UIO_MAXIOV).
constexpr size_t kIovecsMax = 1024;

int SysSetup(unsigned entries, io_uring_params* params) {
  return static_cast<int>(syscall(__NR_io_uring_setup, entries, params));
}
int SysEnter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags) {
  return static_cast<int>(syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, nullptr, 0));
}
int SysRegister(int fd, unsigned opcode, const void* arg, unsigned nr_args) {
  return static_cast<int>(syscall(__NR_io_uring_register, fd, opcode, arg, nr_args));
}

unsigned LoadAcquire(const unsigned* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
void StoreRelease(unsigned* p, unsigned v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }


bool ReadBytes(const Napi::Value& value, uint8_t** data, size_t* bytes) {
  if (!value.IsTypedArray()) return false;
  Napi::TypedArray array = value.As<Napi::TypedArray>();
  if (array.TypedArrayType() != napi_uint8_array) return false;
  Napi::Uint8Array u8 = value.As<Napi::Uint8Array>();
  *data = u8.Data();
  *bytes = u8.ByteLength();
  return true;
}

}  // namespace

Napi::Function Ring::Define(Napi::Env env) {
  return DefineClass(env, "Ring", {
    InstanceMethod<&Ring::Write>("write"),
    InstanceMethod<&Ring::Writev>("writev"),
    InstanceMethod<&Ring::Fsync>("fsync"),
    InstanceMethod<&Ring::Read>("read"),
    InstanceMethod<&Ring::Close>("close"),
    InstanceAccessor<&Ring::GetSqEntries>("sqEntries"),
    InstanceAccessor<&Ring::GetCqEntries>("cqEntries"),
    InstanceAccessor<&Ring::GetFeatures>("features"),
    InstanceAccessor<&Ring::GetInflight>("inflight"),
  });
}

// new Ring(entries, onComplete(count), completions: Int32Array)
Ring::Ring(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Ring>(info) {
  Napi::Env env = info.Env();
  env_ = env;
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsFunction() || !info[2].IsTypedArray() ||
      info[2].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    Napi::TypeError::New(env, "new Ring(entries: number, onComplete: Function, completions: Int32Array)")
        .ThrowAsJavaScriptException();
    return;
  }
  uint32_t entries = info[0].As<Napi::Number>().Uint32Value();
  if (entries < 1 || entries > kEntriesMax) {
    Napi::RangeError::New(env, "ring entries must be within 1..4096").ThrowAsJavaScriptException();
    return;
  }
  int err = Setup(env, entries);
  if (err != 0) {
    Release();
    ErrnoError(env, err, "io_uring_setup").ThrowAsJavaScriptException();
    return;
  }
  Napi::Int32Array completions = info[2].As<Napi::Int32Array>();
  if (completions.ElementLength() < 2) {
    Release();
    Napi::RangeError::New(env, "completions must hold at least one (id, res) pair").ThrowAsJavaScriptException();
    return;
  }
  completions_ = completions.Data();
  completion_pairs_max_ = completions.ElementLength() / 2;
  completions_ref_ = Napi::Persistent(completions.As<Napi::Object>());
  on_complete_ = Napi::Weak(info[1].As<Napi::Function>());
  async_context_ = new Napi::AsyncContext(env, "WalrusUringCompletion");

  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    Release();
    Napi::Error::New(env, "no libuv loop for this environment").ThrowAsJavaScriptException();
    return;
  }
  poll_ = new uv_poll_t;
  int rc = uv_poll_init(loop, poll_, event_fd_);
  if (rc != 0) {
    delete poll_;
    poll_ = nullptr;
    Release();
    ErrnoError(env, -rc, "uv_poll_init").ThrowAsJavaScriptException();
    return;
  }
  poll_->data = this;
  uv_poll_start(poll_, UV_READABLE, &Ring::OnPoll);
  uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
}

Ring::~Ring() {
  Release();
  // Deleted here, not in Release: Close() may run inside the completion callback that uses it.
  delete async_context_;
}

int Ring::Setup(Napi::Env env, unsigned entries) {
  io_uring_params params;
  memset(&params, 0, sizeof params);
  params.flags = IORING_SETUP_CLAMP;
  ring_fd_ = SysSetup(entries, &params);
  if (ring_fd_ < 0) {
    ring_fd_ = -1;
    return errno;
  }
  features_ = params.features;
  // SUBMIT_STABLE (5.5): iovecs and other submission data are consumed during io_uring_enter, so the
  // iovec array may live on our stack. NODROP (5.5): a full CQ never loses completions.
  if (!(features_ & IORING_FEAT_SUBMIT_STABLE) || !(features_ & IORING_FEAT_NODROP)) return ENOTSUP;
  sq_entries_ = params.sq_entries;
  cq_entries_ = params.cq_entries;

  size_t sq_bytes = params.sq_off.array + params.sq_entries * sizeof(unsigned);
  size_t cq_bytes = params.cq_off.cqes + params.cq_entries * sizeof(io_uring_cqe);
  bool single = (features_ & IORING_FEAT_SINGLE_MMAP) != 0;
  rings_bytes_ = single && cq_bytes > sq_bytes ? cq_bytes : sq_bytes;
  rings_ptr_ = mmap(nullptr, rings_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd_,
                    IORING_OFF_SQ_RING);
  if (rings_ptr_ == MAP_FAILED) {
    rings_ptr_ = nullptr;
    return errno;
  }
  if (single) {
    cq_ptr_ = rings_ptr_;
  } else {
    cq_bytes_ = cq_bytes;
    cq_ptr_ = mmap(nullptr, cq_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd_,
                   IORING_OFF_CQ_RING);
    if (cq_ptr_ == MAP_FAILED) {
      cq_ptr_ = nullptr;
      return errno;
    }
  }
  sqes_bytes_ = params.sq_entries * sizeof(io_uring_sqe);
  void* sqes = mmap(nullptr, sqes_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd_,
                    IORING_OFF_SQES);
  if (sqes == MAP_FAILED) return errno;
  sqes_ = static_cast<io_uring_sqe*>(sqes);

  char* sq = static_cast<char*>(rings_ptr_);
  sq_head_ = reinterpret_cast<unsigned*>(sq + params.sq_off.head);
  sq_tail_ = reinterpret_cast<unsigned*>(sq + params.sq_off.tail);
  sq_mask_ = *reinterpret_cast<unsigned*>(sq + params.sq_off.ring_mask);
  sq_array_ = reinterpret_cast<unsigned*>(sq + params.sq_off.array);
  sq_local_tail_ = *sq_tail_;
  char* cq = static_cast<char*>(cq_ptr_);
  cq_head_ = reinterpret_cast<unsigned*>(cq + params.cq_off.head);
  cq_tail_ = reinterpret_cast<unsigned*>(cq + params.cq_off.tail);
  cq_mask_ = *reinterpret_cast<unsigned*>(cq + params.cq_off.ring_mask);
  cqes_ = reinterpret_cast<io_uring_cqe*>(cq + params.cq_off.cqes);

  event_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd_ < 0) {
    event_fd_ = -1;
    return errno;
  }
  if (SysRegister(ring_fd_, IORING_REGISTER_EVENTFD, &event_fd_, 1) < 0) return errno;
  return 0;
}

void Ring::Release() {
  if (poll_ != nullptr) {
    poll_->data = nullptr;
    uv_poll_stop(poll_);
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
  }
  // Closing the ring fd lets the kernel cancel and reap anything still in flight; JS only closes an
  // idle ring, so no buffer it owns is still referenced by an SQE.
  if (ring_fd_ >= 0) close(ring_fd_);
  if (event_fd_ >= 0) close(event_fd_);
  ring_fd_ = event_fd_ = -1;
  if (sqes_ != nullptr) munmap(sqes_, sqes_bytes_);
  if (cq_ptr_ != nullptr && cq_ptr_ != rings_ptr_) munmap(cq_ptr_, cq_bytes_);
  if (rings_ptr_ != nullptr) munmap(rings_ptr_, rings_bytes_);
  sqes_ = nullptr;
  cq_ptr_ = rings_ptr_ = nullptr;
  busy_ = false;
  closed_ = true;
}

io_uring_sqe* Ring::NextSqe() {
  unsigned head = LoadAcquire(sq_head_);
  if (sq_local_tail_ - head >= sq_entries_) return nullptr;
  unsigned index = sq_local_tail_ & sq_mask_;
  io_uring_sqe* sqe = &sqes_[index];
  memset(sqe, 0, sizeof *sqe);
  sq_array_[index] = index;
  sq_local_tail_++;
  return sqe;
}

int Ring::Submit(unsigned count) {
  unsigned published = sq_local_tail_;
  StoreRelease(sq_tail_, published);
  unsigned done = 0;
  unsigned retries = 0;
  while (done < count) {
    int rc = SysEnter(ring_fd_, count - done, 0, 0);
    if (rc < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (done == 0) {
        // Nothing consumed (seccomp EPERM, EAGAIN, …): without SQPOLL the kernel reads the SQ tail only
        // inside io_uring_enter, so the SQEs can be withdrawn and the caller fails them cleanly.
        sq_local_tail_ = published - count;
        StoreRelease(sq_tail_, sq_local_tail_);
        return -err;
      }
      // Part of a linked pair went in. Retry a bounded number of times (the CQ never overflows: JS caps
      // completions in flight at its size); past that the ring is unusable and the caller says so.
      if (++retries > 1000) return -err;
      continue;
    }
    done += static_cast<unsigned>(rc);
  }
  return 0;
}

void Ring::OnSubmitted(Napi::Env env, unsigned count) {
  inflight_ += count;
  SetBusy(true);
}

void Ring::SetBusy(bool busy) {
  if (busy == busy_ || poll_ == nullptr) return;
  busy_ = busy;
  if (busy) {
    uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    on_complete_.Ref();
  } else {
    uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    on_complete_.Unref();
  }
}

#define WALRUS_REQUIRE_OPEN(env)                                             \
  if (closed_) {                                                             \
    Napi::Error::New(env, "ring is closed").ThrowAsJavaScriptException();    \
    return env.Undefined();                                                  \
  }

// Prepares an fdatasync linked after the SQE just prepared, when sync_id >= 0.
static bool LinkSync(io_uring_sqe* write_sqe, io_uring_sqe* sync_sqe, int fd, int32_t sync_id) {
  if (sync_sqe == nullptr) return false;
  write_sqe->flags |= IOSQE_IO_LINK;
  sync_sqe->opcode = IORING_OP_FSYNC;
  sync_sqe->fd = fd;
  sync_sqe->fsync_flags = IORING_FSYNC_DATASYNC;
  sync_sqe->user_data = static_cast<uint32_t>(sync_id);
  return true;
}

// Prepares one write SQE (IORING_OP_WRITE or IORING_OP_WRITEV), plus a linked fdatasync when
// sync_id >= 0, and submits them; on a full ring nothing is published (EBUSY).
Napi::Value Ring::SubmitWrite(Napi::Env env, uint8_t opcode, int fd, uint64_t addr, uint32_t len, int64_t position, int32_t id, int32_t sync_id) {
  io_uring_sqe* sqe = NextSqe();
  io_uring_sqe* sync_sqe = sync_id >= 0 && sqe != nullptr ? NextSqe() : nullptr;
  if (sqe == nullptr || (sync_id >= 0 && sync_sqe == nullptr)) {
    sq_local_tail_ = *sq_tail_;
    ErrnoError(env, EBUSY, "io_uring_enter").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  sqe->opcode = opcode;
  sqe->fd = fd;
  sqe->addr = addr;
  sqe->len = len;
  sqe->off = static_cast<uint64_t>(position);
  sqe->user_data = static_cast<uint32_t>(id);
  unsigned count = 1 + (LinkSync(sqe, sync_sqe, fd, sync_id) ? 1 : 0);
  int rc = Submit(count);
  if (rc < 0) {
    ErrnoError(env, -rc, "io_uring_enter").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  OnSubmitted(env, count);
  return env.Undefined();
}

// write(id, fd, buffer: Uint8Array, position, syncId): one IORING_OP_WRITE, optionally linked to fdatasync.
Napi::Value Ring::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  WALRUS_REQUIRE_OPEN(env);
  uint8_t* data;
  size_t bytes;
  if (info.Length() < 5 || !ReadBytes(info[2], &data, &bytes)) {
    Napi::TypeError::New(env, "write(id, fd, buffer: Uint8Array, position, syncId)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int32_t id = info[0].As<Napi::Number>().Int32Value();
  int fd = info[1].As<Napi::Number>().Int32Value();
  int64_t position = info[3].As<Napi::Number>().Int64Value();
  int32_t sync_id = info[4].As<Napi::Number>().Int32Value();
  return SubmitWrite(env, IORING_OP_WRITE, fd, reinterpret_cast<uint64_t>(data), static_cast<uint32_t>(bytes), position, id, sync_id);
}

// writev(id, fd, buffers: Uint8Array[], position, syncId): one IORING_OP_WRITEV of up to 1024 buffers.
Napi::Value Ring::Writev(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  WALRUS_REQUIRE_OPEN(env);
  if (info.Length() < 5 || !info[2].IsArray()) {
    Napi::TypeError::New(env, "writev(id, fd, buffers: Uint8Array[], position, syncId)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array buffers = info[2].As<Napi::Array>();
  uint32_t count = buffers.Length();
  if (count == 0 || count > kIovecsMax) {
    Napi::RangeError::New(env, "writev takes 1..1024 buffers").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // Stable submission (checked at setup) lets the kernel copy the iovecs during io_uring_enter.
  std::vector<iovec> iovecs(count);
  for (uint32_t i = 0; i < count; i++) {
    uint8_t* data;
    size_t bytes;
    if (!ReadBytes(buffers.Get(i), &data, &bytes)) {
      Napi::TypeError::New(env, "writev buffers must be Uint8Arrays").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    iovecs[i].iov_base = data;
    iovecs[i].iov_len = bytes;
  }
  int32_t id = info[0].As<Napi::Number>().Int32Value();
  int fd = info[1].As<Napi::Number>().Int32Value();
  int64_t position = info[3].As<Napi::Number>().Int64Value();
  int32_t sync_id = info[4].As<Napi::Number>().Int32Value();
  // `iovecs` outlives the submission: io_uring_enter copies them (stable submission).
  return SubmitWrite(env, IORING_OP_WRITEV, fd, reinterpret_cast<uint64_t>(iovecs.data()), count, position, id, sync_id);
}

// fsync(id, fd, datasync: boolean)
Napi::Value Ring::Fsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  WALRUS_REQUIRE_OPEN(env);
  if (info.Length() < 3) {
    Napi::TypeError::New(env, "fsync(id, fd, datasync)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  io_uring_sqe* sqe = NextSqe();
  if (sqe == nullptr) {
    ErrnoError(env, EBUSY, "io_uring_enter").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  sqe->opcode = IORING_OP_FSYNC;
  sqe->fd = info[1].As<Napi::Number>().Int32Value();
  sqe->fsync_flags = info[2].ToBoolean().Value() ? IORING_FSYNC_DATASYNC : 0;
  sqe->user_data = static_cast<uint32_t>(info[0].As<Napi::Number>().Int32Value());
  int rc = Submit(1);
  if (rc < 0) {
    ErrnoError(env, -rc, "io_uring_enter").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  OnSubmitted(env, 1);
  return env.Undefined();
}

// read(id, fd, buffer: Uint8Array, position): reads up to buffer.byteLength bytes.
Napi::Value Ring::Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  WALRUS_REQUIRE_OPEN(env);
  uint8_t* data;
  size_t bytes;
  if (info.Length() < 4 || !ReadBytes(info[2], &data, &bytes)) {
    Napi::TypeError::New(env, "read(id, fd, buffer: Uint8Array, position)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  io_uring_sqe* sqe = NextSqe();
  if (sqe == nullptr) {
    ErrnoError(env, EBUSY, "io_uring_enter").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  sqe->opcode = IORING_OP_READ;
  sqe->fd = info[1].As<Napi::Number>().Int32Value();
  sqe->addr = reinterpret_cast<uint64_t>(data);
  sqe->len = static_cast<uint32_t>(bytes);
  sqe->off = static_cast<uint64_t>(info[3].As<Napi::Number>().Int64Value());
  sqe->user_data = static_cast<uint32_t>(info[0].As<Napi::Number>().Int32Value());
  int rc = Submit(1);
  if (rc < 0) {
    ErrnoError(env, -rc, "io_uring_enter").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  OnSubmitted(env, 1);
  return env.Undefined();
}

Napi::Value Ring::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_) return env.Undefined();
  if (inflight_ != 0) {
    Napi::Error::New(env, "cannot close a ring with operations in flight").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Release();
  completions_ref_.Reset();
  on_complete_.Reset();
  return env.Undefined();
}

Napi::Value Ring::GetSqEntries(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), sq_entries_); }
Napi::Value Ring::GetCqEntries(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), cq_entries_); }
Napi::Value Ring::GetFeatures(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), features_); }
Napi::Value Ring::GetInflight(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), inflight_); }

void Ring::OnPoll(uv_poll_t* handle, int status, int events) {
  Ring* ring = static_cast<Ring*>(handle->data);
  if (ring == nullptr || ring->closed_) return;
  uint64_t ignored;
  // Reset the eventfd before draining: a completion posted after this read re-arms the poll.
  while (read(ring->event_fd_, &ignored, sizeof ignored) < 0 && errno == EINTR) {
  }
  ring->Drain();
}

void Ring::Drain() {
  Napi::Env env(env_);
  Napi::HandleScope scope(env);
  for (;;) {
    unsigned head = *cq_head_;
    unsigned tail = LoadAcquire(cq_tail_);
    size_t pairs = 0;
    while (head != tail && pairs < completion_pairs_max_) {
      const io_uring_cqe& cqe = cqes_[head & cq_mask_];
      completions_[2 * pairs] = static_cast<int32_t>(cqe.user_data);
      completions_[2 * pairs + 1] = cqe.res;
      pairs++;
      head++;
    }
    StoreRelease(cq_head_, head);
    if (pairs == 0) return;
    inflight_ -= static_cast<uint32_t>(pairs);
    Napi::Function callback = on_complete_.Value();
    if (!callback.IsEmpty()) {
      callback.MakeCallback(env.Global(), {Napi::Number::New(env, static_cast<double>(pairs))}, *async_context_);
      if (env.IsExceptionPending()) {
        Napi::Error error = env.GetAndClearPendingException();
        napi_fatal_exception(env, error.Value());
      }
    }
    if (closed_) return;
    // Released after the call so the callback cannot be collected while it runs.
    if (inflight_ == 0) SetBusy(false);
  }
}

}  // namespace walrus
