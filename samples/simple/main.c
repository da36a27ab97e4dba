/* simple: load a model, ask one question, print the answer.
 *   simple MODEL.ernie ["question"] */
#include <ernie.h>
#include <stdio.h>

int main(int argc, char **argv) {
  if (argc < 2) return fprintf(stderr, "usage: %s MODEL.ernie [question]\n", argv[0]), 2;
  ernie_model *model = NULL;
  ernie_session *session = NULL;
  ernie_message question = {sizeof(ernie_message), "user", argc > 2 ? argv[2] : "Hello! Who are you?", NULL, NULL, 0, NULL};
  ernie_generate_params params;
  ernie_generate_params_init(&params);
  params.max_tokens = 64;
  ernie_generate_result answer = {.struct_size = sizeof(ernie_generate_result)};
  if (ernie_model_load(argv[1], NULL, &model) != ERNIE_OK || ernie_session_create(model, NULL, &session) != ERNIE_OK ||
      ernie_session_chat(session, &question, 1, NULL, &params, &answer) != ERNIE_OK)
    return fprintf(stderr, "error: %s\n", ernie_last_error()), 1;
  printf("%s\n[%d tokens]\n", answer.text, answer.n_generated_tokens);
  ernie_session_free(session); /* answer.text is borrowed from the session: use it before this */
  ernie_model_free(model);
  return 0;
}
