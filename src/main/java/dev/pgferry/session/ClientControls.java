package dev.pgferry.session;

import dev.pgferry.backend.ServerConnection;
import dev.pgferry.pool.Pool;

/** {@link ClientControl} over the two kinds of client connection the console sees, without widening either class. */
final class ClientControls {
    private ClientControls() {}

    static ClientControl of(ClientSession s) {
        return new OfSession(s);
    }

    static ClientControl of(LoginHandler l) {
        return new OfLogin(l);
    }

    private record OfSession(ClientSession s) implements ClientControl {
        @Override
        public String id() {
            return s.id();
        }

        @Override
        public String user() {
            return s.user();
        }

        @Override
        public Pool pool() {
            return s.pool();
        }

        @Override
        public String state() {
            return s.stateName();
        }

        @Override
        public String remoteAddress() {
            return s.remoteAddress();
        }

        @Override
        public long connectedMillis() {
            return s.connectedMillis();
        }

        @Override
        public ServerConnection backend() {
            return s.currentBackend();
        }

        @Override
        public void kill(String sqlState, String message) {
            s.kill(sqlState, message);
        }

        @Override
        public void disconnect(String sqlState, String message) {
            s.disconnect(sqlState, message);
        }
    }

    private record OfLogin(LoginHandler l) implements ClientControl {
        @Override
        public String id() {
            return l.id();
        }

        @Override
        public String user() {
            return l.user();
        }

        @Override
        public Pool pool() {
            return l.pool();
        }

        @Override
        public String state() {
            return WAITING_LOGIN;
        }

        @Override
        public String remoteAddress() {
            return l.remoteAddress();
        }

        @Override
        public long connectedMillis() {
            return l.connectedMillis();
        }

        @Override
        public ServerConnection backend() {
            return null;
        }

        @Override
        public void kill(String sqlState, String message) {
            l.kill(sqlState, message);
        }

        @Override
        public void disconnect(String sqlState, String message) {
            l.kill(sqlState, message); // a login holds no backend: nothing to roll back
        }
    }
}
