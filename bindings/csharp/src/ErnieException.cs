// Errors: every failed native call becomes an ErnieException carrying the
// status and the library's message (ernie_last_error, read on the same
// thread right after the call, before anything else can replace it).
using System;
using Ernie.Native;

namespace Ernie
{
    /// <summary>The ernie_status codes of ernie.h.</summary>
    public enum Status
    {
        Ok = 0,
        InvalidArgument = 1,
        Io = 2,
        InvalidModel = 3,
        Checksum = 4,
        Unsupported = 5,
        OutOfMemory = 6,
        Cancelled = 7,
        ContextFull = 8,
        BufferTooSmall = 9,
        Backend = 10,
        Internal = 11,
    }

    /// <summary>Log levels of ernie_log_fn.</summary>
    public enum LogLevel
    {
        Error = 0,
        Warn = 1,
        Info = 2,
        Debug = 3,
    }

    /// <summary>A native call failed; Status says how and Message why.</summary>
    public class ErnieException : Exception
    {
        public Status Status { get; private set; }

        public ErnieException(Status status, string message) : base(message) { Status = status; }

        /// <summary>Throws for a failed status, with the calling thread's last error.</summary>
        internal static void Check(int status, string what)
        {
            if (status == 0) return;
            string detail = Utf8.FromNative(NativeMethods.ernie_last_error());
            if (string.IsNullOrEmpty(detail)) detail = Utf8.FromNative(NativeMethods.ernie_status_string(status));
            throw new ErnieException((Status)status, what + ": " + detail);
        }
    }
}
