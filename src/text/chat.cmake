# Chat format (docs: shared/docs/chat-format.md): prompt encoder, completion parser and the Python-exact
# JSON text they need. Depends on base and dsv4_utf8 only (plus nlohmann-json for the request/response
# JSON); it must not know the tokenizer or the model.
add_library(dsv4_chat STATIC
  ${CMAKE_CURRENT_SOURCE_DIR}/chat_encoder.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/chat_fold.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/chat_message.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/chat_parse_lenient.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/chat_parse_strict.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/chat_parser.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/chat_profile.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/chat_profile_v4.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/chat_request.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/dsml_writer.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/json_text_read.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/json_text_write.cc)
target_link_libraries(dsv4_chat PUBLIC dsv4_base dsv4_utf8 nlohmann_json::nlohmann_json)

dsv4_unit_test(chat_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/json_text_test.cc
          ${CMAKE_CURRENT_SOURCE_DIR}/chat_encoder_test.cc
          ${CMAKE_CURRENT_SOURCE_DIR}/chat_parser_test.cc
  LIBS dsv4_chat)
dsv4_unit_test(chat_golden_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/chat_golden_test.cc LIBS dsv4_chat)
dsv4_unit_test(chat_fuzz_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/chat_fuzz_test.cc LIBS dsv4_chat)
