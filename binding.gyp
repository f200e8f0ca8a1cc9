{
  "targets": [
    {
      "target_name": "semfield",
      "sources": [
        "native/addon.cc",
        "native/backend_cpu.cc",
        "native/backend_cuda_stub.cc",
        "native/backend_points_cpu.cc",
        "native/backend_fractal_cpu.cc",
        "native/bind_fractal.cc",
        "native/bind_info.cc",
        "native/bind_maxwell.cc",
        "native/bind_mesh.cc",
        "native/bind_points.cc",
        "native/bind_project.cc",
        "native/bind_wave.cc",
        "native/device.cc",
        "native/host_cache.cc",
        "native/nice.cc",
        "native/pca.cc",
        "native/thread_pool.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-fno-trapping-math", "-fexceptions"],
      "libraries": ["-lpthread"]
    }
  ]
}
