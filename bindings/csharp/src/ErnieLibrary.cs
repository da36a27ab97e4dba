// Library-wide entry points: versions, the one-time compatibility check that
// guards every other call, and packing a Hugging Face checkpoint.
using System;
using System.Collections.Generic;
using Ernie.Native;

namespace Ernie
{
    public static class ErnieLibrary
    {
        private static readonly object CheckLock = new object();
        private static bool checkedOk;
        private static Exception checkFailure;

        /// <summary>MAJOR*10000 + MINOR*100 + PATCH of the loaded library.</summary>
        public static uint Version { get { EnsureCompatible(); return NativeMethods.ernie_version(); } }

        /// <summary>"0.1.0".</summary>
        public static string VersionString { get { EnsureCompatible(); return Utf8.FromNative(NativeMethods.ernie_version_string()); } }

        /// <summary>The ABI version of the loaded library (checked to be AbiCheck.ExpectedAbiVersion).</summary>
        public static uint AbiVersion { get { EnsureCompatible(); return NativeMethods.ernie_abi_version(); } }

        /// <summary>
        /// Loads the native library and checks, once, that its ABI version and
        /// struct layouts are the ones this binding mirrors. Every public entry
        /// point calls it; a mismatch throws the same InvalidOperationException
        /// from all of them. A missing library throws DllNotFoundException.
        /// </summary>
        public static void EnsureCompatible()
        {
            lock (CheckLock)
            {
                if (checkedOk) return;
                if (checkFailure == null) checkFailure = RunCheck();
                if (checkFailure == null) { checkedOk = true; return; }
            }
            throw new InvalidOperationException(checkFailure.Message, checkFailure);
        }

        private static Exception RunCheck()
        {
            LibraryResolver.Install();
            uint abi = NativeMethods.ernie_abi_version();
            if (abi != AbiCheck.ExpectedAbiVersion)
            {
                return new InvalidOperationException(string.Format(
                    "libernie has ABI version {0} but this binding was written for ABI version {1}: use the binding that matches the library",
                    abi, AbiCheck.ExpectedAbiVersion));
            }
            List<string> problems = AbiCheck.Compare(AbiCheck.LibraryTable());
            if (problems.Count > 0)
            {
                return new InvalidOperationException(
                    "libernie's struct layouts do not match this binding (rebuild the binding against this library's ernie.h):\n  " +
                    string.Join("\n  ", problems.ToArray()));
            }
            return null;
        }

        /// <summary>Converts a Hugging Face ERNIE-4.5 checkpoint directory into one packed
        /// file (ernie_pack). progress returns false to cancel (nothing is written).</summary>
        public static void Pack(string checkpointDir, string outPath, PackOptions options = null)
        {
            EnsureCompatible();
            if (checkpointDir == null) throw new ArgumentNullException("checkpointDir");
            if (outPath == null) throw new ArgumentNullException("outPath");
            options = options ?? new PackOptions();
            var p = new ernie_pack_params();
            NativeMethods.ernie_pack_params_init(ref p);
            p.type = (int)options.WeightType;
            p.n_threads = options.Threads;
            using (var progress = options.Progress != null ? new ProgressCall(options.Progress) : null)
            using (var log = options.Log != null ? new LogSink(options.Log) : null)
            {
                if (progress != null) { p.progress = Trampolines.Progress; p.progress_user_data = progress.UserData; }
                if (log != null) { p.log = Trampolines.Log; p.log_user_data = log.UserData; }
                int status = NativeMethods.ernie_pack(Utf8.Z(checkpointDir), Utf8.Z(outPath), ref p);
                if (progress != null) progress.ThrowIfFailed();
                ErnieException.Check(status, "cannot pack " + checkpointDir);
            }
        }

        /// <summary>The English name of a status ("ERNIE_E_IO: input/output error").</summary>
        public static string StatusString(Status status)
        {
            EnsureCompatible();
            return Utf8.FromNative(NativeMethods.ernie_status_string((int)status));
        }
    }
}
