// C API: tokenizer.
#include "api/api_common.h"
#include "api/handles.h"

using namespace ernie;
using ernie::api::guarded;

extern "C" {

ERNIE_API ernie_status ernie_tokenize(const ernie_model* model, const char* text, size_t text_len, uint32_t flags,
                                      int32_t* out_ids, size_t capacity, size_t* out_count) {
  return guarded("ernie_tokenize", [&]() -> ernie_status {
    ERNIE_REQUIRE_ARG(model && model->impl, "ernie_tokenize: model is NULL");
    ERNIE_REQUIRE_ARG(out_count, "ernie_tokenize: out_count is NULL");
    ERNIE_REQUIRE_ARG(text || text_len == 0, "ernie_tokenize: text is NULL");
    ERNIE_REQUIRE_ARG(out_ids || capacity == 0, "ernie_tokenize: out_ids is NULL but capacity is %zu", capacity);
    ERNIE_REQUIRE_ARG((flags & ~ERNIE_TOKENIZE_PARSE_SPECIAL) == 0, "ernie_tokenize: unknown flags 0x%x", flags);
    auto ids = model->impl->tokenizer().encode(std::string_view(text ? text : "", text_len),
                                               (flags & ERNIE_TOKENIZE_PARSE_SPECIAL) != 0);
    *out_count = ids.size();
    if (ids.size() > capacity) {
      api::set_last_error(strfmt("ernie_tokenize: %zu ids do not fit in a buffer of %zu", ids.size(), capacity));
      return ERNIE_E_BUFFER_TOO_SMALL;
    }
    if (!ids.empty()) std::memcpy(out_ids, ids.data(), ids.size() * sizeof(int32_t));
    return ERNIE_OK;
  });
}

ERNIE_API ernie_status ernie_detokenize(const ernie_model* model, const int32_t* ids, size_t n_ids, char* out_text,
                                        size_t capacity, size_t* out_len) {
  return guarded("ernie_detokenize", [&]() -> ernie_status {
    ERNIE_REQUIRE_ARG(model && model->impl, "ernie_detokenize: model is NULL");
    ERNIE_REQUIRE_ARG(out_len, "ernie_detokenize: out_len is NULL");
    ERNIE_REQUIRE_ARG(ids || n_ids == 0, "ernie_detokenize: ids is NULL");
    ERNIE_REQUIRE_ARG(out_text || capacity == 0, "ernie_detokenize: out_text is NULL but capacity is %zu", capacity);
    std::string text = model->impl->tokenizer().decode(ids, n_ids);
    *out_len = text.size();
    if (text.size() + 1 > capacity) {
      api::set_last_error(
          strfmt("ernie_detokenize: %zu bytes and a NUL do not fit in a buffer of %zu", text.size(), capacity));
      return ERNIE_E_BUFFER_TOO_SMALL;
    }
    std::memcpy(out_text, text.data(), text.size());
    out_text[text.size()] = '\0';
    return ERNIE_OK;
  });
}

}  // extern "C"
