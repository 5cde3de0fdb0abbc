package dev.pgferry.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The messages one logger category writes while a test runs, as the application under test formats them: a handler
 * on the JBoss LogManager's logger of that name ({@code java.util.logging} is the LogManager in the test JVM).
 * {@link #close()} removes it.
 */
public final class CapturedLog extends Handler implements AutoCloseable {
    private final Logger logger;
    private final List<String> lines = new CopyOnWriteArrayList<>();

    private CapturedLog(String category) {
        this.logger = Logger.getLogger(category);
        logger.addHandler(this);
    }

    public static CapturedLog of(String category) {
        return new CapturedLog(category);
    }

    /** Level and formatted message of each record so far: {@code INFO login refused: …}. */
    public List<String> lines() {
        return List.copyOf(lines);
    }

    @Override
    public void publish(LogRecord r) {
        String message = r.getParameters() == null || r.getParameters().length == 0 ? r.getMessage()
                : String.format(r.getMessage(), r.getParameters());
        lines.add(r.getLevel() + " " + message);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {
        logger.removeHandler(this);
    }
}
