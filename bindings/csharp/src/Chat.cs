// Conversations: messages, tools and tool calls (ernie_message, ernie_tool,
// ernie_tool_call, ernie_chat_params), and how they become native arrays.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using Ernie.Native;

namespace Ernie
{
    /// <summary>A tool call made by the assistant.</summary>
    public sealed class ToolCall
    {
        public string Id { get; set; }
        public string Name { get; set; }

        /// <summary>The arguments, a JSON object (valid under the tool's schema when generated).</summary>
        public string ArgumentsJson { get; set; }

        public ToolCall() { }

        public ToolCall(string id, string name, string argumentsJson)
        {
            Id = id;
            Name = name;
            ArgumentsJson = argumentsJson;
        }

        internal static ToolCall FromNative(IntPtr p)
        {
            var c = (ernie_tool_call)Marshal.PtrToStructure(p, typeof(ernie_tool_call));
            return new ToolCall(Utf8.FromNative(c.id), Utf8.FromNative(c.name), Utf8.FromNative(c.arguments_json));
        }

        /// <summary>Reads an array the library wrote, with the stride of its first element's struct_size.</summary>
        internal static List<ToolCall> ArrayFromNative(IntPtr p, ulong count)
        {
            var calls = new List<ToolCall>();
            if (p == IntPtr.Zero || count == 0) return calls;
            long stride = (long)Marshal.ReadIntPtr(p).ToInt64(); // struct_size (size_t) of the first element
            if (stride < Marshal.SizeOf(typeof(ernie_tool_call)) || stride > (1 << 16))
                throw new ErnieException(Status.Internal, "tool call array has an implausible struct_size " + stride);
            for (ulong i = 0; i < count; i++) calls.Add(FromNative(new IntPtr(p.ToInt64() + (long)i * stride)));
            return calls;
        }

        internal ernie_tool_call ToNative(NativeArena arena)
        {
            return new ernie_tool_call
            {
                struct_size = (UIntPtr)Marshal.SizeOf(typeof(ernie_tool_call)),
                id = arena.String(Id),
                name = arena.String(Name),
                arguments_json = arena.String(ArgumentsJson),
            };
        }
    }

    /// <summary>One message: Role is "system", "user", "assistant" or "tool".</summary>
    public sealed class ChatMessage
    {
        public string Role { get; set; }
        public string Content { get; set; }

        /// <summary>Optional: an assistant's earlier reasoning.</summary>
        public string Reasoning { get; set; }

        /// <summary>Optional (assistant).</summary>
        public IList<ToolCall> ToolCalls { get; set; }

        /// <summary>Optional (tool): the id of the call this message answers.</summary>
        public string ToolCallId { get; set; }

        public ChatMessage() { }

        public ChatMessage(string role, string content)
        {
            Role = role;
            Content = content;
        }

        public static ChatMessage System(string content) { return new ChatMessage("system", content); }
        public static ChatMessage User(string content) { return new ChatMessage("user", content); }
        public static ChatMessage Assistant(string content) { return new ChatMessage("assistant", content); }

        public static ChatMessage ToolResult(string toolCallId, string content)
        {
            return new ChatMessage("tool", content) { ToolCallId = toolCallId };
        }

        internal static IntPtr ArrayToNative(NativeArena arena, IList<ChatMessage> messages)
        {
            if (messages == null) throw new ArgumentNullException("messages");
            var natives = new ernie_message[messages.Count];
            for (int i = 0; i < messages.Count; i++)
            {
                ChatMessage m = messages[i];
                if (m == null) throw new ArgumentNullException("messages[" + i + "]");
                var calls = new List<ernie_tool_call>();
                if (m.ToolCalls != null) foreach (ToolCall c in m.ToolCalls) calls.Add(c.ToNative(arena));
                natives[i] = new ernie_message
                {
                    struct_size = (UIntPtr)Marshal.SizeOf(typeof(ernie_message)),
                    role = arena.String(m.Role),
                    content = arena.String(m.Content),
                    reasoning = arena.String(m.Reasoning),
                    tool_calls = arena.Structs(calls),
                    n_tool_calls = (UIntPtr)calls.Count,
                    tool_call_id = arena.String(m.ToolCallId),
                };
            }
            return arena.Structs(natives);
        }
    }

    /// <summary>A tool the model may call (thinking format).</summary>
    public sealed class Tool
    {
        public string Name { get; set; }
        public string Description { get; set; }

        /// <summary>JSON Schema of the arguments object (null: any object).</summary>
        public string ParametersJson { get; set; }

        public Tool() { }

        public Tool(string name, string description, string parametersJson)
        {
            Name = name;
            Description = description;
            ParametersJson = parametersJson;
        }
    }

    public enum ToolChoice
    {
        Auto = 0,
        None = 1,
        Required = 2,
        /// <summary>The answer is a call of ChatOptions.ToolChoiceName.</summary>
        Named = 3,
    }

    /// <summary>How a conversation is rendered (ernie_chat_params).</summary>
    public sealed class ChatOptions
    {
        /// <summary>null/"auto": from the model's chat template; "pt"; "thinking".</summary>
        public string Format { get; set; }

        /// <summary>Tools as a JSON array ({"type": "function", ...}), instead of Tools.</summary>
        public string ToolsJson { get; set; }

        public IList<Tool> Tools { get; set; }

        public string SystemSettings { get; set; }

        public bool AddGenerationPrompt { get; set; }

        public ToolChoice ToolChoice { get; set; }

        public string ToolChoiceName { get; set; }

        /// <summary>Several calls per turn (default) or stop after one.</summary>
        public bool ParallelToolCalls { get; set; }

        public ChatOptions()
        {
            AddGenerationPrompt = true;
            ParallelToolCalls = true;
        }

        internal ernie_chat_params ToNative(NativeArena arena)
        {
            var p = new ernie_chat_params();
            NativeMethods.ernie_chat_params_init(ref p);
            p.format = arena.String(Format);
            p.tools_json = arena.String(ToolsJson);
            p.system_settings = arena.String(SystemSettings);
            p.add_generation_prompt = AddGenerationPrompt ? 1 : 0;
            if (Tools != null && Tools.Count > 0)
            {
                var tools = new List<ernie_tool>();
                foreach (Tool t in Tools)
                {
                    if (t == null) throw new ArgumentNullException("Tools[" + tools.Count + "]");
                    tools.Add(new ernie_tool
                    {
                        struct_size = (UIntPtr)Marshal.SizeOf(typeof(ernie_tool)),
                        name = arena.String(t.Name),
                        description = arena.String(t.Description),
                        parameters_json = arena.String(t.ParametersJson),
                    });
                }
                p.tools = arena.Structs(tools);
                p.n_tools = (UIntPtr)tools.Count;
            }
            p.tool_choice = (int)ToolChoice;
            p.tool_choice_name = arena.String(ToolChoiceName);
            p.parallel_tool_calls = ParallelToolCalls ? 1 : 0;
            return p;
        }
    }
}
