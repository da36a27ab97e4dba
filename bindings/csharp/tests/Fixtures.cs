// What the tests share: where the repository's test data and the C CLI are
// (set by test.sh), the tiny models packed once per run with the binding's
// own ErnieLibrary.Pack, and the golden files.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.Serialization;
using System.Runtime.Serialization.Json;
using System.Text;
using System.Text.RegularExpressions;

namespace Ernie.Tests
{
    [DataContract]
    public sealed class TokenizeCase
    {
        [DataMember(Name = "text")] public string Text;
        [DataMember(Name = "ids")] public int[] Ids;
    }

    [DataContract]
    public sealed class GreedyCase
    {
        [DataMember(Name = "ids")] public int[] Ids;
        [DataMember(Name = "greedy_next_12")] public int[] GreedyNext12;
    }

    [DataContract]
    public sealed class GoldenCases<T>
    {
        [DataMember(Name = "cases")] public T[] Cases;
    }

    public static class Fixtures
    {
        private static readonly object PackLock = new object();
        private static readonly Dictionary<string, string> Packed = new Dictionary<string, string>();

        public static string Env(string name)
        {
            string v = Environment.GetEnvironmentVariable(name);
            if (string.IsNullOrEmpty(v)) throw new InvalidOperationException(name + " is not set: run the tests with bindings/csharp/test.sh");
            return v;
        }

        public static string DataDir { get { return Env("ERNIE_TEST_DATA"); } }
        public static string TempDir { get { return Env("ERNIE_TEST_TMP"); } }

        /// <summary>tests/data/NAME packed into the run's temp folder (once).</summary>
        public static string PackedModel(string name)
        {
            lock (PackLock)
            {
                string path;
                if (Packed.TryGetValue(name, out path)) return path;
                path = Path.Combine(TempDir, name + ".ernie");
                ErnieLibrary.Pack(Path.Combine(DataDir, name), path);
                Packed[name] = path;
                return path;
            }
        }

        /// <summary>tiny-moe-a: pt chat format (its random weights mostly repeat one token).</summary>
        public static string TinyA { get { return PackedModel("tiny-moe-a"); } }

        /// <summary>tiny-moe-b: thinking chat format with tools; varied sampled tokens.</summary>
        public static string TinyB { get { return PackedModel("tiny-moe-b"); } }

        public static T ReadJson<T>(string path)
        {
            using (var stream = File.OpenRead(path))
                return (T)new DataContractJsonSerializer(typeof(T)).ReadObject(stream);
        }

        /// <summary>Runs the C CLI (build/bin/ernie) and returns its stdout.</summary>
        public static string RunCli(params string[] args)
        {
            var quoted = new StringBuilder();
            foreach (string a in args) quoted.Append(" \"").Append(a.Replace("\\", "\\\\").Replace("\"", "\\\"")).Append('"');
            var info = new ProcessStartInfo(Env("ERNIE_CLI"), quoted.ToString().TrimStart())
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using (Process p = Process.Start(info))
            {
                string stdout = p.StandardOutput.ReadToEnd();
                string stderr = p.StandardError.ReadToEnd();
                p.WaitForExit();
                if (p.ExitCode != 0) throw new Exception("ernie " + quoted + " failed (" + p.ExitCode + "): " + stderr);
                return stdout;
            }
        }

        /// <summary>The "tokens" array of `ernie run --json` output.</summary>
        public static int[] TokensOfCliJson(string json)
        {
            Match m = Regex.Match(json, "\"tokens\": \\[([^\\]]*)\\]");
            if (!m.Success) throw new Exception("no tokens in CLI output: " + json);
            var ids = new List<int>();
            foreach (string s in m.Groups[1].Value.Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries)) ids.Add(int.Parse(s.Trim()));
            return ids.ToArray();
        }

        /// <summary>Sampling that makes every token depend on the seed.</summary>
        public static SamplingOptions Hot(ulong seed)
        {
            return new SamplingOptions { Temperature = 1.5f, TopK = 0, TopP = 1, MinP = 0, Seed = seed };
        }
    }
}
