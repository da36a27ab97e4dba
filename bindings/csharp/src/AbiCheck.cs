// The load-time layout check: the struct mirrors in Native/NativeStructs.cs
// must sit exactly where the library's own structs are (ernie_abi_info), or
// every call would read and write the wrong bytes. A library that only
// appended fields (compatible growth, docs/abi.md) passes.
using System;
using System.Collections.Generic;
using System.Reflection;
using System.Runtime.InteropServices;
using Ernie.Native;

namespace Ernie
{
    /// <summary>One row of a layout table: a struct's size (Field null) or a field's offset.</summary>
    public sealed class AbiEntry
    {
        public string Struct { get; private set; }
        public string Field { get; private set; }
        public ulong Value { get; private set; }

        public AbiEntry(string structName, string field, ulong value)
        {
            Struct = structName;
            Field = field;
            Value = value;
        }
    }

    public static class AbiCheck
    {
        /// <summary>The ERNIE_ABI_VERSION this binding was written for.</summary>
        public const uint ExpectedAbiVersion = 1;

        /// <summary>The library's table, read through ernie_abi_info.</summary>
        public static List<AbiEntry> LibraryTable()
        {
            IntPtr entries;
            UIntPtr count;
            ErnieException.Check(NativeMethods.ernie_abi_info(out entries, out count), "ernie_abi_info");
            int stride = Marshal.SizeOf(typeof(ernie_abi_entry));
            var table = new List<AbiEntry>();
            for (ulong i = 0; i < count.ToUInt64(); i++)
            {
                var e = (ernie_abi_entry)Marshal.PtrToStructure(entries + (int)i * stride, typeof(ernie_abi_entry));
                table.Add(new AbiEntry(Utf8.FromNative(e.struct_name), Utf8.FromNative(e.field_name), e.value));
            }
            return table;
        }

        /// <summary>Every difference between the binding's mirrors and `library`
        /// that would corrupt memory; empty when they agree.</summary>
        public static List<string> Compare(IList<AbiEntry> library)
        {
            var problems = new List<string>();
            foreach (Type mirror in MirroredStructs.All)
            {
                string name = mirror.Name;
                ulong size = (ulong)Marshal.SizeOf(mirror);
                FieldInfo[] fields = mirror.GetFields(BindingFlags.Public | BindingFlags.Instance);
                ulong end = 0; // where the binding's last field ends: appended fields start at or after it
                var mine = new Dictionary<string, ulong>();
                foreach (FieldInfo f in fields)
                {
                    ulong offset = (ulong)Marshal.OffsetOf(mirror, f.Name).ToInt64();
                    mine[f.Name] = offset;
                    end = Math.Max(end, offset + (ulong)Marshal.SizeOf(f.FieldType));
                }

                bool listed = false;
                var seen = new HashSet<string>();
                foreach (AbiEntry e in library)
                {
                    if (e.Struct != name) continue;
                    listed = true;
                    if (e.Field == null)
                    {
                        if (e.Value < size)
                            problems.Add(string.Format("{0}: the library's struct is {1} bytes, the binding's {2}", name, e.Value, size));
                        continue;
                    }
                    seen.Add(e.Field);
                    ulong offset;
                    if (mine.TryGetValue(e.Field, out offset))
                    {
                        if (offset != e.Value)
                            problems.Add(string.Format("{0}.{1}: offset {2} in the library, {3} in the binding", name, e.Field, e.Value, offset));
                    }
                    else if (e.Value < end)
                    {
                        problems.Add(string.Format("{0}.{1}: the library has a field at offset {2} that the binding does not know", name, e.Field, e.Value));
                    }
                }
                if (!listed)
                {
                    problems.Add(name + ": not in the library's layout table (library older than the binding?)");
                    continue;
                }
                foreach (FieldInfo f in fields)
                {
                    if (!seen.Contains(f.Name))
                        problems.Add(string.Format("{0}.{1}: not in the library's layout table (library older than the binding?)", name, f.Name));
                }
            }
            return problems;
        }
    }
}
