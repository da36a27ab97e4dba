// The "pt" format (ERNIE-4.5-*-PT checkpoints). Mirrors the published
// template: tool messages, tool calls, tools and system_settings have no
// place in it and are left out, as the template leaves them out.
#include "chat/chat_formats.h"

namespace ernie {

void render_pt(const Conversation& c, SegmentBuilder& out) {
  out.add_template("<|begin_of_sentence|>");
  for (const Message& m : c.messages) {
    switch (m.role) {
      case Role::system:
        out.add_content(m.content);
        out.add_template("\n");
        break;
      case Role::user:
        out.add_template("User: ");
        out.add_content(m.content);
        out.add_template("\n");
        break;
      case Role::assistant:
        out.add_template("Assistant: ");
        out.add_content(m.content);
        out.add_template("<|end_of_sentence|>");
        break;
      case Role::tool: break;
    }
  }
  if (c.add_generation_prompt) out.add_template("Assistant: ");
}

}  // namespace ernie
