// Node-style errors for failed syscalls, shared by the ring and the mapping code.
#pragma once

#include <napi.h>

namespace walrus {

// `code` is the errno name (EPERM, ENOSYS, …), `errno` is negative as in libuv, `syscall` names the call.
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall_name);

}  // namespace walrus
