package dev.pgferry.auth;

import java.util.Base64;

/**
 * What the client side of SCRAM sends about channel binding (RFC 5802 §7): the mechanism named in
 * SASLInitialResponse, the gs2 header that starts the client-first-message, and the channel-binding data whose
 * base64 with the header is the {@code c=} attribute of the client-final-message. Chosen by
 * {@link ChannelBindingPolicy#choose}.
 *
 * @param data tls-server-end-point hash of the server's certificate for {@code p=}; empty for {@code y} and {@code n}
 */
public record ClientChannelBinding(String mechanism, String gs2Header, byte[] data) {

    /** No channel binding: disabled, or no TLS. */
    public static final ClientChannelBinding NONE = new ClientChannelBinding(ScramServer.MECHANISM, "n,,", new byte[0]);
    /** pgferry could bind (TLS) but the server did not offer SCRAM-SHA-256-PLUS; a server that does offer it refuses this. */
    public static final ClientChannelBinding NOT_OFFERED =
            new ClientChannelBinding(ScramServer.MECHANISM, "y,,", new byte[0]);

    public ClientChannelBinding {
        data = data.clone();
    }

    /** SCRAM-SHA-256-PLUS bound to {@code endPoint}, the server certificate's hash ({@link ChannelBinding}). */
    public static ClientChannelBinding tlsServerEndPoint(byte[] endPoint) {
        return new ClientChannelBinding(ScramServer.MECHANISM_PLUS,
                "p=" + ScramServer.CHANNEL_BINDING_TYPE + ",,", endPoint);
    }

    /** Whether this login is bound to the TLS channel. */
    public boolean bound() {
        return mechanism.equals(ScramServer.MECHANISM_PLUS);
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    /** The value of the client-final-message's {@code c=} attribute: base64(gs2 header + channel-binding data). */
    public String cAttribute() {
        return Base64.getEncoder().encodeToString(ChannelBinding.cbindInput(gs2Header, data));
    }

    @Override
    public String toString() {
        return mechanism + " (gs2 header " + gs2Header + ")";
    }
}
