{
  "targets": [
    {
      "target_name": "uwsgi_native",
      "sources": [
        "src/addon.cc",
        "src/errno_error.cc",
        "src/env_state.cc",
        "src/sockets.cc",
        "src/waits_sync.cc",
        "src/waits_async.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
