//! Loading, model info, tokenizer, chat rendering and the error paths of loading.
mod common;

use ernie::{ChatOptions, ErrorKind, Message, Model, ModelParams};

#[test]
fn abi_check_passes_against_the_built_library() {
    ernie::check_abi().unwrap();
    assert_eq!(ernie::abi_version(), ernie::sys::ERNIE_ABI_VERSION);
    assert!(ernie::version().starts_with("0."));
}

#[test]
fn info_and_metadata_describe_the_tiny_moe_model() {
    let model = common::model("tiny-moe-b");
    let info = model.info().unwrap();
    assert_eq!(info.arch, ernie::sys::ERNIE_ARCH_MOE);
    assert_eq!(info.n_layers, 4);
    assert_eq!(info.hidden_size, 96);
    assert_eq!(info.n_experts, 16);
    assert_eq!(info.n_experts_used, 4);
    assert_eq!(info.vocab_size, 800);
    assert!(model.metadata().unwrap().starts_with('{'));
    assert!(model.session_bytes(128, 16).unwrap() > 0);
    model.verify().unwrap();
}

#[test]
fn tokenize_matches_the_golden_ids_and_round_trips() {
    let model = common::model("tiny-moe-b");
    let ids = model.tokenize("Hello world", false).unwrap();
    assert_eq!(ids, [708, 717, 369, 719, 295, 287, 589]);
    assert_eq!(model.detokenize(&ids).unwrap(), "Hello world");
    let text = "数字 12345 and ünïcödé 🌍";
    assert_eq!(model.detokenize(&model.tokenize(text, false).unwrap()).unwrap(), text);
    assert!(model.tokenize("", false).unwrap().is_empty());
    // Special pieces are control tokens only when asked for.
    let special = model.tokenize("<|im_start|>", true).unwrap();
    let plain = model.tokenize("<|im_start|>", false).unwrap();
    assert!(special.len() < plain.len());
}

#[test]
fn chat_render_and_parse() {
    let model = common::model("tiny-moe-b");
    let prompt = model.chat_render(&[Message::user("Hi")], None).unwrap();
    assert!(prompt.contains("Hi"));
    let json = r#"{"messages": [{"role": "user", "content": "Hi"}]}"#;
    assert_eq!(model.chat_render_json(json, None).unwrap(), prompt);
    let parsed = model.chat_parse("thinking</think>\n\nanswer", Some("thinking")).unwrap();
    assert!(parsed.contains("\"content\""), "{parsed}");
    let err = model
        .chat_render(&[Message::user("Hi")], Some(&ChatOptions { format: Some("nope".into()), ..Default::default() }));
    assert_eq!(err.unwrap_err().kind(), ErrorKind::InvalidArgument);
}

#[test]
fn load_errors_say_what_is_wrong() {
    let err = Model::load("/nonexistent/model.ernie").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(err.message().contains("/nonexistent/model.ernie"), "{err}");

    let junk = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("junk.ernie");
    std::fs::write(&junk, b"not a model at all, just some bytes").unwrap();
    let err = Model::load(&junk).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidModel | ErrorKind::Io), "{err}");

    let err = Model::load("bad\0path").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("NUL"), "{err}");

    let params = ModelParams { backend: Some("quantum".into()), ..Default::default() };
    assert!(Model::load_with(common::packed("tiny-moe-a"), &params, None).is_err());
}

#[test]
fn load_progress_can_cancel_and_its_panic_is_resumed() {
    let path = common::packed("tiny-moe-a");
    let mut seen = Vec::new();
    let model = Model::load_with(
        &path,
        &ModelParams::default(),
        Some(&mut |p| {
            seen.push(p);
            std::ops::ControlFlow::Continue(())
        }),
    );
    model.unwrap();
    assert!(!seen.is_empty());
    let err =
        Model::load_with(&path, &ModelParams::default(), Some(&mut |_| std::ops::ControlFlow::Break(()))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    let caught = std::panic::catch_unwind(|| {
        let _ = Model::load_with(&path, &ModelParams::default(), Some(&mut |_| panic!("progress panicked")));
    });
    assert_eq!(*caught.unwrap_err().downcast::<&str>().unwrap(), "progress panicked");
}

#[test]
fn detokenize_refuses_unknown_ids() {
    let model = common::model("tiny-moe-a");
    let err = model.detokenize(&[1_000_000]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn a_model_is_shared_across_threads() {
    let model = std::sync::Arc::new(common::model("tiny-moe-a"));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let m = model.clone();
            std::thread::spawn(move || m.tokenize("Hello world", false).unwrap())
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results[0], results[1]);
}

#[test]
fn pack_errors_are_reported() {
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("never.ernie");
    let err = ernie::pack("/nonexistent/checkpoint", &out, &Default::default()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Io | ErrorKind::InvalidModel), "{err}");
    assert!(!out.exists());
}

#[test]
fn resource_limits_refuse_with_out_of_memory() {
    let path = common::packed("tiny-moe-b");
    let size = std::fs::metadata(&path).unwrap().len();
    let load = |p: ModelParams| Model::load_with(&path, &p, None);
    assert!(load(ModelParams { max_file_bytes: size, ..Default::default() }).is_ok());
    let err = load(ModelParams { max_file_bytes: size - 1, ..Default::default() }).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::OutOfMemory);
    assert!(err.message().contains("max_file_bytes"), "{err}");

    let model = load(ModelParams { max_context: 64, ..Default::default() }).unwrap();
    let err = ernie::Session::new(&model, &ernie::SessionParams { n_ctx: 65, ..Default::default() }).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::OutOfMemory);
    assert!(ernie::Session::new(&model, &ernie::SessionParams { n_ctx: 64, ..Default::default() }).is_ok());

    let budget = model.session_bytes(64, 512).unwrap();
    let model = load(ModelParams { session_memory_budget: budget, ..Default::default() }).unwrap();
    let params = ernie::SessionParams { n_ctx: 64, ..Default::default() };
    let first = ernie::Session::new(&model, &params).unwrap();
    let err = ernie::Session::new(&model, &params).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::OutOfMemory);
    drop(first);
    assert!(ernie::Session::new(&model, &params).is_ok());
}
