//! Tool calling through closures: manual, automatic and deferred modes.
mod common;

use ernie::{
    ChatOptions, FinishReason, GenerateOptions, Message, Reasoning, Sampling, SessionParams, Tool, ToolCall,
    ToolChoice, ToolOutcome,
};

const WEATHER: &str =
    r#"{"type": "object", "properties": {"city": {"type": "string", "maxLength": 12}}, "required": ["city"]}"#;
const ADD: &str = r#"{"type": "object", "properties": {"a": {"type": "integer", "minimum": 0, "maximum": 99}, "b": {"type": "integer"}}, "required": ["a", "b"]}"#;

fn no_reasoning(max_tokens: i32) -> GenerateOptions {
    GenerateOptions { max_tokens, reasoning: Reasoning::Off, ..Default::default() }
}

#[test]
fn manual_mode_reports_a_required_call() {
    let model = common::model("tiny-moe-b");
    let mut session = model.session(&SessionParams::default()).unwrap();
    let mut chat =
        ChatOptions { tool_choice: ToolChoice::Required, parallel_tool_calls: Some(false), ..Default::default() }
            .tool(Tool::new("get_weather").description("Current weather").parameters(WEATHER));
    let mut events = 0;
    let opts =
        GenerateOptions { sampling: Some(Sampling { temperature: 1.0, ..Sampling::seeded(2) }), ..no_reasoning(200) };
    let out = session
        .chat_stream(&[Message::user("Weather in Paris?")], &mut chat, &opts, |e| {
            events += e.tool_call.is_some() as i32;
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(out.finish_reason, FinishReason::ToolCalls);
    assert_eq!(out.tool_calls.len(), 1);
    assert_eq!(events, 1);
    let call = &out.tool_calls[0];
    assert_eq!(call.name, "get_weather");
    assert!(call.id.as_deref().unwrap().starts_with("call_"));
    assert!(call.arguments_json.contains("\"city\""), "{}", call.arguments_json);
}

#[test]
fn automatic_mode_runs_the_closure_and_continues() {
    let model = common::model("tiny-moe-b");
    let mut session = model.session(&SessionParams::default()).unwrap();
    let mut calls: Vec<ToolCall> = Vec::new();
    let mut chat = ChatOptions {
        tool_choice: ToolChoice::Named("add".into()),
        parallel_tool_calls: Some(false),
        ..Default::default()
    }
    .tool(Tool::new("get_weather").parameters(WEATHER))
    .tool(Tool::new("add").description("Adds two integers").parameters(ADD).handler(|call| {
        calls.push(call.clone());
        ToolOutcome::Result("{\"sum\": 5}".into())
    }));
    let opts = GenerateOptions { reasoning_budget: 4, ..no_reasoning(300) };
    let opts = GenerateOptions { reasoning: Reasoning::Auto, ..opts };
    let out = session.chat(&[Message::user("Add 2 and 3")], &mut chat, &opts).unwrap();
    drop(chat);
    assert!(!calls.is_empty());
    assert_eq!(calls[0].name, "add");
    assert!(
        out.messages_json.contains("\"role\": \"tool\"") || out.messages_json.contains("\"role\":\"tool\""),
        "{}",
        out.messages_json
    );
    assert!(out.messages_json.contains("{\\\"sum\\\": 5}"), "{}", out.messages_json);
}

#[test]
fn deferred_calls_come_back_as_tool_messages() {
    let model = common::model("tiny-moe-b");
    let mut session = model.session(&SessionParams::default()).unwrap();
    let mut chat = ChatOptions { tool_choice: ToolChoice::Named("get_weather".into()), ..Default::default() }
        .tool(Tool::new("get_weather").parameters(WEATHER).handler(|_| ToolOutcome::Defer));
    let user = Message::user("Weather in Oslo?");
    let out = session.chat(std::slice::from_ref(&user), &mut chat, &no_reasoning(60)).unwrap();
    assert_eq!(out.finish_reason, FinishReason::ToolCalls);
    let call = out.tool_calls[0].clone();
    let id = call.id.clone().unwrap();
    let turn = [
        user,
        Message {
            role: "assistant".into(),
            content: Some(String::new()),
            tool_calls: vec![call],
            ..Default::default()
        },
        Message::tool(id, "{\"temp\": -3}"),
    ];
    let mut chat = ChatOptions::default().tool(Tool::new("get_weather").parameters(WEATHER));
    let next = session.chat(&turn, &mut chat, &no_reasoning(8)).unwrap();
    assert!(next.n_cached_tokens > 0);
}

#[test]
fn bad_tool_definitions_are_refused() {
    let model = common::model("tiny-moe-b");
    let mut session = model.session(&SessionParams::default()).unwrap();
    let mut chat = ChatOptions::default().tool(Tool::new("broken").parameters("{not json"));
    let err = session.chat(&[Message::user("Hi")], &mut chat, &no_reasoning(4)).unwrap_err();
    assert_eq!(err.kind(), ernie::ErrorKind::InvalidArgument);
    let mut chat = ChatOptions { tool_choice: ToolChoice::Named("missing".into()), ..Default::default() }
        .tool(Tool::new("present").parameters(WEATHER));
    assert!(session.chat(&[Message::user("Hi")], &mut chat, &no_reasoning(4)).is_err());
}
