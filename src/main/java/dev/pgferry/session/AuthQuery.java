package dev.pgferry.session;

import dev.pgferry.auth.StoredCredential;
import dev.pgferry.auth.UserSecret;
import dev.pgferry.backend.ServerConnection;
import dev.pgferry.pool.LeaseWaiter;
import dev.pgferry.pool.Pool;
import dev.pgferry.pool.PoolException;
import dev.pgferry.pool.PoolKey;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * auth_query: the secret of a user not in the users file is read from the server, through a backend of
 * the pool (client's database, {@code pgferry.auth.user}), and kept for a short while. With a SCRAM
 * secret, the client's proof later yields its ClientKey, so backends for that user open without any
 * plaintext (PgBouncer's technique). Secrets are never logged.
 */
final class AuthQuery {
    private static final Logger LOG = Logger.getLogger(AuthQuery.class);

    private record Cached(Optional<StoredCredential> credential, long expiresNanos) {}

    private final SessionContext sc;
    private final String authUser;
    private final String query;
    private final long ttlNanos;
    private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();

    AuthQuery(SessionContext sc, String authUser, String query, Duration ttl) {
        this.sc = sc;
        this.authUser = authUser;
        this.query = query;
        this.ttlNanos = ttl.toNanos();
    }

    /** Looks {@code user} up (cache, else the server) and calls back on {@code loop}; empty = unknown user. */
    void lookup(EventLoop loop, String database, String user, Consumer<Optional<StoredCredential>> done,
            Consumer<PoolException> failed) {
        Cached c = cache.get(user);
        if (c != null && System.nanoTime() < c.expiresNanos) {
            done.accept(c.credential);
            return;
        }
        Pool pool = sc.pools.get(new PoolKey(database, authUser));
        String sql = query.replace("$1", SessionParameters.literal(user));
        pool.acquire(loop, new LeaseWaiter() {
            @Override
            public void onLease(ServerConnection conn) {
                InternalQuery.run(conn, sql, (cc, r) -> {
                    if (r.ok() && r.status == 'I') {
                        pool.release(cc);
                    } else {
                        pool.discard(cc);
                    }
                    if (!r.ok()) {
                        LOG.debugf("auth_query for %s failed: %s", user, r.error == null ? "closed" : r.error.get('M'));
                        failed.accept(new PoolException("28000", "auth_query failed: "
                                + (r.error == null ? "server connection lost" : r.error.get('M')), false));
                        return;
                    }
                    Optional<StoredCredential> cred = Optional.empty();
                    if (r.lastRow != null && r.lastRow.size() >= 2 && r.lastRow.get(1) != null) {
                        try {
                            cred = Optional.of(new StoredCredential(user, UserSecret.parse(r.lastRow.get(1))));
                        } catch (IllegalArgumentException e) {
                            LOG.debugf("auth_query for %s returned an unusable secret", user);
                        }
                    }
                    cache.put(user, new Cached(cred, System.nanoTime() + ttlNanos));
                    done.accept(cred);
                });
            }

            @Override
            public void onLeaseFailed(PoolException error) {
                failed.accept(error);
            }
        });
    }
}
