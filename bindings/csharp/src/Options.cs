// Options of models, sessions and packing. Defaults are the library's own
// (read from the *_params_init functions where it has them).
using System;
using Ernie.Native;

namespace Ernie
{
    public sealed class ModelOptions
    {
        /// <summary>Compute threads; 0 = number of physical cores.</summary>
        public int Threads { get; set; }

        /// <summary>Map the file (default) instead of reading it into memory.</summary>
        public bool UseMmap { get; set; }

        /// <summary>"auto" (null) or "cpu".</summary>
        public string Backend { get; set; }

        /// <summary>Load progress in [0, 1]; return false to cancel (the load then
        /// throws ErnieException with Status.Cancelled). Called on the loading thread.</summary>
        public Func<float, bool> Progress { get; set; }

        /// <summary>Log sink for this model. Called from any thread the library
        /// uses for the model, for as long as the model or one of its sessions
        /// exists; exceptions it throws are dropped.</summary>
        public Action<LogLevel, string> Log { get; set; }

        /// <summary>Highest level passed to Log.</summary>
        public LogLevel LogLevel { get; set; }

        /// <summary>Resource limits (docs/security.md); 0 = none. Going past one
        /// throws ErnieException with Status.OutOfMemory. Largest model file, in bytes.</summary>
        public ulong MaxFileBytes { get; set; }

        /// <summary>Largest session context (also caps the default).</summary>
        public int MaxContext { get; set; }

        /// <summary>Bytes all sessions of the model may hold together.</summary>
        public ulong SessionMemoryBudget { get; set; }

        public ModelOptions()
        {
            UseMmap = true;
            LogLevel = LogLevel.Warn;
        }
    }

    /// <summary>Storage of a session's KV cache (ERNIE_KV_*).</summary>
    public enum KvType
    {
        Auto = 0,
        F32 = 1,
        F16 = 2,
    }

    /// <summary>A new instance holds the library's defaults.</summary>
    public sealed class SessionOptions
    {
        /// <summary>Context length in tokens; 0 = min(model max, 4096).</summary>
        public int ContextSize { get; set; }

        /// <summary>Max tokens per forward pass; larger evaluations are split.</summary>
        public int BatchSize { get; set; }

        /// <summary>0 = the model's thread count.</summary>
        public int Threads { get; set; }

        public KvType KvType { get; set; }

        public SessionOptions()
        {
            ErnieLibrary.EnsureCompatible();
            var p = new ernie_session_params();
            NativeMethods.ernie_session_params_init(ref p);
            ContextSize = p.n_ctx;
            BatchSize = p.n_batch;
            Threads = p.n_threads;
            KvType = (KvType)p.kv_type;
        }

        internal ernie_session_params ToNative()
        {
            var p = new ernie_session_params();
            NativeMethods.ernie_session_params_init(ref p);
            p.n_ctx = ContextSize;
            p.n_batch = BatchSize;
            p.n_threads = Threads;
            p.kv_type = (int)KvType;
            return p;
        }
    }

    /// <summary>Weight storage for packing (ERNIE_TYPE_*).</summary>
    public enum WeightType
    {
        Auto = 0,
        F32 = 1,
        F16 = 2,
        BF16 = 3,
        Q8 = 16,
        Q6 = 17,
        Q4 = 18,
        Q2 = 19,
    }

    public sealed class PackOptions
    {
        public WeightType WeightType { get; set; }

        /// <summary>0 = physical cores.</summary>
        public int Threads { get; set; }

        /// <summary>Return false to cancel (nothing is written).</summary>
        public Func<float, bool> Progress { get; set; }

        public Action<LogLevel, string> Log { get; set; }
    }
}
