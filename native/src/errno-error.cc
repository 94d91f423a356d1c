#include "errno-error.h"

#include <cstring>
#include <string>

namespace walrus {

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall_name) {
  const char* name = strerrorname_np(err);
  std::string message = std::string(name ? name : "EUNKNOWN") + ": " + strerror(err) + ", " + syscall_name;
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, name ? name : "EUNKNOWN"));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall_name));
  return error;
}

}  // namespace walrus
