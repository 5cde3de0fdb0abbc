package dev.pgferry.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Until pgferry's reload handler is in place, a SIGHUP is ignored: this JVM signals itself after
 * {@link ReloadSignal#ignoreUntilStarted()} and lives on (with the JVM's own handler it would exit with 129, and the
 * test run would end with "the forked VM terminated").
 */
class ReloadSignalTest {
    @Test
    void aSighupBeforeTheReloadHandlerIsIgnored() throws Exception {
        ReloadSignal.ignoreUntilStarted();
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(ProcessHandle.current().pid())).start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
        Thread.sleep(500); // the signal is handled on a thread of its own
        assertThat(ProcessHandle.current().isAlive()).isTrue();
    }
}
