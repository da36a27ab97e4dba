//! Conversations: messages, tools and tool calls, and their C mirrors.
use std::ffi::CString;
use std::mem::size_of;

use ernie_sys as sys;

use crate::error::Result;
use crate::strings::{c_string, c_string_opt, copy_c_str, copy_c_str_opt, ptr_or_null};

/// A tool call made by the assistant.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolCall {
    pub id: Option<String>,
    pub name: String,
    /// A JSON object (already validated against the tool's schema when it
    /// comes from generation).
    pub arguments_json: String,
}

impl ToolCall {
    /// # Safety
    /// `c` and its strings are valid.
    pub(crate) unsafe fn from_raw(c: &sys::ernie_tool_call) -> ToolCall {
        ToolCall { id: copy_c_str_opt(c.id), name: copy_c_str(c.name), arguments_json: copy_c_str(c.arguments_json) }
    }

    /// Copies an array the library wrote, read with the stride of the first
    /// element's struct_size (the header's rule).
    ///
    /// # Safety
    /// `p` is NULL or points to `n` valid calls.
    pub(crate) unsafe fn copy_array(p: *const sys::ernie_tool_call, n: usize) -> Vec<ToolCall> {
        if p.is_null() || n == 0 {
            return Vec::new();
        }
        let stride = (*p).struct_size.max(size_of::<sys::ernie_tool_call>());
        (0..n)
            .map(|i| ToolCall::from_raw(&*((p as *const u8).add(i * stride) as *const sys::ernie_tool_call)))
            .collect()
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// "system", "user", "assistant" or "tool".
    pub role: String,
    /// `None` only for an assistant message that carries tool calls.
    pub content: Option<String>,
    /// An assistant's earlier reasoning.
    pub reasoning: Option<String>,
    pub tool_calls: Vec<ToolCall>,
    /// For a "tool" message: the id of the call it answers.
    pub tool_call_id: Option<String>,
}

impl Message {
    fn with(role: &str, content: impl Into<String>) -> Message {
        Message { role: role.to_string(), content: Some(content.into()), ..Message::default() }
    }
    pub fn system(content: impl Into<String>) -> Message {
        Message::with("system", content)
    }
    pub fn user(content: impl Into<String>) -> Message {
        Message::with("user", content)
    }
    pub fn assistant(content: impl Into<String>) -> Message {
        Message::with("assistant", content)
    }
    /// The result of the tool call `call_id`.
    pub fn tool(call_id: impl Into<String>, content: impl Into<String>) -> Message {
        Message { tool_call_id: Some(call_id.into()), ..Message::with("tool", content) }
    }
}

/// What a tool handler tells the generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolOutcome {
    /// The call's result: it is appended as a tool message and generation goes on.
    Result(String),
    /// Stop generating; the call is reported in `Generation::tool_calls` to be run elsewhere.
    Defer,
}

/// The closure that runs a tool.
pub type ToolHandler<'a> = dyn FnMut(&ToolCall) -> ToolOutcome + 'a;

/// A tool the model may call: its definition and, optionally, the closure
/// that runs it (automatic mode). Without any handler, calls are only reported.
pub struct Tool<'a> {
    pub name: String,
    pub description: Option<String>,
    /// JSON Schema of the arguments object (`None`: any object).
    pub parameters_json: Option<String>,
    handler: Option<Box<ToolHandler<'a>>>,
}

impl<'a> Tool<'a> {
    pub fn new(name: impl Into<String>) -> Tool<'a> {
        Tool { name: name.into(), description: None, parameters_json: None, handler: None }
    }
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }
    pub fn parameters(mut self, schema_json: impl Into<String>) -> Self {
        self.parameters_json = Some(schema_json.into());
        self
    }
    /// Runs the tool when the model calls it (on the generating thread). A
    /// panic stops generation and is resumed from the chat call.
    pub fn handler(mut self, f: impl FnMut(&ToolCall) -> ToolOutcome + 'a) -> Self {
        self.handler = Some(Box::new(f));
        self
    }
}

impl std::fmt::Debug for Tool<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tool")
            .field("name", &self.name)
            .field("description", &self.description)
            .field("parameters_json", &self.parameters_json)
            .field("handler", &self.handler.is_some())
            .finish()
    }
}

/// Whether and which tool the model must call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ToolChoice {
    #[default]
    Auto,
    None,
    Required,
    Named(String),
}

/// How a conversation is rendered and which tools it offers.
#[derive(Debug, Default)]
pub struct ChatOptions<'a> {
    /// `None`: from the model's chat template; else "pt" or "thinking".
    pub format: Option<String>,
    pub tools: Vec<Tool<'a>>,
    pub tool_choice: ToolChoice,
    /// `false`: stop after one call per turn.
    pub parallel_tool_calls: Option<bool>,
    pub system_settings: Option<String>,
    /// `false`: render without the generation prompt (default true).
    pub add_generation_prompt: Option<bool>,
}

impl<'a> ChatOptions<'a> {
    pub fn tool(mut self, t: Tool<'a>) -> Self {
        self.tools.push(t);
        self
    }

    pub(crate) fn has_handlers(&self) -> bool {
        self.tools.iter().any(|t| t.handler.is_some())
    }

    /// Runs the handler of the tool `call` names; a call of a tool without
    /// one is deferred.
    pub(crate) fn dispatch(&mut self, call: &ToolCall) -> ToolOutcome {
        match self.tools.iter_mut().find(|t| t.name == call.name).and_then(|t| t.handler.as_mut()) {
            Some(h) => h(call),
            None => ToolOutcome::Defer,
        }
    }
}

/// C mirrors of a conversation, with every string they point to owned here.
pub(crate) struct RawChat {
    _strings: Vec<CString>,
    _calls: Vec<Vec<sys::ernie_tool_call>>,
    messages: Vec<sys::ernie_message>,
    tools: Vec<sys::ernie_tool>,
    pub params: sys::ernie_chat_params,
}

/// Keeps CStrings alive while handing out their pointers (a CString's buffer
/// does not move when the CString itself does).
#[derive(Default)]
struct Strings(Vec<CString>);

impl Strings {
    fn add(&mut self, what: &str, s: &str) -> Result<*const std::os::raw::c_char> {
        let c = c_string(what, s)?;
        let p = c.as_ptr();
        self.0.push(c);
        Ok(p)
    }
    fn add_opt(&mut self, what: &str, s: Option<&str>) -> Result<*const std::os::raw::c_char> {
        let c = c_string_opt(what, s)?;
        let p = ptr_or_null(&c);
        self.0.extend(c);
        Ok(p)
    }
}

impl RawChat {
    pub fn new(messages: &[Message], opts: Option<&ChatOptions<'_>>) -> Result<RawChat> {
        let mut s = Strings::default();
        let mut calls = Vec::with_capacity(messages.len());
        let mut raw_messages = Vec::with_capacity(messages.len());
        for m in messages {
            let mut c = Vec::with_capacity(m.tool_calls.len());
            for call in &m.tool_calls {
                c.push(sys::ernie_tool_call {
                    struct_size: size_of::<sys::ernie_tool_call>(),
                    id: s.add_opt("tool call id", call.id.as_deref())?,
                    name: s.add("tool call name", &call.name)?,
                    arguments_json: s.add("tool call arguments", &call.arguments_json)?,
                });
            }
            raw_messages.push(sys::ernie_message {
                struct_size: size_of::<sys::ernie_message>(),
                role: s.add("message role", &m.role)?,
                content: s.add_opt("message content", m.content.as_deref())?,
                reasoning: s.add_opt("message reasoning", m.reasoning.as_deref())?,
                // A Vec's heap buffer stays put when the Vec moves into `calls`.
                tool_calls: if c.is_empty() { std::ptr::null() } else { c.as_ptr() },
                n_tool_calls: c.len(),
                tool_call_id: s.add_opt("tool_call_id", m.tool_call_id.as_deref())?,
            });
            calls.push(c);
        }
        let mut params = {
            let mut p = std::mem::MaybeUninit::<sys::ernie_chat_params>::zeroed();
            // SAFETY: init fills every field.
            unsafe {
                sys::ernie_chat_params_init_sized(p.as_mut_ptr(), std::mem::size_of::<sys::ernie_chat_params>());
                p.assume_init()
            }
        };
        let mut tools = Vec::new();
        if let Some(o) = opts {
            params.format = s.add_opt("format", o.format.as_deref())?;
            params.system_settings = s.add_opt("system_settings", o.system_settings.as_deref())?;
            if let Some(add) = o.add_generation_prompt {
                params.add_generation_prompt = add as i32;
            }
            if let Some(parallel) = o.parallel_tool_calls {
                params.parallel_tool_calls = parallel as i32;
            }
            params.tool_choice = match &o.tool_choice {
                ToolChoice::Auto => sys::ERNIE_TOOL_CHOICE_AUTO,
                ToolChoice::None => sys::ERNIE_TOOL_CHOICE_NONE,
                ToolChoice::Required => sys::ERNIE_TOOL_CHOICE_REQUIRED,
                ToolChoice::Named(name) => {
                    params.tool_choice_name = s.add("tool_choice name", name)?;
                    sys::ERNIE_TOOL_CHOICE_NAMED
                }
            };
            for t in &o.tools {
                tools.push(sys::ernie_tool {
                    struct_size: size_of::<sys::ernie_tool>(),
                    name: s.add("tool name", &t.name)?,
                    description: s.add_opt("tool description", t.description.as_deref())?,
                    parameters_json: s.add_opt("tool parameters", t.parameters_json.as_deref())?,
                });
            }
            if !tools.is_empty() {
                params.tools = tools.as_ptr();
                params.n_tools = tools.len();
            }
        }
        Ok(RawChat { _strings: s.0, _calls: calls, messages: raw_messages, tools, params })
    }

    pub fn messages(&self) -> (*const sys::ernie_message, usize) {
        if self.messages.is_empty() {
            (std::ptr::null(), 0)
        } else {
            (self.messages.as_ptr(), self.messages.len())
        }
    }

    pub fn params(&self) -> *const sys::ernie_chat_params {
        debug_assert!(self.tools.is_empty() || self.params.tools == self.tools.as_ptr());
        &self.params
    }
}

/// A chat format name for calls that take one (`None` = from the template).
pub(crate) fn format_arg(format: Option<&str>) -> Result<Option<CString>> {
    c_string_opt("format", format)
}
