# deploy/aws/multinode.yaml against the CloudFormation resource specification
# and the ECS provider's list of calls (tests/deploy/check_aws.js; npm
# packages installed once into /tmp). include()d from tests/CMakeLists.txt;
# skipped when there is no `node`.
find_program(MN_NODE node)
if(MN_NODE)
  add_test(NAME deploy.aws_template COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/deploy/check_aws.sh)
  set_tests_properties(deploy.aws_template PROPERTIES TIMEOUT 300 LABELS deploy
    ENVIRONMENT "MN_BIN_DIR=${PROJECT_BINARY_DIR}/bin;MN_PLUGIN_DIR=${MN_PLUGIN_BUILD_DIR}")
endif()
