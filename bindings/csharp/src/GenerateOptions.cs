// How a generation samples, stops and streams (ernie_sampling_params and
// ernie_generate_params).
using System;
using System.Collections.Generic;
using Ernie.Native;

namespace Ernie
{
    /// <summary>Sampling (docs/sampling.md). A new instance holds the library's
    /// defaults; Temperature 0 is greedy.</summary>
    public sealed class SamplingOptions
    {
        public float Temperature { get; set; }
        public int TopK { get; set; }
        public float TopP { get; set; }
        public float MinP { get; set; }
        public float RepetitionPenalty { get; set; }
        public float PresencePenalty { get; set; }
        public float FrequencyPenalty { get; set; }
        public int PenaltyWindow { get; set; }

        /// <summary>Same seed + same inputs = same tokens, in every language.</summary>
        public ulong Seed { get; set; }

        /// <summary>Added to a token's logit; float.NegativeInfinity bans it.</summary>
        public IDictionary<int, float> LogitBias { get; set; }

        public SamplingOptions()
        {
            ErnieLibrary.EnsureCompatible();
            var p = new ernie_sampling_params();
            NativeMethods.ernie_sampling_params_init(ref p);
            Temperature = p.temperature;
            TopK = p.top_k;
            TopP = p.top_p;
            MinP = p.min_p;
            RepetitionPenalty = p.repetition_penalty;
            PresencePenalty = p.presence_penalty;
            FrequencyPenalty = p.frequency_penalty;
            PenaltyWindow = p.penalty_window;
            Seed = p.seed;
        }

        internal ernie_sampling_params ToNative(NativeArena arena)
        {
            var p = new ernie_sampling_params();
            NativeMethods.ernie_sampling_params_init(ref p);
            p.temperature = Temperature;
            p.top_k = TopK;
            p.top_p = TopP;
            p.min_p = MinP;
            p.repetition_penalty = RepetitionPenalty;
            p.presence_penalty = PresencePenalty;
            p.frequency_penalty = FrequencyPenalty;
            p.penalty_window = PenaltyWindow;
            p.seed = Seed;
            if (LogitBias != null && LogitBias.Count > 0)
            {
                p.logit_bias_tokens = arena.Ints(new List<int>(LogitBias.Keys));
                p.logit_bias_values = arena.Floats(new List<float>(LogitBias.Values));
                p.n_logit_bias = (UIntPtr)LogitBias.Count;
            }
            return p;
        }
    }

    public enum Reasoning
    {
        /// <summary>The model reasons if its chat format does.</summary>
        Auto = 0,
        /// <summary>Thinking format: close &lt;think&gt; at once.</summary>
        Off = 1,
    }

    public sealed class GenerateOptions
    {
        /// <summary>null = greedy.</summary>
        public SamplingOptions Sampling { get; set; }

        /// <summary>Generated-token limit (default 512; 0 = the context).</summary>
        public int MaxTokens { get; set; }

        public IList<string> StopStrings { get; set; }

        /// <summary>Extra stop tokens (the model's end-of-turn tokens always stop).</summary>
        public IList<int> StopTokens { get; set; }

        /// <summary>0 = none; else alternatives reported per token (at most 20).</summary>
        public int Logprobs { get; set; }

        /// <summary>0 = the session's thread count.</summary>
        public int Threads { get; set; }

        public Reasoning Reasoning { get; set; }

        /// <summary>Thinking format: reasoning tokens before &lt;/think&gt; is forced (0 = unlimited).</summary>
        public int ReasoningBudget { get; set; }

        /// <summary>The answer must be JSON valid under this JSON Schema (docs/grammar.md).</summary>
        public string ResponseSchemaJson { get; set; }

        /// <summary>Streaming: called on the generating thread for every piece of
        /// text, reasoning and every tool call. Set e.Cancel to stop. An exception
        /// stops the generation and is rethrown by the generating method.</summary>
        public Action<GenerationEventArgs> OnEvent { get; set; }

        /// <summary>Automatic tool calling (chat with tools): return the tool's
        /// result text, or null to stop and run the calls elsewhere
        /// (FinishReason.ToolCalls). An exception stops the generation and is
        /// rethrown by the generating method. null = manual mode.</summary>
        public Func<ToolCall, string> OnToolCall { get; set; }

        /// <summary>Automatic mode: tool rounds before stopping (8).</summary>
        public int MaxToolRounds { get; set; }

        public GenerateOptions()
        {
            MaxTokens = 512;
            MaxToolRounds = 8;
        }

        internal ernie_generate_params ToNative(NativeArena arena, GenerationCall call)
        {
            var p = new ernie_generate_params();
            NativeMethods.ernie_generate_params_init(ref p);
            if (Sampling != null) p.sampling = arena.Struct(Sampling.ToNative(arena));
            p.max_tokens = MaxTokens;
            if (StopStrings != null && StopStrings.Count > 0)
            {
                p.stop_strings = arena.Strings(StopStrings);
                p.n_stop_strings = (UIntPtr)StopStrings.Count;
            }
            if (StopTokens != null && StopTokens.Count > 0)
            {
                p.stop_tokens = arena.Ints(StopTokens);
                p.n_stop_tokens = (UIntPtr)StopTokens.Count;
            }
            p.n_logprobs = Logprobs;
            p.n_threads = Threads;
            p.reasoning = (int)Reasoning;
            p.reasoning_budget = ReasoningBudget;
            p.response_schema_json = arena.String(ResponseSchemaJson);
            p.max_tool_rounds = MaxToolRounds;
            // The event callback always runs: it also checks the CancellationToken.
            p.on_event = Trampolines.Event;
            p.user_data = call.UserData;
            if (OnToolCall != null)
            {
                p.on_tool_call = Trampolines.Tool;
                p.tool_user_data = call.UserData;
            }
            return p;
        }
    }
}
