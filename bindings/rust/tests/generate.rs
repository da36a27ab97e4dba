//! Generation: the same seed gives the C CLI's tokens, streaming, stopping,
//! raw evaluation, save/restore.
mod common;

use std::ops::ControlFlow;

use ernie::{ChatOptions, EventKind, FinishReason, GenerateOptions, Message, Sampling, SessionParams};

fn seeded(seed: u64, max_tokens: i32) -> GenerateOptions {
    GenerateOptions { sampling: Some(Sampling::seeded(seed)), max_tokens, ..Default::default() }
}

#[test]
fn raw_generation_matches_the_c_cli_token_for_token() {
    for name in ["tiny-moe-a", "tiny-moe-b"] {
        let path = common::packed(name);
        let model = ernie::Model::load(&path).unwrap();
        let mut session = model.session(&SessionParams::default()).unwrap();
        let prompt = model.tokenize("Hello world", true).unwrap();
        let out = session.generate(&prompt, &seeded(7, 24)).unwrap();
        let c = common::cli_run_tokens(&[
            "-m",
            path.to_str().unwrap(),
            "--raw",
            "-p",
            "Hello world",
            "--seed",
            "7",
            "-n",
            "24",
        ]);
        assert_eq!(out.tokens, c, "{name}");
        assert!(!out.tokens.is_empty());
    }
}

/// The case every binding's tests share with the C CLI (C#: SeededTokensMatchTheC):
/// hot sampling, so each token depends on the seed.
#[test]
fn the_shared_cross_language_seed_case_matches_the_c_cli() {
    let path = common::packed("tiny-moe-b");
    let model = ernie::Model::load(&path).unwrap();
    let mut session = model.session(&SessionParams::default()).unwrap();
    let prompt = model.tokenize("Hello world", true).unwrap();
    let hot = |seed| GenerateOptions {
        sampling: Some(Sampling { temperature: 1.5, top_k: 0, top_p: 1.0, min_p: 0.0, ..Sampling::seeded(seed) }),
        max_tokens: 16,
        ..Default::default()
    };
    let out = session.generate(&prompt, &hot(1234)).unwrap();
    let c = common::cli_run_tokens(&[
        "-m",
        path.to_str().unwrap(),
        "--raw",
        "-p",
        "Hello world",
        "--temp",
        "1.5",
        "--top-k",
        "0",
        "--top-p",
        "1",
        "--min-p",
        "0",
        "--seed",
        "1234",
        "-n",
        "16",
    ]);
    println!("seed 1234: {:?}", out.tokens);
    assert_eq!(out.tokens, c);
    let distinct: std::collections::HashSet<_> = out.tokens.iter().collect();
    assert!(distinct.len() > 3, "the seed matters (varied tokens)");
    assert_ne!(session.generate(&prompt, &hot(99)).unwrap().tokens, out.tokens, "another seed, other tokens");
}

#[test]
fn chat_generation_matches_the_c_cli_token_for_token() {
    let path = common::packed("tiny-moe-b");
    let model = ernie::Model::load(&path).unwrap();
    let mut session = model.session(&SessionParams::default()).unwrap();
    let out = session.chat(&[Message::user("Hi there")], &mut ChatOptions::default(), &seeded(11, 32)).unwrap();
    let c = common::cli_run_tokens(&["-m", path.to_str().unwrap(), "-p", "Hi there", "--seed", "11", "-n", "32"]);
    assert_eq!(out.tokens, c);
}

#[test]
fn greedy_generation_follows_the_golden_reference() {
    // tests/data/tiny-moe-b/golden/cases.json: greedy continuation of [1].
    let model = common::model("tiny-moe-b");
    let mut session = model.session(&SessionParams::default()).unwrap();
    let out = session.generate(&[1], &GenerateOptions { max_tokens: 4, ..Default::default() }).unwrap();
    let expected = [751, 402, 236, 204];
    assert_eq!(out.tokens, expected);
}

#[test]
fn streamed_text_is_the_result_text_and_break_stops() {
    let model = common::model("tiny-moe-b");
    let mut session = model.session(&SessionParams::default()).unwrap();
    let mut streamed = String::new();
    let mut reasoning = String::new();
    let mut tokens = 0;
    let out = session
        .chat_stream(&[Message::user("Tell me a story")], &mut ChatOptions::default(), &seeded(3, 40), |e| {
            match e.kind {
                EventKind::Text => streamed.push_str(&e.text),
                EventKind::Reasoning => reasoning.push_str(&e.text),
                _ => {}
            }
            tokens += e.token.is_some() as usize;
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(streamed, out.text);
    assert_eq!(reasoning, out.reasoning);
    assert!(tokens > 0);

    let mut n = 0;
    let out = session
        .generate_stream(&model.tokenize("Once upon", true).unwrap(), &seeded(3, 40), |_| {
            n += 1;
            if n == 3 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!(out.finish_reason, FinishReason::Cancelled);
    assert_eq!(n, 3);
    // The session stays usable.
    let again = session.generate(&model.tokenize("Once upon", true).unwrap(), &seeded(3, 5)).unwrap();
    assert_eq!(again.finish_reason, FinishReason::Length);
}

#[test]
fn logprobs_stop_strings_and_the_same_seed_twice() {
    let model = common::model("tiny-moe-a");
    let mut session = model.session(&SessionParams::default()).unwrap();
    let prompt = model.tokenize("Hello", true).unwrap();
    let opts = GenerateOptions { n_logprobs: 3, ..seeded(5, 12) };
    let mut alternatives = 0;
    let a = session
        .generate_stream(&prompt, &opts, |e| {
            if e.token.is_some() {
                assert_eq!(e.top_logprobs.len(), 3);
                assert!(e.logprob <= 0.0);
                alternatives += 1;
            }
            ControlFlow::Continue(())
        })
        .unwrap();
    assert!(alternatives > 0);
    let b = session.generate(&prompt, &opts).unwrap();
    assert_eq!(a.tokens, b.tokens);
    // The prompt's last token is evaluated again for its logits.
    assert!(b.n_cached_tokens >= prompt.len() as i32 - 1);

    let stop = a.text.chars().skip(2).take(2).collect::<String>();
    if !stop.trim().is_empty() {
        let c =
            session.generate(&prompt, &GenerateOptions { stop_strings: vec![stop.clone()], ..opts.clone() }).unwrap();
        assert_eq!(c.finish_reason, FinishReason::StopString, "stop {stop:?} in {:?}", a.text);
        assert!(!c.text.contains(&stop));
    }
}

#[test]
fn eval_logits_tokens_and_truncate() {
    let model = common::model("tiny-moe-a");
    let mut session = model.session(&SessionParams::default()).unwrap();
    session.eval(&[1, 5, 17], true).unwrap();
    assert_eq!(session.n_past().unwrap(), 3);
    assert_eq!(session.tokens().unwrap(), [1, 5, 17]);
    let all_first = session.logits(0).unwrap().to_vec();
    assert_eq!(all_first.len(), model.info().unwrap().vocab_size as usize);
    let last = session.logits(-1).unwrap().to_vec();
    session.truncate(1).unwrap();
    session.eval(&[5, 17], false).unwrap();
    assert_eq!(session.logits(-1).unwrap(), &last[..]);
    // Logits of token 0 were not kept by this call.
    assert!(session.logits(0).is_err());
    session.reset().unwrap();
    assert_eq!(session.n_past().unwrap(), 0);
}

#[test]
fn save_and_restore_a_session() {
    let model = common::model("tiny-moe-a");
    let mut a = model.session(&SessionParams::default()).unwrap();
    a.eval(&[1, 5, 17, 200], false).unwrap();
    let blob = a.save().unwrap();
    let mut b = model.session(&SessionParams::default()).unwrap();
    b.restore(&blob).unwrap();
    assert_eq!(b.tokens().unwrap(), [1, 5, 17, 200]);
    let err = b.restore(&blob[..blob.len() / 2]).unwrap_err();
    assert_eq!(err.kind(), ernie::ErrorKind::InvalidArgument);
    assert_eq!(b.n_past().unwrap(), 4);
    // A blob from another model is refused.
    let other = common::model("tiny-moe-b");
    let mut c = other.session(&SessionParams::default()).unwrap();
    assert!(c.restore(&blob).is_err());
}

#[test]
fn sessions_on_two_threads_share_one_model() {
    let model = std::sync::Arc::new(common::model("tiny-moe-a"));
    let prompt = model.tokenize("Hello", true).unwrap();
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let (m, p) = (model.clone(), prompt.clone());
            std::thread::spawn(move || {
                let mut s = m.session(&SessionParams { n_threads: 1, ..Default::default() }).unwrap();
                s.generate(&p, &seeded(9, 10)).unwrap().tokens
            })
        })
        .collect();
    let tokens: Vec<_> = runs.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(tokens[0], tokens[1]);
}

#[test]
fn a_session_outlives_its_model() {
    let model = common::model("tiny-moe-a");
    let mut session = model.session(&SessionParams::default()).unwrap();
    drop(model);
    let out = session.generate(&[1], &seeded(1, 3)).unwrap();
    assert!(out.n_generated_tokens >= 1 && out.n_generated_tokens <= 3);
}
