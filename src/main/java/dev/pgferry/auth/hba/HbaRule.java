package dev.pgferry.auth.hba;

/**
 * One line of the file. {@code address} is null for {@code local} lines. {@code clientCert} is what the line asks of
 * the client's certificate besides its method: {@link ClientCert#VERIFY_FULL} on every {@code cert} line.
 */
public record HbaRule(int line, ConnectionType type, NameList databases, NameList users, AddressRange address,
        HbaMethod method, ClientCert clientCert) {

    /**
     * The {@code clientcert} option of a {@code hostssl} line, as PostgreSQL 15: {@code verify-ca} wants a certificate
     * that {@code pgferry.tls.client.ca-file} verifies, {@code verify-full} wants its CN to be the user as well.
     */
    public enum ClientCert {
        OFF,
        VERIFY_CA,
        VERIFY_FULL
    }

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
