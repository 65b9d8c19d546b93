# Every dependency is found through its own CMake or pkg-config metadata. A missing one
# gets one clear line naming the Debian package; all are reported before stopping.
find_package(PkgConfig)
set(BO_MISSING "")

macro(bo_missing what debpkg)
  message(SEND_ERROR "bidopen: missing dependency ${what}: install the Debian package "
                     "'${debpkg}' (scripts/deps installs everything)")
  list(APPEND BO_MISSING ${debpkg})
endmacro()

if(NOT PKG_CONFIG_FOUND)
  bo_missing("pkg-config" "pkg-config")
endif()

find_package(OpenSSL 3.0)
if(NOT OPENSSL_FOUND)
  bo_missing("OpenSSL >= 3.0" "libssl-dev")
endif()

find_package(libwebsockets CONFIG QUIET)
if(NOT libwebsockets_FOUND)
  bo_missing("libwebsockets 4.1" "libwebsockets-dev")
endif()

macro(bo_pkg var pcname what debpkg)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(${var} QUIET IMPORTED_TARGET ${pcname})
  endif()
  if(NOT ${var}_FOUND)
    bo_missing("${what}" "${debpkg}")
  endif()
endmacro()

bo_pkg(UV libuv "libuv" "libuv1-dev")
bo_pkg(HIREDIS "hiredis>=0.14" "hiredis" "libhiredis-dev")
bo_pkg(MSGPACK "msgpack>=4.0" "msgpack-c 4.0" "libmsgpack-dev")
bo_pkg(JANSSON "jansson>=2.13" "jansson" "libjansson-dev")
bo_pkg(CMOCKA cmocka "cmocka (unit tests)" "libcmocka-dev")

if(NOT EXISTS /usr/lib/x86_64-linux-gnu/libwebsockets-evlib_uv.so
   AND NOT EXISTS /usr/lib/libwebsockets-evlib_uv.so)
  find_library(BO_LWS_EVLIB_UV websockets-evlib_uv)
  if(NOT BO_LWS_EVLIB_UV)
    bo_missing("the libuv event-lib plugin of libwebsockets" "libwebsockets-evlib-uv")
  endif()
endif()

if(BO_MISSING)
  list(JOIN BO_MISSING " " _pkgs)
  message(FATAL_ERROR "bidopen: install the missing packages: apt-get install ${_pkgs}")
endif()
