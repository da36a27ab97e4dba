// Unmanaged memory for the arguments of one call (strings, arrays, structs
// that point at each other), released together when the call is over.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace Ernie.Native
{
    internal sealed class NativeArena : IDisposable
    {
        private readonly List<IntPtr> blocks = new List<IntPtr>();

        private IntPtr Alloc(int bytes)
        {
            IntPtr p = Marshal.AllocHGlobal(Math.Max(bytes, 1));
            blocks.Add(p);
            return p;
        }

        /// <summary>A NUL-terminated UTF-8 copy of s; IntPtr.Zero for null.</summary>
        public IntPtr String(string s)
        {
            if (s == null) return IntPtr.Zero;
            byte[] z = Utf8.Z(s);
            IntPtr p = Alloc(z.Length);
            Marshal.Copy(z, 0, p, z.Length);
            return p;
        }

        public IntPtr Ints(IList<int> values)
        {
            if (values == null || values.Count == 0) return IntPtr.Zero;
            var copy = new int[values.Count];
            values.CopyTo(copy, 0);
            IntPtr p = Alloc(copy.Length * sizeof(int));
            Marshal.Copy(copy, 0, p, copy.Length);
            return p;
        }

        public IntPtr Floats(IList<float> values)
        {
            if (values == null || values.Count == 0) return IntPtr.Zero;
            var copy = new float[values.Count];
            values.CopyTo(copy, 0);
            IntPtr p = Alloc(copy.Length * sizeof(float));
            Marshal.Copy(copy, 0, p, copy.Length);
            return p;
        }

        /// <summary>An array of pointers to NUL-terminated UTF-8 copies.</summary>
        public IntPtr Strings(IList<string> values)
        {
            if (values == null || values.Count == 0) return IntPtr.Zero;
            IntPtr p = Alloc(values.Count * IntPtr.Size);
            for (int i = 0; i < values.Count; i++)
            {
                if (values[i] == null) throw new ArgumentNullException("values[" + i + "]");
                Marshal.WriteIntPtr(p, i * IntPtr.Size, String(values[i]));
            }
            return p;
        }

        /// <summary>A contiguous copy of blittable structs; IntPtr.Zero when empty.</summary>
        public IntPtr Structs<T>(IList<T> values) where T : struct
        {
            if (values == null || values.Count == 0) return IntPtr.Zero;
            int size = Marshal.SizeOf(typeof(T));
            IntPtr p = Alloc(size * values.Count);
            for (int i = 0; i < values.Count; i++) Marshal.StructureToPtr(values[i], p + i * size, false);
            return p;
        }

        public IntPtr Struct<T>(T value) where T : struct
        {
            return Structs(new[] { value });
        }

        public void Dispose()
        {
            foreach (IntPtr p in blocks) Marshal.FreeHGlobal(p);
            blocks.Clear();
        }
    }
}
