package dev.pgferry.observability.admin;

import dev.pgferry.server.ProxyServer;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

/**
 * SIGHUP re-reads what RELOAD re-reads ({@link ConfigReload}: the pgbouncer.ini or properties file, the users file,
 * the HBA file) and applies it, as PgBouncer's SIGHUP does; each outcome is one log line. Where the JVM cannot take
 * the signal (Windows, {@code -Xrs}, a handler already installed) pgferry logs that and RELOAD remains.
 */
@ApplicationScoped
public class SighupReload {
    private static final Logger LOG = Logger.getLogger(SighupReload.class);

    @Inject
    ProxyServer server;

    void onStart(@Observes StartupEvent event) {
        try {
            handle("HUP", this::reload);
        } catch (ReflectiveOperationException | IllegalArgumentException | UnsupportedOperationException
                | LinkageError e) {
            Throwable why = e instanceof java.lang.reflect.InvocationTargetException ite ? ite.getCause() : e;
            LOG.infof("SIGHUP cannot be handled here (%s): use RELOAD on the admin console", why);
        }
    }

    /**
     * From the JVM's start until {@link #onStart} installs the reload: the JVM's own SIGHUP handler ends the process,
     * so a SIGHUP sent while pgferry starts (a config management tool reloading every service it touched) would stop
     * it. Called first thing in {@code main}; where the signal cannot be handled, {@link #onStart} says so.
     */
    public static void ignoreUntilStarted() {
        try {
            handle("HUP", () -> LOG.info("SIGHUP while pgferry starts: ignored (nothing to reload yet)"));
        } catch (ReflectiveOperationException | IllegalArgumentException | UnsupportedOperationException
                | LinkageError e) {
            // onStart tries again and logs why not
        }
    }

    /**
     * {@code sun.misc.Signal.handle(new Signal(name), s -> action.run())}, looked up at run time: the JDK has no
     * public signal API, and compiling against {@code sun.misc} makes javac warn on every build (Quarkus itself
     * reaches the same class).
     */
    private static void handle(String name, Runnable action) throws ReflectiveOperationException {
        Class<?> signal = Class.forName("sun.misc.Signal");
        Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
        Object handler = java.lang.reflect.Proxy.newProxyInstance(handlerType.getClassLoader(),
                new Class<?>[] {handlerType}, (proxy, method, args) -> switch (method.getName()) {
                    case "handle" -> {
                        action.run();
                        yield null;
                    }
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> "pgferry SIG" + name + " handler";
                });
        signal.getMethod("handle", signal, handlerType).invoke(null, signal.getConstructor(String.class).newInstance(name),
                handler);
    }

    private void reload() {
        ConfigReload.Outcome outcome = ConfigReload.run(server.context());
        outcome.done().forEach(line -> LOG.infof("SIGHUP: %s", line));
        outcome.failed().forEach(line -> LOG.errorf("SIGHUP: %s", line));
    }
}
