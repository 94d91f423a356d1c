{
  "targets": [
    {
      "target_name": "walrus_uring",
      "sources": ["src/addon.cc", "src/crc32-fold.cc", "src/entry-checksums.cc", "src/errno-error.cc", "src/mmap.cc", "src/ring.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=gnu++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["OS!='linux'", { "type": "none" }]
      ]
    }
  ]
}
