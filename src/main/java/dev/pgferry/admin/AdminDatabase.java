package dev.pgferry.admin;

import dev.pgferry.session.SessionContext;
import dev.pgferry.session.VirtualDatabase;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Plugs the admin console in as the virtual database {@code pgferry}: the listener asks for it through CDI at each
 * start ({@link VirtualDatabase.Plugin}), so that it does not know the console. Keeps the sessions of the last start
 * for SIGHUP ({@link SighupReload}).
 */
@ApplicationScoped
public class AdminDatabase implements VirtualDatabase.Plugin {
    private volatile SessionContext sessions;

    @Override
    public VirtualDatabase start(SessionContext sessions) {
        this.sessions = sessions;
        return new AdminConsole(sessions);
    }

    /** The sessions of the running proxy; null before the listener started. */
    SessionContext sessions() {
        return sessions;
    }
}
