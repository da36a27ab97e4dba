// Internal: one renderer per format, behind render_chat_segments. Each one
// writes template text and caller content separately (see segment.h).
#pragma once

#include "chat/message.h"
#include "chat/segment.h"

namespace ernie {

void render_pt(const Conversation& conversation, SegmentBuilder& out);
void render_thinking(const Conversation& conversation, SegmentBuilder& out);

}  // namespace ernie
