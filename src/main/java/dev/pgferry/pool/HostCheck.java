package dev.pgferry.pool;

import dev.pgferry.backend.BackendConnector;
import dev.pgferry.backend.BackendCredentials;
import dev.pgferry.backend.BackendListener;
import dev.pgferry.backend.BackendTarget;
import dev.pgferry.backend.ServerConnection;
import dev.pgferry.hosts.HostList;
import dev.pgferry.hosts.HostRole;
import dev.pgferry.protocol.FrontendMessages;
import dev.pgferry.protocol.MessageFrameDecoder;
import dev.pgferry.protocol.MessageReader;
import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * The role of one server, asked on a check connection of its own kept open between checks: every
 * {@code pgferry.health.role-check-interval}, and at once when a pool suspects the host ({@link #checkNow}) or the
 * check connection is cut (a shutting-down server sends 57P01 to it too). One query tells recovery, the default
 * read-only setting and the replay lag, as PgDog's LSN monitor asks. A change of role is one INFO line. Everything
 * but the published state runs on {@link #loop}.
 */
final class HostCheck implements BackendListener {
    private static final Logger LOG = Logger.getLogger(HostCheck.class);
    /**
     * The lag is 0 while the standby has replayed all it received (an idle primary makes the replay timestamp age
     * without any lag), else the age of the last replayed transaction.
     */
    static final String QUERY = "select pg_is_in_recovery(), current_setting('default_transaction_read_only'),"
            + " case when not pg_is_in_recovery() or pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() then 0"
            + " else coalesce((extract(epoch from now() - pg_last_xact_replay_timestamp()) * 1000)::bigint, 0) end";
    private static final int MAX_RESPONSE = 64 * 1024;
    /**
     * How soon the next check follows while a database of this host has no host of its role (a failover under way):
     * clients wait in the queue meanwhile, and a promoted standby is found within this, not a whole interval.
     */
    static final long HURRY_MILLIS = 250;
    static final String NO_USER = "answers, but there is no user to ask the role as until a client logs in: set"
            + " pgferry.health.check-user to a users-file entry with a plaintext or MD5 secret";

    final HostList.Address address;
    private final BackendConnector connector;
    private final Supplier<HostRoles.CheckLogin> login;
    final EventLoop loop;
    private final Duration interval;
    private final Consumer<HostCheck> published;

    /** What the last check found; read by any thread. */
    private volatile HostRole role = HostRole.UNKNOWN;
    private volatile long lagMillis;
    private volatile String lastError = "not checked yet";
    private volatile long lastOkNanos;
    /** Whether the server answered the last attempt, even without a user to ask the role as. */
    private volatile boolean answers;
    /** Set by {@link HostRoles} while a database listing this host has none of its role. */
    private volatile boolean hurry;

    private ServerConnection conn;
    private boolean inFlight;
    /** Whether a check has finished: the first outcome is logged even when it is "unknown" (a wrong host). */
    private boolean checked;
    private boolean stopped;
    private MessageFrameDecoder frames;
    private String[] row;
    private String error;
    private ScheduledFuture<?> ticks;
    private ScheduledFuture<?> queryTimeout;

    HostCheck(HostList.Address address, BackendConnector connector, Supplier<HostRoles.CheckLogin> login,
            EventLoop loop, Duration interval, Consumer<HostCheck> published) {
        this.address = address;
        this.connector = connector;
        this.login = login;
        this.loop = loop;
        this.interval = interval;
        this.published = published;
    }

    void start() {
        loop.execute(() -> {
            long every = Math.max(50, interval.toMillis());
            ticks = loop.scheduleWithFixedDelay(this::check, 0, every, TimeUnit.MILLISECONDS);
        });
    }

    void stop() {
        loop.execute(() -> {
            stopped = true;
            if (ticks != null) {
                ticks.cancel(false);
            }
            if (conn != null) {
                conn.close();
            }
        });
    }

    HostRole role() {
        return role;
    }

    long lagMillis() {
        return lagMillis;
    }

    boolean answers() {
        return answers;
    }

    /** Null after a successful check. */
    String lastError() {
        return lastError;
    }

    /** {@link System#nanoTime()} of the last successful check, 0 if none. */
    long lastOkNanos() {
        return lastOkNanos;
    }

    /** Checks every {@link #HURRY_MILLIS} instead of every interval while {@code on}; from any thread. */
    void hurry(boolean on) {
        if (on && !hurry) {
            hurry = true;
            checkNow();
        }
        hurry = on;
    }

    /** Asks now, from any thread; a check under way already counts. */
    void checkNow() {
        loop.execute(this::check);
    }

    private void check() {
        if (stopped || inFlight) {
            return;
        }
        inFlight = true;
        if (conn != null && !conn.isBroken()) {
            query();
            return;
        }
        HostRoles.CheckLogin who = login.get();
        BackendTarget target = new BackendTarget(address.host(), address.port(), who.database());
        connector.connect(loop, target, who.credentials(), Map.of("application_name", "pgferry-role-check"))
                .addListener(f -> {
            if (!f.isSuccess()) {
                answers = false;
                finish(null, String.valueOf(f.cause().getMessage()));
                return;
            }
            answers = true;
            if (who.credentials() instanceof BackendCredentials.Ping && ((ServerConnection) f.getNow()).isBroken()) {
                // the server answers but asked for a password the check has none of
                finish(null, NO_USER);
                return;
            }
            conn = (ServerConnection) f.getNow();
            if (stopped) {
                conn.close();
                return;
            }
            frames = new MessageFrameDecoder(MAX_RESPONSE);
            conn.listener(this);
            query();
        });
    }

    private void query() {
        row = null;
        error = null;
        ByteBuf out = conn.channel().alloc().buffer(QUERY.length() + 8);
        FrontendMessages.query(out, QUERY);
        conn.channel().writeAndFlush(out, conn.channel().voidPromise());
        ServerConnection asked = conn;
        // a server that stops answering (a network partition) must not keep the host's role forever
        long limit = Math.max(interval.toMillis() * 2, 5_000);
        queryTimeout = loop.schedule(() -> {
            if (inFlight && conn == asked) {
                asked.close();
            }
        }, limit, TimeUnit.MILLISECONDS);
    }

    @Override
    public void onBackendRead(ServerConnection c, ByteBuf data) {
        if (c != conn) {
            data.release();
            return;
        }
        try {
            frames.readAll(c.channel().alloc(), data, (in, length) -> handle(in));
        } catch (ProtocolException e) {
            error = e.getMessage();
            c.close();
        }
    }

    private void handle(ByteBuf acc) throws ProtocolException {
        int start = acc.readerIndex();
        switch (acc.getByte(start)) {
            case ProtocolCodes.DATA_ROW -> row = dataRow(acc, start);
            case ProtocolCodes.ERROR_RESPONSE -> {
                Map<Character, String> f = MessageReader.errorFields(acc, start);
                error = f.get('C') + " " + f.get('M');
            }
            case ProtocolCodes.READY_FOR_QUERY -> {
                if (inFlight) {
                    finishQuery();
                }
            }
            default -> {
                // RowDescription, CommandComplete, ParameterStatus, notices: not needed
            }
        }
    }

    private void finishQuery() {
        if (queryTimeout != null) {
            queryTimeout.cancel(false);
        }
        if (error != null || row == null || row.length < 3) {
            finish(null, error != null ? error : "the role query returned no row");
            return;
        }
        try {
            HostRole r = HostRole.of("t".equals(row[0]), "on".equals(row[1]));
            lagMillis = row[2] == null ? 0 : Long.parseLong(row[2]);
            finish(r, null);
        } catch (NumberFormatException e) {
            finish(null, "unexpected lag " + row[2]);
        }
    }

    /** The outcome of one check: a role, or null and why the host did not answer. */
    private void finish(HostRole seen, String why) {
        inFlight = false;
        HostRole now = seen == null ? HostRole.UNKNOWN : seen;
        HostRole was = role;
        if (seen != null) {
            lastOkNanos = System.nanoTime();
            lastError = null;
        } else {
            lastError = why;
            lagMillis = 0;
        }
        role = now;
        boolean first = !checked;
        checked = true;
        if (now != was || first) {
            if (now == HostRole.UNKNOWN) {
                LOG.infof("host %s is %s now (was %s): %s", address, answers ? "of unknown role" : "unreachable",
                        word(was), why);
            } else {
                LOG.infof("host %s is %s now (was %s)", address, word(now), word(was));
            }
        }
        published.accept(this);
        if (hurry && !stopped && !NO_USER.equals(why)) { // no user: asking sooner would not tell more
            loop.schedule(this::check, HURRY_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    static String word(HostRole role) {
        return switch (role) {
            case UNKNOWN -> "unknown";
            case PRIMARY -> "primary";
            case READ_ONLY_PRIMARY -> "read-only-primary";
            case STANDBY -> "standby";
        };
    }

    private static String[] dataRow(ByteBuf acc, int start) {
        int n = acc.getUnsignedShort(start + 5);
        String[] values = new String[n];
        int i = start + 7;
        for (int c = 0; c < n; c++) {
            int len = acc.getInt(i);
            i += 4;
            if (len >= 0) {
                values[c] = acc.toString(i, len, StandardCharsets.UTF_8);
                i += len;
            }
        }
        return values;
    }

    @Override
    public void onBackendReadComplete(ServerConnection c) {
    }

    @Override
    public void onBackendClosed(ServerConnection c, Throwable cause) {
        if (c != conn) {
            return;
        }
        conn = null;
        if (frames != null) {
            frames.release();
            frames = null;
        }
        if (queryTimeout != null) {
            queryTimeout.cancel(false);
        }
        String why = error != null ? error : "the check connection closed";
        answers = false;
        if (inFlight) {
            finish(null, why);
        } else if (!stopped) {
            // cut between checks (a server shutting down tells its sessions 57P01): ask again now, not a tick later
            error = why;
            loop.execute(this::check);
        }
    }

    @Override
    public void onBackendWritabilityChanged(ServerConnection c, boolean writable) {
    }
}
