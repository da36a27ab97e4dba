// A loaded model (ernie_model): immutable, shared by any number of sessions
// and safe to use from any thread. Disposing it before its sessions is fine:
// they keep the native model (and its log sink) alive.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using Ernie.Native;

namespace Ernie
{
    public sealed class ModelInfo
    {
        internal ModelInfo(ernie_model_info i)
        {
            IsMoe = i.arch == 1;
            Layers = i.n_layers;
            HiddenSize = i.hidden_size;
            IntermediateSize = i.intermediate_size;
            MoeIntermediateSize = i.moe_intermediate_size;
            Heads = i.n_heads;
            KvHeads = i.n_kv_heads;
            HeadDim = i.head_dim;
            Experts = i.n_experts;
            ExpertsUsed = i.n_experts_used;
            SharedExperts = i.n_shared_experts;
            MoeLayers = i.n_moe_layers;
            VocabSize = i.vocab_size;
            TokenizerVocab = i.n_tokenizer_vocab;
            MaxContext = i.max_context;
            BosId = i.bos_id;
            EosId = i.eos_id;
            PadId = i.pad_id;
            TiedEmbeddings = i.tied_embeddings != 0;
            RopeTheta = i.rope_theta;
            RmsNormEps = i.rms_norm_eps;
            Parameters = i.n_params;
            WeightBytes = i.weight_bytes;
            KvBytesPerToken = i.kv_bytes_per_token;
            FileBytes = i.file_bytes;
            Tensors = i.n_tensors;
        }

        /// <summary>Ernie4_5_MoeForCausalLM (true) or the dense Ernie4_5ForCausalLM.</summary>
        public bool IsMoe { get; private set; }
        public int Layers { get; private set; }
        public int HiddenSize { get; private set; }
        public int IntermediateSize { get; private set; }
        public int MoeIntermediateSize { get; private set; }
        public int Heads { get; private set; }
        public int KvHeads { get; private set; }
        public int HeadDim { get; private set; }
        public int Experts { get; private set; }
        public int ExpertsUsed { get; private set; }
        public int SharedExperts { get; private set; }
        public int MoeLayers { get; private set; }
        public int VocabSize { get; private set; }
        public int TokenizerVocab { get; private set; }
        public int MaxContext { get; private set; }
        public int BosId { get; private set; }
        public int EosId { get; private set; }
        public int PadId { get; private set; }
        public bool TiedEmbeddings { get; private set; }
        public float RopeTheta { get; private set; }
        public float RmsNormEps { get; private set; }
        public ulong Parameters { get; private set; }
        public ulong WeightBytes { get; private set; }
        public ulong KvBytesPerToken { get; private set; }
        public ulong FileBytes { get; private set; }
        public int Tensors { get; private set; }
    }

    public sealed class Model : IDisposable
    {
        internal readonly ModelHandle Handle;

        private Model(ModelHandle handle) { Handle = handle; }

        /// <summary>Loads a packed model file (made by ErnieLibrary.Pack or `ernie pack`).</summary>
        public static Model Load(string path, ModelOptions options = null)
        {
            ErnieLibrary.EnsureCompatible();
            if (path == null) throw new ArgumentNullException("path");
            options = options ?? new ModelOptions();
            var sink = options.Log != null ? new LogSink(options.Log) : null;
            int status;
            IntPtr raw;
            using (var arena = new NativeArena())
            using (var progress = options.Progress != null ? new ProgressCall(options.Progress) : null)
            {
                var p = new ernie_model_params();
                NativeMethods.ernie_model_params_init(ref p);
                p.n_threads = options.Threads;
                p.use_mmap = options.UseMmap ? 1 : 0;
                p.backend = arena.String(options.Backend);
                p.log_level = (int)options.LogLevel;
                p.max_file_bytes = options.MaxFileBytes;
                p.max_context = options.MaxContext;
                p.session_memory_budget = options.SessionMemoryBudget;
                if (sink != null) { p.log = Trampolines.Log; p.log_user_data = sink.UserData; }
                if (progress != null) { p.progress = Trampolines.Progress; p.progress_user_data = progress.UserData; }
                status = NativeMethods.ernie_model_load(Utf8.Z(path), ref p, out raw);
                if (status != 0 || (progress != null && progress.Failed))
                {
                    string error = status != 0 ? Utf8.FromNative(NativeMethods.ernie_last_error()) : null;
                    if (raw != IntPtr.Zero) NativeMethods.ernie_model_free(raw);
                    if (sink != null) sink.Dispose();
                    if (progress != null) progress.ThrowIfFailed();
                    throw new ErnieException((Status)status, "cannot load model " + path + ": " + error);
                }
            }
            return new Model(new ModelHandle(raw, new NativeModelLifetime(sink)));
        }

        public ModelInfo Info
        {
            get
            {
                var info = new ernie_model_info { struct_size = (UIntPtr)Marshal.SizeOf(typeof(ernie_model_info)) };
                ErnieException.Check(NativeMethods.ernie_model_get_info(Handle, ref info), "ernie_model_get_info");
                return new ModelInfo(info);
            }
        }

        /// <summary>The packed file's metadata document (JSON).</summary>
        public string MetadataJson
        {
            get
            {
                using (new HandleLease(Handle))
                {
                    IntPtr json;
                    ErnieException.Check(NativeMethods.ernie_model_metadata(Handle, out json), "ernie_model_metadata");
                    return Utf8.FromNative(json);
                }
            }
        }

        /// <summary>Bytes a session of nCtx tokens needs beyond the weights.</summary>
        public ulong SessionBytes(int contextSize, int batchSize)
        {
            ulong bytes;
            ErnieException.Check(NativeMethods.ernie_model_session_bytes(Handle, contextSize, batchSize, out bytes), "ernie_model_session_bytes");
            return bytes;
        }

        /// <summary>Verifies every tensor's checksum; progress returns false to cancel.</summary>
        public void Verify(Func<float, bool> progress = null)
        {
            using (var call = progress != null ? new ProgressCall(progress) : null)
            {
                int status = NativeMethods.ernie_model_verify(Handle, call != null ? Trampolines.Progress : IntPtr.Zero,
                                                              call != null ? call.UserData : IntPtr.Zero);
                if (call != null) call.ThrowIfFailed();
                ErnieException.Check(status, "ernie_model_verify");
            }
        }

        /// <summary>Token ids of text (no BOS added). parseSpecial: match control
        /// tokens written in the text; leave it off for text users typed.</summary>
        public int[] Tokenize(string text, bool parseSpecial = false)
        {
            if (text == null) throw new ArgumentNullException("text");
            byte[] z = Utf8.Z(text);
            var len = (UIntPtr)(z.Length - 1);
            uint flags = parseSpecial ? 1u : 0u;
            UIntPtr count;
            int status = NativeMethods.ernie_tokenize(Handle, z, len, flags, null, UIntPtr.Zero, out count);
            if (status != (int)Status.BufferTooSmall) ErnieException.Check(status, "ernie_tokenize");
            var ids = new int[(int)count.ToUInt64()];
            if (ids.Length == 0) return ids;
            ErnieException.Check(NativeMethods.ernie_tokenize(Handle, z, len, flags, ids, (UIntPtr)ids.Length, out count), "ernie_tokenize");
            return ids;
        }

        /// <summary>Text of token ids (a cut UTF-8 character comes out as U+FFFD).</summary>
        public string Detokenize(IList<int> ids)
        {
            if (ids == null) throw new ArgumentNullException("ids");
            var copy = new int[ids.Count];
            ids.CopyTo(copy, 0);
            var buffer = new byte[64 + copy.Length * 8];
            UIntPtr len;
            int status = NativeMethods.ernie_detokenize(Handle, copy, (UIntPtr)copy.Length, buffer, (UIntPtr)buffer.Length, out len);
            if (status == (int)Status.BufferTooSmall)
            {
                buffer = new byte[(int)len.ToUInt64() + 1];
                status = NativeMethods.ernie_detokenize(Handle, copy, (UIntPtr)copy.Length, buffer, (UIntPtr)buffer.Length, out len);
            }
            ErnieException.Check(status, "ernie_detokenize");
            return System.Text.Encoding.UTF8.GetString(buffer, 0, (int)len.ToUInt64());
        }

        /// <summary>A new session (its own KV cache) over this model.</summary>
        public Session CreateSession(SessionOptions options = null)
        {
            ernie_session_params p = (options ?? new SessionOptions()).ToNative();
            IntPtr raw;
            ErnieException.Check(NativeMethods.ernie_session_create(Handle, ref p, out raw), "cannot create session");
            return new Session(this, new SessionHandle(raw, Handle.Lifetime));
        }

        /// <summary>The prompt text the model's chat template makes of messages.</summary>
        public string RenderChat(IList<ChatMessage> messages, ChatOptions options = null)
        {
            using (var arena = new NativeArena())
            {
                IntPtr array = ChatMessage.ArrayToNative(arena, messages);
                ernie_chat_params p = (options ?? new ChatOptions()).ToNative(arena);
                IntPtr text;
                UIntPtr len;
                ErnieException.Check(NativeMethods.ernie_chat_render(Handle, array, (UIntPtr)messages.Count, ref p, out text, out len), "ernie_chat_render");
                return TakeLibraryString(text, len);
            }
        }

        /// <summary>The same from one JSON document {"messages": [...], "tools": [...], ...}.</summary>
        public string RenderChatJson(string conversationJson, string format = null)
        {
            if (conversationJson == null) throw new ArgumentNullException("conversationJson");
            IntPtr text;
            UIntPtr len;
            ErnieException.Check(NativeMethods.ernie_chat_render_json(Handle, Utf8.Z(conversationJson), Utf8.Z(format), out text, out len),
                                 "ernie_chat_render_json");
            return TakeLibraryString(text, len);
        }

        /// <summary>Splits model output into reasoning, content and tool calls (a JSON document).</summary>
        public string ParseOutput(string output, string format = null)
        {
            if (output == null) throw new ArgumentNullException("output");
            byte[] z = Utf8.Z(output);
            IntPtr json;
            UIntPtr len;
            ErnieException.Check(NativeMethods.ernie_chat_parse(Handle, Utf8.Z(format), z, (UIntPtr)(z.Length - 1), out json, out len),
                                 "ernie_chat_parse");
            return TakeLibraryString(json, len);
        }

        /// <summary>Copies and frees (ernie_free) a string the library allocated.</summary>
        internal static string TakeLibraryString(IntPtr text, UIntPtr len)
        {
            try { return Utf8.FromNative(text, (long)len.ToUInt64()) ?? ""; }
            finally { NativeMethods.ernie_free(text); }
        }

        /// <summary>Releases this handle; sessions made from the model keep working.
        /// Calling it again does nothing; using the model afterwards throws
        /// ObjectDisposedException.</summary>
        public void Dispose() { Handle.Dispose(); }
    }
}
