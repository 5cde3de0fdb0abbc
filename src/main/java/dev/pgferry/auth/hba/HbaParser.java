package dev.pgferry.auth.hba;

import dev.pgferry.auth.hba.HbaRule.ClientCert;
import dev.pgferry.auth.hba.HbaRule.ConnectionType;
import dev.pgferry.auth.hba.HbaTokenizer.Line;
import dev.pgferry.auth.hba.HbaTokenizer.Token;
import io.netty.util.NetUtil;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads the pg_hba.conf subset pgferry applies, the one PgBouncer's {@code auth_hba_file} takes: {@code local},
 * {@code host}, {@code hostssl}, {@code hostnossl} lines; databases and users as comma lists, {@code all},
 * {@code sameuser} and {@code replication} (databases), {@code @file} (names read from a file beside this one);
 * addresses as CIDR, address and mask, or {@code all}; methods trust, reject, md5, scram-sha-256, password, cert;
 * the options {@code clientcert} and {@code clientname=CN}. Whatever PostgreSQL accepts and pgferry cannot honour (a
 * group, a host name, peer, {@code map=}) is an error naming the file and line, never a line silently skipped: a
 * skipped reject line would let in whom it meant to keep out.
 */
final class HbaParser {
    /** Reads the text of an {@code @file} named in the file (resolved beside it). */
    interface Includes {
        String read(String name) throws java.io.IOException;
    }

    private static final int MAX_INCLUDE_DEPTH = 10;
    /** PostgreSQL 15's other authentication options: named as unsupported rather than as unknown. */
    private static final Set<String> OTHER_OPTIONS = Set.of("map", "pamservice", "pam_use_hostname", "ldaptls",
            "ldapscheme", "ldapserver", "ldapport", "ldapbinddn", "ldapbindpasswd", "ldapsearchattribute",
            "ldapsearchfilter", "ldapbasedn", "ldapprefix", "ldapsuffix", "ldapurl", "krb_realm", "include_realm",
            "compat_realm", "upn_username", "radiusservers", "radiussecrets", "radiusidentifiers", "radiusports");

    private final String source;
    private final Includes includes;

    HbaParser(String source, Includes includes) {
        this.source = source;
        this.includes = includes;
    }

    List<HbaRule> parse(String text) throws HbaException {
        List<HbaRule> rules = new ArrayList<>();
        for (Line line : HbaTokenizer.tokenize(source, text)) {
            rules.add(rule(line));
        }
        return List.copyOf(rules);
    }

    private HbaRule rule(Line line) throws HbaException {
        int n = line.number();
        List<List<Token>> f = line.fields();
        Token typeToken = single(f.get(0), n, "connection type");
        ConnectionType type = switch (typeToken.text()) {
            case "local" -> ConnectionType.LOCAL;
            case "host" -> ConnectionType.HOST;
            case "hostssl" -> ConnectionType.HOSTSSL;
            case "hostnossl" -> ConnectionType.HOSTNOSSL;
            case "hostgssenc", "hostnogssenc" -> throw error(n, "connection type \"" + typeToken.text()
                    + "\" is not supported: pgferry has no GSSAPI encryption");
            default -> throw error(n, "invalid connection type \"" + typeToken.text() + "\"");
        };
        if (f.size() < 2) {
            throw error(n, "end-of-line before database specification");
        }
        NameList databases = names(f.get(1), n, true, 0);
        if (f.size() < 3) {
            throw error(n, "end-of-line before role specification");
        }
        NameList users = names(f.get(2), n, false, 0);
        int next = 3;
        AddressRange address = null;
        if (type != ConnectionType.LOCAL) {
            if (f.size() < 4) {
                throw error(n, "end-of-line before IP address specification");
            }
            Token a = single(f.get(3), n, "IP address");
            next = 4;
            if (a.isKeyword("all")) {
                address = AddressRange.all();
            } else if (a.isKeyword("samehost") || a.isKeyword("samenet")) {
                throw error(n, "\"" + a.text() + "\" is not supported: give the address as CIDR");
            } else {
                int slash = a.text().indexOf('/');
                String host = slash < 0 ? a.text() : a.text().substring(0, slash);
                byte[] network = ip(host);
                if (network == null) {
                    throw error(n, "invalid IP address \"" + a.text() + "\": host names and domain suffixes are not"
                            + " supported, give the address as CIDR");
                }
                byte[] mask;
                if (slash >= 0) {
                    mask = cidrMask(a.text(), a.text().substring(slash + 1), network.length, n);
                } else {
                    if (f.size() < 5) {
                        throw error(n, "end-of-line before netmask specification");
                    }
                    Token m = single(f.get(4), n, "netmask");
                    next = 5;
                    mask = ip(m.text());
                    if (mask == null) {
                        throw error(n, "invalid IP mask \"" + m.text() + "\"");
                    }
                    if (mask.length != network.length) {
                        throw error(n, "IP address and mask do not match");
                    }
                }
                address = AddressRange.of(network, mask);
            }
        }
        if (f.size() <= next) {
            throw error(n, "end-of-line before authentication method");
        }
        Token m = single(f.get(next), n, "authentication method");
        HbaMethod method = HbaMethod.of(m.text()).orElseThrow(() -> HbaMethod.UNSUPPORTED.contains(m.text())
                ? error(n, "authentication method \"" + m.text() + "\" is not supported by pgferry (supported: trust,"
                        + " reject, md5, scram-sha-256, password, cert)")
                : error(n, "invalid authentication method \"" + m.text() + "\""));
        if (method == HbaMethod.CERT && type != ConnectionType.HOSTSSL) {
            throw error(n, "cert authentication is only supported on hostssl connections");
        }
        ClientCert clientCert = ClientCert.OFF;
        for (List<Token> options : f.subList(next + 1, f.size())) {
            for (Token option : options) {
                clientCert = option(option, type, method, clientCert, n);
            }
        }
        if (method == HbaMethod.CERT) {
            clientCert = ClientCert.VERIFY_FULL; // PostgreSQL's parse_hba_line: cert implies clientcert=verify-full
        }
        return new HbaRule(n, type, databases, users, address, method, clientCert);
    }

    /**
     * One {@code name=value} after the method (a comma list of them counts as several), checked as PostgreSQL 15's
     * {@code parse_hba_auth_opt} checks it; returns the line's {@code clientcert} with it applied (the last one given
     * wins, as in PostgreSQL).
     */
    private ClientCert option(Token option, ConnectionType type, HbaMethod method, ClientCert clientCert, int n)
            throws HbaException {
        int eq = option.text().indexOf('=');
        if (eq < 0) {
            throw error(n, "authentication option not in name=value format: " + option.text());
        }
        String name = option.text().substring(0, eq);
        String value = option.text().substring(eq + 1);
        switch (name) {
            case "clientcert" -> {
                if (type != ConnectionType.HOSTSSL) {
                    throw error(n, "clientcert can only be configured for \"hostssl\" rows");
                }
                return switch (value) {
                    case "verify-full" -> ClientCert.VERIFY_FULL;
                    case "verify-ca" -> {
                        if (method == HbaMethod.CERT) {
                            throw error(n, "clientcert only accepts \"verify-full\" when using \"cert\" authentication");
                        }
                        yield ClientCert.VERIFY_CA;
                    }
                    default -> throw error(n, "invalid value for clientcert: \"" + value + "\"");
                };
            }
            case "clientname" -> {
                if (type != ConnectionType.HOSTSSL) {
                    throw error(n, "clientname can only be configured for \"hostssl\" rows");
                }
                if (value.equals("DN")) {
                    throw error(n, "clientname=DN is not supported by pgferry: the certificate's CN is compared with"
                            + " the user (clientname=CN)");
                }
                if (!value.equals("CN")) {
                    throw error(n, "invalid value for clientname: \"" + value + "\"");
                }
                return clientCert;
            }
            default -> throw OTHER_OPTIONS.contains(name)
                    ? error(n, "authentication option \"" + name + "\" is not supported by pgferry")
                    : error(n, "unrecognized authentication option name: \"" + name + "\"");
        }
    }

    private NameList names(List<Token> tokens, int n, boolean database, int depth) throws HbaException {
        boolean all = false;
        boolean sameUser = false;
        Set<String> names = new LinkedHashSet<>();
        for (Token t : tokens) {
            if (t.isKeyword("all")) {
                all = true;
            } else if (database && t.isKeyword("sameuser")) {
                sameUser = true;
            } else if (database && (t.isKeyword("samerole") || t.isKeyword("samegroup"))) {
                throw error(n, "\"" + t.text() + "\" is not supported: pgferry knows no role membership");
            } else if (database && t.isKeyword("replication")) {
                continue; // matches no connection pgferry serves, see NameList
            } else if (!database && !t.quoted() && t.text().startsWith("+")) {
                throw error(n, "group \"" + t.text() + "\" is not supported: pgferry knows no role membership");
            } else if (!t.quoted() && t.text().startsWith("/")) {
                throw error(n, "regular expression \"" + t.text() + "\" is not supported");
            } else if (!t.quoted() && t.text().startsWith("@")) {
                NameList included = include(t.text().substring(1), n, database, depth);
                all |= included.all();
                sameUser |= included.sameUser();
                names.addAll(included.names());
            } else {
                names.add(t.text());
            }
        }
        return new NameList(all, sameUser, names);
    }

    /** {@code @file}: every token of the file (comments allowed), as if written in place of it. */
    private NameList include(String name, int n, boolean database, int depth) throws HbaException {
        if (depth >= MAX_INCLUDE_DEPTH) {
            throw error(n, "@" + name + ": files included more than " + MAX_INCLUDE_DEPTH + " deep");
        }
        String text;
        try {
            text = includes.read(name);
        } catch (java.io.IOException | RuntimeException e) {
            throw error(n, "could not read @" + name + ": " + e.getMessage());
        }
        List<Token> all = new ArrayList<>();
        try {
            for (Line l : HbaTokenizer.tokenize(name, text)) {
                l.fields().forEach(all::addAll);
            }
        } catch (HbaException e) {
            throw error(n, "in @" + name + ": " + e.getMessage());
        }
        return names(all, n, database, depth + 1);
    }

    /** The one token of a field that takes no list, in PostgreSQL's words when it is a list. */
    private Token single(List<Token> field, int n, String what) throws HbaException {
        if (field.size() > 1) {
            throw error(n, "multiple values specified for " + what);
        }
        return field.get(0);
    }

    /** The address bytes of an IPv4 or IPv6 literal, or null; never a name lookup. */
    private static byte[] ip(String text) {
        return NetUtil.createByteArrayFromIpAddressString(text);
    }

    private byte[] cidrMask(String whole, String bits, int length, int n) throws HbaException {
        int b;
        try {
            b = bits.isEmpty() || !bits.chars().allMatch(Character::isDigit) ? -1 : Integer.parseInt(bits);
        } catch (NumberFormatException e) {
            b = -1;
        }
        if (b < 0 || b > length * 8) {
            throw error(n, "invalid CIDR mask in address \"" + whole + "\"");
        }
        return AddressRange.prefixMask(length, b);
    }

    private HbaException error(int line, String problem) {
        return new HbaException(source, line, problem);
    }
}
