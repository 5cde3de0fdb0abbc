package dev.pgferry.admin;

import java.util.List;

/**
 * SET name = value: accepted and ignored. Drivers set session parameters right after login (pgjdbc sends
 * {@code SET application_name}, {@code SET extra_float_digits}); the console has no session state, and pgferry's
 * own settings come from configuration, not from SET.
 */
final class SetParameter implements AdminCommand {
    @Override
    public List<String> words() {
        return List.of("SET");
    }

    @Override
    public String help() {
        return "SET name = value: accepted and ignored, for drivers that set session parameters at login";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        if (args.isEmpty()) {
            throw AdminException.syntax("SET needs a parameter name");
        }
        return AdminResult.done("SET", null);
    }
}
