// Parsing thinking-format output: every golden case, hostile and broken
// outputs, and the streaming parser agreeing with the one-shot parser for
// every way of splitting the text.
#include <doctest/doctest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "tools/tool_call_parser.h"
#include "util/error.h"
#include "util/utf8.h"

using ernie::AssistantOutput;
using ernie::OutputEvent;
using Json = nlohmann::ordered_json;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), "cannot open " << path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Json to_json(const AssistantOutput& out) {
  Json calls = Json::array();
  for (const auto& c : out.tool_calls)
    calls.push_back({{"name", c.name}, {"arguments", c.arguments}});
  return {{"reasoning_content", out.reasoning_content},
          {"content", out.content},
          {"tool_calls", calls},
          {"invalid_tool_calls", out.invalid_tool_calls}};
}

// Streams `pieces`, rebuilds the output from the events alone, and checks it
// equals the parser's own result() and that no delta splits a character.
AssistantOutput stream(const std::vector<std::string_view>& pieces) {
  ernie::AssistantOutputParser parser;
  AssistantOutput from_events;
  auto apply = [&](const std::vector<OutputEvent>& events) {
    for (const auto& e : events) {
      switch (e.kind) {
        case OutputEvent::Kind::reasoning_delta:
          CHECK_FALSE(e.text.empty());
          CHECK(ernie::utf8_valid(e.text));
          from_events.reasoning_content += e.text;
          break;
        case OutputEvent::Kind::content_delta:
          CHECK_FALSE(e.text.empty());
          CHECK(ernie::utf8_valid(e.text));
          from_events.content += e.text;
          break;
        case OutputEvent::Kind::tool_call: from_events.tool_calls.push_back(e.tool_call); break;
        case OutputEvent::Kind::invalid_tool_call: ++from_events.invalid_tool_calls; break;
      }
    }
  };
  for (auto piece : pieces) apply(parser.feed(piece));
  apply(parser.finish());
  CHECK(to_json(from_events) == to_json(parser.result()));
  return parser.result();
}

// The one-shot result must come out of every two-way split and of
// byte-by-byte feeding.
void check_split_invariance(std::string_view text) {
  Json expected = to_json(ernie::parse_assistant_output(text));
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    CAPTURE(cut);
    REQUIRE(to_json(stream({text.substr(0, cut), text.substr(cut)})) == expected);
  }
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < text.size(); ++i) bytes.push_back(text.substr(i, 1));
  REQUIRE(to_json(stream(bytes)) == expected);
}

Json parse(std::string_view text) { return to_json(ernie::parse_assistant_output(text)); }

Json expect(const char* reasoning, const char* content, Json calls, size_t invalid) {
  return {{"reasoning_content", reasoning},
          {"content", content},
          {"tool_calls", calls},
          {"invalid_tool_calls", invalid}};
}

// Outputs that go wrong in every way the parser knows about; each one is also
// checked for split invariance below.
const std::vector<std::string>& adversarial_outputs() {
  static const std::vector<std::string> outputs = {
      "",
      "no end of thinking <tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>",
      "r\n</think>\n\n\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"s\": "
      "\"a</tool_call>b\"}}\n"
      "</tool_call>\n<|im_end|>",
      "r</think><tool_call>{\"name\": \"f\", \"arguments\": {\"s\": \"}}{{[\\\"\", \"n\": {\"a\": "
      "[1, "
      "{\"b\": \"]\"}]}}}</tool_call>",
      "r</think>\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": \"x",
      "r</think>\n<tool_call>\n{\"name\": \"f\", \"arguments\": {}} garbage\n</tool_call>\n"
      "<tool_call>\n{\"name\": \"g\", \"arguments\": {\"k\": 1}}\n</tool_call>",
      "r</think>\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"city\": "
      "\"Paris\"\n</tool_call>\n"
      "<tool_call>\n{\"name\": \"g\", \"arguments\": {}}\n</tool_call>\n<|im_end|>",
      "r</think>\n<tool_call>\n{\"name\": \"unterminated, \"arguments\": "
      "{}}\n</tool_call>\n<tool_call>\n"
      "{\"name\": \"g\", \"arguments\": {}}\n</tool_call>",
      "r</think>\n<tool_call>\nhello\n</tool_call>\n<response>\nafter\n</response>",
      "r</think>\n<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n<|im_end|>",
      "r</think>\n<tool_call>\n{\"name\": \"f\", \"arguments\": {}}",
      "r</think>\n<tool_call>\n{\"name\": \"f\", \"arguments\": \"{\\\"a\\\": 1}\"}\n</tool_call>",
      "r</think>\n<tool_call>\n{\"name\": \"f\", \"arguments\": \"[1]\"}\n</tool_call>",
      "r</think>\n<tool_call>\n{\"name\": \"f\", \"arguments\": [1]}\n</tool_call>",
      "r</think>\n<tool_call>\n{\"name\": 5, \"arguments\": {}}\n</tool_call>",
      "r</think>\n<tool_call>\n{\"arguments\": {}}\n</tool_call>",
      "r</think>\n<tool_call>\n{\"name\": \"\", \"arguments\": {}}\n</tool_call>",
      "r</think>\n<tool_call>\n{\"name\": \"f\"}\n</tool_call>",
      "r</think>\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": "
      "\"<|im_end|>\"}}\n</tool_call>",
      "r</think>\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1,}}\n</tool_call>",
      "r</think>\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": tru}}\n</tool_call>",
      "r</think>\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1]}\n</tool_call>",
      "r</think>\n<tool_call>\n</tool_call>\n",
      "r</think>\n\n<response>\nHi\n\n</response>\n\n<response>\nagain\n</"
      "response>\n<|im_end|>after",
      "r</think>\n\nloose text\n\nline 2 \n<tool_call>\n{\"name\": \"f\", \"arguments\": "
      "{}}\n</tool_call>"
      "\n tail \n",
      "r</think>\n<response>\ncut short\n",
      "\n\n r \n\n</think></think>\n</response><response></response>\n",
      "\xff bad \xe4\xb8 bytes \xed\xa0\x80</think>\n<response>\n\xe4\xb8\xad\xe6\x96\x87 "
      "\xf0\x9f\x98\n"
      "</response>\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"s\": \"\xe4\xb8\xad\xff\"}}\n"
      "</tool_call>\xe4",
      "thinking <|im_end|> ignored</think>",
      "<<</thin</think><</respons<respons<response>><</response</response>",
      "r</think>\r\n\t<tool_call> \t\r\n{\"name\": \"f\", \"arguments\": {}}\r\n </tool_call>",
  };
  return outputs;
}

}  // namespace

TEST_CASE("tool parse: every golden case") {
  Json cases = Json::parse(read_text(ERNIE_TEST_DATA_DIR "/tool_parse.json")).at("cases");
  REQUIRE(cases.size() >= 4);
  for (size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(i);
    std::string output = cases[i].at("output").get<std::string>();
    CHECK(parse(output) == cases[i].at("expected"));
  }
}

TEST_CASE("tool parse: streaming equals one-shot for every split of every golden case") {
  Json cases = Json::parse(read_text(ERNIE_TEST_DATA_DIR "/tool_parse.json")).at("cases");
  for (size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(i);
    std::string output = cases[i].at("output").get<std::string>();
    check_split_invariance(output);
    // Every three-way split too (the outputs are short).
    Json expected = cases[i].at("expected");
    for (size_t a = 0; a <= output.size(); a += 3)
      for (size_t b = a; b <= output.size(); ++b)
        REQUIRE(to_json(stream({std::string_view(output).substr(0, a),
                                std::string_view(output).substr(a, b - a),
                                std::string_view(output).substr(b)})) == expected);
  }
}

TEST_CASE("tool parse: malformed, truncated and adversarial outputs") {
  const auto& o = adversarial_outputs();
  Json none = Json::array();
  CHECK(parse(o[0]) == expect("", "", none, 0));
  // Cut off before </think>: all reasoning, even text that looks like a call.
  CHECK(parse(o[1]) ==
        expect("no end of thinking <tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>",
               "", none, 0));
  // "</tool_call>" and brackets inside strings do not end the JSON.
  CHECK(parse(o[2]) ==
        expect("r", "", Json::parse(R"([{"name":"f","arguments":{"s":"a</tool_call>b"}}])"), 0));
  CHECK(parse(o[3]) ==
        expect("r", "",
               Json::parse(R"([{"name":"f","arguments":{"s":"}}{{[\"","n":{"a":[1,{"b":"]"}]}}}])"),
               0));
  // Unterminated JSON at the end of the output.
  CHECK(parse(o[4]) == expect("r", "", none, 1));
  // Garbage after the JSON makes that call invalid; the next call still counts.
  CHECK(parse(o[5]) == expect("r", "", Json::parse(R"([{"name":"g","arguments":{"k":1}}])"), 1));
  // An unclosed object ends at its </tool_call>, so the next call survives.
  CHECK(parse(o[6]) == expect("r", "", Json::parse(R"([{"name":"g","arguments":{}}])"), 1));
  CHECK(parse(o[7]) == expect("r", "", Json::parse(R"([{"name":"g","arguments":{}}])"), 1));
  CHECK(parse(o[8]) == expect("r", "after", none, 1));
  // A call needs its </tool_call>.
  CHECK(parse(o[9]) == expect("r", "", none, 1));
  CHECK(parse(o[10]) == expect("r", "", none, 1));
  // Arguments as a JSON string holding an object are accepted, not otherwise.
  CHECK(parse(o[11]) == expect("r", "", Json::parse(R"([{"name":"f","arguments":{"a":1}}])"), 0));
  for (size_t i = 12; i <= 17; ++i) {
    CAPTURE(i);
    CHECK(parse(o[i]) == expect("r", "", none, 1));
  }
  CHECK(parse(o[18]) ==
        expect("r", "", Json::parse(R"([{"name":"f","arguments":{"a":"<|im_end|>"}}])"), 0));
  for (size_t i = 19; i <= 22; ++i) {
    CAPTURE(i);
    CHECK(parse(o[i]) == expect("r", "", none, 1));
  }
  // Response bodies lose exactly one newline at each end; pieces join with
  // "\n"; nothing after <|im_end|> counts.
  CHECK(parse(o[23]) == expect("r", "Hi\n\nagain", none, 0));
  // Loose text after </think> is content, trimmed of surrounding whitespace.
  CHECK(parse(o[24]) == expect("r", "loose text\n\nline 2\ntail",
                               Json::parse(R"([{"name":"f","arguments":{}}])"), 0));
  CHECK(parse(o[25]) == expect("r", "cut short", none, 0));
  CHECK(parse(o[26]) == expect(" r ", "</think>\n</response>", none, 0));
  // Invalid UTF-8 becomes U+FFFD, wherever it is (the stray byte at the very
  // end is loose text: a content piece of its own).
  CHECK(parse(o[27]) ==
        expect("\xef\xbf\xbd bad \xef\xbf\xbd bytes \xef\xbf\xbd\xef\xbf\xbd",
               "\xe4\xb8\xad\xe6\x96\x87 \xef\xbf\xbd\n\xef\xbf\xbd",
               Json::array({{{"name", "f"}, {"arguments", {{"s", "\xe4\xb8\xad\xef\xbf\xbd"}}}}}),
               0));
  // Only newlines are stripped from reasoning (the template's strip('\n')).
  CHECK(parse(o[28]) == expect("thinking ", "", none, 0));
  CHECK(parse(o[29]) == expect("<<</thin", "<</respons<respons\n><</response", none, 0));
  CHECK(parse(o[30]) == expect("r", "", Json::parse(R"([{"name":"f","arguments":{}}])"), 0));
}

TEST_CASE("tool parse: streaming equals one-shot for adversarial outputs, any split") {
  for (const auto& text : adversarial_outputs()) {
    CAPTURE(text);
    check_split_invariance(text);
  }
  // Random multi-piece splits of the concatenated corpus.
  std::string all;
  for (const auto& text : adversarial_outputs()) all += text;
  Json expected = parse(all);
  std::mt19937 rng(42);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::string_view> pieces;
    for (size_t pos = 0; pos < all.size();) {
      size_t len = std::min<size_t>(all.size() - pos, rng() % 16);
      pieces.push_back(std::string_view(all).substr(pos, len));
      pos += len;
    }
    REQUIRE(to_json(stream(pieces)) == expected);
  }
}

TEST_CASE("tool parse: deep nesting and very long outputs") {
  // Arguments nested past the limit make the call invalid, nothing worse.
  std::string deep = "r</think><tool_call>{\"name\": \"f\", \"arguments\": ";
  for (int i = 0; i < 100000; ++i) deep += "[";
  deep += "</tool_call><response>\nok\n</response>";
  CHECK(parse(deep) == expect("r", "ok", Json::array(), 1));

  // Megabytes of reasoning, whitespace and a huge string argument.
  std::string reasoning(2 << 20, 'x');
  std::string big_arg(2 << 20, '}');
  std::string spaces(1 << 20, '\n');
  std::string text = reasoning + spaces + "</think>" + spaces +
                     "<tool_call>{\"name\": \"f\", \"arguments\": {\"s\": \"" + big_arg + "\"}}" +
                     spaces + "</tool_call>";
  AssistantOutput out = ernie::parse_assistant_output(text);
  CHECK(out.reasoning_content == reasoning);
  REQUIRE(out.tool_calls.size() == 1);
  CHECK(out.tool_calls[0].arguments["s"].get<std::string>() == big_arg);

  // Byte-by-byte over a long output stays fast (no quadratic rescans).
  std::string long_text =
      std::string(50000, 'r') + std::string(50000, '\n') + "</think>" + std::string(50000, ' ') +
      "<tool_call>{\"name\": \"f\", \"arguments\": {\"s\": \"" + std::string(50000, '<') + "\"}}" +
      std::string(50000, ' ') + "garbage" + std::string(50000, '<') + "</tool_call><response>\n" +
      std::string(50000, '\n') + "</response>";
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < long_text.size(); ++i)
    bytes.push_back(std::string_view(long_text).substr(i, 1));
  CHECK(to_json(stream(bytes)) == parse(long_text));
  CHECK(parse(long_text)["content"] == std::string(49999, '\n'));
}

TEST_CASE("tool parse: events arrive as soon as they are known") {
  ernie::AssistantOutputParser p;
  auto ev = p.feed("Thinking about it\n</thi");
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].kind == OutputEvent::Kind::reasoning_delta);
  CHECK(ev[0].text == "Thinking about it");  // "\n" and "</thi" held back
  CHECK(p.feed("nk>\n\n<response>\nHel").at(0).text == "Hel");
  CHECK(p.feed("lo \xe4\xb8").at(0).text == "lo ");  // no half character
  CHECK(p.feed("\xad\n").at(0).text == "\xe4\xb8\xad");
  ev = p.feed("</response>\n<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>");
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].kind == OutputEvent::Kind::tool_call);
  CHECK(ev[0].tool_call.name == "f");
  ev = p.feed("<tool_call>nope</tool_call>");
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].kind == OutputEvent::Kind::invalid_tool_call);
  CHECK(ev[0].text == "nope");
  CHECK(p.finish().empty());
  CHECK(p.result().content == "Hello \xe4\xb8\xad");
  try {
    p.feed("x");
    FAIL("feed after finish accepted");
  } catch (const ernie::Error& e) {
    CHECK(e.status() == ERNIE_E_INVALID_ARGUMENT);
  }
}
