// Deliberately wrong use must end in an exception, never a crash: double
// dispose, use after dispose, overlapping calls, dispose during a
// generation, bad arguments and files, and the garbage collector running
// while native code holds callbacks.
using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Ernie.Tests
{
    public static class MisuseTests
    {
        [Test]
        public static void DoubleDisposeIsHarmless()
        {
            Model model = Model.Load(Fixtures.TinyA);
            Session session = model.CreateSession();
            session.Dispose();
            session.Dispose();
            model.Dispose();
            model.Dispose();
        }

        [Test]
        public static void UseAfterDisposeThrows()
        {
            Model model = Model.Load(Fixtures.TinyA);
            Session session = model.CreateSession();
            session.Dispose();
            Assert.Throws<ObjectDisposedException>(() => session.Generate(new[] { 1 }), "generate");
            Assert.Throws<ObjectDisposedException>(() => session.Cancel(), "cancel");
            Assert.Throws<ObjectDisposedException>(() => { var t = session.Tokens; }, "tokens");
            model.Dispose();
            Assert.Throws<ObjectDisposedException>(() => model.Tokenize("x"), "tokenize");
            Assert.Throws<ObjectDisposedException>(() => model.CreateSession(), "create session");
            Assert.Throws<ObjectDisposedException>(() => { var m = model.MetadataJson; }, "metadata");
        }

        [Test]
        public static void SessionKeepsItsModelAlive()
        {
            Model model = Model.Load(Fixtures.TinyA);
            int[] prompt = model.Tokenize("Hello");
            using (Session session = model.CreateSession())
            {
                model.Dispose();
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Assert.Equal(4, session.Generate(prompt, new GenerateOptions { MaxTokens = 4 }).GeneratedTokens, "still generates");
                Assert.Throws<ObjectDisposedException>(() => session.Model.Tokenize("x"), "the disposed Model object itself");
            }
        }

        [Test]
        public static void OverlappingCallsAreRefused()
        {
            using (Model model = Model.Load(Fixtures.TinyA))
            using (Session session = model.CreateSession())
            {
                var inside = new ManualResetEventSlim();
                var release = new ManualResetEventSlim();
                Task<GenerateResult> run = Task.Run(() => session.Generate(model.Tokenize("Hi"), new GenerateOptions
                {
                    MaxTokens = 4,
                    OnEvent = e => { inside.Set(); release.Wait(); },
                }));
                Assert.True(inside.Wait(10000), "generation started");
                var e1 = Assert.Throws<InvalidOperationException>(() => session.Generate(new[] { 1 }), "second generate");
                Assert.Contains("must not overlap", e1.Message, "message");
                Assert.Throws<InvalidOperationException>(() => session.Reset(), "reset during generate");
                release.Set();
                Assert.Equal(4, run.Result.GeneratedTokens, "the first call finishes normally");
            }
        }

        [Test]
        public static void DisposeDuringGenerationWaitsForIt()
        {
            Model model = Model.Load(Fixtures.TinyA);
            Session session = model.CreateSession();
            var inside = new ManualResetEventSlim();
            var release = new ManualResetEventSlim();
            Task<GenerateResult> run = Task.Run(() => session.Generate(model.Tokenize("Hi"), new GenerateOptions
            {
                MaxTokens = 6,
                OnEvent = e => { inside.Set(); release.Wait(); },
            }));
            Assert.True(inside.Wait(10000), "generation started");
            session.Dispose(); // from another thread, mid-generation: the free waits for the call
            model.Dispose();
            release.Set();
            Assert.Equal(6, run.Result.GeneratedTokens, "the running generation completes");
            Assert.Throws<ObjectDisposedException>(() => session.Generate(new[] { 1 }), "then the session is gone");
        }

        [Test]
        public static void BadFilesAndArgumentsThrow()
        {
            string missing = Path.Combine(Fixtures.TempDir, "no-such-model.ernie");
            var io = Assert.Throws<ErnieException>(() => Model.Load(missing), "missing file");
            Assert.Equal(Status.Io, io.Status, "status");
            Assert.Contains("no-such-model.ernie", io.Message, "message names the file");

            string garbage = Path.Combine(Fixtures.TempDir, "garbage.ernie");
            File.WriteAllText(garbage, "this is not a model");
            var bad = Assert.Throws<ErnieException>(() => Model.Load(garbage), "garbage file");
            Assert.True(bad.Status == Status.InvalidModel || bad.Status == Status.Io, "status " + bad.Status);

            Assert.Throws<ArgumentNullException>(() => Model.Load(null), "null path");
            var packMissing = Assert.Throws<ErnieException>(
                () => ErnieLibrary.Pack(Path.Combine(Fixtures.TempDir, "no-checkpoint"), Path.Combine(Fixtures.TempDir, "x.ernie")), "pack");
            Assert.Equal(Status.Io, packMissing.Status, "pack status");

            using (Model model = Model.Load(Fixtures.TinyA))
            {
                var negative = Assert.Throws<ErnieException>(() => model.CreateSession(new SessionOptions { ContextSize = -1 }), "negative n_ctx");
                Assert.Equal(Status.InvalidArgument, negative.Status, "n_ctx status");
                Assert.Throws<ArgumentException>(() => model.Tokenize("lone \ud800 surrogate"), "invalid UTF-16");
                Assert.Throws<ErnieException>(() => model.Detokenize(new[] { 1, -5 }), "negative token id");
                using (Session session = model.CreateSession(new SessionOptions { ContextSize = 16 }))
                {
                    var outOfVocab = Assert.Throws<ErnieException>(() => session.Generate(new[] { 1, 99999 }), "token id beyond the vocabulary");
                    Assert.Equal(Status.InvalidArgument, outOfVocab.Status, "vocab status");
                    var full = Assert.Throws<ErnieException>(() => session.Generate(new int[40]), "prompt longer than the context");
                    Assert.Equal(Status.ContextFull, full.Status, "context full");
                    var blob = Assert.Throws<ErnieException>(() => session.Restore(new byte[] { 1, 2, 3 }), "garbage blob");
                    Assert.Equal(Status.InvalidArgument, blob.Status, "restore status");
                    Assert.Throws<ErnieException>(() => session.Logits(5), "logits of a token that was not evaluated");
                    Assert.Throws<ArgumentNullException>(() => session.Chat(null), "null messages");
                    Assert.Throws<ArgumentNullException>(() => session.Chat(new ChatMessage[] { null }), "null message");
                    var role = Assert.Throws<ErnieException>(() => session.Chat(new[] { new ChatMessage("wizard", "hi") }), "unknown role");
                    Assert.Equal(Status.InvalidArgument, role.Status, "role status");
                    Assert.Equal(FinishReason.Length, session.Generate(new[] { 1 }, new GenerateOptions { MaxTokens = 2 }).FinishReason,
                                 "the session survives all of it");
                }
            }
        }

        [Test]
        public static void GarbageCollectionDuringCallbacksIsSafe()
        {
            // Models and sessions dropped without Dispose are released by finalizers;
            // callbacks keep working while the collector runs inside them.
            for (int i = 0; i < 3; i++)
            {
                var model = Model.Load(Fixtures.TinyA, new ModelOptions { Log = (l, m) => { }, LogLevel = LogLevel.Debug });
                model.CreateSession().Generate(model.Tokenize("Hi"), new GenerateOptions { MaxTokens = 3 });
            }
            using (Model model = Model.Load(Fixtures.TinyA))
            using (Session session = model.CreateSession())
            {
                int events = 0;
                session.Generate(model.Tokenize("Hi"), new GenerateOptions
                {
                    MaxTokens = 5,
                    OnEvent = e => { events++; GC.Collect(); GC.WaitForPendingFinalizers(); },
                });
                Assert.Equal(5, events, "every event arrived");
            }
        }
    }
}
