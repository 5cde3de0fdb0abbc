package dev.pgferry.cli;

import dev.pgferry.config.ReloadSignal;

import io.quarkus.runtime.ApplicationLifecycleManager;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;
import java.util.Arrays;
import org.jboss.logging.Logger;

/**
 * pgferry's entry point. {@code hash-password USER} prints a users-file line and exits without starting anything
 * ({@link HashPasswordCommand}); otherwise the proxy runs until stopped.
 *
 * <p>A start that fails is reported here instead of by Quarkus, which would print every failure as a stack trace: a
 * taken port is an operator's mistake with a one-line answer ({@link StartupFailure}). The exit code stays Quarkus's
 * (1 on a failed start), and so does what happens on exit: the default handler still decides (it exits the JVM when
 * run as a jar, and leaves dev mode waiting for a fix).
 */
@QuarkusMain
public final class PgferryMain {
    /** Not private: ArC makes a bean of the {@code @QuarkusMain} class and logs private members at every build. */
    PgferryMain() {}

    public static void main(String... args) {
        if (args.length > 0 && args[0].equals(HashPasswordCommand.NAME)) {
            System.exit(HashPasswordCommand.run(Arrays.copyOfRange(args, 1, args.length), System.console(), System.in,
                    System.out, System.err));
        }
        ReloadSignal.ignoreUntilStarted();
        Quarkus.run(null, PgferryMain::exit, args);
    }

    private static void exit(Integer code, Throwable failure) {
        if (failure != null) {
            String line = StartupFailure.describe(failure);
            Logger log = Logger.getLogger(PgferryMain.class);
            if (line == null) {
                log.error("pgferry failed to start", failure);
            } else if (!line.isEmpty()) {
                log.error(line);
            }
        }
        ApplicationLifecycleManager.getDefaultExitCodeHandler().accept(code, failure);
    }
}
