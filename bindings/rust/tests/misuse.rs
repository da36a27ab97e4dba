//! Deliberately wrong use ends in an error or a resumed panic, never a crash.
//! (Double free and use after free do not compile: see the crate docs'
//! compile_fail examples.)
mod common;

use std::ops::ControlFlow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::Duration;

use ernie::{
    ChatOptions, ErrorKind, FinishReason, GenerateOptions, Message, Sampling, SessionParams, Tool, ToolChoice,
};

fn seeded(seed: u64, max_tokens: i32) -> GenerateOptions {
    GenerateOptions { sampling: Some(Sampling::seeded(seed)), max_tokens, ..Default::default() }
}

#[test]
fn a_panicking_stream_closure_stops_generation_and_resumes_on_the_caller() {
    let model = common::model("tiny-moe-a");
    let mut session = model.session(&SessionParams::default()).unwrap();
    let mut calls = 0;
    let caught = catch_unwind(AssertUnwindSafe(|| {
        session.generate_stream(&[1, 5], &seeded(1, 50), |_| {
            calls += 1;
            panic!("closure panicked")
        })
    }));
    assert_eq!(*caught.unwrap_err().downcast::<&str>().unwrap(), "closure panicked");
    assert_eq!(calls, 1, "the closure is not called again after its panic");
    // The library is consistent: the session still works.
    let out = session.generate(&[1, 5], &seeded(1, 4)).unwrap();
    assert!(out.n_generated_tokens > 0);
}

#[test]
fn a_panicking_tool_closure_stops_generation_and_resumes_on_the_caller() {
    let model = common::model("tiny-moe-b");
    let mut session = model.session(&SessionParams::default()).unwrap();
    let schema = r#"{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}"#;
    let mut chat = ChatOptions { tool_choice: ToolChoice::Named("f".into()), ..Default::default() }
        .tool(Tool::new("f").parameters(schema).handler(|_| panic!("tool panicked")));
    let opts = GenerateOptions { reasoning: ernie::Reasoning::Off, max_tokens: 60, ..Default::default() };
    let caught = catch_unwind(AssertUnwindSafe(|| session.chat(&[Message::user("go")], &mut chat, &opts)));
    assert_eq!(*caught.unwrap_err().downcast::<&str>().unwrap(), "tool panicked");
    assert!(session.chat(&[Message::user("again")], &mut ChatOptions::default(), &opts).is_ok());
}

#[test]
fn cancel_from_another_thread_stops_the_generation() {
    let model = common::model("tiny-moe-a");
    let mut session = model.session(&SessionParams { n_ctx: 512, ..Default::default() }).unwrap();
    let cancel = session.cancel_handle();
    let (started_tx, started_rx) = mpsc::channel();
    let canceller = std::thread::spawn(move || {
        started_rx.recv().unwrap();
        cancel.cancel();
    });
    let mut first = true;
    let out = session
        .generate_stream(&[1], &seeded(4, 0), |_| {
            if std::mem::take(&mut first) {
                started_tx.send(()).unwrap();
            }
            std::thread::sleep(Duration::from_millis(2));
            ControlFlow::Continue(())
        })
        .unwrap();
    canceller.join().unwrap();
    assert_eq!(out.finish_reason, FinishReason::Cancelled);
    assert!(out.n_generated_tokens < 500);
}

#[test]
fn a_cancel_handle_outliving_its_session_is_harmless() {
    let model = common::model("tiny-moe-a");
    let session = model.session(&SessionParams::default()).unwrap();
    let cancel = session.cancel_handle();
    drop(session);
    drop(model);
    cancel.cancel(); // the handle kept the C session alive: nothing to stop
    std::thread::spawn(move || cancel.cancel()).join().unwrap();
}

#[test]
fn wrong_arguments_are_errors() {
    let model = common::model("tiny-moe-a");
    let mut session = model.session(&SessionParams { n_ctx: 16, ..Default::default() }).unwrap();
    // A prompt longer than the context.
    let err = session.generate(&[1; 40], &GenerateOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ContextFull);
    assert!(!err.message().is_empty());
    // Token ids outside the vocabulary.
    assert_eq!(session.eval(&[123_456], false).unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert_eq!(session.eval(&[-1], false).unwrap_err().kind(), ErrorKind::InvalidArgument);
    // A stop string with a NUL byte cannot reach C.
    let opts = GenerateOptions { stop_strings: vec!["a\0b".into()], ..Default::default() };
    let err = session.generate(&[1], &opts).unwrap_err();
    assert!(err.message().contains("stop string"), "{err}");
    // Garbage instead of a saved session.
    assert!(session.restore(b"definitely not a session").is_err());
    // Bad sampling values.
    let bad = GenerateOptions { sampling: Some(Sampling { top_p: 7.0, ..Sampling::default() }), ..Default::default() };
    assert!(session.generate(&[1], &bad).is_err());
    // The session is intact after all of it.
    assert!(session.generate(&[1], &seeded(1, 2)).is_ok());
    // An absurd context size is refused, not allocated.
    assert!(model.session(&SessionParams { n_ctx: i32::MAX, ..Default::default() }).is_err());
}

#[test]
fn send_and_sync_follow_the_c_threading_rules() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<ernie::Model>();
    sync::<ernie::Model>(); // every model function is thread-safe
    send::<ernie::Session>(); // a session may move between threads (not Sync: see the crate docs)
    send::<ernie::CancelHandle>();
    sync::<ernie::CancelHandle>(); // cancel is allowed from any thread
    send::<ernie::Error>();
    sync::<ernie::Error>();
}
