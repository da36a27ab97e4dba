// Generation: golden greedy tokens, the same seeded tokens as the C library's
// own CLI, streaming, cache reuse, save/restore, concurrent sessions.
using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;

namespace Ernie.Tests
{
    public static class GenerationTests
    {
        [Test]
        public static void GreedyMatchesGolden()
        {
            using (Model model = Model.Load(Fixtures.TinyB))
            {
                var golden = Fixtures.ReadJson<GoldenCases<GreedyCase>>(Path.Combine(Fixtures.DataDir, "tiny-moe-b/golden/cases.json"));
                foreach (GreedyCase c in golden.Cases)
                {
                    using (Session session = model.CreateSession())
                    {
                        GenerateResult r = session.Generate(c.Ids, new GenerateOptions { MaxTokens = 12 });
                        Assert.Equal(FinishReason.Length, r.FinishReason, "finish");
                        Assert.SequenceEqual(c.GreedyNext12, r.Tokens, "greedy tokens");
                    }
                }
            }
        }

        [Test]
        public static void SeededTokensMatchTheC()
        {
            // `ernie run --raw` tokenizes with special parsing and samples through the C API.
            string cli = Fixtures.RunCli("run", "-m", Fixtures.TinyB, "--raw", "-p", "Hello world", "--temp", "1.5", "--top-k", "0",
                                         "--top-p", "1", "--min-p", "0", "--seed", "1234", "-n", "16", "--json");
            int[] expected = Fixtures.TokensOfCliJson(cli);
            using (Model model = Model.Load(Fixtures.TinyB))
            using (Session session = model.CreateSession())
            {
                GenerateResult r = session.Generate(model.Tokenize("Hello world", parseSpecial: true),
                                                    new GenerateOptions { Sampling = Fixtures.Hot(1234), MaxTokens = 16 });
                Assert.SequenceEqual(expected, r.Tokens, "C# vs C tokens, seed 1234");
                Assert.True(r.Tokens.Distinct().Count() > 3, "the seed matters (varied tokens)");
                Console.WriteLine("      seed 1234: [{0}]", string.Join(", ", r.Tokens));
                GenerateResult other = session.Generate(model.Tokenize("Hello world", parseSpecial: true),
                                                        new GenerateOptions { Sampling = Fixtures.Hot(99), MaxTokens = 16 });
                Assert.True(!other.Tokens.SequenceEqual(r.Tokens), "another seed, other tokens");
            }
        }

        [Test]
        public static void SeededChatMatchesTheC()
        {
            string cli = Fixtures.RunCli("run", "-m", Fixtures.TinyB, "-p", "Tell me a story.", "--temp", "1.5", "--top-k", "0",
                                         "--top-p", "1", "--min-p", "0", "--seed", "7", "-n", "12", "--json");
            using (Model model = Model.Load(Fixtures.TinyB))
            using (Session session = model.CreateSession())
            {
                GenerateResult r = session.Chat(new[] { ChatMessage.User("Tell me a story.") }, null,
                                                new GenerateOptions { Sampling = Fixtures.Hot(7), MaxTokens = 12 });
                Assert.SequenceEqual(Fixtures.TokensOfCliJson(cli), r.Tokens, "C# vs C chat tokens, seed 7");
            }
        }

        [Test]
        public static void StreamedPiecesMakeTheResult()
        {
            using (Model model = Model.Load(Fixtures.TinyB))
            using (Session session = model.CreateSession())
            {
                var text = new StringBuilder();
                var reasoning = new StringBuilder();
                int sessionEvents = 0, optionEvents = 0;
                session.EventReceived += (sender, e) => sessionEvents++;
                var options = new GenerateOptions
                {
                    Sampling = Fixtures.Hot(3),
                    MaxTokens = 40,
                    ReasoningBudget = 8,
                    OnEvent = e =>
                    {
                        optionEvents++;
                        if (e.Type == EventType.Text) text.Append(e.Text);
                        if (e.Type == EventType.Reasoning) reasoning.Append(e.Text);
                    },
                };
                GenerateResult r = session.Chat(new[] { ChatMessage.User("Hello!") }, null, options);
                Assert.True(optionEvents > 0, "events arrived");
                Assert.Equal(optionEvents, sessionEvents, "session event and option callback see the same events");
                Assert.Equal(r.Text, text.ToString(), "streamed text");
                Assert.Equal(r.Reasoning, reasoning.ToString(), "streamed reasoning");
            }
        }

        [Test]
        public static void MultiTurnChatReusesTheCache()
        {
            using (Model model = Model.Load(Fixtures.TinyA))
            using (Session session = model.CreateSession())
            {
                var conversation = new[] { ChatMessage.System("You are helpful."), ChatMessage.User("Hello!") }.ToList();
                var options = new GenerateOptions { Sampling = Fixtures.Hot(1), MaxTokens = 8 };
                GenerateResult first = session.Chat(conversation, null, options);
                Assert.Equal(0, first.CachedTokens, "first turn");
                conversation.Add(ChatMessage.Assistant(first.Text));
                conversation.Add(ChatMessage.User("Tell me more."));
                GenerateResult second = session.Chat(conversation, null, options);
                Assert.True(second.CachedTokens > first.PromptTokens / 2, "second turn reuses the cache: " + second.CachedTokens);
                Assert.Equal(session.PastTokens, (long)session.Tokens.Length, "context size");
            }
        }

        [Test]
        public static void SaveAndRestoreContinueIdentically()
        {
            using (Model model = Model.Load(Fixtures.TinyB))
            using (Session a = model.CreateSession())
            using (Session b = model.CreateSession())
            {
                GenerateResult r = a.Generate(model.Tokenize("Once upon"), new GenerateOptions { Sampling = Fixtures.Hot(5), MaxTokens = 6 });
                byte[] blob = a.Save();
                b.Restore(blob);
                Assert.SequenceEqual(a.Tokens, b.Tokens, "restored context");
                int[] context = a.Tokens;
                var greedy = new GenerateOptions { MaxTokens = 5 };
                Assert.SequenceEqual(a.Generate(context, greedy).Tokens, b.Generate(context, greedy).Tokens, "continuations");
                Assert.True(r.Tokens.Length > 0, "generated");
            }
        }

        [Test]
        public static void EvalGivesTheGreedyLogits()
        {
            using (Model model = Model.Load(Fixtures.TinyB))
            using (Session session = model.CreateSession())
            {
                var golden = Fixtures.ReadJson<GoldenCases<GreedyCase>>(Path.Combine(Fixtures.DataDir, "tiny-moe-b/golden/cases.json"));
                GreedyCase c = golden.Cases[1];
                session.Eval(c.Ids, allLogits: true);
                float[] last = session.Logits();
                Assert.Equal(model.Info.VocabSize, last.Length, "vocab");
                int argmax = Array.IndexOf(last, last.Max());
                Assert.Equal(c.GreedyNext12[0], argmax, "argmax of the last logits");
                Assert.SequenceEqual(session.Logits(c.Ids.Length - 1), last, "index -1 is the last token");
                session.Truncate(1);
                Assert.Equal(1L, session.PastTokens, "truncated");
                session.Reset();
                Assert.Equal(0L, session.PastTokens, "reset");
            }
        }

        [Test]
        public static void ConcurrentSessionsGiveTheSameTokens()
        {
            using (Model model = Model.Load(Fixtures.TinyB, new ModelOptions { Threads = 1 }))
            {
                int[] prompt = model.Tokenize("Hello world");
                var results = new GenerateResult[3];
                var threads = Enumerable.Range(0, results.Length).Select(i => new Thread(() =>
                {
                    using (Session s = model.CreateSession())
                        results[i] = s.Generate(prompt, new GenerateOptions { Sampling = Fixtures.Hot(11), MaxTokens = 16 });
                })).ToList();
                threads.ForEach(t => t.Start());
                threads.ForEach(t => t.Join());
                Assert.SequenceEqual(results[0].Tokens, results[1].Tokens, "session 2");
                Assert.SequenceEqual(results[0].Tokens, results[2].Tokens, "session 3");
            }
        }

        [Test]
        public static void SchemaConstrainedAnswerIsJson()
        {
            using (Model model = Model.Load(Fixtures.TinyA))
            using (Session session = model.CreateSession())
            {
                var options = new GenerateOptions
                {
                    Sampling = Fixtures.Hot(2),
                    MaxTokens = 200,
                    ResponseSchemaJson = "{\"type\": \"object\", \"properties\": {\"n\": {\"type\": \"integer\"}}, \"required\": [\"n\"], \"additionalProperties\": false}",
                };
                GenerateResult r = session.Chat(new[] { ChatMessage.User("A number, as JSON.") }, null, options);
                Assert.Equal(FinishReason.StopToken, r.FinishReason, "a complete JSON value stops the answer");
                Assert.True(r.Text.TrimStart().StartsWith("{") && r.Text.Contains("\"n\""), "JSON answer: " + r.Text);
            }
        }

        [Test]
        public static void StopStringsAndStopTokensStop()
        {
            using (Model model = Model.Load(Fixtures.TinyA))
            using (Session session = model.CreateSession())
            {
                // tiny-moe-a's weights repeat token 567 ("d") when asked to continue "Hello world".
                int[] prompt = model.Tokenize("Hello world", parseSpecial: true);
                GenerateResult byToken = session.Generate(prompt, new GenerateOptions { MaxTokens = 10, StopTokens = new[] { 567 } });
                Assert.Equal(FinishReason.StopToken, byToken.FinishReason, "stop token");
                GenerateResult byString = session.Generate(prompt, new GenerateOptions { MaxTokens = 10, StopStrings = new[] { "dd" } });
                Assert.Equal(FinishReason.StopString, byString.FinishReason, "stop string");
            }
        }
    }
}
