package dev.pgferry.admin;

import java.util.ArrayList;
import java.util.List;

/** SHOW HELP: every command with a line of meaning. */
final class ShowHelp implements AdminCommand {
    @Override
    public List<String> words() {
        return List.of("SHOW", "HELP");
    }

    @Override
    public String help() {
        return "SHOW HELP: this list";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        AdminCommand.noArguments(this, args);
        List<List<String>> rows = new ArrayList<>();
        for (AdminCommand c : admin.commands) {
            String h = c.help();
            int colon = h.indexOf(": ");
            rows.add(List.of(h.substring(0, colon), h.substring(colon + 2)));
        }
        return AdminResult.rows(List.of("command", "description"), rows);
    }
}
