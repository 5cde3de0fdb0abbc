package dev.pgferry.auth.hba;

import java.util.Optional;
import java.util.Set;

/** The authentication methods an HBA line may name, as pg_hba.conf spells them. */
public enum HbaMethod {
    TRUST("trust"),
    REJECT("reject"),
    /** Challenge-response MD5, upgraded to SCRAM for a user whose secret is a SCRAM verifier (as PostgreSQL). */
    MD5("md5"),
    SCRAM_SHA_256("scram-sha-256"),
    /** Cleartext password. */
    PASSWORD("password"),
    /**
     * A client certificate, verified against {@code pgferry.tls.client.ca-file}, whose CN is the user; no password.
     * {@code hostssl} lines only, and it implies {@code clientcert=verify-full}, as in PostgreSQL.
     */
    CERT("cert");

    /** PostgreSQL's other methods: named as unsupported rather than as unknown. */
    static final Set<String> UNSUPPORTED = Set.of("ident", "peer", "gss", "sspi", "pam", "bsd", "ldap",
            "radius", "krb5", "oauth");

    private final String keyword;

    HbaMethod(String keyword) {
        this.keyword = keyword;
    }

    public String keyword() {
        return keyword;
    }

    static Optional<HbaMethod> of(String keyword) {
        for (HbaMethod m : values()) {
            if (m.keyword.equals(keyword)) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }
}
