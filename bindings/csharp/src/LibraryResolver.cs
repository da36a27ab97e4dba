// Where the native library comes from. On Mono, DllImport("ernie") finds
// libernie.so through LD_LIBRARY_PATH (or a <dllmap> in Ernie.dll.config).
// On .NET, ERNIE_LIBRARY may name the exact file (e.g. build/lib/libernie.so);
// without it the runtime's usual probing applies.
using System;

#if NET
using System.Reflection;
using System.Runtime.InteropServices;
#endif

namespace Ernie
{
    internal static class LibraryResolver
    {
#if NET
        private static int installed;

        public static void Install()
        {
            if (System.Threading.Interlocked.Exchange(ref installed, 1) != 0) return;
            try
            {
                NativeLibrary.SetDllImportResolver(typeof(LibraryResolver).Assembly, Resolve);
            }
            catch (InvalidOperationException)
            {
                // The application installed its own resolver for this assembly: it wins.
            }
        }

        private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
        {
            string file = Environment.GetEnvironmentVariable("ERNIE_LIBRARY");
            if (name != Native.NativeMethods.Library || string.IsNullOrEmpty(file)) return IntPtr.Zero;
            return NativeLibrary.Load(file);
        }
#else
        public static void Install() { }
#endif
    }
}
