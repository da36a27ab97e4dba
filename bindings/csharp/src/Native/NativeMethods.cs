// P/Invoke declarations of every ernie.h function the binding uses. The
// library is "ernie": libernie.so on Linux (found through LD_LIBRARY_PATH or
// the system paths; on .NET, ERNIE_LIBRARY may name the file, see
// LibraryResolver.cs), ernie.dll on Windows, libernie.dylib on macOS.
// Strings go in as NUL-terminated UTF-8 byte arrays (Utf8.Z) and come back as
// IntPtr read by Utf8.FromNative: no platform-dependent string marshalling.
using System;
using System.Runtime.InteropServices;

namespace Ernie.Native
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void LogFn(IntPtr userData, int level, IntPtr message);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate int ProgressFn(IntPtr userData, float progress);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate int EventFn(IntPtr userData, IntPtr evt);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate int ToolFn(IntPtr userData, IntPtr call, IntPtr output);

    internal static class NativeMethods
    {
        internal const string Library = "ernie";
        private const CallingConvention Cdecl = CallingConvention.Cdecl;

        // Versions and layout
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern uint ernie_version();
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern IntPtr ernie_version_string();
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern uint ernie_abi_version();
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern int ernie_abi_info(out IntPtr entries, out UIntPtr count);
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern IntPtr ernie_status_string(int status);
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern IntPtr ernie_last_error();
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern void ernie_free(IntPtr memory);

        // Models
        [DllImport(Library, CallingConvention = Cdecl)] private static extern void ernie_model_params_init_sized(ref ernie_model_params p, UIntPtr size);
        // The _sized entry point with this mirror's size: the library never writes past it.
        internal static void ernie_model_params_init(ref ernie_model_params p)
        {
            ernie_model_params_init_sized(ref p, (UIntPtr)Marshal.SizeOf(typeof(ernie_model_params)));
        }
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern int ernie_model_load(byte[] path, ref ernie_model_params p, out IntPtr model);
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern void ernie_model_free(IntPtr model);
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern int ernie_model_verify(ModelHandle model, IntPtr progress, IntPtr userData);
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern int ernie_model_get_info(ModelHandle model, ref ernie_model_info info);
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern int ernie_model_metadata(ModelHandle model, out IntPtr json);
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern int ernie_model_session_bytes(ModelHandle model, int nCtx, int nBatch, out ulong bytes);

        // Tokenizer
        [DllImport(Library, CallingConvention = Cdecl)]
        internal static extern int ernie_tokenize(ModelHandle model, byte[] text, UIntPtr textLen, uint flags, int[] outIds, UIntPtr capacity, out UIntPtr count);
        [DllImport(Library, CallingConvention = Cdecl)]
        internal static extern int ernie_detokenize(ModelHandle model, int[] ids, UIntPtr nIds, byte[] outText, UIntPtr capacity, out UIntPtr len);

        // Sessions
        [DllImport(Library, CallingConvention = Cdecl)] private static extern void ernie_session_params_init_sized(ref ernie_session_params p, UIntPtr size);
        // The _sized entry point with this mirror's size: the library never writes past it.
        internal static void ernie_session_params_init(ref ernie_session_params p)
        {
            ernie_session_params_init_sized(ref p, (UIntPtr)Marshal.SizeOf(typeof(ernie_session_params)));
        }
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern int ernie_session_create(ModelHandle model, ref ernie_session_params p, out IntPtr session);
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern void ernie_session_free(IntPtr session);
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern int ernie_session_eval(SessionHandle session, int[] tokens, UIntPtr n, uint flags);
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern int ernie_session_logits(SessionHandle session, long index, out IntPtr logits, out UIntPtr nVocab);
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern int ernie_session_n_past(SessionHandle session, out long nPast);
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern int ernie_session_truncate(SessionHandle session, long nKeep);
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern int ernie_session_reset(SessionHandle session);
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern int ernie_session_cancel(SessionHandle session);
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern int ernie_session_tokens(SessionHandle session, out IntPtr tokens, out UIntPtr count);
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern int ernie_session_save(SessionHandle session, out IntPtr blob, out UIntPtr size);
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern int ernie_session_restore(SessionHandle session, byte[] blob, UIntPtr size);

        // Generation
        [DllImport(Library, CallingConvention = Cdecl)] private static extern void ernie_sampling_params_init_sized(ref ernie_sampling_params p, UIntPtr size);
        // The _sized entry point with this mirror's size: the library never writes past it.
        internal static void ernie_sampling_params_init(ref ernie_sampling_params p)
        {
            ernie_sampling_params_init_sized(ref p, (UIntPtr)Marshal.SizeOf(typeof(ernie_sampling_params)));
        }
        [DllImport(Library, CallingConvention = Cdecl)] private static extern void ernie_generate_params_init_sized(ref ernie_generate_params p, UIntPtr size);
        // The _sized entry point with this mirror's size: the library never writes past it.
        internal static void ernie_generate_params_init(ref ernie_generate_params p)
        {
            ernie_generate_params_init_sized(ref p, (UIntPtr)Marshal.SizeOf(typeof(ernie_generate_params)));
        }
        [DllImport(Library, CallingConvention = Cdecl)]
        internal static extern int ernie_session_generate(SessionHandle session, int[] prompt, UIntPtr nPrompt, ref ernie_generate_params p, ref ernie_generate_result result);
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern int ernie_tool_output_set(IntPtr output, byte[] text, UIntPtr len);

        // Conversations
        [DllImport(Library, CallingConvention = Cdecl)] private static extern void ernie_chat_params_init_sized(ref ernie_chat_params p, UIntPtr size);
        // The _sized entry point with this mirror's size: the library never writes past it.
        internal static void ernie_chat_params_init(ref ernie_chat_params p)
        {
            ernie_chat_params_init_sized(ref p, (UIntPtr)Marshal.SizeOf(typeof(ernie_chat_params)));
        }
        [DllImport(Library, CallingConvention = Cdecl)]
        internal static extern int ernie_chat_render(ModelHandle model, IntPtr messages, UIntPtr n, ref ernie_chat_params p, out IntPtr text, out UIntPtr len);
        [DllImport(Library, CallingConvention = Cdecl)]
        internal static extern int ernie_chat_render_json(ModelHandle model, byte[] json, byte[] format, out IntPtr text, out UIntPtr len);
        [DllImport(Library, CallingConvention = Cdecl)]
        internal static extern int ernie_chat_parse(ModelHandle model, byte[] format, byte[] output, UIntPtr outputLen, out IntPtr json, out UIntPtr len);
        [DllImport(Library, CallingConvention = Cdecl)]
        internal static extern int ernie_session_chat(SessionHandle session, IntPtr messages, UIntPtr n, ref ernie_chat_params chat,
                                                      ref ernie_generate_params p, ref ernie_generate_result result);
        [DllImport(Library, CallingConvention = Cdecl)]
        internal static extern int ernie_session_chat_json(SessionHandle session, byte[] json, byte[] format, ref ernie_generate_params p,
                                                           ref ernie_generate_result result);

        // Packing
        [DllImport(Library, CallingConvention = Cdecl)] private static extern void ernie_pack_params_init_sized(ref ernie_pack_params p, UIntPtr size);
        // The _sized entry point with this mirror's size: the library never writes past it.
        internal static void ernie_pack_params_init(ref ernie_pack_params p)
        {
            ernie_pack_params_init_sized(ref p, (UIntPtr)Marshal.SizeOf(typeof(ernie_pack_params)));
        }
        [DllImport(Library, CallingConvention = Cdecl)] internal static extern int ernie_pack(byte[] hfDir, byte[] outPath, ref ernie_pack_params p);
    }
}
