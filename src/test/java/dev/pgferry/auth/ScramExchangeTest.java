package dev.pgferry.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** pgferry's SCRAM client against pgferry's SCRAM server. */
class ScramExchangeTest {

    private static final SecureRandom RANDOM = new SecureRandom();

    /** Runs a full exchange; returns the server's result. */
    static ScramServer.Authenticated exchange(ScramClient client, String user, Optional<ScramKeys> keys)
            throws AuthException {
        ScramServer.ClientFinalStep step = ScramServer.start(user, keys, RANDOM)
                .handleClientFirst(client.clientFirstMessage());
        ScramServer.Authenticated done = step.handleClientFinal(client.handleServerFirst(step.serverFirstMessage()));
        client.verifyServerFinal(done.serverFinalMessage());
        return done;
    }

    @Test
    void passwordClientLogsInToAPlainCredential() throws AuthException {
        StoredCredential credential = new StoredCredential("alice", UserSecret.parse("s3cret"));

        ScramServer.Authenticated done = exchange(ScramClient.withPassword("alice", "s3cret"), "alice",
                credential.scramKeys());

        assertThat(done.clientKey()).isEqualTo(credential.scramKeys().orElseThrow().clientKey());
    }

    @Test
    void recoveredClientKeyLogsInWithoutThePlaintext() throws AuthException {
        Optional<ScramKeys> keys = new StoredCredential("bob", UserSecret.parse("hunter2")).scramKeys();
        byte[] clientKey = exchange(ScramClient.withPassword("bob", "hunter2"), "bob", keys).clientKey();

        ScramClient viaKeys = ScramClient.withKeys("bob", clientKey, keys.orElseThrow().serverKey());
        exchange(viaKeys, "bob", keys);
    }

    @Test
    void wrongPasswordFailsWith28P01() {
        Optional<ScramKeys> keys = new StoredCredential("alice", UserSecret.parse("s3cret")).scramKeys();

        assertThatThrownBy(() -> exchange(ScramClient.withPassword("alice", "guess"), "alice", keys))
                .isInstanceOfSatisfying(AuthException.class, e -> {
                    assertThat(e.sqlState()).isEqualTo("28P01");
                    assertThat(e.getMessage()).isEqualTo("password authentication failed for user \"alice\"");
                });
    }

    @Test
    void unknownUserRunsTheWholeExchangeThenFailsLikeAWrongPassword() throws AuthException {
        ScramClient client = ScramClient.withPassword("mallory", "anything");
        ScramServer.ClientFinalStep step = ScramServer.start("mallory", Optional.empty(), RANDOM)
                .handleClientFirst(client.clientFirstMessage());
        String serverFirst = new String(step.serverFirstMessage(), UTF_8);
        byte[] clientFinal = client.handleServerFirst(step.serverFirstMessage());

        assertThat(serverFirst).contains(",s=" + Base64.getEncoder().encodeToString(ScramServer.mockSalt("mallory")))
                .endsWith(",i=4096");
        assertThatThrownBy(() -> step.handleClientFinal(clientFinal))
                .isInstanceOfSatisfying(AuthException.class, e -> {
                    assertThat(e.sqlState()).isEqualTo("28P01");
                    assertThat(e.getMessage()).isEqualTo("password authentication failed for user \"mallory\"");
                });
    }

    @Test
    void mockSaltIsStablePerUserAndDiffersBetweenUsers() {
        assertThat(ScramServer.mockSalt("x")).isEqualTo(ScramServer.mockSalt("x")).hasSize(16);
        assertThat(ScramServer.mockSalt("x")).isNotEqualTo(ScramServer.mockSalt("y"));
    }

    @Test
    void md5SecretCannotDoScram() {
        StoredCredential credential = new StoredCredential("m", UserSecret.parse(Md5Auth.encrypt("pw", "m")));

        assertThat(credential.scramKeys()).isEmpty();
        assertThatThrownBy(() -> exchange(ScramClient.withPassword("m", "pw"), "m", credential.scramKeys()))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.sqlState()).isEqualTo("28P01"));
    }

    @Test
    void secretGeneratedAsPostgresDoesParsesAndVerifies() throws Exception {
        String password = "correct horse battery staple";
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        String secret = postgresScramSecret(password, salt, 4096);

        UserSecret parsed = UserSecret.parse(secret);
        assertThat(parsed).isInstanceOf(UserSecret.Scram.class);
        assertThat(((UserSecret.Scram) parsed).toSecretString()).isEqualTo(secret);
        assertThat(PlainAuth.verify(parsed, "carol", password)).isTrue();
        assertThat(PlainAuth.verify(parsed, "carol", password + "!")).isFalse();

        Optional<ScramKeys> keys = new StoredCredential("carol", parsed).scramKeys();
        assertThat(keys.orElseThrow().clientKey()).isNull();
        exchange(ScramClient.withPassword("carol", password), "carol", keys);
    }

    /** pg_be_scram_build_secret, computed independently with the JDK's PBKDF2 and HMAC. */
    static String postgresScramSecret(String password, byte[] salt, int iterations) throws Exception {
        byte[] salted = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                .generateSecret(new PBEKeySpec(password.toCharArray(), salt, iterations, 256)).getEncoded();
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(salted, "HmacSHA256"));
        byte[] clientKey = mac.doFinal("Client Key".getBytes(UTF_8));
        byte[] serverKey = mac.doFinal("Server Key".getBytes(UTF_8));
        byte[] storedKey = java.security.MessageDigest.getInstance("SHA-256").digest(clientKey);
        Base64.Encoder b64 = Base64.getEncoder();
        return "SCRAM-SHA-256$" + iterations + ":" + b64.encodeToString(salt) + "$"
                + b64.encodeToString(storedKey) + ":" + b64.encodeToString(serverKey);
    }

    @Test
    void clientRefusesAnIterationCountAboveTheCap() {
        ScramClient client = new ScramClient("u", "", "pw", null, null, "abc");
        String serverFirst = "r=abcdef,s=QUJD,i=" + (ScramClient.MAX_ITERATIONS + 1);

        assertThatThrownBy(() -> client.handleServerFirst(serverFirst.getBytes(UTF_8)))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.sqlState()).isEqualTo("28000"));
    }

    @Test
    void clientRefusesANonceThatDoesNotExtendItsOwn() {
        for (String first : new String[] {"r=abc,s=QUJD,i=4096", "r=xbcdef,s=QUJD,i=4096"}) {
            ScramClient client = new ScramClient("u", "", "pw", null, null, "abc");
            assertThatThrownBy(() -> client.handleServerFirst(first.getBytes(UTF_8)))
                    .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.sqlState()).isEqualTo("08P01"));
        }
    }

    @Test
    void clientMapsServerErrors() throws AuthException {
        ScramClient client = new ScramClient("u", "", "pw", null, null, "abc");
        client.handleServerFirst("r=abcdef,s=QUJD,i=1".getBytes(UTF_8));
        assertThatThrownBy(() -> client.verifyServerFinal("e=invalid-proof".getBytes(UTF_8)))
                .isInstanceOfSatisfying(AuthException.class, e -> {
                    assertThat(e.sqlState()).isEqualTo("28P01");
                    assertThat(e.getMessage()).isEqualTo("password authentication failed for user \"u\"");
                });

        ScramClient other = new ScramClient("u", "", "pw", null, null, "abc");
        other.handleServerFirst("r=abcdef,s=QUJD,i=1".getBytes(UTF_8));
        assertThatThrownBy(() -> other.verifyServerFinal("e=other-error".getBytes(UTF_8)))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.sqlState()).isEqualTo("28000"));
    }

    @Test
    void clientSendsAnEmptyUserNameLikeLibpq() {
        String first = new String(ScramClient.withPassword("alice", "pw").clientFirstMessage(), UTF_8);
        assertThat(first).startsWith("n,,n=,r=");
    }

    @Test
    void repeatedBackendLoginsReuseTheSaltedPassword() throws AuthException {
        SaltedPasswordCache.clear();
        Optional<ScramKeys> keys = new StoredCredential("dave", UserSecret.parse("pw-dave")).scramKeys();
        exchange(ScramClient.withPassword("dave", "pw-dave"), "dave", keys);
        exchange(ScramClient.withPassword("dave", "pw-dave"), "dave", keys);

        assertThat(SaltedPasswordCache.size()).isEqualTo(1);
    }
}
