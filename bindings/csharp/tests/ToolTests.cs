// Tool calling through the binding: automatic (callback), manual (pending
// calls sent back as messages), deferred (callback returns null), throwing.
using System;
using System.Collections.Generic;
using System.Linq;

namespace Ernie.Tests
{
    public static class ToolTests
    {
        private static readonly Tool Calculator = new Tool("calculator", "Adds two numbers",
            "{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"integer\"}, \"b\": {\"type\": \"integer\"}}, \"required\": [\"a\", \"b\"]}");

        private static ChatOptions RequireTool()
        {
            // One call per turn: the random-weight model would otherwise ramble on after it.
            return new ChatOptions { Tools = new[] { Calculator }, ToolChoice = ToolChoice.Required, ParallelToolCalls = false };
        }

        private static GenerateOptions Options(Func<ToolCall, string> onToolCall)
        {
            return new GenerateOptions { MaxTokens = 200, ReasoningBudget = 8, OnToolCall = onToolCall, MaxToolRounds = 1 };
        }

        [Test]
        public static void AutomaticRoundTrip()
        {
            using (Model model = Model.Load(Fixtures.TinyB))
            using (Session session = model.CreateSession())
            {
                var calls = new List<ToolCall>();
                GenerateResult r = session.Chat(new[] { ChatMessage.User("What is 2 + 3?") }, RequireTool(),
                                                Options(call => { calls.Add(call); return "{\"result\": 5}"; }));
                Assert.True(calls.Count >= 1, "the tool ran");
                Assert.Equal("calculator", calls[0].Name, "tool name");
                Assert.Contains("\"a\"", calls[0].ArgumentsJson, "arguments follow the schema");
                Assert.Contains("{\\\"result\\\": 5}", r.MessagesJson, "the tool result is in the added messages");
            }
        }

        [Test]
        public static void ManualModeReturnsPendingCalls()
        {
            using (Model model = Model.Load(Fixtures.TinyB))
            using (Session session = model.CreateSession())
            {
                var conversation = new List<ChatMessage> { ChatMessage.User("What is 2 + 3?") };
                GenerateResult r = session.Chat(conversation, RequireTool(), Options(null));
                Assert.Equal(FinishReason.ToolCalls, r.FinishReason, "finish");
                Assert.True(r.ToolCalls.Count >= 1, "pending calls");
                ToolCall call = r.ToolCalls[0];
                Assert.Equal("calculator", call.Name, "name");
                conversation.Add(new ChatMessage { Role = "assistant", ToolCalls = r.ToolCalls.ToList() });
                conversation.Add(ChatMessage.ToolResult(call.Id, "{\"result\": 5}"));
                var answer = session.Chat(conversation, new ChatOptions { Tools = new[] { Calculator }, ToolChoice = ToolChoice.None },
                                          new GenerateOptions { MaxTokens = 8, ReasoningBudget = 4 });
                Assert.True(answer.CachedTokens > 0, "the turn with the tool result reuses the cache");
            }
        }

        [Test]
        public static void NullResultDefers()
        {
            using (Model model = Model.Load(Fixtures.TinyB))
            using (Session session = model.CreateSession())
            {
                GenerateResult r = session.Chat(new[] { ChatMessage.User("What is 2 + 3?") }, RequireTool(), Options(call => null));
                Assert.Equal(FinishReason.ToolCalls, r.FinishReason, "deferred (reasoning <" + r.Reasoning + ">, text <" + r.Text + ">, " + r.GeneratedTokens + " tokens)");
                Assert.True(r.ToolCalls.Count >= 1, "the deferred call is reported");
            }
        }

        [Test]
        public static void ThrowingToolCallbackRethrows()
        {
            using (Model model = Model.Load(Fixtures.TinyB))
            using (Session session = model.CreateSession())
            {
                var e = Assert.Throws<KeyNotFoundException>(
                    () => session.Chat(new[] { ChatMessage.User("What is 2 + 3?") }, RequireTool(), Options(call => { throw new KeyNotFoundException("no such tool"); })),
                    "tool exception");
                Assert.Equal("no such tool", e.Message, "message");
                Assert.True(session.Chat(new[] { ChatMessage.User("Hi") }, null, new GenerateOptions { MaxTokens = 2 }) != null, "usable afterwards");
            }
        }

        [Test]
        public static void ToolsAsJsonWork()
        {
            using (Model model = Model.Load(Fixtures.TinyB))
            using (Session session = model.CreateSession())
            {
                var chat = new ChatOptions
                {
                    ToolsJson = "[{\"type\": \"function\", \"function\": {\"name\": \"ping\", \"parameters\": {\"type\": \"object\", \"properties\": {}}}}]",
                    ToolChoice = ToolChoice.Named,
                    ToolChoiceName = "ping",
                    ParallelToolCalls = false,
                };
                GenerateResult r = session.Chat(new[] { ChatMessage.User("ping") }, chat, Options(null));
                Assert.Equal("ping", r.ToolCalls[0].Name, "named tool");
            }
        }
    }
}
