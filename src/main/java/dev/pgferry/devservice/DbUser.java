package dev.pgferry.devservice;

/**
 * A login role of a throwaway cluster, with its plaintext password and the {@code pg_hba.conf} method the
 * cluster demands of it.
 */
public record DbUser(String name, String password, String authMethod) {

    /** Authenticates with SCRAM-SHA-256 (its secret is stored as SCRAM). */
    public static final DbUser SCRAM = new DbUser("scram_u", "scram_pw", "scram-sha-256");

    /** Authenticates with MD5 (its secret is stored as MD5, created under {@code password_encryption = md5}). */
    public static final DbUser MD5 = new DbUser("md5_u", "md5_pw", "md5");

    /** Authenticates with a cleartext password ({@code pg_hba.conf} method {@code password}). */
    public static final DbUser PLAIN = new DbUser("plain_u", "plain_pw", "password");

    @Override
    public String toString() {
        // never print the password
        return name + " (" + authMethod + ")";
    }
}
