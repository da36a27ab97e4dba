// A plain test runner (no NUnit needed): every public static void method
// marked [Test] in this assembly runs once; `ErnieTests.exe NAME...` runs only
// the tests whose name contains one of the arguments. Exit code 1 on failure.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Reflection;

namespace Ernie.Tests
{
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class TestAttribute : Attribute { }

    public sealed class AssertionFailed : Exception
    {
        public AssertionFailed(string message) : base(message) { }
    }

    public static class Assert
    {
        public static void True(bool condition, string what)
        {
            if (!condition) throw new AssertionFailed(what);
        }

        public static void Equal<T>(T expected, T actual, string what)
        {
            if (!EqualityComparer<T>.Default.Equals(expected, actual))
                throw new AssertionFailed(string.Format("{0}: expected <{1}>, got <{2}>", what, expected, actual));
        }

        public static void SequenceEqual<T>(IList<T> expected, IList<T> actual, string what)
        {
            if (!expected.SequenceEqual(actual))
                throw new AssertionFailed(string.Format("{0}: expected [{1}], got [{2}]", what, string.Join(", ", expected), string.Join(", ", actual)));
        }

        public static void Contains(string needle, string haystack, string what)
        {
            if (haystack == null || !haystack.Contains(needle))
                throw new AssertionFailed(string.Format("{0}: <{1}> does not contain <{2}>", what, haystack, needle));
        }

        /// <summary>Runs action and returns the exception of type T it must throw.</summary>
        public static T Throws<T>(Action action, string what) where T : Exception
        {
            try
            {
                action();
            }
            catch (T e)
            {
                return e;
            }
            catch (Exception e)
            {
                throw new AssertionFailed(string.Format("{0}: expected {1}, got {2}: {3}", what, typeof(T).Name, e.GetType().Name, e.Message));
            }
            throw new AssertionFailed(string.Format("{0}: expected {1}, nothing was thrown", what, typeof(T).Name));
        }
    }

    public static class TestRunner
    {
        public static int Main(string[] args)
        {
            var tests = typeof(TestRunner).Assembly.GetTypes()
                .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static))
                .Where(m => m.GetCustomAttributes(typeof(TestAttribute), false).Length > 0)
                .Select(m => new { Name = m.DeclaringType.Name + "." + m.Name, Method = m })
                .Where(t => args.Length == 0 || args.Any(a => t.Name.Contains(a)))
                .OrderBy(t => t.Name, StringComparer.Ordinal)
                .ToList();
            int failed = 0;
            var total = Stopwatch.StartNew();
            foreach (var test in tests)
            {
                var watch = Stopwatch.StartNew();
                try
                {
                    test.Method.Invoke(null, null);
                    Console.WriteLine("ok    {0} ({1} ms)", test.Name, watch.ElapsedMilliseconds);
                }
                catch (TargetInvocationException e)
                {
                    failed++;
                    Console.WriteLine("FAIL  {0} ({1} ms)\n      {2}", test.Name, watch.ElapsedMilliseconds,
                                      e.InnerException.ToString().Replace("\n", "\n      "));
                }
            }
            Console.WriteLine("{0} tests, {1} failed, {2:F1} s", tests.Count, failed, total.Elapsed.TotalSeconds);
            if (tests.Count == 0) Console.WriteLine("no test matches " + string.Join(" ", args));
            return failed == 0 && tests.Count > 0 ? 0 : 1;
        }
    }
}
