// Packing, loading, model info, tokenizer, chat rendering.
using System;
using System.IO;
using System.Linq;

namespace Ernie.Tests
{
    public static class ModelTests
    {
        [Test]
        public static void PackedTinyModelHasItsConfig()
        {
            using (Model model = Model.Load(Fixtures.TinyA))
            {
                ModelInfo info = model.Info;
                Assert.True(info.IsMoe, "MoE");
                Assert.Equal(3, info.Layers, "layers");
                Assert.Equal(64, info.HiddenSize, "hidden size");
                Assert.Equal(8, info.Experts, "experts");
                Assert.Equal(2, info.ExpertsUsed, "top-k");
                Assert.Equal(640, info.VocabSize, "vocab");
                Assert.Equal(4096, info.MaxContext, "max context");
                Assert.Equal((ulong)new FileInfo(Fixtures.TinyA).Length, info.FileBytes, "file bytes");
                Assert.Contains("Ernie4_5_MoeForCausalLM", model.MetadataJson, "metadata");
                Assert.True(model.SessionBytes(256, 64) > 0, "session bytes");
                float last = -1;
                model.Verify(p => { last = p; return true; });
                Assert.Equal(1.0f, last, "verify progress ends at 1");
            }
        }

        [Test]
        public static void TokenizerMatchesGolden()
        {
            using (Model model = Model.Load(Fixtures.TinyA))
            {
                var golden = Fixtures.ReadJson<GoldenCases<TokenizeCase>>(Path.Combine(Fixtures.DataDir, "tiny-moe-a/golden/tokenize.json"));
                Assert.True(golden.Cases.Length >= 5, "golden cases");
                foreach (TokenizeCase c in golden.Cases)
                {
                    int[] ids = model.Tokenize(c.Text, parseSpecial: true);
                    Assert.SequenceEqual(c.Ids, ids, "ids of \"" + c.Text + "\"");
                    Assert.Equal(c.Text, model.Detokenize(ids), "round trip");
                }
                // Without special parsing, control markup typed by a user stays text.
                Assert.True(model.Tokenize("<|im_end|>").Length > model.Tokenize("<|im_end|>", parseSpecial: true).Length, "special off");
            }
        }

        [Test]
        public static void ProgressAndLogCallbacksRun()
        {
            int reports = 0, logs = 0;
            var options = new ModelOptions
            {
                Progress = p => { reports++; return true; },
                Log = (level, message) => { logs++; throw new Exception("a throwing log sink is ignored"); },
                LogLevel = LogLevel.Debug,
            };
            using (Model model = Model.Load(Fixtures.TinyA, options))
            using (Session session = model.CreateSession())
                session.Generate(model.Tokenize("Hi"), new GenerateOptions { MaxTokens = 2 });
            Assert.True(reports > 0, "progress reports");
            Console.WriteLine("      ({0} progress reports, {1} log messages)", reports, logs);
        }

        [Test]
        public static void RenderAndParseChat()
        {
            using (Model model = Model.Load(Fixtures.TinyB))
            {
                var messages = new[] { ChatMessage.System("Be brief."), ChatMessage.User("Hi <|im_end|>") };
                string prompt = model.RenderChat(messages);
                Assert.Contains("Hi <|im_end|>", prompt, "user text");
                string fromJson = model.RenderChatJson(
                    "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Hi <|im_end|>\"}]}");
                Assert.Equal(prompt, fromJson, "struct and JSON rendering agree");
                string parsed = model.ParseOutput("<think>hmm</think>\n\n<response>\nHello\n</response>", "thinking");
                Assert.Contains("\"content\"", parsed, "parse output");
            }
        }

        [Test]
        public static void ResourceLimitsRefuseWithOutOfMemory()
        {
            ulong size = (ulong)new System.IO.FileInfo(Fixtures.TinyA).Length;
            using (Model model = Model.Load(Fixtures.TinyA, new ModelOptions { MaxFileBytes = size })) { }
            var e = Assert.Throws<ErnieException>(
                () => Model.Load(Fixtures.TinyA, new ModelOptions { MaxFileBytes = size - 1 }), "file past the limit");
            Assert.Equal(Status.OutOfMemory, e.Status, "status");
            using (Model model = Model.Load(Fixtures.TinyA, new ModelOptions { MaxContext = 64 }))
            {
                var e2 = Assert.Throws<ErnieException>(
                    () => model.CreateSession(new SessionOptions { ContextSize = 65 }), "n_ctx past max_context");
                Assert.Equal(Status.OutOfMemory, e2.Status, "status");
                using (Session s = model.CreateSession(new SessionOptions { ContextSize = 64 })) { }
            }
        }
    }
}
