// Stopping a generation: from the callback, from another thread with
// Session.Cancel, with a CancellationToken; and callbacks that throw.
using System;
using System.Threading;
using System.Threading.Tasks;
using System.IO;

namespace Ernie.Tests
{
    public static class CancellationTests
    {
        private static GenerateOptions Long(Action<GenerationEventArgs> onEvent = null)
        {
            return new GenerateOptions { Sampling = Fixtures.Hot(1), MaxTokens = 0, OnEvent = onEvent }; // 0: up to the context
        }

        [Test]
        public static void CallbackCancels()
        {
            using (Model model = Model.Load(Fixtures.TinyA))
            using (Session session = model.CreateSession())
            {
                int events = 0;
                GenerateResult r = session.Generate(model.Tokenize("Hi"), Long(e => e.Cancel = ++events == 3));
                Assert.Equal(FinishReason.Cancelled, r.FinishReason, "finish");
                Assert.Equal(3, events, "no event after the cancelling one");
                GenerateResult again = session.Generate(model.Tokenize("Hi"), new GenerateOptions { MaxTokens = 2 });
                Assert.Equal(FinishReason.Length, again.FinishReason, "the session is usable afterwards");
            }
        }

        [Test]
        public static void CancelFromAnotherThread()
        {
            using (Model model = Model.Load(Fixtures.TinyA))
            using (Session session = model.CreateSession())
            {
                var generating = new ManualResetEventSlim();
                var cancelled = new ManualResetEventSlim();
                // The first event parks the generation until the other thread has cancelled,
                // so the cancel certainly lands while the generation runs.
                Task<GenerateResult> run = Task.Run(() => session.Generate(model.Tokenize("Hi"), Long(e =>
                {
                    generating.Set();
                    cancelled.Wait();
                })));
                Assert.True(generating.Wait(10000), "generation started");
                session.Cancel();
                cancelled.Set();
                Assert.Equal(FinishReason.Cancelled, run.Result.FinishReason, "finish");
                Assert.True(run.Result.GeneratedTokens < 100, "stopped promptly: " + run.Result.GeneratedTokens);
            }
        }

        [Test]
        public static void CancellationTokenThrowsAndLeavesTheSessionUsable()
        {
            using (Model model = Model.Load(Fixtures.TinyA))
            using (Session session = model.CreateSession())
            using (var cts = new CancellationTokenSource())
            {
                int events = 0;
                var started = new ManualResetEventSlim();
                Task<GenerateResult> run = Task.Run(() => session.Generate(model.Tokenize("Hi"), Long(e =>
                {
                    events++;
                    started.Set();
                }), cts.Token));
                Assert.True(started.Wait(10000), "generation started");
                cts.Cancel();
                var e2 = Assert.Throws<AggregateException>(() => run.Wait(), "cancelled");
                Assert.True(e2.InnerException is OperationCanceledException, "OperationCanceledException, got " + e2.InnerException);
                Assert.True(session.PastTokens > 0, "the context holds the prompt and generated tokens");
                Assert.Equal(FinishReason.Length, session.Generate(model.Tokenize("Hi"), new GenerateOptions { MaxTokens = 2 }).FinishReason,
                             "usable afterwards");
            }
        }

        [Test]
        public static void AlreadyCancelledTokenGeneratesNothing()
        {
            using (Model model = Model.Load(Fixtures.TinyA))
            using (Session session = model.CreateSession())
            {
                var token = new CancellationToken(true);
                Assert.Throws<OperationCanceledException>(() => session.Generate(model.Tokenize("Hi"), null, token), "pre-cancelled");
                Assert.Equal(0L, session.PastTokens, "nothing evaluated");
            }
        }

        [Test]
        public static void ThrowingEventCallbackStopsAndRethrows()
        {
            using (Model model = Model.Load(Fixtures.TinyA))
            using (Session session = model.CreateSession())
            {
                int events = 0;
                var e = Assert.Throws<InvalidOperationException>(
                    () => session.Generate(model.Tokenize("Hi"), Long(ev => { if (++events == 2) throw new InvalidOperationException("boom from the callback"); })),
                    "callback exception");
                Assert.Equal("boom from the callback", e.Message, "the callback's own exception");
                Assert.Equal(2, events, "generation stopped at the throwing event");
                Assert.Contains("ThrowingEventCallbackStopsAndRethrows", e.StackTrace, "original stack trace kept");
                Assert.Equal(FinishReason.Length, session.Generate(model.Tokenize("Hi"), new GenerateOptions { MaxTokens = 2 }).FinishReason,
                             "usable afterwards");
            }
        }

        [Test]
        public static void ThrowingSessionEventHandlerRethrows()
        {
            using (Model model = Model.Load(Fixtures.TinyA))
            using (Session session = model.CreateSession())
            {
                session.EventReceived += (s, e) => { throw new FormatException("handler"); };
                Assert.Throws<FormatException>(() => session.Generate(model.Tokenize("Hi"), Long()), "handler exception");
            }
        }

        [Test]
        public static void ProgressCallbackCancelsOrThrows()
        {
            var refused = Assert.Throws<ErnieException>(() => Model.Load(Fixtures.TinyA, new ModelOptions { Progress = p => false }), "progress false");
            Assert.Equal(Status.Cancelled, refused.Status, "status");
            Assert.Throws<TimeoutException>(
                () => Model.Load(Fixtures.TinyA, new ModelOptions { Progress = p => { throw new TimeoutException("progress"); } }), "progress throws");
            string output = Path.Combine(Fixtures.TempDir, "cancelled.ernie");
            var packRefused = Assert.Throws<ErnieException>(
                () => ErnieLibrary.Pack(Path.Combine(Fixtures.DataDir, "tiny-moe-a"), output, new PackOptions { Progress = p => false }), "pack cancelled");
            Assert.Equal(Status.Cancelled, packRefused.Status, "pack status");
            Assert.True(!File.Exists(output), "a cancelled pack writes nothing");
        }
    }
}
