/* A complete streaming chat in C: load a model, keep a conversation, stream
 * each answer as it is generated, and reuse the KV cache between turns.
 * docs/api.md walks through this file; ctest builds and runs it (C11, the
 * shared library, nothing but ernie.h). Usage: streaming_chat MODEL.ernie */
#include <ernie.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Streaming callback: print answer text as it arrives (reasoning, in the
 * thinking format, goes to stderr). Return non-zero to stop early. */
static int32_t on_event(void *user_data, const ernie_event *event) {
  (void)user_data;
  FILE *out = event->type == ERNIE_EVENT_REASONING ? stderr : stdout;
  fwrite(event->text, 1, event->text_len, out);
  fflush(out);
  return 0;
}

static int fail(const char *what) {
  fprintf(stderr, "%s: %s\n", what, ernie_last_error());
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL.ernie\n", argv[0]);
    return 2;
  }
  ernie_model *model = NULL;
  if (ernie_model_load(argv[1], NULL, &model) != ERNIE_OK) return fail("load");

  ernie_session *session = NULL;
  if (ernie_session_create(model, NULL, &session) != ERNIE_OK) return fail("session");

  ernie_sampling_params sampling;
  ernie_sampling_params_init(&sampling);
  sampling.temperature = 0.7f;
  sampling.seed = 1234;

  ernie_generate_params params;
  ernie_generate_params_init(&params);
  params.sampling = &sampling;
  params.max_tokens = 24;
  params.on_event = on_event;

  /* The conversation: the application owns these strings. */
  const char *questions[] = {"Hello! Who are you?", "Tell me a joke."};
  ernie_message messages[8];
  char *answers[2] = {NULL, NULL};
  size_t n = 0;
  messages[n++] = (ernie_message){sizeof(ernie_message), "system", "You are a helpful assistant.", NULL, NULL, 0, NULL};

  for (int turn = 0; turn < 2; ++turn) {
    messages[n++] = (ernie_message){sizeof(ernie_message), "user", questions[turn], NULL, NULL, 0, NULL};
    printf("user: %s\nassistant: ", questions[turn]);
    ernie_generate_result result;
    memset(&result, 0, sizeof result);
    result.struct_size = sizeof result;
    if (ernie_session_chat(session, messages, n, NULL, &params, &result) != ERNIE_OK) return fail("chat");
    printf("\n[%d prompt tokens, %d reused from the cache, %d generated]\n", result.n_prompt_tokens,
           result.n_cached_tokens, result.n_generated_tokens);
    /* result.text is borrowed until the next call on the session: keep a copy. */
    answers[turn] = malloc(strlen(result.text) + 1);
    strcpy(answers[turn], result.text);
    messages[n++] = (ernie_message){sizeof(ernie_message), "assistant", answers[turn], NULL, NULL, 0, NULL};
  }

  ernie_session_free(session);
  ernie_model_free(model);
  free(answers[0]);
  free(answers[1]);
  return 0;
}
