// UTF-8 in both directions, the same on every runtime (Mono's and .NET's
// default string marshalling differ by platform; this never does).
using System;
using System.Runtime.InteropServices;
using System.Text;

namespace Ernie.Native
{
    internal static class Utf8
    {
        private static readonly UTF8Encoding Strict = new UTF8Encoding(false, true);

        /// <summary>NUL-terminated UTF-8 bytes of s, or null for null. A string that is
        /// not valid UTF-16 (a lone surrogate) is refused rather than altered.</summary>
        public static byte[] Z(string s)
        {
            if (s == null) return null;
            byte[] bytes;
            try { bytes = Strict.GetBytes(s); }
            catch (EncoderFallbackException e) { throw new ArgumentException("string is not valid UTF-16: " + e.Message); }
            var z = new byte[bytes.Length + 1];
            Buffer.BlockCopy(bytes, 0, z, 0, bytes.Length);
            return z;
        }

        /// <summary>Copies a NUL-terminated UTF-8 string; null for NULL.</summary>
        public static string FromNative(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            int n = 0;
            while (Marshal.ReadByte(p, n) != 0) n++;
            return FromNative(p, n);
        }

        /// <summary>Copies len bytes of UTF-8 (invalid bytes become U+FFFD).</summary>
        public static string FromNative(IntPtr p, long len)
        {
            if (p == IntPtr.Zero || len == 0) return p == IntPtr.Zero ? null : "";
            if (len > int.MaxValue) throw new ErnieException(Status.Internal, "string of " + len + " bytes is too long for .NET");
            var bytes = new byte[len];
            Marshal.Copy(p, bytes, 0, (int)len);
            return Encoding.UTF8.GetString(bytes);
        }
    }
}
