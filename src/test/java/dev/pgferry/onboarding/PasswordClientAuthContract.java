package dev.pgferry.onboarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.WireBytes;
import dev.pgferry.testing.ClientProgram;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.RawWireClient;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What holds for every password method pgferry can ask clients for (pgferry.auth.type plain or md5): every user of
 * the users file logs in with pgjdbc and psql whatever its backend method, a wrong password or unknown user is 28P01,
 * and PasswordMessages are checked as PostgreSQL's recv_password_packet checks them. A subclass names the method.
 */
abstract class PasswordClientAuthContract {
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    /** Reads the authentication request pgferry sent on {@code c}, asserts it, and returns the string to answer. */
    abstract String answer(RawClient c, String user, String password) throws Exception;

    RawClient connect(String user) throws Exception {
        RawClient c = RawClient.connect(port);
        c.send(WireBytes.startupMessage(ProtocolCodes.PROTOCOL_3_0, "user", user, "database", "postgres"));
        return c;
    }

    @ParameterizedTest
    @CsvSource({"postgres, secret", "scram_u, scram_pw", "md5_u, md5_pw", "plain_u, plain_pw"})
    void eachUserLogsInWithPgjdbc(String user, String password) throws Exception {
        try (Connection c = Clients.jdbc(port, user, password, "postgres")) {
            assertThat(Clients.queryOne(c, "select current_user")).isEqualTo(user);
        }
    }

    @Test
    void psqlLogsIn() throws Exception {
        ClientProgram.Result r = Clients.psql(port, "scram_u", "scram_pw", "postgres", "select current_user", Map.of());
        assertThat(r.exitCode()).as("psql stderr: %s", r.stderr()).isZero();
        assertThat(r.stdout().strip()).isEqualTo("scram_u");
    }

    @Test
    void theRightPasswordIsAnsweredWithTheWelcome() throws Exception {
        try (RawClient c = connect("plain_u")) {
            c.send(WireBytes.message('p', WireBytes.create().cstring(answer(c, "plain_u", "plain_pw")).toArray()));
            c.expectAuthenticationOk();
            c.readWelcome();
            c.send(WireBytes.query("select 1"));
            assertThat(c.readUntilReady()).extracting(RawClient.Message::type).containsExactly('T', 'D', 'C', 'Z');
        }
    }

    @ParameterizedTest
    @CsvSource({"md5_u", "plain_u", "scram_u", "nobody_u"})
    void aWrongPasswordOrUnknownUserIs28P01AndClose(String user) throws Exception {
        try (RawClient c = connect(user)) {
            c.send(WireBytes.message('p', WireBytes.create().cstring(answer(c, user, "wrong")).toArray()));
            c.assertRefused("28P01", "password authentication failed for user \"" + user + "\"");
        }
        Clients.assertPgjdbcWrongPasswordRefused(port, user);
    }

    /** The fixture's user whom PostgreSQL asks for a password with this method (md5_u, plain_u). */
    abstract String postgresUserOfThisMethod();

    /** Sends a StartupMessage for {@code user}, reads the authentication request, sends {@code message}: the reply. */
    private static String replyToPasswordMessage(RawWireClient c, String user, byte[] message) throws Exception {
        c.timeout(2_000);
        c.send(WireBytes.startupMessage(ProtocolCodes.PROTOCOL_3_0, "user", user, "database", "postgres"));
        RawWireClient.Msg request = c.read();
        assertThat(request.type()).as("%s", request).isEqualTo('R');
        c.send(message);
        return c.reply();
    }

    /**
     * A PasswordMessage whose length pq_getmessage refuses (under 4, or over PG_MAX_AUTH_TOKEN_LENGTH, 65 535 bytes
     * with the length word): PostgreSQL logs "invalid message length" (COMMERROR) and recv_password_packet gives up, so
     * the connection closes without a word. The fixture's PostgreSQL and pgferry get the same bytes.
     */
    @ParameterizedTest
    @ValueSource(ints = {3, 65_536, 1 << 30})
    void aPasswordMessageOfALengthPostgresCannotReadIsClosedWithoutAWord(int length) throws Exception {
        byte[] header = WireBytes.messageHeader('p', length);
        PostgresFixture pg = PostgresFixture.get();
        try (RawWireClient c = RawWireClient.connect(pg.host(), pg.port())) {
            assertThat(replyToPasswordMessage(c, postgresUserOfThisMethod(), header)).as("PostgreSQL")
                    .isEqualTo("closed");
        }
        try (RawWireClient c = RawWireClient.connect("127.0.0.1", port)) {
            assertThat(replyToPasswordMessage(c, postgresUserOfThisMethod(), header)).as("pgferry").isEqualTo("closed");
        }
        Clients.assertServesPgjdbc(port);
    }

    /** What PostgreSQL 15 answers to each (recv_password_packet; checked against a PostgreSQL 15 server). */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "no terminator          | 08P01 | invalid password packet size",
        "bytes after terminator | 08P01 | invalid password packet size",
        "empty                  | 28P01 | empty password returned by client",
    })
    void aMalformedPasswordMessageIsRefused(String name, String sqlState, String message) throws Exception {
        try (RawClient c = connect("md5_u")) {
            String right = answer(c, "md5_u", "md5_pw");
            byte[] body = switch (name) {
                case "no terminator" -> right.getBytes(StandardCharsets.US_ASCII);
                case "bytes after terminator" -> WireBytes.create().cstring(right).byte1('x').toArray();
                default -> new byte[] {0};
            };
            c.send(WireBytes.message('p', body));
            c.assertRefused(sqlState, message);
        }
        Clients.assertServesPgjdbc(port);
    }
}
