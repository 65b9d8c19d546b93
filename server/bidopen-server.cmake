# ---- bidopen-server
add_library(bo_server STATIC bo_server.c bo_conn.c bo_room.c bo_auth.c bo_commands.c
            bo_blacklist.c bo_staff.c bo_config.c bo_ratelimit.c bo_vault.c bo_submit.c bo_decrypt.c bo_closing.c
            bo_export_cmd.c bo_http.c bo_metrics.c)
target_include_directories(bo_server PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(bo_server PUBLIC bo_store bo_session bo_crypto bo_core websockets_shared
                      PkgConfig::UV PkgConfig::JANSSON PkgConfig::MSGPACK)
add_executable(bidopen-server main.c)
target_link_libraries(bidopen-server PRIVATE bo_server)
