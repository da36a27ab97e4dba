// The generation API end to end on the tiny models: golden greedy
// continuations, seeded sampling, streaming, stop strings across token
// boundaries, cancellation, prefix reuse, context limits, save/restore.
#include <doctest/doctest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "ernie.h"
#include "support/test_util.h"

namespace {

struct Model {
  ernie_model* m = nullptr;
  explicit Model(const std::string& name) {
    ernie_model_params p;
    ernie_model_params_init(&p);
    p.n_threads = 2;
    REQUIRE_MESSAGE(ernie_model_load(test::packed_golden(name).c_str(), &p, &m) == ERNIE_OK, ernie_last_error());
  }
  ~Model() { ernie_model_free(m); }
};

struct Session {
  ernie_session* s = nullptr;
  explicit Session(ernie_model* m, int n_ctx = 512) {
    ernie_session_params p;
    ernie_session_params_init(&p);
    p.n_ctx = n_ctx;
    REQUIRE_MESSAGE(ernie_session_create(m, &p, &s) == ERNIE_OK, ernie_last_error());
  }
  ~Session() { ernie_session_free(s); }
};

struct Collected {
  std::string text, reasoning;
  int events = 0;
  int stop_after = -1;  // callback returns non-zero after this many events
  std::atomic<bool> started{false};
};

int32_t collect(void* ud, const ernie_event* e) {
  auto* c = static_cast<Collected*>(ud);
  (e->type == ERNIE_EVENT_REASONING ? c->reasoning : c->text).append(e->text, e->text_len);
  c->started = true;
  return ++c->events == c->stop_after ? 1 : 0;
}

ernie_generate_result new_result() {
  ernie_generate_result r{};
  r.struct_size = sizeof(r);
  return r;
}

std::vector<int32_t> tokens_of(const ernie_generate_result& r) { return {r.tokens, r.tokens + r.n_tokens}; }

}  // namespace

TEST_CASE("generate: greedy reproduces every golden greedy_next_12") {
  for (const char* name : {"tiny-moe-a", "tiny-moe-b", "tiny-dense"}) {
    CAPTURE(name);
    Model model(name);
    auto cases = nlohmann::json::parse(test::read_file(test::data_path(std::string(name) + "/golden/cases.json")));
    for (auto& c : cases["cases"]) {
      auto ids = c["ids"].get<std::vector<int32_t>>();
      Session s(model.m);
      ernie_generate_params gp;
      ernie_generate_params_init(&gp);
      gp.max_tokens = 12;
      auto r = new_result();
      REQUIRE(ernie_session_generate(s.s, ids.data(), ids.size(), &gp, &r) == ERNIE_OK);
      CHECK(r.finish_reason == ERNIE_FINISH_LENGTH);
      CHECK(tokens_of(r) == c["greedy_next_12"].get<std::vector<int32_t>>());
      CHECK(r.n_prompt_tokens == static_cast<int32_t>(ids.size()));
    }
  }
}

TEST_CASE("generate: seeded sampling is deterministic per seed") {
  Model model("tiny-moe-b");
  std::vector<int32_t> prompt = {1, 5, 17, 200, 33};
  auto run = [&](uint64_t seed) {
    Session s(model.m);
    ernie_sampling_params sp;
    ernie_sampling_params_init(&sp);
    sp.temperature = 1.0f;
    sp.seed = seed;
    ernie_generate_params gp;
    ernie_generate_params_init(&gp);
    gp.sampling = &sp;
    gp.max_tokens = 24;
    auto r = new_result();
    REQUIRE(ernie_session_generate(s.s, prompt.data(), prompt.size(), &gp, &r) == ERNIE_OK);
    return tokens_of(r);
  };
  auto a = run(42);
  CHECK(a.size() > 0);
  CHECK(run(42) == a);
  CHECK(run(43) != a);
}

TEST_CASE("generate: streamed text equals the result, never splitting UTF-8") {
  Model model("tiny-moe-b");
  Session s(model.m);
  std::vector<int32_t> prompt = {1, 5, 17, 200, 33};
  Collected c;
  ernie_generate_params gp;
  ernie_generate_params_init(&gp);
  gp.max_tokens = 40;
  gp.on_event = collect;
  gp.user_data = &c;
  auto r = new_result();
  REQUIRE(ernie_session_generate(s.s, prompt.data(), prompt.size(), &gp, &r) == ERNIE_OK);
  CHECK(c.text == r.text);
  CHECK(c.events > 0);
  CHECK(std::string(r.text).size() > 0);
}

TEST_CASE("generate: a stop string straddling a token boundary stops and is cut") {
  Model model("tiny-moe-b");
  std::vector<int32_t> prompt = {1, 5, 17, 200, 33};
  ernie_generate_params gp;
  ernie_generate_params_init(&gp);
  gp.max_tokens = 40;
  std::string full;
  std::vector<int32_t> toks;
  {
    Session s(model.m);
    auto r = new_result();
    REQUIRE(ernie_session_generate(s.s, prompt.data(), prompt.size(), &gp, &r) == ERNIE_OK);
    full = r.text;
    toks = tokens_of(r);
  }
  // Find a token boundary inside the text with ASCII on both sides.
  std::string stop;
  size_t boundary = 0;
  for (size_t k = 1; k + 1 < toks.size() && stop.empty(); ++k) {
    char buf[4096];
    size_t len = 0;
    REQUIRE(ernie_detokenize(model.m, toks.data(), k, buf, sizeof buf, &len) == ERNIE_OK);
    if (len < 2 || len + 2 > full.size() || full.compare(0, len, buf, len) != 0) continue;
    std::string cand = full.substr(len - 1, 3);
    bool ascii = true;
    for (char ch : cand) ascii &= static_cast<unsigned char>(ch) < 0x80 && ch != ' ';
    if (ascii && full.find(cand) == len - 1) {
      stop = cand;
      boundary = len - 1;
    }
  }
  REQUIRE_MESSAGE(!stop.empty(), "no ASCII token boundary in: " << full);
  Session s(model.m);
  const char* stops[] = {"never-appears", stop.c_str()};
  gp.stop_strings = stops;
  gp.n_stop_strings = 2;
  Collected c;
  gp.on_event = collect;
  gp.user_data = &c;
  auto r = new_result();
  REQUIRE(ernie_session_generate(s.s, prompt.data(), prompt.size(), &gp, &r) == ERNIE_OK);
  CHECK(r.finish_reason == ERNIE_FINISH_STOP_STRING);
  CHECK(std::string(r.text) == full.substr(0, boundary));
  CHECK(c.text == full.substr(0, boundary));  // the stop string never reached the stream
}

TEST_CASE("generate: cancellation from the callback and from another thread") {
  Model model("tiny-moe-a");
  std::vector<int32_t> prompt = {1, 5, 17};
  Session s(model.m, 4096);
  Collected c;
  c.stop_after = 3;
  ernie_generate_params gp;
  ernie_generate_params_init(&gp);
  gp.max_tokens = 100;
  gp.n_logprobs = 1;  // an event for every token
  gp.on_event = collect;
  gp.user_data = &c;
  auto r = new_result();
  REQUIRE(ernie_session_generate(s.s, prompt.data(), prompt.size(), &gp, &r) == ERNIE_OK);
  CHECK(r.finish_reason == ERNIE_FINISH_CANCELLED);
  CHECK(r.n_generated_tokens == 3);

  // From another thread, while generating a long answer.
  Collected c2;
  gp.user_data = &c2;
  gp.max_tokens = 3000;
  std::thread canceller([&] {
    while (!c2.started) std::this_thread::yield();
    CHECK(ernie_session_cancel(s.s) == ERNIE_OK);
  });
  auto r2 = new_result();
  REQUIRE(ernie_session_generate(s.s, prompt.data(), prompt.size(), &gp, &r2) == ERNIE_OK);
  canceller.join();
  CHECK(r2.finish_reason == ERNIE_FINISH_CANCELLED);
  CHECK(r2.n_generated_tokens < 3000);

  // The session is still usable.
  gp.on_event = nullptr;
  gp.max_tokens = 4;
  auto r3 = new_result();
  REQUIRE(ernie_session_generate(s.s, prompt.data(), prompt.size(), &gp, &r3) == ERNIE_OK);
  CHECK(r3.finish_reason == ERNIE_FINISH_LENGTH);
  // The prompt was still cached; its last token is always re-evaluated (its
  // logits start the generation).
  CHECK(r3.n_cached_tokens == 2);
}

TEST_CASE("generate: context limits") {
  Model model("tiny-dense");
  Session s(model.m, 8);
  std::vector<int32_t> long_prompt(9, 5);
  ernie_generate_params gp;
  ernie_generate_params_init(&gp);
  auto r = new_result();
  CHECK(ernie_session_generate(s.s, long_prompt.data(), long_prompt.size(), &gp, &r) == ERNIE_E_CONTEXT_FULL);
  std::vector<int32_t> prompt(5, 5);
  REQUIRE(ernie_session_generate(s.s, prompt.data(), prompt.size(), &gp, &r) == ERNIE_OK);
  CHECK(r.finish_reason == ERNIE_FINISH_CONTEXT_FULL);
  CHECK(r.n_generated_tokens == 3);
  // Bad parameters.
  gp.max_tokens = -1;
  CHECK(ernie_session_generate(s.s, prompt.data(), prompt.size(), &gp, &r) == ERNIE_E_INVALID_ARGUMENT);
  ernie_generate_params_init(&gp);
  ernie_sampling_params sp;
  ernie_sampling_params_init(&sp);
  sp.top_p = 0;
  gp.sampling = &sp;
  CHECK(ernie_session_generate(s.s, prompt.data(), prompt.size(), &gp, &r) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(std::string(ernie_last_error()).find("top_p") != std::string::npos);
  CHECK(ernie_session_generate(s.s, nullptr, 0, nullptr, &r) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(ernie_session_cancel(nullptr) == ERNIE_E_INVALID_ARGUMENT);
}

TEST_CASE("save and restore: round trip continues identically, bad blobs are refused") {
  Model model("tiny-moe-b");
  std::vector<int32_t> prompt = {1, 5, 17, 200, 33};
  ernie_generate_params gp;
  ernie_generate_params_init(&gp);
  gp.max_tokens = 6;
  Session a(model.m);
  auto r = new_result();
  REQUIRE(ernie_session_generate(a.s, prompt.data(), prompt.size(), &gp, &r) == ERNIE_OK);
  void* blob = nullptr;
  size_t size = 0;
  REQUIRE(ernie_session_save(a.s, &blob, &size) == ERNIE_OK);
  std::string bytes(static_cast<char*>(blob), size);
  ernie_free(blob);

  Session b(model.m);
  REQUIRE(ernie_session_restore(b.s, bytes.data(), bytes.size()) == ERNIE_OK);
  const int32_t *ta, *tb;
  size_t na, nb;
  REQUIRE(ernie_session_tokens(a.s, &ta, &na) == ERNIE_OK);
  REQUIRE(ernie_session_tokens(b.s, &tb, &nb) == ERNIE_OK);
  REQUIRE(na == nb);
  std::vector<int32_t> ctx(ta, ta + na);
  CHECK(std::vector<int32_t>(tb, tb + nb) == ctx);
  // Continuing from the restored cache: everything but the last token cached.
  auto ra = new_result(), rb = new_result();
  REQUIRE(ernie_session_generate(a.s, ctx.data(), ctx.size(), &gp, &ra) == ERNIE_OK);
  REQUIRE(ernie_session_generate(b.s, ctx.data(), ctx.size(), &gp, &rb) == ERNIE_OK);
  CHECK(rb.n_cached_tokens == static_cast<int32_t>(ctx.size()) - 1);
  CHECK(tokens_of(ra) == tokens_of(rb));

  auto refused = [&](const std::string& blob_bytes, const char* fragment) {
    CHECK(ernie_session_restore(b.s, blob_bytes.data(), blob_bytes.size()) != ERNIE_OK);
    CHECK(std::string(ernie_last_error()).find(fragment) != std::string::npos);
  };
  refused(bytes.substr(0, 20), "not a saved ernie session");
  refused(bytes.substr(0, bytes.size() - 3), "damaged");
  std::string flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x40;
  refused(flipped, "damaged");
  std::string header = bytes;
  header[9] ^= 1;
  refused(header, "header is damaged");
  refused(std::string(100, 'x'), "not a saved ernie session");
  CHECK(ernie_session_restore(b.s, nullptr, 0) == ERNIE_E_INVALID_ARGUMENT);
  // From another model.
  Model other("tiny-moe-a");
  Session o(other.m);
  CHECK(ernie_session_restore(o.s, bytes.data(), bytes.size()) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(std::string(ernie_last_error()).find("different model") != std::string::npos);
  // Too big for a small session.
  Session small(model.m, 4);
  CHECK(ernie_session_restore(small.s, bytes.data(), bytes.size()) == ERNIE_E_CONTEXT_FULL);
  // Refusals left b as it was.
  REQUIRE(ernie_session_tokens(b.s, &tb, &nb) == ERNIE_OK);
  CHECK(nb == ctx.size() + static_cast<size_t>(rb.n_generated_tokens));
}

TEST_CASE("generate: response_schema_json makes the answer parse and validate") {
  const char* schema = R"({"type": "object", "properties": {"city": {"type": "string", "maxLength": 12},
    "days": {"type": "integer", "minimum": 1, "maximum": 14}, "units": {"enum": ["c", "f"]}},
    "required": ["city", "days"]})";
  for (const char* name : {"tiny-moe-b", "tiny-moe-a"}) {  // thinking and pt formats
    CAPTURE(name);
    Model model(name);
    for (uint64_t seed : {1, 2, 3, 4}) {
      CAPTURE(seed);
      Session s(model.m);
      ernie_sampling_params sp;
      ernie_sampling_params_init(&sp);
      sp.temperature = 1.0f;
      sp.seed = seed;
      ernie_generate_params gp;
      ernie_generate_params_init(&gp);
      gp.sampling = &sp;
      gp.max_tokens = 200;
      gp.response_schema_json = schema;
      ernie_message m{sizeof(ernie_message), "user", "Plan a trip", nullptr, nullptr, 0, nullptr};
      auto r = new_result();
      REQUIRE_MESSAGE(ernie_session_chat(s.s, &m, 1, nullptr, &gp, &r) == ERNIE_OK, ernie_last_error());
      CAPTURE(r.text);
      REQUIRE(r.finish_reason == ERNIE_FINISH_STOP_TOKEN);
      auto value = nlohmann::json::parse(r.text);
      CHECK(value["city"].is_string());
      CHECK(value["days"].get<int>() >= 1);
      CHECK(value["days"].get<int>() <= 14);
    }
  }
  Model model("tiny-moe-a");
  Session s(model.m);
  ernie_generate_params gp;
  ernie_generate_params_init(&gp);
  gp.response_schema_json = R"({"type": "object", "pattern": "x"})";
  std::vector<int32_t> prompt = {1, 5};
  CHECK(ernie_session_generate(s.s, prompt.data(), prompt.size(), &gp, nullptr) == ERNIE_E_INVALID_ARGUMENT);
  CHECK(std::string(ernie_last_error()).find("pattern") != std::string::npos);
}
