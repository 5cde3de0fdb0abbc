package dev.pgferry.protocol;

/**
 * Which encryption requests a connection may still make, as PostgreSQL's {@code ssl_done} and {@code gss_done} in
 * {@code ProcessStartupPacket}: each request may come once, in either order; a refused one ('N') closes only its own
 * kind (the client may try the other), an accepted one closes both. A request that may no longer come is no request:
 * its code is read as a protocol version (1234.5679, 1234.5680) and refused as unsupported, 0A000, as PostgreSQL does.
 */
public final class EncryptionNegotiation {
    private boolean sslDone;
    private boolean gssDone;

    /** An SSLRequest now is one (otherwise its code is a protocol version). */
    public boolean sslRequestOpen() {
        return !sslDone;
    }

    /** A GSSENCRequest now is one (otherwise its code is a protocol version). */
    public boolean gssEncRequestOpen() {
        return !gssDone;
    }

    /** The SSLRequest was answered: 'S' ({@code accepted}, TLS follows) or 'N'. */
    public void sslAnswered(boolean accepted) {
        sslDone = true;
        gssDone |= accepted;
    }

    /** The GSSENCRequest was answered: 'G' ({@code accepted}) or 'N'. */
    public void gssEncAnswered(boolean accepted) {
        gssDone = true;
        sslDone |= accepted;
    }

    /** TLS began without an SSLRequest (PostgreSQL 17's direct TLS): nothing more to negotiate. */
    public void directTls() {
        sslDone = true;
        gssDone = true;
    }
}
