// Copy-on-write mappings of whole files, for the engine's mmap read path.
#pragma once

#include <napi.h>

namespace walrus {

// mapFile(fd, length) → Buffer over [0, length) of the file, copy-on-write (MAP_PRIVATE); see mmap.cc.
Napi::Value MapFile(const Napi::CallbackInfo& info);
// retireMapping(buffer): the owner dropped it; counts its length once more so a collection comes soon.
Napi::Value RetireMapping(const Napi::CallbackInfo& info);

}  // namespace walrus
