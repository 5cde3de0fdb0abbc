package dev.pgferry.config;

import org.jboss.logging.Logger;

/**
 * SIGHUP, the signal that asks for a configuration reload, as PgBouncer takes it. The JVM's own SIGHUP handler ends
 * the process: {@link #ignoreUntilStarted} replaces it first thing in {@code main}, and the admin console's reload
 * ({@code dev.pgferry.admin.SighupReload}) replaces that once pgferry runs.
 */
public final class ReloadSignal {
    private static final Logger LOG = Logger.getLogger(ReloadSignal.class);

    private ReloadSignal() {}

    /**
     * From the JVM's start until the reload is installed: a SIGHUP sent while pgferry starts (a config management tool
     * reloading every service it touched) would otherwise stop it. Where the signal cannot be handled, the reload's
     * own installation says so.
     */
    public static void ignoreUntilStarted() {
        try {
            handle(() -> LOG.info("SIGHUP while pgferry starts: ignored (nothing to reload yet)"));
        } catch (ReflectiveOperationException | IllegalArgumentException | UnsupportedOperationException
                | LinkageError e) {
            // the reload's installation tries again and logs why not
        }
    }

    /**
     * Runs {@code action} on each SIGHUP: {@code sun.misc.Signal.handle(new Signal("HUP"), s -> action.run())},
     * looked up at run time: the JDK has no public signal API, and compiling against {@code sun.misc} makes javac warn
     * on every build (Quarkus itself reaches the same class). Throws where the JVM cannot take the signal (Windows,
     * {@code -Xrs}, a handler already installed).
     */
    public static void handle(Runnable action) throws ReflectiveOperationException {
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
                    default -> "pgferry SIGHUP handler";
                });
        signal.getMethod("handle", signal, handlerType).invoke(null, signal.getConstructor(String.class).newInstance("HUP"),
                handler);
    }
}
