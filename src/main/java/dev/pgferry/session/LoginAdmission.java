package dev.pgferry.session;

import dev.pgferry.auth.hba.HbaClient;
import dev.pgferry.auth.hba.HbaFile;
import dev.pgferry.auth.hba.HbaMethod;
import dev.pgferry.auth.hba.HbaRule;
import dev.pgferry.protocol.SqlState;
import dev.pgferry.protocol.StartupPacket;
import io.netty.channel.Channel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/**
 * Who may log in, decided before authentication: the client limits (pgferry.pool.max-client-connections,
 * pgferry.client-max-logins-per-address), shutdown, disabled databases and the HBA file. A refusal is a
 * FATAL error the login sends.
 */
final class LoginAdmission {
    private static final Logger LOG = Logger.getLogger(LoginHandler.class);

    /** Why a login is refused. */
    record Refusal(String sqlState, String message) {
    }

    /** The HBA line that admits the client, or (rule null) why it is refused. */
    record HbaVerdict(HbaRule rule, Refusal refusal) {
    }

    private final SessionContext sc;
    private final String id;
    private boolean overLimit;
    private boolean tooManyFromAddress;
    private InetAddress loginAddress;
    /** The client's IP address, which HBA lines match; null on the Unix socket. */
    private InetAddress clientAddress;

    LoginAdmission(SessionContext sc, String id) {
        this.sc = sc;
        this.id = id;
    }

    /** A client connected: it counts against the client limit, and its login against its address's. */
    void connected(Channel channel) {
        clientAddress = channel.remoteAddress() instanceof InetSocketAddress a ? a.getAddress() : null;
        int n = sc.clients.incrementAndGet();
        overLimit = n > sc.config.pool().maxClientConnections();
        int perAddress = sc.config.clientMaxLoginsPerAddress();
        // IP addresses only: the peers of a Unix socket have none (and are local)
        if (perAddress > 0 && channel.remoteAddress() instanceof InetSocketAddress a) {
            loginAddress = a.getAddress();
            int inProgress = sc.loginsInProgress.computeIfAbsent(loginAddress, k -> new AtomicInteger())
                    .incrementAndGet();
            tooManyFromAddress = inProgress > perAddress;
        }
    }

    /** The login is over: it no longer counts against its address. */
    void ended() {
        if (loginAddress != null) {
            AtomicInteger n = sc.loginsInProgress.get(loginAddress);
            if (n != null && n.decrementAndGet() <= 0) {
                sc.loginsInProgress.remove(loginAddress, n);
            }
            loginAddress = null;
        }
    }

    /** Why this StartupMessage is refused before anything else, or null; each refusal is counted. */
    Refusal refusal(StartupPacket.StartupMessage m) {
        Refusal r = limits(m);
        if (r != null) {
            sc.loginLimitRefusals.increment();
        }
        return r;
    }

    private Refusal limits(StartupPacket.StartupMessage m) {
        if (sc.draining) {
            // as PostgreSQL answers a login during its shutdown: 57P03, which drivers treat as "retry elsewhere"
            return new Refusal(SqlState.CANNOT_CONNECT_NOW, "pgferry is shutting down");
        }
        // the admin console stays reachable when clients are at the limit (PostgreSQL keeps connections in reserve
        // for superusers the same way); it is not counted once logged in either
        if (tooManyFromAddress || (overLimit && !sc.virtualDatabases.containsKey(m.database()))) {
            return new Refusal(SqlState.TOO_MANY_CONNECTIONS, tooManyFromAddress
                    ? "too many logins in progress from " + loginAddress.getHostAddress()
                            + " (pgferry.client-max-logins-per-address)"
                    : "sorry, too many clients already");
        }
        if (sc.disabledDatabases.contains(m.database()) && !sc.virtualDatabases.containsKey(m.database())) {
            // PgBouncer's set_pool refuses it so, before authentication, with its default SQLSTATE 08P01
            return new Refusal(SqlState.PROTOCOL_VIOLATION, "database does not allow connections: " + m.database());
        }
        return null;
    }

    /**
     * The HBA file's verdict, before any authentication as PostgreSQL's ClientAuthentication: the line that admits
     * the client, or a refusal with PostgreSQL's FATAL 28000 when no line matches or the line is {@code reject}.
     */
    HbaVerdict hbaVerdict(HbaFile hba, StartupPacket.StartupMessage m, boolean tls) {
        HbaClient client = new HbaClient(clientAddress, tls, m.database(), m.user());
        Optional<HbaRule> rule = hba.rules().match(client);
        if (rule.isPresent() && rule.get().method() != HbaMethod.REJECT) {
            LOG.debugf("%s %s line %d: %s", id, hba.path(), rule.get().line(), rule.get().method().keyword());
            return new HbaVerdict(rule.get(), null);
        }
        LOG.debugf("%s %s", id, rule.isEmpty() ? "no HBA line matches" : hba.path() + " line " + rule.get().line()
                + ": reject");
        sc.loginFailures.increment();
        return new HbaVerdict(null, new Refusal(SqlState.INVALID_AUTHORIZATION,
                rule.isEmpty() ? client.noEntryMessage() : client.rejectedMessage()));
    }
}
