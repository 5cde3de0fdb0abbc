package dev.pgferry.session;

import dev.pgferry.auth.AuthException;
import dev.pgferry.auth.Md5Auth;
import dev.pgferry.auth.PlainAuth;
import dev.pgferry.auth.ScramKeys;
import dev.pgferry.auth.ScramServer;
import dev.pgferry.auth.StoredCredential;
import dev.pgferry.config.PgferryConfig.AuthType;
import dev.pgferry.protocol.MessageReader;
import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.ProtocolException;
import dev.pgferry.protocol.ServerMessages;
import dev.pgferry.protocol.SqlState;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;

/**
 * The server side of one client login: which Authentication request to send, and the verdict on each
 * PasswordMessage / SASLInitialResponse / SASLResponse. Lives only until the login ends.
 */
final class ClientAuthExchange {
    /** The outcome of one client message. */
    enum Step {
        CONTINUE,
        OK
    }

    private final AuthType type;
    private final String user;
    private final Optional<StoredCredential> credential;
    private final SecureRandom random;
    private byte[] md5Salt;
    private ScramServer.ClientFinalStep scramFinal;
    private ScramServer.ClientFirstStep scramFirst;
    private byte[] recoveredClientKey;
    private String clientPassword;
    private final byte[] channelBinding;

    /** {@code channelBinding}: tls-server-end-point data when the client connection is TLS, else null. */
    ClientAuthExchange(AuthType type, String user, Optional<StoredCredential> credential, SecureRandom random,
            byte[] channelBinding) {
        this.channelBinding = channelBinding;
        this.type = type;
        this.user = user;
        this.credential = credential;
        this.random = random;
    }

    /** PostgreSQL's PG_MAX_AUTH_TOKEN_LENGTH: the longest PasswordMessage it reads, its length word included. */
    static final int MAX_PASSWORD_MESSAGE = 65_535;
    /** PostgreSQL 15's PG_MAX_SASL_MESSAGE_LENGTH: the longest SASL message it reads, its length word included. */
    static final int MAX_SASL_MESSAGE = 1_024;

    /** The longest message this exchange reads, as PostgreSQL's pq_getmessage limit for the same method. */
    int maxMessageLength() {
        return type == AuthType.PLAIN || type == AuthType.MD5 ? MAX_PASSWORD_MESSAGE : MAX_SASL_MESSAGE;
    }

    /** What PostgreSQL names the 'p' it waits for when another message type comes (auth.c, auth-sasl.c). */
    String expectedResponse() {
        return type == AuthType.PLAIN || type == AuthType.MD5 ? "expected password response" : "expected SASL response";
    }

    /**
     * A 'p' whose length pq_getmessage refuses (under 4, or over {@link #maxMessageLength}): it logs "invalid message
     * length" (COMMERROR); then CheckSASLAuth fails the authentication, FATAL 28P01, thrown here, while
     * recv_password_packet (cleartext, MD5) gives up without a word: this returns, and the connection just closes.
     */
    void refuseUnreadableMessage() throws AuthException {
        if (type != AuthType.PLAIN && type != AuthType.MD5) {
            throw AuthException.passwordFailed(user);
        }
    }

    /** Writes the first Authentication request; returns OK at once for trust. */
    Step begin(ByteBuf out) {
        switch (type) {
            case TRUST -> {
                return Step.OK;
            }
            case PLAIN -> ServerMessages.authentication(out, ProtocolCodes.AUTH_CLEARTEXT);
            case MD5 -> {
                md5Salt = new byte[4];
                random.nextBytes(md5Salt);
                ServerMessages.authenticationMd5(out, md5Salt);
            }
            default -> {
                Optional<ScramKeys> keys = credential.flatMap(StoredCredential::scramKeys);
                scramFirst = ScramServer.start(user, keys, random);
                ServerMessages.authenticationSasl(out, channelBinding == null ? List.of(ScramServer.MECHANISM)
                        : List.of(ScramServer.MECHANISM_PLUS, ScramServer.MECHANISM));
            }
        }
        return Step.CONTINUE;
    }

    /** Handles one 'p' message (frame at {@code start}, {@code frame} bytes); writes the next request if any. */
    Step onPasswordMessage(ByteBuf in, int start, int frame, ByteBuf out) throws AuthException, ProtocolException {
        int end = start + frame;
        int body = start + 5;
        switch (type) {
            case PLAIN -> {
                String pw = passwordPacket(in, body, end);
                if (credential.isEmpty() || !PlainAuth.verify(credential.get().secret(), user, pw)) {
                    throw AuthException.passwordFailed(user);
                }
                clientPassword = pw;
                return Step.OK;
            }
            case MD5 -> {
                byte[] response = passwordPacket(in, body, end).getBytes(StandardCharsets.UTF_8);
                if (credential.isEmpty() || !Md5Auth.verify(credential.get().secret(), user, md5Salt, response)) {
                    throw AuthException.passwordFailed(user);
                }
                return Step.OK;
            }
            default -> {
                return scram(in, body, end, out);
            }
        }
    }

    /**
     * The string of a cleartext or MD5 PasswordMessage, checked as PostgreSQL's {@code recv_password_packet}
     * does: its terminator must be the message's last byte, and it must not be empty.
     */
    private static String passwordPacket(ByteBuf in, int body, int end) throws ProtocolException, AuthException {
        int nul = in.indexOf(body, end, (byte) 0);
        if (nul != end - 1) {
            throw new ProtocolException(SqlState.PROTOCOL_VIOLATION, "invalid password packet size");
        }
        if (nul == body) {
            throw new AuthException(AuthException.INVALID_PASSWORD, "empty password returned by client");
        }
        return in.toString(body, nul - body, StandardCharsets.UTF_8);
    }

    private Step scram(ByteBuf in, int body, int end, ByteBuf out) throws AuthException, ProtocolException {
        if (scramFirst != null) {
            String mech = MessageReader.cstring(in, body, end);
            boolean plus = channelBinding != null && mech.equals(ScramServer.MECHANISM_PLUS);
            if (!mech.equals(ScramServer.MECHANISM) && !plus) {
                throw new AuthException(SqlState.PROTOCOL_VIOLATION,
                        "client selected an invalid SASL authentication mechanism");
            }
            if (channelBinding != null) {
                scramFirst.withChannelBinding(channelBinding, mech);
            }
            int p = body + mech.getBytes(StandardCharsets.UTF_8).length + 1;
            // PostgreSQL's wording (pq_getmsgint/pq_getmsgbytes, then pq_getmsgend). Its length -1 ("no data
            // yet", answered with an empty SASLContinue) is refused here: no client sends it for SCRAM.
            if (p + 4 > end) {
                throw new ProtocolException(SqlState.PROTOCOL_VIOLATION, "insufficient data left in message");
            }
            int len = in.getInt(p);
            if (len < 0 || len > end - p - 4) {
                throw new ProtocolException(SqlState.PROTOCOL_VIOLATION, "insufficient data left in message");
            }
            if (p + 4 + len != end) {
                throw new ProtocolException(SqlState.PROTOCOL_VIOLATION, "invalid message format");
            }
            byte[] data = new byte[len];
            in.getBytes(p + 4, data);
            scramFinal = scramFirst.handleClientFirst(data);
            scramFirst = null;
            ServerMessages.authenticationSaslData(out, ProtocolCodes.AUTH_SASL_CONTINUE, scramFinal.serverFirstMessage());
            return Step.CONTINUE;
        }
        if (scramFinal == null) {
            throw new ProtocolException(SqlState.PROTOCOL_VIOLATION, "unexpected SASL response");
        }
        byte[] data = new byte[end - body];
        in.getBytes(body, data);
        ScramServer.Authenticated ok = scramFinal.handleClientFinal(data);
        scramFinal = null;
        recoveredClientKey = ok.clientKey();
        ServerMessages.authenticationSaslData(out, ProtocolCodes.AUTH_SASL_FINAL, ok.serverFinalMessage());
        return Step.OK;
    }

    /**
     * Why a password check failed, for the log only (PostgreSQL's {@code logdetail} in auth.c and auth-scram.c; the
     * client is told no more than {@code password authentication failed}, so that it cannot probe for users).
     */
    String failureDetail() {
        if (credential.isEmpty()) {
            return "Role \"" + user + "\" does not exist (no secret in the users file or from auth_query).";
        }
        if (type != AuthType.PLAIN && type != AuthType.MD5
                && credential.get().secret() instanceof dev.pgferry.auth.UserSecret.Md5) {
            return "User \"" + user + "\" does not have a valid SCRAM secret: its secret is an MD5 hash, which"
                    + " SCRAM-SHA-256 authentication cannot use (auth type md5 can, or store a SCRAM verifier).";
        }
        return "Password does not match for user \"" + user + "\".";
    }

    /** The ClientKey proved by a SCRAM login, usable to log in to the server without a plaintext password. */
    byte[] recoveredClientKey() {
        return recoveredClientKey;
    }

    String clientPassword() {
        return clientPassword;
    }

    Optional<StoredCredential> credential() {
        return credential;
    }
}
