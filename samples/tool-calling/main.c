/* tool-calling: an assistant with a weather tool and a calculator, driven
 * through the whole loop: render → generate (arguments constrained by each
 * tool's JSON Schema) → parse → callback → tool result → continue → answer.
 *
 *   tool-calling MODEL.ernie [question]
 *
 * Tools need the thinking chat format (ERNIE-4.5-21B-A3B-Thinking). With the
 * bundled random-weight model the text is nonsense, so the sample asks for a
 * call (ERNIE_TOOL_CHOICE_REQUIRED); a real model decides by itself (AUTO). */
#include <ernie.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A toy JSON lookup, enough for the arguments this sample's schemas allow. */
static double number_field(const char *json, const char *key) {
  char pattern[64];
  snprintf(pattern, sizeof pattern, "\"%s\": ", key);
  const char *at = strstr(json, pattern);
  return at ? atof(at + strlen(pattern)) : 0.0;
}

static int32_t run_tool(void *user_data, const ernie_tool_call *call, ernie_tool_output *output) {
  int *round = user_data;
  char result[256];
  printf("\n[step %d] tool call %s %s(%s)\n", ++*round, call->id, call->name, call->arguments_json);
  if (strcmp(call->name, "get_weather") == 0) {
    snprintf(result, sizeof result, "{\"temperature_c\": 18, \"sky\": \"light rain\"}");
  } else {
    double a = number_field(call->arguments_json, "a"), b = number_field(call->arguments_json, "b");
    const char *op = strstr(call->arguments_json, "\"op\": \"");
    char sym = op ? op[7] : '+';
    double v = sym == '-' ? a - b : sym == '*' ? a * b : sym == '/' ? (b != 0 ? a / b : 0) : a + b;
    snprintf(result, sizeof result, "{\"result\": %g}", v);
  }
  printf("[step %d] tool result %s\n", *round, result);
  return ernie_tool_output_set(output, result, strlen(result)) == ERNIE_OK ? ERNIE_TOOL_RESULT : ERNIE_TOOL_DEFER;
}

static int32_t on_event(void *user_data, const ernie_event *e) {
  (void)user_data;
  if (e->type == ERNIE_EVENT_TOOL_CALL) return 0; /* printed by run_tool */
  FILE *out = e->type == ERNIE_EVENT_REASONING ? stderr : stdout;
  fwrite(e->text, 1, e->text_len, out);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL.ernie [question]\n", argv[0]);
    return 2;
  }
  const char *question = argc > 2 ? argv[2] : "What is the weather in Paris, and what is 12 * 7?";
  ernie_model *model = NULL;
  ernie_session *session = NULL;
  if (ernie_model_load(argv[1], NULL, &model) != ERNIE_OK || ernie_session_create(model, NULL, &session) != ERNIE_OK) {
    fprintf(stderr, "error: %s\n", ernie_last_error());
    return 1;
  }
  ernie_tool tools[2] = {
      {sizeof(ernie_tool), "get_weather", "Current weather for a city",
       "{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"maxLength\": 40}}, "
       "\"required\": [\"city\"]}"},
      {sizeof(ernie_tool), "calculator", "Arithmetic on two numbers",
       "{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"number\"}, \"op\": {\"enum\": [\"+\", \"-\", \"*\", "
       "\"/\"]}, \"b\": {\"type\": \"number\"}}, \"required\": [\"a\", \"op\", \"b\"]}"},
  };
  ernie_chat_params chat;
  ernie_chat_params_init(&chat);
  chat.tools = tools;
  chat.n_tools = 2;
  chat.tool_choice = ERNIE_TOOL_CHOICE_REQUIRED;

  int round = 0;
  ernie_generate_params params;
  ernie_generate_params_init(&params);
  params.max_tokens = 200;
  params.reasoning_budget = 16; /* keep the demo's reasoning short */
  params.on_event = on_event;
  params.on_tool_call = run_tool;
  params.tool_user_data = &round;
  params.max_tool_rounds = 3;

  ernie_message messages[1] = {{sizeof(ernie_message), "user", question, NULL, NULL, 0, NULL}};
  printf("[step 0] user: %s\nassistant: ", question);
  ernie_generate_result result;
  memset(&result, 0, sizeof result);
  result.struct_size = sizeof result;
  ernie_status st = ernie_session_chat(session, messages, 1, &chat, &params, &result);
  if (st != ERNIE_OK) {
    fprintf(stderr, "\nerror: %s\n", ernie_last_error());
    return 1;
  }
  printf("\n[done] finish reason %d, %d tool round(s), messages added: %s\n", result.finish_reason, round,
         result.messages_json);
  ernie_session_free(session);
  ernie_model_free(model);
  return 0;
}
