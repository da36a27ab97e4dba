// The load-time layout check, against the real library and against doctored
// tables that must be refused.
using System.Collections.Generic;
using System.Linq;

namespace Ernie.Tests
{
    public static class AbiTests
    {
        [Test]
        public static void LibraryMatchesTheBinding()
        {
            ErnieLibrary.EnsureCompatible();
            Assert.Equal(AbiCheck.ExpectedAbiVersion, ErnieLibrary.AbiVersion, "ABI version");
            Assert.True(ErnieLibrary.VersionString.Length > 0, "version string");
            List<string> problems = AbiCheck.Compare(AbiCheck.LibraryTable());
            Assert.Equal(0, problems.Count, "layout problems: " + string.Join("; ", problems));
        }

        private static List<AbiEntry> Doctored(string structName, string field, long delta)
        {
            return AbiCheck.LibraryTable()
                .Select(e => e.Struct == structName && e.Field == field ? new AbiEntry(e.Struct, e.Field, (ulong)((long)e.Value + delta)) : e)
                .ToList();
        }

        [Test]
        public static void MovedFieldIsRefused()
        {
            List<string> problems = AbiCheck.Compare(Doctored("ernie_generate_params", "max_tokens", 8));
            Assert.Equal(1, problems.Count, "problems");
            Assert.Contains("ernie_generate_params.max_tokens: offset", problems[0], "message");
        }

        [Test]
        public static void ShrunkStructIsRefused()
        {
            List<string> problems = AbiCheck.Compare(Doctored("ernie_event", null, -8));
            Assert.True(problems.Any(p => p.StartsWith("ernie_event: the library's struct is")), string.Join("; ", problems));
        }

        [Test]
        public static void AppendedFieldIsAccepted()
        {
            // Compatible growth (docs/abi.md): a newer library with a field appended to a struct.
            List<AbiEntry> table = Doctored("ernie_session_params", null, 8);
            ulong oldSize = AbiCheck.LibraryTable().First(e => e.Struct == "ernie_session_params" && e.Field == null).Value;
            table.Add(new AbiEntry("ernie_session_params", "added_later", oldSize));
            Assert.Equal(0, AbiCheck.Compare(table).Count, "problems");
        }

        [Test]
        public static void InsertedFieldIsRefused()
        {
            List<AbiEntry> table = AbiCheck.LibraryTable();
            table.Add(new AbiEntry("ernie_chat_params", "inserted", 8));
            List<string> problems = AbiCheck.Compare(table);
            Assert.True(problems.Any(p => p.Contains("ernie_chat_params.inserted")), string.Join("; ", problems));
        }

        [Test]
        public static void MissingStructIsRefused()
        {
            List<string> problems = AbiCheck.Compare(AbiCheck.LibraryTable().Where(e => e.Struct != "ernie_tool").ToList());
            Assert.True(problems.Any(p => p.StartsWith("ernie_tool: not in the library's layout table")), string.Join("; ", problems));
        }
    }
}
