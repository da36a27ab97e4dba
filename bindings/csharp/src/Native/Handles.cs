// SafeHandles for the two native handles. The runtime adds a reference to a
// SafeHandle for the duration of every P/Invoke that takes it, so a handle is
// never freed while a call (on any thread) still uses it, and a disposed one
// makes the next call throw ObjectDisposedException instead of passing a
// dangling pointer.
using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Ernie.Native
{
    /// <summary>
    /// What must outlive the native model: its log sink is called from library
    /// threads for as long as the model exists, and the native model lives until
    /// the model handle AND every session made from it are released (the library
    /// reference counts them). This object counts the same references and
    /// releases the sink (its GCHandle) when the last one goes.
    /// </summary>
    internal sealed class NativeModelLifetime
    {
        private int references = 1;
        private readonly LogSink logSink;

        public NativeModelLifetime(LogSink logSink) { this.logSink = logSink; }

        public void AddReference() { Interlocked.Increment(ref references); }

        public void Release()
        {
            if (Interlocked.Decrement(ref references) == 0 && logSink != null) logSink.Dispose();
        }
    }

    internal sealed class ModelHandle : SafeHandle
    {
        internal readonly NativeModelLifetime Lifetime;

        internal ModelHandle(IntPtr model, NativeModelLifetime lifetime) : base(IntPtr.Zero, true)
        {
            Lifetime = lifetime;
            SetHandle(model);
        }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            NativeMethods.ernie_model_free(handle);
            Lifetime.Release();
            return true;
        }
    }

    internal sealed class SessionHandle : SafeHandle
    {
        private readonly NativeModelLifetime modelLifetime;

        /// <summary>Takes a reference on the model's lifetime: the native session
        /// holds one on the native model.</summary>
        internal SessionHandle(IntPtr session, NativeModelLifetime modelLifetime) : base(IntPtr.Zero, true)
        {
            this.modelLifetime = modelLifetime;
            modelLifetime.AddReference();
            SetHandle(session);
        }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            NativeMethods.ernie_session_free(handle);
            modelLifetime.Release();
            return true;
        }
    }
}

namespace Ernie.Native
{
    /// <summary>
    /// Holds a reference on a SafeHandle across a native call AND the copying
    /// of what it lent (borrowed strings, arrays): a Dispose on another thread
    /// in between only takes effect when the lease ends. Throws
    /// ObjectDisposedException if the handle is already closed.
    /// </summary>
    internal struct HandleLease : IDisposable
    {
        private readonly SafeHandle handle;
        private bool added;

        public HandleLease(SafeHandle handle)
        {
            this.handle = handle;
            added = false;
            handle.DangerousAddRef(ref added);
        }

        public void Dispose()
        {
            if (added) handle.DangerousRelease();
            added = false;
        }
    }
}
