// A session (ernie_session): one conversation's KV cache over a shared model.
// One call at a time: an overlapping call from another thread throws
// InvalidOperationException instead of corrupting the cache. Cancel() is the
// exception and may be called from any thread at any time.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using Ernie.Native;

namespace Ernie
{
    public sealed partial class Session : IDisposable
    {
        internal readonly SessionHandle Handle;
        private int busy;

        internal Session(Model model, SessionHandle handle)
        {
            Model = model;
            Handle = handle;
        }

        /// <summary>The model this session was made from. The session keeps the native
        /// model alive even after Model.Dispose (then Model's own methods throw).</summary>
        public Model Model { get; private set; }

        /// <summary>Raised on the generating thread for every streamed event of every
        /// generation on this session, after GenerateOptions.OnEvent.</summary>
        public event EventHandler<GenerationEventArgs> EventReceived;

        internal EventHandler<GenerationEventArgs> EventHandlers { get { return EventReceived; } }

        /// <summary>Continues the prompt token ids (the session's WHOLE context: the
        /// cache is reused for the common prefix). Cancelling the token stops the
        /// generation after the current token and throws OperationCanceledException;
        /// the session stays usable.</summary>
        public GenerateResult Generate(IList<int> prompt, GenerateOptions options = null,
                                       CancellationToken cancellationToken = default(CancellationToken))
        {
            if (prompt == null) throw new ArgumentNullException("prompt");
            var ids = new int[prompt.Count];
            prompt.CopyTo(ids, 0);
            return RunGeneration(options, cancellationToken, null, "generation failed",
                (ref ernie_generate_params p, ref ernie_generate_result r) =>
                    NativeMethods.ernie_session_generate(Handle, ids, (UIntPtr)ids.Length, ref p, ref r));
        }

        /// <summary>Answers the conversation (rendered with the model's chat format,
        /// message text tokenized without special tokens). Pass the whole
        /// conversation each turn; the common prefix is reused from the cache.</summary>
        public GenerateResult Chat(IList<ChatMessage> messages, ChatOptions chat = null, GenerateOptions options = null,
                                   CancellationToken cancellationToken = default(CancellationToken))
        {
            if (messages == null) throw new ArgumentNullException("messages");
            return RunGeneration(options, cancellationToken, arena =>
            {
                IntPtr array = ChatMessage.ArrayToNative(arena, messages);
                ernie_chat_params c = (chat ?? new ChatOptions()).ToNative(arena);
                return (ref ernie_generate_params p, ref ernie_generate_result r) =>
                    NativeMethods.ernie_session_chat(Handle, array, (UIntPtr)messages.Count, ref c, ref p, ref r);
            }, "chat failed", null);
        }

        /// <summary>Chat with the conversation as one JSON document.</summary>
        public GenerateResult ChatJson(string conversationJson, string format = null, GenerateOptions options = null,
                                       CancellationToken cancellationToken = default(CancellationToken))
        {
            if (conversationJson == null) throw new ArgumentNullException("conversationJson");
            byte[] json = Utf8.Z(conversationJson), fmt = Utf8.Z(format);
            return RunGeneration(options, cancellationToken, null, "chat failed",
                (ref ernie_generate_params p, ref ernie_generate_result r) =>
                    NativeMethods.ernie_session_chat_json(Handle, json, fmt, ref p, ref r));
        }

        /// <summary>Stops the generation running on this session after the current
        /// token (FinishReason.Cancelled). Thread-safe; no effect when none runs.</summary>
        public void Cancel()
        {
            ErnieException.Check(NativeMethods.ernie_session_cancel(Handle), "ernie_session_cancel");
        }

        /// <summary>Appends tokens to the context and runs the model over them.</summary>
        public void Eval(IList<int> tokens, bool allLogits = false)
        {
            if (tokens == null) throw new ArgumentNullException("tokens");
            var ids = new int[tokens.Count];
            tokens.CopyTo(ids, 0);
            using (Enter())
                ErnieException.Check(NativeMethods.ernie_session_eval(Handle, ids, (UIntPtr)ids.Length, allLogits ? 1u : 0u), "ernie_session_eval");
        }

        /// <summary>Logits of token `index` of the last Eval (-1: its last token).</summary>
        public float[] Logits(long index = -1)
        {
            using (Enter())
            {
                IntPtr logits;
                UIntPtr n;
                ErnieException.Check(NativeMethods.ernie_session_logits(Handle, index, out logits, out n), "ernie_session_logits");
                var copy = new float[(int)n.ToUInt64()];
                Marshal.Copy(logits, copy, 0, copy.Length);
                return copy;
            }
        }

        /// <summary>Tokens in the session's context.</summary>
        public long PastTokens
        {
            get
            {
                using (Enter())
                {
                    long n;
                    ErnieException.Check(NativeMethods.ernie_session_n_past(Handle, out n), "ernie_session_n_past");
                    return n;
                }
            }
        }

        /// <summary>A copy of the context's token ids.</summary>
        public int[] Tokens
        {
            get
            {
                using (Enter())
                {
                    IntPtr tokens;
                    UIntPtr n;
                    ErnieException.Check(NativeMethods.ernie_session_tokens(Handle, out tokens, out n), "ernie_session_tokens");
                    var copy = new int[(int)n.ToUInt64()];
                    if (copy.Length > 0) Marshal.Copy(tokens, copy, 0, copy.Length);
                    return copy;
                }
            }
        }

        /// <summary>Forgets every context token from position nKeep on.</summary>
        public void Truncate(long keep)
        {
            using (Enter()) ErnieException.Check(NativeMethods.ernie_session_truncate(Handle, keep), "ernie_session_truncate");
        }

        public void Reset()
        {
            using (Enter()) ErnieException.Check(NativeMethods.ernie_session_reset(Handle), "ernie_session_reset");
        }

        /// <summary>The context (tokens and KV cache) as a compressed blob.</summary>
        public byte[] Save()
        {
            using (Enter())
            {
                IntPtr blob;
                UIntPtr size;
                ErnieException.Check(NativeMethods.ernie_session_save(Handle, out blob, out size), "ernie_session_save");
                try
                {
                    var copy = new byte[(int)size.ToUInt64()];
                    Marshal.Copy(blob, copy, 0, copy.Length);
                    return copy;
                }
                finally { NativeMethods.ernie_free(blob); }
            }
        }

        /// <summary>Replaces the context with a saved one; a blob from another model or
        /// a damaged one is refused and the session is unchanged.</summary>
        public void Restore(byte[] blob)
        {
            if (blob == null) throw new ArgumentNullException("blob");
            using (Enter())
                ErnieException.Check(NativeMethods.ernie_session_restore(Handle, blob, (UIntPtr)blob.Length), "cannot restore session");
        }

        /// <summary>Releases the session. A generation running on another thread
        /// finishes first (the native free waits for the call to return); calling
        /// Dispose again does nothing; other calls afterwards throw ObjectDisposedException.</summary>
        public void Dispose() { Handle.Dispose(); }

        // ------------------------------------------------------------------

        private delegate int NativeGenerate(ref ernie_generate_params p, ref ernie_generate_result r);

        /// <summary>One call on the session: refuses overlapping calls and holds the
        /// handle until what the library lent has been copied.</summary>
        private sealed class CallScope : IDisposable
        {
            private readonly Session session;
            private HandleLease lease;

            public CallScope(Session session)
            {
                if (Interlocked.CompareExchange(ref session.busy, 1, 0) != 0)
                {
                    throw new InvalidOperationException(
                        "another call is running on this session: calls on one session must not overlap (Cancel() may be called from any thread)");
                }
                this.session = session;
                try { lease = new HandleLease(session.Handle); }
                catch { Interlocked.Exchange(ref session.busy, 0); throw; }
            }

            public void Dispose()
            {
                lease.Dispose();
                Interlocked.Exchange(ref session.busy, 0);
            }
        }

        private CallScope Enter() { return new CallScope(this); }

        private GenerateResult RunGeneration(GenerateOptions options, CancellationToken token, Func<NativeArena, NativeGenerate> prepare,
                                             string what, NativeGenerate run)
        {
            options = options ?? new GenerateOptions();
            token.ThrowIfCancellationRequested();
            using (Enter())
            using (var arena = new NativeArena())
            using (var call = new GenerationCall(this, options, token))
            {
                if (prepare != null) run = prepare(arena);
                ernie_generate_params p = options.ToNative(arena, call);
                var r = new ernie_generate_result { struct_size = (UIntPtr)Marshal.SizeOf(typeof(ernie_generate_result)) };
                int status;
                string error = null;
                using (token.Register(CancelQuietly))
                {
                    status = run(ref p, ref r);
                    if (status != 0) error = Utf8.FromNative(NativeMethods.ernie_last_error()); // before any other call
                }
                call.ThrowIfFailed();
                token.ThrowIfCancellationRequested();
                if (status != 0) throw new ErnieException((Status)status, what + ": " + error);
                return GenerateResult.FromNative(ref r);
            }
        }

        private void CancelQuietly()
        {
            try { NativeMethods.ernie_session_cancel(Handle); }
            catch (ObjectDisposedException) { }
        }
    }

    /// <summary>The state of one generation's callbacks.</summary>
    internal sealed class GenerationCall : CallbackState
    {
        private const int ToolResult = 0, ToolDefer = 1;
        private readonly Session session;
        private readonly GenerateOptions options;
        private readonly CancellationToken token;

        public GenerationCall(Session session, GenerateOptions options, CancellationToken token)
        {
            this.session = session;
            this.options = options;
            this.token = token;
        }

        /// <summary>Returns false to stop the generation.</summary>
        public bool OnEvent(IntPtr evt)
        {
            if (token.IsCancellationRequested) return false;
            Action<GenerationEventArgs> onEvent = options.OnEvent;
            EventHandler<GenerationEventArgs> handlers = session.EventHandlers;
            if (onEvent == null && handlers == null) return true;
            GenerationEventArgs args = GenerationEventArgs.FromNative(evt);
            if (onEvent != null) onEvent(args);
            if (handlers != null) handlers(session, args);
            return !args.Cancel && !token.IsCancellationRequested;
        }

        public int OnToolCall(IntPtr toolCall, IntPtr output)
        {
            if (token.IsCancellationRequested) return ToolDefer;
            string result = options.OnToolCall(ToolCall.FromNative(toolCall));
            if (result == null) return ToolDefer;
            byte[] z = Utf8.Z(result);
            ErnieException.Check(NativeMethods.ernie_tool_output_set(output, z, (UIntPtr)(z.Length - 1)), "ernie_tool_output_set");
            return ToolResult;
        }
    }
}
