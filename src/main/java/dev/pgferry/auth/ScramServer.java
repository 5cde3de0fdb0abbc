package dev.pgferry.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;

/**
 * The server side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL runs it ({@code auth-scram.c}),
 * used when a client logs in to pgferry. Typestate: each step returns the next step's object.
 * <pre>
 * ClientFirstStep step = ScramServer.start(user, credential.flatMap(StoredCredential::scramKeys), rnd);
 * ClientFinalStep next = step.handleClientFirst(saslInitialResponseData);  // → AuthenticationSASLContinue
 * send(next.serverFirstMessage());
 * Authenticated done = next.handleClientFinal(saslResponseData);          // → AuthenticationSASLFinal
 * send(done.serverFinalMessage());
 * </pre>
 * Without TLS only {@value #MECHANISM} is offered: gs2 flags {@code n} and {@code y} are accepted,
 * {@code p} is refused. Over TLS {@value #MECHANISM_PLUS} is offered too, with {@code tls-server-end-point}
 * channel binding ({@link #withChannelBinding}); then {@code y} is refused as a downgrade, as PostgreSQL does.
 *
 * <p>A user without SCRAM keys (unknown, or an MD5 secret) gets a mock exchange with a salt derived
 * from the user name and a per-process random secret, so it is stable across attempts and the reply
 * does not reveal whether the user exists; the exchange then fails with the same error as a wrong
 * password.
 */
public final class ScramServer {

    public static final String MECHANISM = "SCRAM-SHA-256";
    private static final byte[] NO_DATA = new byte[0];
    public static final String MECHANISM_PLUS = "SCRAM-SHA-256-PLUS";
    /** The only channel-binding type PostgreSQL (and pgferry) supports. */
    public static final String CHANNEL_BINDING_TYPE = "tls-server-end-point";
    /** PostgreSQL's {@code SCRAM_RAW_NONCE_LEN}. */
    static final int SERVER_NONCE_BYTES = 18;

    private static final byte[] MOCK_SECRET = new byte[32];

    static {
        new SecureRandom().nextBytes(MOCK_SECRET);
    }

    private ScramServer() {
    }

    /**
     * Starts an exchange for {@code user}, the user of the startup packet.
     *
     * @param keys the user's keys; empty for an unknown user or one without a SCRAM-capable secret
     */
    public static ClientFirstStep start(String user, Optional<ScramKeys> keys, SecureRandom rnd) {
        byte[] nonce = new byte[SERVER_NONCE_BYTES];
        rnd.nextBytes(nonce);
        return start(user, keys, Base64.getEncoder().encodeToString(nonce));
    }

    /** With a fixed server nonce, for the RFC 7677 test vectors. */
    static ClientFirstStep start(String user, Optional<ScramKeys> keys, String serverNonce) {
        Objects.requireNonNull(user, "user");
        if (!ScramMessageReader.isPrintable(serverNonce)) {
            throw new IllegalArgumentException("server nonce must be printable");
        }
        return new ClientFirstStep(user, keys.orElse(null), serverNonce);
    }

    /** The mock salt for a user without keys: stable per user and process, unguessable. */
    static byte[] mockSalt(String user) {
        return Arrays.copyOf(ScramCrypto.hmac(MOCK_SECRET, "salt\0" + user), ScramKeys.DEFAULT_SALT_LENGTH);
    }

    private static ScramKeys mockKeys(String user) {
        byte[] key = ScramCrypto.hmac(MOCK_SECRET, "key\0" + user);
        return new ScramKeys(ScramKeys.DEFAULT_ITERATIONS, mockSalt(user), key, key, null);
    }

    /** Step 1: waiting for the client-first-message (SASLInitialResponse data). */
    public static final class ClientFirstStep {
        private final String user;
        private final ScramKeys keys;
        private final boolean mock;
        private final String serverNonce;
        private boolean used;
        /** tls-server-end-point data of this TLS connection; null without TLS. */
        private byte[] channelBinding;
        private boolean plusSelected;

        /**
         * This connection is TLS: {@code endPoint} is the hash of pgferry's certificate (RFC 5929). The
         * client chose {@code mechanism} ({@value #MECHANISM} or {@value #MECHANISM_PLUS}).
         */
        public ClientFirstStep withChannelBinding(byte[] endPoint, String mechanism) {
            this.channelBinding = endPoint;
            this.plusSelected = MECHANISM_PLUS.equals(mechanism);
            return this;
        }

        private ClientFirstStep(String user, ScramKeys keys, String serverNonce) {
            this.user = user;
            this.mock = keys == null;
            this.keys = mock ? mockKeys(user) : keys;
            this.serverNonce = serverNonce;
        }

        /** Parses the client-first-message and produces the server-first-message. */
        public ClientFinalStep handleClientFirst(byte[] saslInitialResponseData) throws AuthException {
            if (used) {
                throw new IllegalStateException("handleClientFirst already called");
            }
            used = true;
            ScramMessageReader r = ScramMessageReader.of(saslInitialResponseData, AuthException::malformed);
            char flag = r.peek();
            if (plusSelected) {
                if (flag != 'p') {
                    throw AuthException.malformed("The client selected SCRAM-SHA-256-PLUS, but the SCRAM message"
                            + " does not include channel binding data.");
                }
                r.expect('p');
                r.expect('=');
                int typeStart = r.position();
                int comma = r.text().indexOf(',', typeStart);
                if (comma < 0 || !r.text().substring(typeStart, comma).equals(CHANNEL_BINDING_TYPE)) {
                    throw AuthException.malformed("unsupported SCRAM channel-binding type");
                }
                while (r.position() < comma) {
                    r.expect(r.peek());
                }
            } else {
                if (flag == 'p') {
                    throw AuthException.malformed("The client selected SCRAM-SHA-256 without channel binding,"
                            + " but the SCRAM message includes channel binding data.");
                }
                if (flag != 'n' && flag != 'y') {
                    throw AuthException.malformed("Unexpected channel-binding flag.");
                }
                if (flag == 'y' && channelBinding != null) {
                    throw new AuthException(AuthException.PROTOCOL_VIOLATION, "SCRAM channel binding negotiation error",
                            "The client supports SCRAM channel binding but thinks the server does not. However, this"
                                    + " server does support channel binding.");
                }
                r.expect(flag);
            }
            r.expect(',');
            if (r.peek() == 'a') {
                throw new AuthException(AuthException.FEATURE_NOT_SUPPORTED,
                        "client uses authorization identity, but it is not supported");
            }
            r.expect(',');
            String gs2Header = r.text().substring(0, r.position());
            String clientFirstBare = r.text().substring(r.position());
            if (r.peek() == 'm') {
                throw new AuthException(AuthException.FEATURE_NOT_SUPPORTED,
                        "client requires an unsupported SCRAM extension");
            }
            r.attribute('n'); // ignored: PostgreSQL authenticates the startup packet's user
            String clientNonce = r.attribute('r');
            if (!ScramMessageReader.isPrintable(clientNonce)) {
                throw AuthException.malformed("The client nonce is empty or contains non-printable characters.");
            }
            while (!r.atEnd()) {
                r.anyAttribute(); // optional extensions
            }
            String serverFirst = "r=" + clientNonce + serverNonce
                    + ",s=" + Base64.getEncoder().encodeToString(keys.salt())
                    + ",i=" + keys.iterations();
            return new ClientFinalStep(this, gs2Header, clientFirstBare, clientNonce + serverNonce, serverFirst);
        }
    }

    /** Step 2: the server-first-message is ready; waiting for the client-final-message. */
    public static final class ClientFinalStep {
        private final ClientFirstStep first;
        private final String gs2Header;
        private final String clientFirstBare;
        private final String nonce;
        private final String serverFirst;
        private boolean used;

        private ClientFinalStep(ClientFirstStep first, String gs2Header, String clientFirstBare,
                String nonce, String serverFirst) {
            this.first = first;
            this.gs2Header = gs2Header;
            this.clientFirstBare = clientFirstBare;
            this.nonce = nonce;
            this.serverFirst = serverFirst;
        }

        /** The AuthenticationSASLContinue data. */
        public byte[] serverFirstMessage() {
            return serverFirst.getBytes(StandardCharsets.UTF_8);
        }

        /**
         * Parses the client-final-message and verifies the proof in constant time.
         *
         * @throws AuthException 28P01 for a wrong proof or a user without keys, 08P01 when malformed
         */
        public Authenticated handleClientFinal(byte[] saslResponseData) throws AuthException {
            if (used) {
                throw new IllegalStateException("handleClientFinal already called");
            }
            used = true;
            ScramMessageReader r = ScramMessageReader.of(saslResponseData, AuthException::malformed);
            byte[] binding = r.base64(r.attribute('c'), "the channel-binding attribute");
            byte[] expected = ChannelBinding.cbindInput(gs2Header, first.plusSelected ? first.channelBinding : NO_DATA);
            if (!java.security.MessageDigest.isEqual(binding, expected)) {
                throw AuthException.malformed("Unexpected SCRAM channel-binding attribute in client-final-message.");
            }
            if (!r.attribute('r').equals(nonce)) {
                throw new AuthException(AuthException.PROTOCOL_VIOLATION, "invalid SCRAM response",
                        "Nonce does not match.");
            }
            int proofStart;
            while (true) {
                if (r.atEnd()) {
                    throw AuthException.malformed("Could not find proof in client-final-message.");
                }
                proofStart = r.position();
                if (r.peek() == 'p') {
                    break;
                }
                r.anyAttribute(); // optional extensions
            }
            byte[] proof = r.base64(r.attribute('p'), "the client proof");
            if (proof.length != ScramCrypto.KEY_LENGTH) {
                throw AuthException.malformed("Malformed proof in client-final-message.");
            }
            if (r.text().indexOf(',', proofStart) >= 0) {
                throw AuthException.malformed("Garbage found at the end of client-final-message.");
            }
            String withoutProof = r.text().substring(0, proofStart - 1);
            return verify(clientFirstBare + ',' + serverFirst + ',' + withoutProof, proof);
        }

        private Authenticated verify(String authMessage, byte[] proof) throws AuthException {
            byte[] storedKey = first.keys.storedKey();
            byte[] clientSignature = ScramCrypto.hmac(storedKey, authMessage);
            byte[] clientKey = ScramCrypto.xor(proof, clientSignature);
            byte[] computedStoredKey = ScramCrypto.sha256(clientKey);
            boolean valid = MessageDigest.isEqual(computedStoredKey, storedKey) & !first.mock;
            ScramCrypto.wipe(storedKey, clientSignature, computedStoredKey, proof);
            if (!valid) {
                ScramCrypto.wipe(clientKey);
                throw AuthException.passwordFailed(first.user);
            }
            byte[] serverKey = first.keys.serverKey();
            byte[] serverSignature = ScramCrypto.hmac(serverKey, authMessage);
            String serverFinal = "v=" + Base64.getEncoder().encodeToString(serverSignature);
            ScramCrypto.wipe(serverKey, serverSignature);
            return new Authenticated(first.user, serverFinal, clientKey);
        }
    }

    /** The exchange succeeded. */
    public static final class Authenticated {
        private final String user;
        private final String serverFinal;
        private final byte[] clientKey;

        private Authenticated(String user, String serverFinal, byte[] clientKey) {
            this.user = user;
            this.serverFinal = serverFinal;
            this.clientKey = clientKey;
        }

        public String user() {
            return user;
        }

        /** The AuthenticationSASLFinal data ({@code v=<ServerSignature>}). */
        public byte[] serverFinalMessage() {
            return serverFinal.getBytes(StandardCharsets.UTF_8);
        }

        /**
         * The ClientKey recovered from the proof (ClientProof XOR ClientSignature): with the ServerKey
         * it lets pgferry log in to a backend holding the same SCRAM secret without the plaintext.
         */
        public byte[] clientKey() {
            return clientKey.clone();
        }
    }
}
