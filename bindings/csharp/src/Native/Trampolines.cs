// The native callbacks. Each is one static delegate, created once and never
// collected, so the function pointer handed to C is valid forever; the
// per-call state travels in user_data as a GCHandle that the caller frees
// when the C side can no longer call (see CallbackState).
//
// No managed exception may unwind into C: every trampoline catches
// everything, records it on the call's state, returns the value that stops
// the operation, and the calling method rethrows it on the caller's thread
// once the native call has returned.
using System;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace Ernie.Native
{
    /// <summary>State of one native call that calls back into managed code.</summary>
    internal abstract class CallbackState : IDisposable
    {
        private ExceptionDispatchInfo error;
        private GCHandle self;

        /// <summary>The user_data to pass to C; valid until Dispose.</summary>
        public IntPtr UserData
        {
            get
            {
                if (!self.IsAllocated) self = GCHandle.Alloc(this);
                return GCHandle.ToIntPtr(self);
            }
        }

        public bool Failed { get { return error != null; } }

        /// <summary>Records the first exception a callback threw.</summary>
        public void Fail(Exception e)
        {
            if (error == null) error = ExceptionDispatchInfo.Capture(e);
        }

        /// <summary>Rethrows a callback's exception, with its original stack trace.</summary>
        public void ThrowIfFailed()
        {
            if (error != null) error.Throw();
        }

        public static T From<T>(IntPtr userData) where T : CallbackState
        {
            return (T)GCHandle.FromIntPtr(userData).Target;
        }

        public void Dispose()
        {
            if (self.IsAllocated) self.Free();
        }
    }

    internal static class Trampolines
    {
        private static readonly ProgressFn ProgressThunk = OnProgress;
        private static readonly LogFn LogThunk = OnLog;
        private static readonly EventFn EventThunk = OnEvent;
        private static readonly ToolFn ToolThunk = OnToolCall;

        public static readonly IntPtr Progress = Marshal.GetFunctionPointerForDelegate(ProgressThunk);
        public static readonly IntPtr Log = Marshal.GetFunctionPointerForDelegate(LogThunk);
        public static readonly IntPtr Event = Marshal.GetFunctionPointerForDelegate(EventThunk);
        public static readonly IntPtr Tool = Marshal.GetFunctionPointerForDelegate(ToolThunk);

        private const int Stop = 1;
        private const int ToolDefer = 1; // ERNIE_TOOL_DEFER

        private static int OnProgress(IntPtr userData, float progress)
        {
            ProgressCall call = null;
            try
            {
                call = CallbackState.From<ProgressCall>(userData);
                return call.Report(progress) ? 0 : Stop;
            }
            catch (Exception e)
            {
                if (call != null) call.Fail(e);
                return Stop;
            }
        }

        private static void OnLog(IntPtr userData, int level, IntPtr message)
        {
            try
            {
                CallbackState.From<LogSink>(userData).Write(level, Utf8.FromNative(message));
            }
            catch (Exception)
            {
                // A log sink cannot stop anything and may run on a library
                // thread with no caller to rethrow to: its exceptions are dropped.
            }
        }

        private static int OnEvent(IntPtr userData, IntPtr evt)
        {
            GenerationCall call = null;
            try
            {
                call = CallbackState.From<GenerationCall>(userData);
                return call.OnEvent(evt) ? 0 : Stop;
            }
            catch (Exception e)
            {
                if (call != null) call.Fail(e);
                return Stop;
            }
        }

        private static int OnToolCall(IntPtr userData, IntPtr toolCall, IntPtr output)
        {
            GenerationCall call = null;
            try
            {
                call = CallbackState.From<GenerationCall>(userData);
                return call.OnToolCall(toolCall, output);
            }
            catch (Exception e)
            {
                if (call != null) call.Fail(e);
                return ToolDefer;
            }
        }
    }

    /// <summary>A progress callback for the duration of one call (load, verify, pack).</summary>
    internal sealed class ProgressCall : CallbackState
    {
        private readonly Func<float, bool> callback;

        public ProgressCall(Func<float, bool> callback) { this.callback = callback; }

        public bool Report(float progress) { return callback(progress); }
    }

    /// <summary>A log sink: lives as long as the native model or pack call it serves.</summary>
    internal sealed class LogSink : CallbackState
    {
        private readonly Action<LogLevel, string> callback;

        public LogSink(Action<LogLevel, string> callback) { this.callback = callback; }

        public void Write(int level, string message) { callback((LogLevel)level, message); }
    }
}
