package dev.pgferry.session;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

/**
 * A client's statements and portals that are a RESET sent to the server as a SET of the startup value
 * ({@link ResetToStartup#parse}): the Execute of such a portal answers {@code SET}, which the client must read as
 * {@code RESET}. The unnamed statement's mark is kept here, a named statement's on its {@link PreparedStatement}.
 */
final class ResetTags {
    /** The reference of an Execute whose CommandComplete {@code SET} is to read {@code RESET}. */
    static final Object TAG_RESET = new Object();
    /** The client's unnamed statement is a RESET sent as a SET. */
    boolean unnamedStatement;
    private boolean unnamedPortal;
    /** Named portals bound to a RESET sent as a SET; null for none (the common case). */
    private Set<String> portals;

    /** A Bind at {@code ri} of a statement that is a RESET sent as a SET ({@code tagReset}) or not. */
    void bound(ByteBuf in, int ri, boolean tagReset) {
        if (in.getByte(ri + 5) == 0) {
            unnamedPortal = tagReset;
        } else if (tagReset || portals != null) {
            String portal = portalName(in, ri);
            if (tagReset) {
                if (portals == null) {
                    portals = new HashSet<>(2);
                }
                portals.add(portal);
            } else {
                portals.remove(portal);
                if (portals.isEmpty()) {
                    portals = null;
                }
            }
        }
    }

    /** Whether the Execute at {@code ri} runs a portal bound to a RESET sent as a SET. */
    boolean executes(ByteBuf in, int ri) {
        return in.getByte(ri + 5) == 0 ? unnamedPortal : portals != null && portals.contains(portalName(in, ri));
    }

    /** The portal name of a Bind or Execute at {@code ri} (its frame is whole: the NUL is there). */
    private static String portalName(ByteBuf in, int ri) {
        int nul = in.indexOf(ri + 5, in.writerIndex(), (byte) 0);
        return in.toString(ri + 5, Math.max(0, nul - ri - 5), StandardCharsets.UTF_8);
    }
}
