package dev.pgferry.auth.hba;

/** One line of the file. {@code address} is null for {@code local} lines. */
public record HbaRule(int line, ConnectionType type, NameList databases, NameList users, AddressRange address,
        HbaMethod method) {

    /** The first field of a line. */
    public enum ConnectionType {
        /** The Unix-domain socket. */
        LOCAL("local"),
        /** TCP, with or without TLS. */
        HOST("host"),
        /** TCP with TLS. */
        HOSTSSL("hostssl"),
        /** TCP without TLS. */
        HOSTNOSSL("hostnossl");

        private final String keyword;

        ConnectionType(String keyword) {
            this.keyword = keyword;
        }

        public String keyword() {
            return keyword;
        }
    }

    boolean matches(HbaClient c) {
        boolean connection = switch (type) {
            case LOCAL -> c.local();
            case HOST -> !c.local();
            case HOSTSSL -> !c.local() && c.tls();
            case HOSTNOSSL -> !c.local() && !c.tls();
        };
        return connection && (c.local() || address.contains(c.address()))
                && databases.matchesDatabase(c.database(), c.user()) && users.matchesUser(c.user());
    }
}
