package dev.pgferry.auth;

import dev.pgferry.config.PgferryConfig.ChannelBindingMode;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * pgferry's {@code pgferry.backend.channel-binding} as libpq applies its {@code channel_binding} ({@code fe-auth.c}
 * {@code pg_SASL_init} and {@code check_expected_areq}, {@code fe-auth-scram.c} {@code build_client_first_message}):
 * which SASL mechanism and gs2 header to answer a backend's AuthenticationSASL with, and under {@code require}
 * which backend logins to refuse. Channel binding is what lets the server prove it holds the certificate of the
 * TLS connection, so a man in the middle that terminates TLS cannot relay the login.
 *
 * <p>Never downgrade: whenever the server offers SCRAM-SHA-256-PLUS over TLS and binding is not disabled, PLUS is
 * used. Over TLS without PLUS offered the gs2 flag is {@code y}, which a server that does support binding refuses
 * (someone stripped PLUS from its list).
 */
public final class ChannelBindingPolicy {
    /**
     * The SQLSTATE of these refusals: libpq has none (they are client-side), pgjdbc gives its own channel-binding
     * refusals {@code CONNECTION_REJECTED}, 08004; pgferry is the client of the server here and does the same.
     */
    public static final String CONNECTION_REJECTED = "08004";

    private final ChannelBindingMode mode;

    private ChannelBindingPolicy(ChannelBindingMode mode) {
        this.mode = Objects.requireNonNull(mode, "mode");
    }

    public static ChannelBindingPolicy of(ChannelBindingMode mode) {
        return new ChannelBindingPolicy(mode);
    }

    public ChannelBindingMode mode() {
        return mode;
    }

    /**
     * Why every backend login to a server reached this way will be refused under {@code require}, said once at
     * startup rather than only at each connect; null when TLS is possible.
     *
     * @param tlsDisabled {@code pgferry.tls.server.mode=disable}
     * @param unixSocket the server is reached over its Unix-domain socket (never TLS, as in libpq)
     */
    public String unusableBecause(boolean tlsDisabled, boolean unixSocket) {
        if (mode != ChannelBindingMode.REQUIRE) {
            return null;
        }
        if (unixSocket) {
            return "pgferry.backend.channel-binding=require needs TLS, which a Unix-domain socket never has";
        }
        return tlsDisabled ? "pgferry.backend.channel-binding=require needs TLS, but pgferry.tls.server.mode=disable"
                : null;
    }

    /** Under {@code require}, a backend connection without TLS is refused before anything is sent on it. */
    public void checkTransport(boolean tls) throws AuthException {
        if (mode == ChannelBindingMode.REQUIRE && !tls) {
            throw refused("channel binding required, but the connection to the server does not use SSL");
        }
    }

    /**
     * Picks the mechanism for the server's AuthenticationSASL list.
     *
     * @param tls whether this connection is TLS
     * @param endPoint the tls-server-end-point hash of the server's certificate, asked only when PLUS is chosen
     */
    public ClientChannelBinding choose(List<String> mechanisms, boolean tls, Supplier<byte[]> endPoint)
            throws AuthException {
        boolean plus = mechanisms.contains(ScramServer.MECHANISM_PLUS);
        if (plus && !tls) {
            // PostgreSQL offers PLUS only over SSL: someone stripped TLS between us (libpq refuses this too)
            throw refused("server offered SCRAM-SHA-256-PLUS authentication over a non-SSL connection");
        }
        if (plus && mode != ChannelBindingMode.DISABLE) {
            byte[] hash;
            try {
                hash = endPoint.get();
            } catch (IllegalStateException e) {
                throw refused("could not compute the channel binding data of the server's certificate: " + e.getMessage());
            }
            return ClientChannelBinding.tlsServerEndPoint(hash);
        }
        if (!mechanisms.contains(ScramServer.MECHANISM)) {
            throw new AuthException(AuthException.FEATURE_NOT_SUPPORTED,
                    "none of the server's SASL authentication mechanisms are supported");
        }
        if (mode == ChannelBindingMode.REQUIRE) {
            throw refused("channel binding is required, but server did not offer an authentication method that"
                    + " supports channel binding");
        }
        return tls && mode != ChannelBindingMode.DISABLE ? ClientChannelBinding.NOT_OFFERED : ClientChannelBinding.NONE;
    }

    /**
     * Before answering a request for a cleartext or MD5 password, or anything but SASL: under {@code require} it
     * is refused, so no password-equivalent leaves pgferry for a server that has not proved itself.
     */
    public void checkNonSaslRequest() throws AuthException {
        if (mode == ChannelBindingMode.REQUIRE) {
            throw refused("channel binding required but not supported by server's authentication request");
        }
    }

    /**
     * At AuthenticationOk: under {@code require} the login must have been a completed, verified
     * SCRAM-SHA-256-PLUS exchange ({@link ScramClient#channelBound()}); trust, or an OK in the middle of SCRAM,
     * is refused.
     */
    public void checkAuthenticated(boolean channelBound) throws AuthException {
        if (mode == ChannelBindingMode.REQUIRE && !channelBound) {
            throw refused("channel binding required, but server authenticated client without channel binding");
        }
    }

    private static AuthException refused(String message) {
        return new AuthException(CONNECTION_REJECTED, message);
    }
}
