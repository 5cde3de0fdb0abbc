package dev.pgferry.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Objects;

/**
 * The client side of SCRAM-SHA-256 and SCRAM-SHA-256-PLUS, used when pgferry logs in to a PostgreSQL
 * backend. One instance per exchange, called in order:
 * <pre>
 * ScramClient c = ScramClient.withPassword(user, password, binding);
 * send(SASLInitialResponse(binding.mechanism(), c.clientFirstMessage()));
 * send(SASLResponse(c.handleServerFirst(saslContinueData)));
 * c.verifyServerFinal(saslFinalData);
 * </pre>
 * The gs2 header and the {@code c=} attribute come from the {@link ClientChannelBinding} that
 * {@link ChannelBindingPolicy#choose} picked ({@code n,,} without one). Like libpq it sends an empty user
 * name ({@code n=,r=…}): PostgreSQL authenticates the user of the startup packet.
 *
 * <p>With a password, SaltedPassword is cached per (password, salt, iterations) in a small bounded
 * process-wide cache. With a ClientKey/ServerKey pair (e.g. recovered from a client's own SCRAM
 * login by {@link ScramServer.Authenticated#clientKey()}) no PBKDF2 is needed at all; this works when
 * the backend holds the same SCRAM secret as pgferry.
 */
public final class ScramClient {

    /** Iteration counts above this are refused: a hostile server could otherwise burn our CPU. */
    public static final int MAX_ITERATIONS = 100_000;
    private static final int NONCE_BYTES = 18;
    private static final SecureRandom RANDOM = new SecureRandom();

    private enum State { EXPECT_SERVER_FIRST, EXPECT_SERVER_FINAL, DONE }

    private final String user;
    private final String password;
    private final byte[] clientKey;
    private final byte[] serverKey;
    private final String clientNonce;
    private final String clientFirstBare;
    private final ClientChannelBinding binding;
    private byte[] expectedServerSignature;
    private State state = State.EXPECT_SERVER_FIRST;
    private boolean verified;

    /** For the RFC 7677 vectors: a fixed nonce and the SASL user name to send. */
    ScramClient(String user, String saslName, String password, byte[] clientKey, byte[] serverKey,
            String clientNonce) {
        this(user, saslName, password, clientKey, serverKey, clientNonce, ClientChannelBinding.NONE);
    }

    ScramClient(String user, String saslName, String password, byte[] clientKey, byte[] serverKey,
            String clientNonce, ClientChannelBinding binding) {
        this.user = Objects.requireNonNull(user, "user");
        this.binding = Objects.requireNonNull(binding, "binding");
        this.password = password;
        this.clientKey = clientKey == null ? null : clientKey.clone();
        this.serverKey = serverKey == null ? null : serverKey.clone();
        if ((password == null) == (clientKey == null)) {
            throw new IllegalArgumentException("need either a password or a ClientKey/ServerKey pair");
        }
        if (clientKey != null && (clientKey.length != ScramCrypto.KEY_LENGTH
                || serverKey == null || serverKey.length != ScramCrypto.KEY_LENGTH)) {
            throw new IllegalArgumentException("ClientKey and ServerKey must be 32 bytes");
        }
        if (!ScramMessageReader.isPrintable(clientNonce)) {
            throw new IllegalArgumentException("client nonce must be printable");
        }
        this.clientNonce = clientNonce;
        this.clientFirstBare = "n=" + saslName + ",r=" + clientNonce;
    }

    /** Logs in with a plaintext password, without channel binding. */
    public static ScramClient withPassword(String user, String password) {
        return withPassword(user, password, ClientChannelBinding.NONE);
    }

    /** Logs in with a plaintext password and the mechanism and binding in {@code binding}. */
    public static ScramClient withPassword(String user, String password, ClientChannelBinding binding) {
        return new ScramClient(user, "", Objects.requireNonNull(password, "password"), null, null, newNonce(),
                binding);
    }

    /** Logs in with the ClientKey and ServerKey of the backend's SCRAM secret; no plaintext needed. */
    public static ScramClient withKeys(String user, byte[] clientKey, byte[] serverKey) {
        return withKeys(user, clientKey, serverKey, ClientChannelBinding.NONE);
    }

    /** As {@link #withKeys(String, byte[], byte[])}, with the mechanism and binding in {@code binding}. */
    public static ScramClient withKeys(String user, byte[] clientKey, byte[] serverKey, ClientChannelBinding binding) {
        return new ScramClient(user, "", null, Objects.requireNonNull(clientKey, "clientKey"),
                Objects.requireNonNull(serverKey, "serverKey"), newNonce(), binding);
    }

    /** The mechanism to name in SASLInitialResponse. */
    public String mechanism() {
        return binding.mechanism();
    }

    /**
     * Whether the exchange completed with SCRAM-SHA-256-PLUS and a server signature that checked out: the server
     * proved it knows the secret and saw the same TLS certificate (libpq's {@code pg_fe_scram_channel_bound}).
     */
    public boolean channelBound() {
        return verified && binding.bound();
    }

    /** Whether the server's final message arrived and its signature checked out. */
    public boolean verified() {
        return verified;
    }

    private static String newNonce() {
        byte[] raw = new byte[NONCE_BYTES];
        RANDOM.nextBytes(raw);
        return Base64.getEncoder().encodeToString(raw);
    }

    /** The SASLInitialResponse data, to send with mechanism {@value ScramServer#MECHANISM}. */
    public byte[] clientFirstMessage() {
        return (binding.gs2Header() + clientFirstBare).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Checks the server-first-message (AuthenticationSASLContinue data) and returns the
     * client-final-message (SASLResponse data).
     *
     * @throws AuthException 08P01 if malformed or the nonce does not extend ours; 28000 if the
     *     iteration count exceeds {@link #MAX_ITERATIONS}
     */
    public byte[] handleServerFirst(byte[] serverFirst) throws AuthException {
        requireState(State.EXPECT_SERVER_FIRST);
        state = State.DONE; // any failure ends the exchange
        ScramMessageReader r = ScramMessageReader.of(serverFirst, AuthException::malformed);
        if (r.peek() == 'm') {
            throw AuthException.malformed("The server requires an unsupported SCRAM extension.");
        }
        String nonce = r.attribute('r');
        if (!nonce.startsWith(clientNonce) || nonce.length() == clientNonce.length()
                || !ScramMessageReader.isPrintable(nonce)) {
            throw new AuthException(AuthException.PROTOCOL_VIOLATION, "invalid SCRAM response",
                    "The server nonce does not extend the client nonce.");
        }
        byte[] salt = r.base64(r.attribute('s'), "the salt");
        int iterations = iterations(r.attribute('i'));
        while (!r.atEnd()) {
            r.anyAttribute(); // optional extensions
        }
        String withoutProof = "c=" + binding.cAttribute() + ",r=" + nonce;
        String authMessage = clientFirstBare + ',' + r.text() + ',' + withoutProof;

        byte[] ck;
        byte[] sk;
        if (password != null) {
            byte[] salted = SaltedPasswordCache.saltedPassword(password, salt, iterations);
            ck = ScramCrypto.clientKey(salted);
            sk = ScramCrypto.serverKey(salted);
            ScramCrypto.wipe(salted);
        } else {
            ck = clientKey.clone();
            sk = serverKey.clone();
        }
        byte[] storedKey = ScramCrypto.sha256(ck);
        byte[] clientSignature = ScramCrypto.hmac(storedKey, authMessage);
        byte[] proof = ScramCrypto.xor(ck, clientSignature);
        expectedServerSignature = ScramCrypto.hmac(sk, authMessage);
        String clientFinal = withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof);
        ScramCrypto.wipe(ck, sk, storedKey, clientSignature, proof);
        state = State.EXPECT_SERVER_FINAL;
        return clientFinal.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Checks the server-final-message (AuthenticationSASLFinal data).
     *
     * @throws AuthException 28P01 if the server says {@code e=invalid-proof}, 28000 for another
     *     server error or a server signature that does not match, 08P01 if malformed
     */
    public void verifyServerFinal(byte[] serverFinal) throws AuthException {
        requireState(State.EXPECT_SERVER_FINAL);
        state = State.DONE;
        byte[] expected = expectedServerSignature;
        expectedServerSignature = null;
        try {
            ScramMessageReader r = ScramMessageReader.of(serverFinal, AuthException::malformed);
            if (r.peek() == 'e') {
                String error = r.attribute('e');
                if (error.equals("invalid-proof")) {
                    throw AuthException.passwordFailed(user);
                }
                throw new AuthException(AuthException.INVALID_AUTHORIZATION_SPECIFICATION,
                        "SCRAM authentication failed for user \"" + user + "\"",
                        "The server reported an error: " + printable(error));
            }
            byte[] signature = r.base64(r.attribute('v'), "the server signature");
            while (!r.atEnd()) {
                r.anyAttribute();
            }
            if (!MessageDigest.isEqual(signature, expected)) {
                throw new AuthException(AuthException.INVALID_AUTHORIZATION_SPECIFICATION,
                        "incorrect server signature");
            }
            verified = true;
        } finally {
            ScramCrypto.wipe(expected);
        }
    }

    private void requireState(State expected) {
        if (state != expected) {
            throw new IllegalStateException("SCRAM client is in state " + state + ", not " + expected);
        }
    }

    private static int iterations(String value) throws AuthException {
        boolean digits = !value.isEmpty() && value.length() <= 10;
        for (int i = 0; digits && i < value.length(); i++) {
            digits = value.charAt(i) >= '0' && value.charAt(i) <= '9';
        }
        long n = digits ? Long.parseLong(value) : -1;
        if (n < 1) {
            throw AuthException.malformed("Invalid SCRAM iteration count.");
        }
        if (n > MAX_ITERATIONS) {
            throw new AuthException(AuthException.INVALID_AUTHORIZATION_SPECIFICATION,
                    "SCRAM iteration count " + n + " exceeds the limit of " + MAX_ITERATIONS);
        }
        return (int) n;
    }

    /** A server-supplied string, trimmed and reduced to visible ASCII before it goes in a message. */
    private static String printable(String s) {
        StringBuilder out = new StringBuilder(Math.min(s.length(), 64));
        for (int i = 0; i < s.length() && out.length() < 64; i++) {
            char c = s.charAt(i);
            out.append(c >= 0x20 && c < 0x7F ? c : '?');
        }
        return out.toString();
    }
}
