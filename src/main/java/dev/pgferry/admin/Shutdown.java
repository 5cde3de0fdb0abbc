package dev.pgferry.admin;

import io.quarkus.runtime.Quarkus;
import java.util.List;

/**
 * SHUTDOWN: a graceful exit, as on SIGTERM: the listener closes, idle clients get 57P01, transactions in flight
 * may finish within pgferry.shutdown.drain-timeout. The answer is sent first.
 */
final class Shutdown implements AdminCommand {
    @Override
    public List<String> words() {
        return List.of("SHUTDOWN");
    }

    @Override
    public String help() {
        return "SHUTDOWN: stop accepting, let transactions finish (drain timeout), exit";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        AdminCommand.noArguments(this, args);
        return AdminResult.done("SHUTDOWN", "pgferry is shutting down: transactions in flight may finish within "
                + admin.sc.config().shutdown().drainTimeout().toSeconds() + " s").thenRun(Quarkus::asyncExit);
    }
}
