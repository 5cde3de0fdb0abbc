package dev.pgferry.devservice;

import java.util.List;

/**
 * The roles and grants every throwaway cluster gets, as SQL a superuser runs (through {@code psql} here, through
 * JDBC where a test drives a container). Each statement is idempotent, so a reused cluster can run them again.
 */
public final class DevRoles {

    /** The non-superuser roles, one per password method. */
    public static final List<DbUser> USERS = List.of(DbUser.SCRAM, DbUser.MD5, DbUser.PLAIN);

    /** The pgbench database. */
    public static final String BENCH_DATABASE = "bench";

    private DevRoles() {
    }

    /** Creates the roles if missing and (re)sets their passwords, each stored in its method's format. */
    public static List<String> rolesSql() {
        StringBuilder create = new StringBuilder("do $$ begin\n");
        for (DbUser user : USERS) {
            create.append("  if not exists (select from pg_roles where rolname = ").append(literal(user.name()))
                    .append(") then create role ").append(user.name()).append(" login; end if;\n");
        }
        create.append("end $$");
        return List.of(
                create.toString(),
                setPassword("scram-sha-256", DbUser.SCRAM),
                // "password" sends cleartext; the server checks it against whatever secret is stored
                setPassword("scram-sha-256", DbUser.PLAIN),
                // an MD5 login needs an MD5 secret: SCRAM secrets cannot answer an MD5 challenge
                setPassword("md5", DbUser.MD5));
    }

    /** Asks whether the bench database is missing; its answer is {@code t} or {@code f}. */
    public static String benchMissingSql() {
        return "select not exists (select from pg_database where datname = " + literal(BENCH_DATABASE) + ")";
    }

    /** Creates the bench database; run only when {@link #benchMissingSql()} says so (no IF NOT EXISTS). */
    public static String createBenchSql() {
        return "create database " + BENCH_DATABASE;
    }

    /** Run in each database: since PostgreSQL 15 only the owner may create in schema {@code public}. */
    public static String schemaGrantSql() {
        return "grant all on schema public to public";
    }

    /** Run in the bench database after {@code pgbench -i}: the pgbench tables belong to {@code postgres}. */
    public static String benchTablesGrantSql() {
        return "grant all on all tables in schema public to public";
    }

    /** A SQL string literal. */
    public static String literal(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    private static String setPassword(String encryption, DbUser user) {
        return "set password_encryption = " + literal(encryption) + "; alter role " + user.name()
                + " password " + literal(user.password());
    }
}
