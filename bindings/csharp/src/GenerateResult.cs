// What a generation streams (GenerationEventArgs) and returns (GenerateResult):
// managed copies of the library's borrowed data, valid forever.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using Ernie.Native;

namespace Ernie
{
    public enum FinishReason
    {
        None = 0,
        StopToken = 1,
        StopString = 2,
        Length = 3,
        ContextFull = 4,
        /// <summary>The event callback set Cancel, or Session.Cancel was called.</summary>
        Cancelled = 5,
        Error = 6,
        /// <summary>The turn ended with tool calls to run (manual or deferred).</summary>
        ToolCalls = 7,
    }

    public enum EventType
    {
        Text = 1,
        Reasoning = 2,
        ToolCall = 3,
    }

    public struct TokenLogprob
    {
        public int Token;
        public float Logprob;
    }

    /// <summary>One streamed event. Text never splits a UTF-8 character.</summary>
    public sealed class GenerationEventArgs : EventArgs
    {
        public EventType Type { get; private set; }
        public string Text { get; private set; }
        /// <summary>The token this event follows (-1 if none).</summary>
        public int Token { get; private set; }
        public float Logprob { get; private set; }
        public TokenLogprob[] TopLogprobs { get; private set; }
        /// <summary>EventType.ToolCall: the call.</summary>
        public ToolCall ToolCall { get; private set; }

        /// <summary>Set to stop the generation after this event (FinishReason.Cancelled).</summary>
        public bool Cancel { get; set; }

        internal static GenerationEventArgs FromNative(IntPtr p)
        {
            var e = (ernie_event)Marshal.PtrToStructure(p, typeof(ernie_event));
            var args = new GenerationEventArgs
            {
                Type = (EventType)e.type,
                Text = Utf8.FromNative(e.text, (long)e.text_len.ToUInt64()) ?? "",
                Token = e.token,
                Logprob = e.logprob,
                TopLogprobs = new TokenLogprob[(int)e.n_top_logprobs.ToUInt64()],
            };
            int stride = Marshal.SizeOf(typeof(ernie_token_logprob));
            for (int i = 0; i < args.TopLogprobs.Length; i++)
            {
                var lp = (ernie_token_logprob)Marshal.PtrToStructure(e.top_logprobs + i * stride, typeof(ernie_token_logprob));
                args.TopLogprobs[i] = new TokenLogprob { Token = lp.token, Logprob = lp.logprob };
            }
            if (e.tool_call != IntPtr.Zero) args.ToolCall = ToolCall.FromNative(e.tool_call);
            return args;
        }
    }

    public sealed class GenerateResult
    {
        public FinishReason FinishReason { get; private set; }
        public int PromptTokens { get; private set; }
        /// <summary>Prompt tokens reused from the KV cache.</summary>
        public int CachedTokens { get; private set; }
        public int GeneratedTokens { get; private set; }
        public int ReasoningTokens { get; private set; }
        public string Text { get; private set; }
        public string Reasoning { get; private set; }
        /// <summary>Every sampled token, a final stop token included.</summary>
        public int[] Tokens { get; private set; }
        /// <summary>The last turn's valid tool calls (pending when FinishReason is ToolCalls).</summary>
        public IList<ToolCall> ToolCalls { get; private set; }
        public int InvalidToolCalls { get; private set; }
        /// <summary>Chat: JSON array of the messages this call added to the conversation.</summary>
        public string MessagesJson { get; private set; }

        internal static GenerateResult FromNative(ref ernie_generate_result r)
        {
            var tokens = new int[(int)r.n_tokens.ToUInt64()];
            if (tokens.Length > 0) Marshal.Copy(r.tokens, tokens, 0, tokens.Length);
            return new GenerateResult
            {
                FinishReason = (FinishReason)r.finish_reason,
                PromptTokens = r.n_prompt_tokens,
                CachedTokens = r.n_cached_tokens,
                GeneratedTokens = r.n_generated_tokens,
                ReasoningTokens = r.n_reasoning_tokens,
                Text = Utf8.FromNative(r.text) ?? "",
                Reasoning = Utf8.FromNative(r.reasoning) ?? "",
                Tokens = tokens,
                ToolCalls = ToolCall.ArrayFromNative(r.tool_calls, r.n_tool_calls.ToUInt64()).AsReadOnly(),
                InvalidToolCalls = r.n_invalid_tool_calls,
                MessagesJson = Utf8.FromNative(r.messages_json),
            };
        }
    }
}
