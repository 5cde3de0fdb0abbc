package dev.pgferry.session;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;

/**
 * Session mode, where statements keep the client's names on its own backend: what each named statement that does
 * something to the session does, by its name, found at its Parse and applied at each Bind of it.
 */
final class SessionModeEffects {
    /** Null while there is none: the common case costs a null check per Bind. */
    private HashMap<String, StatementInspector.Findings> byName;

    /** A Parse of the statement named {@code [nameStart, nameEnd - 1)} (before its terminator), relayed as is. */
    void parsed(ByteBuf in, int nameStart, int nameEnd, StatementInspector.Findings effect) {
        if (effect == null && byName == null) {
            return;
        }
        String name = in.toString(nameStart, nameEnd - 1 - nameStart, StandardCharsets.UTF_8);
        if (effect == null) {
            byName.remove(name);
        } else {
            if (byName == null) {
                byName = new HashMap<>();
            }
            byName.put(name, effect);
        }
    }

    /** What the named statement a Bind names ({@code nameStart}) does to the session, or null. */
    StatementInspector.Findings of(ByteBuf in, int nameStart, int end) {
        if (byName == null || byName.isEmpty()) {
            return null;
        }
        int nameEnd = in.indexOf(nameStart, end, (byte) 0);
        return nameEnd <= nameStart ? null
                : byName.get(in.toString(nameStart, nameEnd - nameStart, StandardCharsets.UTF_8));
    }

    /** DISCARD ALL or DEALLOCATE ALL: every statement is gone. */
    void clear() {
        byName = null;
    }
}
