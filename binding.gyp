{
  "targets": [
    {
      "target_name": "tunctl",
      "conditions": [
        ["OS=='linux'", {
          "sources": [
            "native/addon.cc",
            "native/constants_linux.cc",
            "native/env_state.cc",
            "native/tun_linux.cc",
            "native/netif_linux.cc",
            "native/poll_linux.cc",
            "native/unix_linux.cc",
            "native/netns_linux.cc",
            "native/netlink_linux.cc",
            "native/udp_linux.cc"
          ]
        }]
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions"]
    }
  ]
}
