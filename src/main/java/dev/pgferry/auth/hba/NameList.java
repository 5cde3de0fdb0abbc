package dev.pgferry.auth.hba;

import java.util.Set;

/**
 * The DATABASE or USER field of a line: names, and the keywords that were not quoted. {@code sameuser} (databases
 * only) matches the database named as the user. {@code replication} (databases only) is kept by PostgreSQL for
 * physical replication connections, which pgferry does not serve: it matches no database, as it matches none of a
 * PostgreSQL server's ordinary connections.
 */
public record NameList(boolean all, boolean sameUser, Set<String> names) {
    public NameList {
        names = Set.copyOf(names);
    }

    boolean matchesDatabase(String database, String user) {
        return all || (sameUser && database.equals(user)) || names.contains(database);
    }

    boolean matchesUser(String user) {
        return all || names.contains(user);
    }
}
