# The client library's unit tests link libmultinode-client (include()d from
# tests/CMakeLists.txt after the unit-test loop).
if(TARGET unit_test_client_status)
  target_link_libraries(unit_test_client_status PRIVATE multinode-client)
endif()
if(TARGET unit_test_client_transport)
  target_link_libraries(unit_test_client_transport PRIVATE multinode-client PkgConfig::MHD)
endif()
# Integration tests of the client against the real API server.
foreach(t it_test_client_api it_test_cli_api)
  if(TARGET ${t})
    target_link_libraries(${t} PRIVATE multinode-client)
  endif()
endforeach()
